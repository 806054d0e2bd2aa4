#!/usr/bin/env python3
"""Makes the GIMP plug-ins' help from the README: the sections named on the
command line, as one HTML page, and the gimp-help.xml that maps the
procedure's help id to it (GIMP's help domain layout: <dir>/en/...).

    make-help.py README.md OUTDIR "Heading" ["Heading" ...]

Python's standard library only; the Markdown is the README's own subset
(headings, paragraphs, lists, fenced code, tables, inline code, emphasis,
links)."""

import html
import os
import re
import sys

PROC = "plug-in-perceptual-compare"


def inline(text):
    out, pos = [], 0
    for m in re.finditer(r"`([^`]+)`", text):
        out.append(emphasis(html.escape(text[pos:m.start()], quote=False)))
        out.append("<code>%s</code>" % html.escape(m.group(1), quote=False))
        pos = m.end()
    out.append(emphasis(html.escape(text[pos:], quote=False)))
    return "".join(out)


def emphasis(text):
    text = re.sub(r"!\[([^\]]*)\]\(([^)]*)\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", text)


def sections(markdown, wanted):
    """The sections (heading line and body) whose title is in `wanted`,
    each up to the next heading of the same or a higher level."""
    lines, found = markdown.splitlines(), []
    for i, line in enumerate(lines):
        m = re.match(r"(#+) (.*)", line)
        if m and m.group(2).strip() in wanted:
            level, body = len(m.group(1)), [line]
            for nxt in lines[i + 1:]:
                n = re.match(r"(#+) ", nxt)
                if n and len(n.group(1)) <= level:
                    break
                body.append(nxt)
            found.append(body)
    missing = set(wanted) - {re.match(r"#+ (.*)", b[0]).group(1).strip() for b in found}
    if missing:
        sys.exit("make-help.py: the README has no section %s" % ", ".join(sorted(missing)))
    return found


def to_html(lines):
    out, para, items, code, table = [], [], [], None, []

    def flush():
        if para:
            out.append("<p>%s</p>" % inline(" ".join(para)))
            para.clear()
        if items:
            out.append("<ul>%s</ul>" % "".join("<li>%s</li>" % inline(" ".join(i)) for i in items))
            items.clear()
        if table:
            rows = [r for r in table if not re.match(r"^\|[-| :]+\|$", r)]
            cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
            head = "".join("<th>%s</th>" % inline(c) for c in cells[0])
            body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % inline(c) for c in r)
                           for r in cells[1:])
            out.append("<table><tr>%s</tr>%s</table>" % (head, body))
            table.clear()

    for line in lines:
        if code is not None:
            if line.strip().startswith("```"):
                out.append("<pre>%s</pre>" % html.escape("\n".join(code)))
                code = None
            else:
                code.append(line[indent:] if line[:indent].strip() == "" else line)
            continue
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            code, indent = [], len(line) - len(line.lstrip())
            continue
        m = re.match(r"(#+) (.*)", line)
        if m:
            flush()
            level = min(len(m.group(1)), 4)
            anchor = re.sub(r"[^a-z0-9]+", "-", m.group(2).lower()).strip("-")
            out.append('<h%d id="%s">%s</h%d>' % (level, anchor, inline(m.group(2)), level))
        elif stripped.startswith("|"):
            if para or items:
                flush()
            table.append(stripped)
        elif re.match(r"- ", stripped) and (not line.startswith("  ") or not items):
            if para or table:
                flush()
            items.append([stripped[2:]])
        elif not stripped:
            flush()
        elif items:
            items[-1].append(stripped)
        else:
            para.append(stripped)
    flush()
    return "\n".join(out)


def main():
    readme, outdir, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(readme, encoding="utf-8") as f:
        body = "\n".join(to_html(s) for s in sections(f.read(), wanted))
    en = outdir
    os.makedirs(en, exist_ok=True)
    with open(os.path.join(en, "index.html"), "w", encoding="utf-8") as f:
        f.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<title>Perceptual Distance</title></head><body>\n%s\n</body></html>\n" % body)
    with open(os.path.join(en, "gimp-help.xml"), "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<gimp-help>\n'
                '  <help-item id="%s" ref="index.html"/>\n'
                '  <help-missing ref="index.html"/>\n</gimp-help>\n' % PROC)


if __name__ == "__main__":
    main()
