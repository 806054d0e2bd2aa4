#!/usr/bin/env python3
"""A one-user install: `meson setup --prefix ~/.local -Dgegl_plugin_dir=user
-Dgimp_plugin_dir=user` and `meson install`, in a throw-away home; then
`gegl --list-all` (with no GEGL_PATH, so GEGL finds the ops on its own)
lists the ops, and the installed tools, colour maps, German catalogue, GIMP
plug-in (in the profile of the GIMP it was built for) and its help are in
place."""

import os
import shutil
import subprocess
import sys
import tempfile

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OPS = ("perceptual:distance", "perceptual:layer-difference", "perceptual:heatmap")


def run(cmd, env):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("failed: " + " ".join(cmd))
    return proc.stdout


def main():
    with tempfile.TemporaryDirectory(prefix="perc-home-") as home:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GEGL_", "XDG_", "MESON")) and k != "DESTDIR"}
        env["HOME"] = home
        prefix = os.path.join(home, ".local")
        build = os.path.join(home, "build")
        run(["meson", "setup", build, SOURCE, "--prefix", prefix,
             "-Dgegl_plugin_dir=user", "-Dgimp_plugin_dir=user"], env)
        run(["ninja", "-C", build], env)
        run(["meson", "install", "-C", build, "--no-rebuild"], env)

        share = os.path.join(prefix, "share")
        for path in (os.path.join(share, "gegl-0.4", "plug-ins", "gegl-perceptual.so"),
                     os.path.join(share, "gegl-perceptual", "colormaps", "magma.csv"),
                     os.path.join(share, "locale", "de", "LC_MESSAGES", "gegl-perceptual.mo"),
                     os.path.join(prefix, "bin", "gegl-perceptual-fetch"),
                     os.path.join(prefix, "bin", "gegl-perceptual-convert")):
            assert os.path.exists(path), "not installed: " + path
        print("installed in", prefix)
        gimp = next((v for v, pc in (("3.0", "gimp-3.0"), ("2.10", "gimp-2.0"))
                     if subprocess.run(["pkg-config", "--exists", pc]).returncode == 0), None)
        if gimp:
            for path in (os.path.join(home, ".config", "GIMP", gimp, "plug-ins",
                                      "perceptual-compare", "perceptual-compare"),
                         os.path.join(share, "gegl-perceptual", "help", "en", "index.html"),
                         os.path.join(share, "gegl-perceptual", "help", "en", "gimp-help.xml")):
                assert os.path.exists(path), "not installed: " + path
            print("GIMP %s plug-in in ~/.config/GIMP/%s/plug-ins" % (gimp, gimp))

        listed = run(["gegl", "--list-all"], env).split()
        for op in OPS:
            assert op in listed, op + " is not listed by gegl --list-all"
        print("gegl --list-all lists", ", ".join(OPS))

        # The installed fetch tool runs from its symlink.
        run([os.path.join(prefix, "bin", "gegl-perceptual-fetch"), "--help"], env)
    return 0


if __name__ == "__main__":
    if not shutil.which("gegl"):
        print("SKIP: the gegl command line (Debian's gegl package) is not installed")
        sys.exit(77)
    sys.exit(main())
