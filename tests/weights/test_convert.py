#!/usr/bin/env python3
"""weights/convert on made-up SqueezeNet state dicts (no torch, no real weights)."""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import array
import collections
import hashlib
import os
import shutil
import struct
import tempfile
import unittest

import wtest
import pthwriter as P
from perceptual_weights import archs, safetensors


def raw(values):
    return array.array("f", values).tobytes()


class Convert(wtest.ConvertCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convert-test-")
        cls.entries = P.squeeze_backbone(archs)
        cls.backbone = P.write_zip(cls.path("backbone.pth"), cls.entries)
        cls.lin = P.calibration(archs, "squeeze")
        cls.calibration = P.write_legacy(cls.path("lin.pth"), cls.lin, pairs_list=True)

    def ok(self, *args, **kw):
        r, out = self.convert(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertRegex(r.stdout, r"^convert: wrote %s: " % out)
        self.assertEqual(len(r.stdout.splitlines()), 1)
        return safetensors.read(out)

    def fails(self, message, *args):
        r, out = self.convert(*args)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stderr, "convert: %s\n" % message)
        self.assertNotIn("Traceback", r.stderr)
        self.assertFalse(os.path.exists(out))

    def expected_backbone(self, entries=None):
        out = collections.OrderedDict()
        for name, t in (entries or self.entries):
            if name.startswith("features."):
                out[name] = (t.shape, t.storage.values)
        return out

    def test_weighted(self):
        tensors, meta = self.ok("--network", "squeeze", "--backbone", self.backbone,
                                "--calibration", self.calibration, "--lpips-version", "0.1")
        backbone = self.expected_backbone()
        self.assertEqual(meta, {
            "format": "gegl-perceptual-model", "format_version": "1", "network": "squeeze",
            "calibration": "lpips-v0.1", "backbone_digest": safetensors.tensor_digest(backbone),
            "backbone_source": "backbone.pth", "calibration_source": "lin.pth"})
        names = list(archs.backbone_tensors("squeeze")) + list(archs.lin_tensors("squeeze"))
        self.assertEqual(list(tensors), names)
        for name, (shape, values) in backbone.items():
            self.assertEqual(tensors[name][0], shape)
            self.assertEqual(tensors[name][1].tobytes(), raw(values), name)
        for k, (name, t) in enumerate(self.lin):
            shape, values = tensors["lin.%d.weight" % k]
            self.assertEqual(shape, (archs.TAP_CHANNELS["squeeze"][k],))
            self.assertEqual(values.tobytes(), raw(t.storage.values))

    def test_unweighted_and_version_0_0(self):
        tensors, meta = self.ok("--network", "squeeze", "--backbone", self.backbone,
                                "--unweighted")
        self.assertEqual(meta["calibration"], "unweighted")
        self.assertEqual(meta["calibration_source"], "none")
        self.assertEqual(list(tensors), list(archs.backbone_tensors("squeeze")))
        tensors, meta = self.ok("--network", "squeeze", "--backbone", self.backbone,
                                "--calibration", self.calibration, "--lpips-version", "0.0")
        self.assertEqual(meta["calibration"], "lpips-v0.0")

    def test_prefixed_keys(self):
        for prefix in ("module.", "net."):
            entries = [(prefix + n, t) for n, t in self.entries]
            path = P.write_legacy(self.path("prefixed.pth"), entries)
            tensors, meta = self.ok("--network", "squeeze", "--backbone", path, "--unweighted")
            self.assertEqual(meta["backbone_digest"],
                             safetensors.tensor_digest(self.expected_backbone()))

    def test_wrong_shape(self):
        entries = [(n, P.filled((16, 64, 3, 3), 0.1) if n == "features.3.squeeze.weight" else t)
                   for n, t in self.entries]
        path = P.write_zip(self.path("bad-shape.pth"), entries)
        self.fails("%s: tensor features.3.squeeze.weight has shape [16, 64, 3, 3], expected "
                   "[16, 64, 1, 1] for network squeeze" % path,
                   "--network", "squeeze", "--backbone", path, "--unweighted")

    def test_missing_tensor(self):
        entries = [(n, t) for n, t in self.entries if n != "features.12.expand3x3.bias"]
        path = P.write_zip(self.path("missing.pth"), entries)
        self.fails("%s: missing tensor features.12.expand3x3.bias (is this a torchvision "
                   "squeeze state dict? The file has 51 tensors: features.0.weight, "
                   "features.0.bias, features.3.squeeze.weight, features.3.squeeze.bias, ...)"
                   % path, "--network", "squeeze", "--backbone", path, "--unweighted")

    def test_wrong_network(self):
        r, _ = self.convert("--network", "alex", "--backbone", self.backbone, "--unweighted")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^convert: %s: missing tensors features\.3\.weight, "
                         r"features\.3\.bias, features\.6\.weight, features\.6\.bias, \.\.\. "
                         r"\(is this a torchvision alex state dict\?" % self.backbone)

    def test_non_finite(self):
        bad = P.filled((64,), 0.1)
        bad.storage.values[5] = float("nan")
        entries = [(n, bad if n == "features.0.bias" else t) for n, t in self.entries]
        path = P.write_zip(self.path("nan.pth"), entries)
        self.fails("%s: tensor features.0.bias holds non-finite values" % path,
                   "--network", "squeeze", "--backbone", path, "--unweighted")

    def test_bad_calibrations(self):
        args = ["--network", "squeeze", "--backbone", self.backbone, "--lpips-version", "0.1"]
        path = P.write_legacy(self.path("alex-lin.pth"), P.calibration(archs, "alex"))
        self.fails("%s: 5 calibration layers, but squeeze has 7 taps (the calibration of "
                   "another network?)" % path, "--calibration", path, *args)
        lin = list(self.lin)
        lin[2] = (lin[2][0], P.filled((1, 255, 1, 1), 0.1))
        path = P.write_legacy(self.path("bad-lin.pth"), lin)
        self.fails("%s: tensor lin2.model.1.weight has shape [1, 255, 1, 1], expected "
                   "[1, 256, 1, 1] for network squeeze" % path, "--calibration", path, *args)
        lin = list(self.lin)
        lin[1] = (lin[1][0], P.filled((1, 128, 1, 1), -0.5))
        path = P.write_legacy(self.path("neg-lin.pth"), lin)
        self.fails("%s: tensor lin1.model.1.weight holds negative weights" % path,
                   "--calibration", path, *args)
        path = P.write_legacy(self.path("extra-lin.pth"), self.lin + [("x", P.tensor([1.0]))])
        self.fails("%s: unexpected tensor x (not an LPIPS calibration file?)" % path,
                   "--calibration", path, *args)
        self.fails("%s: missing tensors features.0.weight, features.0.bias, "
                   "features.3.squeeze.weight, features.3.squeeze.bias, ... (is this a "
                   "torchvision squeeze state dict? The file has 7 tensors: "
                   "lin0.model.1.weight, lin1.model.1.weight, lin2.model.1.weight, "
                   "lin3.model.1.weight, ...)" % self.calibration,
                   "--network", "squeeze", "--backbone", self.calibration, "--unweighted")

    def test_official_name(self):
        with open(self.backbone, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        wrong = "0" * 8 if not digest.startswith("0" * 8) else "1" * 8
        path = self.path("squeezenet1_1-%s.pth" % wrong)
        shutil.copy(self.backbone, path)
        self.fails("%s: SHA-256 %s does not start with %s as the file name says (corrupted or "
                   "renamed file; --no-check-name skips this check)" % (path, digest, wrong),
                   "--network", "squeeze", "--backbone", path, "--unweighted")
        self.ok("--network", "squeeze", "--backbone", path, "--unweighted", "--no-check-name")
        path = self.path("squeezenet1_1-%s.pth" % digest[:8])
        shutil.copy(self.backbone, path)
        tensors, meta = self.ok("--network", "squeeze", "--backbone", path, "--unweighted")
        self.assertEqual(meta["backbone_source"], os.path.basename(path))

    def test_unreadable_inputs(self):
        absent = self.path("absent.pth")
        self.fails("%s: No such file or directory" % absent,
                   "--network", "squeeze", "--backbone", absent, "--unweighted")
        with open(self.backbone, "rb") as f:
            data = f.read()
        path = self.path("truncated.pth")
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])
        r, _ = self.convert("--network", "squeeze", "--backbone", path, "--unweighted")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^convert: %s: not a valid zip archive" % path)
        r, _ = self.convert("--network", "squeeze", "--backbone", self.backbone, "--unweighted",
                            out=os.path.join(self.tmp, "no-such-dir", "x.safetensors"))
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^convert: .*no-such-dir/x\.safetensors: No such file")

    def test_usage(self):
        for args in (["--network", "squeeze", "--backbone", "x.pth", "--calibration", "y.pth"],
                     ["--network", "squeeze", "--backbone", "x.pth", "--unweighted",
                      "--calibration", "y.pth", "--lpips-version", "0.1"],
                     ["--network", "resnet", "--backbone", "x.pth", "--unweighted"],
                     ["--network", "squeeze", "--unweighted"]):
            r, _ = self.convert(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("usage: convert", r.stderr)
        r = wtest.run_tool(wtest.CONVERT, ["--help"])
        self.assertEqual(r.returncode, 0)

    def test_scripts_are_executable(self):
        for tool in (wtest.CONVERT, wtest.FETCH):
            self.assertTrue(os.access(tool, os.X_OK), tool)
            with open(tool) as f:
                self.assertEqual(f.readline(), "#!/usr/bin/env python3\n")


class ModelFile(unittest.TestCase):
    """safetensors.read, used by the checks, refuses malformed files."""

    def test_round_trip_and_damage(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.safetensors")
            tensors = collections.OrderedDict([("a", ((2, 2), [1.0, 2.0, 3.0, 4.5])),
                                               ("b", ((0,), []))])
            safetensors.write(path, tensors, {"k": "v"})
            got, meta = safetensors.read(path)
            self.assertEqual(meta, {"k": "v"})
            self.assertEqual(list(got["a"][1]), [1.0, 2.0, 3.0, 4.5])
            self.assertEqual(got["b"], ((0,), array.array("f")))
            with open(path, "rb") as f:
                data = f.read()
            n = struct.unpack("<Q", data[:8])[0]
            for bad in (data[:-1], data + b"\0\0\0\0", data[:8 + n - 1],
                        struct.pack("<Q", 1 << 40) + data[8:], b"x"):
                with open(path, "wb") as f:
                    f.write(bad)
                with self.assertRaises(safetensors.SafetensorsError):
                    safetensors.read(path)


if __name__ == "__main__":
    wtest.main()
