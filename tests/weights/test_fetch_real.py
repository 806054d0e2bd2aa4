#!/usr/bin/env python3
"""weights/fetch with the shipped manifest on the real weights mirror."""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import json
import os
import shutil
import tempfile
import unittest

import wtest
from perceptual_weights import safetensors

MIRROR = wtest.require_real_weights() if __name__ == "__main__" else wtest.real_weights()


@unittest.skipIf(MIRROR is None, wtest.real_weights_message())
class RealMirror(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fetch-real-")
        self.dest = os.path.join(self.tmp, "dest")
        with open(wtest.MANIFEST) as f:
            self.pinned = json.load(f)["networks"]["squeeze"]["backbone"]["backbone_digest"]

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def fetch(self, *args, **env):
        return wtest.run_tool(wtest.FETCH, list(args) + ["--dest", self.dest],
                              env=wtest.clean_env(**env))

    def test_squeeze_all_calibrations(self):
        for label, version in (("lpips-v0.1", "0.1"), ("lpips-v0.0", "0.0"),
                               ("unweighted", None)):
            r = self.fetch("squeeze", "--calibration", label, "--mirror", MIRROR)
            self.assertEqual(r.returncode, 0, r.stderr)
            path = os.path.join(self.dest, "squeeze-%s.safetensors" % label)
            self.assertEqual(r.stdout, "fetch: installed squeeze-%s.safetensors at %s\n"
                             % (label, path))
            tensors, meta = safetensors.read(path)
            self.assertEqual(meta["network"], "squeeze")
            self.assertEqual(meta["calibration"], label)
            self.assertEqual(meta["backbone_digest"], self.pinned)
            self.assertEqual(len(tensors), 50 if version is None else 57)
            out = os.path.join(self.tmp, "converted.safetensors")
            args = ["--network", "squeeze", "--backbone",
                    os.path.join(MIRROR, "torchvision/squeezenet1_1-features.pth"), "-o", out]
            args += (["--unweighted"] if version is None else
                     ["--calibration", os.path.join(MIRROR, "lpips/v%s/squeeze.pth" % version),
                      "--lpips-version", version])
            c = wtest.run_tool(wtest.CONVERT, args)
            self.assertEqual(c.returncode, 0, c.stderr)
            with open(out, "rb") as a, open(path, "rb") as b:
                self.assertEqual(a.read(), b.read(), label)

    def test_mirror_from_environment(self):
        r = self.fetch("squeeze", GEGL_PERCEPTUAL_WEIGHTS_MIRROR=MIRROR)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(self.dest,
                                                    "squeeze-lpips-v0.1.safetensors")))

    def test_renamed_files(self):
        fake = os.path.join(self.tmp, "mirror")
        os.makedirs(os.path.join(fake, "lpips", "v0.1"))
        # the re-saved backbone under the official name: its hash prefix does
        # not match, its tensors do
        shutil.copy(os.path.join(MIRROR, "torchvision/squeezenet1_1-features.pth"),
                    os.path.join(fake, "squeezenet1_1-b8a52dc0.pth"))
        shutil.copy(os.path.join(MIRROR, "lpips/v0.1/squeeze.pth"),
                    os.path.join(fake, "lpips", "v0.1", "squeeze.pth"))
        r = self.fetch("squeeze", "--mirror", fake)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, meta = safetensors.read(os.path.join(self.dest, "squeeze-lpips-v0.1.safetensors"))
        self.assertEqual(meta["backbone_source"], "squeezenet1_1-b8a52dc0.pth")
        # version 0.0 weights where version 0.1 belongs
        shutil.copy(os.path.join(MIRROR, "lpips/v0.0/squeeze.pth"),
                    os.path.join(fake, "lpips", "v0.1", "squeeze.pth"))
        r = self.fetch("squeeze", "--mirror", fake, "--force")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "fetch: refusing the squeeze lpips-v0.1 calibration: "
                         "%s/lpips/v0.1/squeeze.pth: SHA-256 c27abd3a0145541baa50990817df58d375"
                         "9c3f8154949f42af3b59b4e042d0bf differs from the pinned 4a5350f23600cb"
                         "79923ce65bb07cbf57dca461329894153e05a1346bd531cf76 (it is the "
                         "official lpips-v0.0 calibration of squeeze)\n" % fake)

    def test_networks_without_backbone_in_mirror(self):
        for network in ("alex", "vgg"):
            r = self.fetch(network, "--mirror", MIRROR)
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stderr, r"^fetch: no %s backbone in the mirror " % network)
            self.assertFalse(os.path.exists(os.path.join(
                self.dest, "%s-lpips-v0.1.safetensors" % network)))


if __name__ == "__main__":
    wtest.main()
