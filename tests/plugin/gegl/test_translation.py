#!/usr/bin/env python3
"""German translations: the catalogue passes msgfmt --check, and the ops
speak German through GEGL's API in a German locale.

The locale comes from the system if it has de_DE.UTF-8, or is compiled
into a temporary folder with localedef (Debian's `locales` package)."""

import os
import subprocess
import sys
import tempfile

PO = os.environ["PERCEPTUAL_PO_DIR"]
MO_DIR = os.environ["GEGL_PERCEPTUAL_LOCALEDIR"]
PROGRAM = sys.argv[1]


def catalogue_is_complete():
    """Every file with translatable strings is in POTFILES, and the German
    catalogue translates every one of its strings."""
    top = os.path.dirname(PO)
    with open(os.path.join(PO, "POTFILES")) as f:
        listed = set(f.read().split())
    for folder, _, files in os.walk(os.path.join(top, "plugin")):
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), top)
            if name.endswith((".c", ".h")):
                with open(os.path.join(top, rel), encoding="utf-8") as f:
                    if '_("' in f.read():
                        assert rel in listed, rel + " has translatable strings but is not in po/POTFILES"
    with tempfile.TemporaryDirectory() as tmp:
        pot, merged = os.path.join(tmp, "all.pot"), os.path.join(tmp, "de.po")
        subprocess.run(["xgettext", "--from-code=UTF-8", "--keyword=_", "--keyword=N_",
                        "--files-from=" + os.path.join(PO, "POTFILES"), "--directory=" + top,
                        "-o", pot], check=True)
        subprocess.run(["msgmerge", "-q", "--no-fuzzy-matching", "-o", merged,
                        os.path.join(PO, "de.po"), pot], check=True)
        missing = subprocess.run(["msgattrib", "--untranslated", "--no-obsolete", merged],
                                 capture_output=True, text=True, check=True).stdout
        assert "msgid" not in missing.split('msgid ""', 1)[-1], "untranslated in de.po:\n" + missing


def main():
    for po in sorted(f for f in os.listdir(PO) if f.endswith(".po")):
        subprocess.run(["msgfmt", "--check", "-o", os.devnull, os.path.join(PO, po)], check=True)
        print("msgfmt --check %s: ok" % po)
    catalogue_is_complete()
    print("po/de.po translates every string")
    mo = os.path.join(MO_DIR, "de", "LC_MESSAGES", "gegl-perceptual.mo")
    assert os.path.isfile(mo), "no German catalogue built at " + mo

    env = dict(os.environ, LANGUAGE="", LC_ALL="de_DE.UTF-8")
    with tempfile.TemporaryDirectory(prefix="perc-locale-") as tmp:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
        if not any(n.lower().replace("-", "") in ("de_de.utf8",) for n in names):
            made = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8",
                                   os.path.join(tmp, "de_DE.UTF-8")],
                                  capture_output=True, text=True)
            if made.returncode not in (0, 1) or not os.path.isdir(os.path.join(tmp, "de_DE.UTF-8")):
                print("SKIP: no German locale and localedef cannot make one "
                      "(install Debian's locales package): " + made.stderr.strip())
                return 77
            env["LOCPATH"] = tmp
        proc = subprocess.run([PROGRAM], env=env, capture_output=True, text=True, timeout=120)
        # The core's messages too: a malformed weights file, through the command line.
        bad = os.path.join(tmp, "bad.safetensors")
        with open(bad, "wb") as f:
            f.write(b"\xff" * 16)
        samples = os.path.join(os.path.dirname(PO), "data", "samples")
        cli = subprocess.run([os.path.join(os.path.dirname(MO_DIR), "plugin", "cli", "gegl-perceptual"),
                              "compare", os.path.join(samples, "reference.png"),
                              os.path.join(samples, "shifted.png"), "--weights", bad],
                             env=env, capture_output=True, text=True, timeout=120)
        assert ("keine gültige Safetensors-Datei: die Länge des Dateikopfs, 18446744073709551615, "
                "ist mehr als die 4 MiB") in cli.stderr and "not a valid" not in cli.stderr, \
            "the core's message is not German: " + cli.stderr
        print("core message: " + cli.stderr.strip())
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
