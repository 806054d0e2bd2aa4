#!/usr/bin/env python3
"""The README's first command (set up and run the main job) works as
written, in a copy of the source tree and a throw-away home, and prints the
distance and terms of the sample images that the PyTorch reference gives
with the real weights (tests/goldens/samples.json, made by
`tests/reference/lpips_reference.py samples`); the second (the test suite)
is what CI runs."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commands():
    with open(os.path.join(TOP, "README.md")) as f:
        text = f.read()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the README's 'Two commands' section must have two sh blocks"
    return [b.strip() for b in blocks]


def main():
    setup, test = commands()
    assert "\n" not in setup and "\n" not in test, "each command is one line"
    with open(os.path.join(TOP, ".ci", "run")) as f:
        assert test.split()[0] in f.read(), ".ci/run must run the README's test command"
    print("test command:", test)

    mirror = os.environ.get("GEGL_PERCEPTUAL_WEIGHTS_MIRROR", "")
    if not mirror or not os.path.isdir(mirror):
        print("SKIP: the setup command installs real weights; set GEGL_PERCEPTUAL_WEIGHTS_MIRROR "
              "to run it offline")
        return 77
    with tempfile.TemporaryDirectory(prefix="perc-readme-") as tmp:
        home, src = os.path.join(tmp, "home"), os.path.join(tmp, "src")
        os.mkdir(home)
        shutil.copytree(TOP, src, ignore=shutil.ignore_patterns(".git", "build*", "__pycache__"))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GEGL_", "XDG_", "MESON", "G_TEST", "GIMP"))}
        env["HOME"] = home
        command = setup.replace("/path/to/mirror", os.path.abspath(mirror))
        print("setup command:", command)
        proc = subprocess.run(["bash", "-c", command], cwd=src, env=env, capture_output=True,
                              text=True, timeout=1500)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            return 1
        out = proc.stdout.strip().splitlines()
        print("\n".join(out[-8:]))
        with open(os.path.join(TOP, "tests", "goldens", "samples.json")) as f:
            golden = json.load(f)["distances"]["retouched.png"]
        distance = float(out[-8])
        assert abs(distance - golden["distance"]) <= 1e-5, (distance, golden["distance"])
        assert all(l.startswith("layer ") for l in out[-7:]), out[-7:]
        terms = [float(l.split()[-1]) for l in out[-7:]]
        assert max(abs(a - b) for a, b in zip(terms, golden["layers"])) <= 1e-5, terms
        print("distance %.8f, PyTorch %.8f" % (distance, golden["distance"]))
        with open(os.path.join(src, "heatmap.png"), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        for installed in (".local/bin/gegl-perceptual", ".local/share/gegl-0.4/plug-ins/gegl-perceptual.so",
                          ".local/share/gegl-perceptual/weights/squeeze-lpips-v0.1.safetensors"):
            assert os.path.exists(os.path.join(home, installed)), installed
    return 0


if __name__ == "__main__":
    sys.exit(main())
