"""Shared helpers of the weights tests.

Every test file is a script: exit status 0 when its tests pass, 1 when one
fails, 77 (meson's "skipped") when none of them could run.

Environment:
  GEGL_PERCEPTUAL_WEIGHTS_MIRROR  directory with the real published files
                                  (lpips/v0.1/squeeze.pth, torchvision/...)
  GEGL_PERCEPTUAL_TORCH_PYTHON    a python with torch and torchvision
                                  (default /usr/bin/python3)
  GEGL_PERCEPTUAL_FUZZ_SECONDS    how long test_fuzz_pth.py runs (default 60)
  GEGL_PERCEPTUAL_FUZZ_SEED       its seed (default a fixed one)
"""

import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WEIGHTS = os.path.join(ROOT, "weights")
FIXTURES = os.path.join(HERE, "fixtures")
CONVERT = os.path.join(WEIGHTS, "convert")
FETCH = os.path.join(WEIGHTS, "fetch")
MANIFEST = os.path.join(WEIGHTS, "manifest.json")

MIRROR_ENV = "GEGL_PERCEPTUAL_WEIGHTS_MIRROR"
TORCH_ENV = "GEGL_PERCEPTUAL_TORCH_PYTHON"
SKIP = 77

sys.path.insert(0, WEIGHTS)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

# The real files that a mirror must hold for the tests that use it.
REAL_FILES = ("torchvision/squeezenet1_1-features.pth",
              "lpips/v0.1/squeeze.pth", "lpips/v0.0/squeeze.pth",
              "lpips/v0.1/alex.pth", "lpips/v0.1/vgg.pth")


def real_weights():
    """The directory of the real weights, or None."""
    mirror = os.environ.get(MIRROR_ENV, "")
    if mirror and all(os.path.isfile(os.path.join(mirror, p)) for p in REAL_FILES):
        return mirror
    return None


def real_weights_message():
    mirror = os.environ.get(MIRROR_ENV, "")
    where = ("%s=%s lacks %s" % (MIRROR_ENV, mirror, ", ".join(
        p for p in REAL_FILES if not os.path.isfile(os.path.join(mirror, p))))
        if mirror else "%s is empty or unset" % MIRROR_ENV)
    return ("the real weights are not available (%s): configure with -Dweights_mirror=DIR "
            "or set %s=DIR, DIR holding lpips/v0.1/squeeze.pth, "
            "torchvision/squeezenet1_1-features.pth, ... like the shared weights mirror"
            % (where, MIRROR_ENV))


def require_real_weights():
    mirror = real_weights()
    if mirror is None:
        skip_all(real_weights_message())
    return mirror


def torch_python():
    """(interpreter, None) when it can import torch and torchvision, else
    (None, reason)."""
    python = os.environ.get(TORCH_ENV) or "/usr/bin/python3"
    if not shutil.which(python):
        return None, "%s not found (set %s)" % (python, TORCH_ENV)
    try:
        r = subprocess.run([python, "-c", "import torch, torchvision"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "%s cannot run: %s" % (python, e)
    if r.returncode != 0:
        return None, ("%s has no torch/torchvision (set %s to a python that has them)"
                      % (python, TORCH_ENV))
    return python, None


def skip_all(reason):
    print("SKIP: %s" % reason)
    sys.exit(SKIP)


def clean_env(**extra):
    """The environment for the tools: no mirror, no proxies, plus `extra`."""
    env = dict(os.environ)
    for key in list(env):
        if key in (MIRROR_ENV, "XDG_DATA_HOME") or key.lower().endswith("_proxy"):
            del env[key]
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_tool(tool, args, env=None, timeout=120):
    """Run weights/<tool> with this interpreter; returns CompletedProcess."""
    return subprocess.run([sys.executable, tool] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          env=env if env is not None else clean_env(), timeout=timeout)


def main():
    """Run the calling module's tests; exit 77 if every test was skipped."""
    module = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        for _, reason in result.skipped[:1]:
            print("SKIP: %s" % reason)
        sys.exit(SKIP)
    sys.exit(0)


class ConvertCase(unittest.TestCase):
    """Runs weights/convert into a temporary folder, `cls.tmp`, which the
    subclass's setUpClass makes."""

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    def convert(self, *args, **kw):
        out = kw.pop("out", self.path("out.safetensors"))
        if os.path.exists(out):
            os.unlink(out)
        r = run_tool(CONVERT, list(args) + ["-o", out])
        return r, out
