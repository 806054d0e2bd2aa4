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


def main():
    for po in sorted(f for f in os.listdir(PO) if f.endswith(".po")):
        subprocess.run(["msgfmt", "--check", "-o", os.devnull, os.path.join(PO, po)], check=True)
        print("msgfmt --check %s: ok" % po)
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
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
