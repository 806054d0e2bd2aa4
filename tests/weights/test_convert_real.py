#!/usr/bin/env python3
"""weights/convert on the real SqueezeNet backbone and LPIPS calibration files."""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import hashlib
import json
import os
import shutil
import tempfile
import unittest

import wtest
from perceptual_weights import archs, convert, safetensors, torchpickle

MIRROR = wtest.require_real_weights() if __name__ == "__main__" else wtest.real_weights()


def real(path):
    return os.path.join(MIRROR, path)


@unittest.skipIf(MIRROR is None, wtest.real_weights_message())
class RealSqueeze(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convert-real-")
        with open(wtest.MANIFEST) as f:
            cls.manifest = json.load(f)["networks"]
        cls.backbone = real("torchvision/squeezenet1_1-features.pth")
        cls.source = torchpickle.load(cls.backbone)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def run_convert(self, *args):
        out = os.path.join(self.tmp, "out.safetensors")
        r = wtest.run_tool(wtest.CONVERT, ["--network", "squeeze", "--backbone", self.backbone]
                           + list(args) + ["-o", out])
        return r, out

    def check(self, label, *args):
        r, out = self.run_convert(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        digest = self.manifest["squeeze"]["backbone"]["backbone_digest"]
        self.assertEqual(r.stdout, "convert: wrote %s: squeeze, %s, %d tensors, %d values, "
                         "backbone digest %s\n"
                         % (out, label, 50 if label == "unweighted" else 57,
                            722496 if label == "unweighted" else 724736, digest))
        tensors, meta = safetensors.read(out)
        self.assertEqual(meta["format"], "gegl-perceptual-model")
        self.assertEqual(meta["format_version"], "1")
        self.assertEqual(meta["network"], "squeeze")
        self.assertEqual(meta["calibration"], label)
        self.assertEqual(meta["backbone_source"], "squeezenet1_1-features.pth")
        self.assertEqual(meta["backbone_digest"], digest)
        shapes = archs.backbone_tensors("squeeze")
        backbone = dict((k, tensors[k]) for k in shapes)
        self.assertEqual(safetensors.tensor_digest(backbone), digest)
        for name, shape in shapes.items():
            self.assertEqual(tensors[name][0], shape)
            self.assertEqual(tensors[name][1], self.source[name][1], name)
        return tensors, meta

    def test_v0_1(self):
        path = real("lpips/v0.1/squeeze.pth")
        tensors, meta = self.check("lpips-v0.1", "--calibration", path, "--lpips-version", "0.1")
        self.assertEqual(meta["calibration_source"], "squeeze.pth")
        lin = torchpickle.load(path)
        for k, c in enumerate(archs.TAP_CHANNELS["squeeze"]):
            shape, values = tensors["lin.%d.weight" % k]
            self.assertEqual(shape, (c,))
            self.assertEqual(values, lin["lin%d.model.1.weight" % k][1])
            self.assertGreaterEqual(min(values), 0.0)

    def test_v0_0(self):
        tensors, _ = self.check("lpips-v0.0", "--calibration", real("lpips/v0.0/squeeze.pth"),
                                "--lpips-version", "0.0")
        self.assertEqual(len(tensors), 57)

    def test_unweighted(self):
        tensors, meta = self.check("unweighted", "--unweighted")
        self.assertFalse(any(k.startswith("lin.") for k in tensors))
        self.assertEqual(meta["calibration_source"], "none")

    def test_mislabelled_calibration(self):
        path = real("lpips/v0.0/squeeze.pth")
        r, out = self.run_convert("--calibration", path, "--lpips-version", "0.1")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "convert: %s: this is the official lpips-v0.0 calibration "
                         "of squeeze, not lpips-v0.1 of squeeze\n" % path)
        self.assertFalse(os.path.exists(out))

    def test_official_names_are_checked(self):
        # The shared file is a re-save: under the official name its hash
        # prefix does not match.
        path = os.path.join(self.tmp, "squeezenet1_1-b8a52dc0.pth")
        shutil.copy(self.backbone, path)
        r = wtest.run_tool(wtest.CONVERT, ["--network", "squeeze", "--backbone", path,
                                           "--unweighted", "-o", path + ".out"])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^convert: %s: SHA-256 [0-9a-f]{64} does not start with "
                         r"b8a52dc0" % path)

    def test_all_calibrations_match_the_manifest(self):
        for network in archs.NETWORKS:
            for version in ("0.1", "0.0"):
                path = real("lpips/v%s/%s.pth" % (version, network))
                if not os.path.exists(path):
                    continue
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                item = self.manifest[network]["calibrations"]["lpips-v" + version]
                self.assertEqual(digest, item["sha256"], path)
                lin = convert.read_calibration(network, path)
                self.assertEqual([v[0] for v in lin.values()],
                                 [(c,) for c in archs.TAP_CHANNELS[network]])


if __name__ == "__main__":
    wtest.main()
