#!/usr/bin/env python3
"""weights/convert on made-up ResNet state dicts, the ResNet descriptions of
archs.py and ResNets from tests/synth_weights.py (no torch, no real weights)."""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import array
import os
import tempfile
import unittest

import wtest
import pthwriter as P
from perceptual_weights import archs, convert, safetensors

sys.path.insert(0, os.path.join(wtest.ROOT, "tests"))
import synth_weights  # noqa: E402


def raw(values):
    return array.array("f", values).tobytes()


def kept(entries, tensors):
    """The entries of `tensors` (an archs description) as (shape, values)."""
    found = dict(entries)
    return dict((name, (found[name].shape, found[name].storage.values)) for name in tensors)


class Archs(unittest.TestCase):
    def test_standard_resnets(self):
        # torchvision's state dicts have 122 (resnet18), 218 (resnet34) and
        # 320 (resnet50) entries: these plus fc.weight, fc.bias and one
        # num_batches_tracked per batch norm (a quarter of the rest)
        for network, count in (("resnet18", 122), ("resnet34", 218), ("resnet50", 320)):
            tensors = archs.backbone_tensors(network)
            bns = sum(1 for n in tensors if n.endswith(".running_var"))
            self.assertEqual(len(tensors) + 2 + bns, count, network)
            self.assertEqual(archs.min_size(network), 1)
            self.assertEqual(archs.default_layers(network), (1, 2, 3, 4))
        self.assertEqual(archs.tap_channels("resnet18"), (64, 128, 256, 512, 64))
        self.assertEqual(archs.tap_channels("resnet50"), (256, 512, 1024, 2048, 64))
        self.assertEqual(dict(archs.model_metadata("resnet34")),
                         {"architecture": "resnet", "resnet_block": "basic",
                          "resnet_blocks": "3,4,6,3"})
        r50 = archs.backbone_tensors("resnet50")
        self.assertEqual(r50["layer1.0.downsample.0.weight"], (256, 64, 1, 1))
        self.assertEqual(r50["layer2.0.conv2.weight"], (128, 128, 3, 3))
        self.assertEqual(r50["layer4.2.conv3.weight"], (2048, 512, 1, 1))
        self.assertNotIn("layer2.1.downsample.0.weight", r50)
        self.assertNotIn("layer1.0.downsample.0.weight", archs.backbone_tensors("resnet18"))
        self.assertEqual(archs.backbone_tensors("resnet18")["layer3.0.downsample.0.weight"],
                         (256, 128, 1, 1))

    def test_custom_resnets(self):
        t = archs.backbone_tensors("resnet6", "basic", "1,1")
        self.assertEqual(list(t)[:6], ["conv1.weight", "bn1.weight", "bn1.bias",
                                       "bn1.running_mean", "bn1.running_var",
                                       "layer1.0.conv1.weight"])
        self.assertEqual(len(t), 5 + 10 + 15)
        self.assertEqual(archs.tap_channels("resnet6", "basic", (1, 1)), (64, 128, 64))
        self.assertEqual(archs.default_layers("resnet6", "basic", "1,1"), (1, 2))
        self.assertEqual(archs.tap_channels("b", "bottleneck", "1"), (256, 64))
        # taps: ceil(n / 2) at the stem, the pool and every later stage
        self.assertEqual(archs.resnet_tap_sizes("basic", (2, 2, 2, 2), 67), (17, 9, 5, 3, 34))
        self.assertEqual(archs.resnet_tap_sizes("basic", (1,), 1), (1, 1))
        self.assertEqual(archs.min_size("x", "bottleneck", "3,4"), 1)
        # the LPIPS networks are unchanged
        self.assertEqual(archs.min_size("squeeze"), 17)
        self.assertEqual(archs.tap_channels("alex"), (64, 192, 384, 256, 256))
        self.assertEqual(archs.default_layers("vgg"), (1, 2, 3, 4, 5))
        self.assertEqual(dict(archs.model_metadata("vgg")), {})
        for args, message in (
                (("resnet18", "bottleneck", None), "resnet18 has basic blocks 2,2,2,2, not "
                 "bottleneck blocks 2,2,2,2"),
                (("resnet50", None, "3,4,6"), "resnet50 has bottleneck blocks 3,4,6,3, not "
                 "bottleneck blocks 3,4,6"),
                (("tiny", None, None), "unknown network 'tiny'"),
                (("tiny", "basic", None), "unknown network 'tiny'"),
                (("Tiny", "basic", "1"), "invalid network name 'Tiny'"),
                (("tiny", "wide", "1"), "unknown resnet block 'wide'"),
                (("tiny", "basic", "1,1,1,1,1"), "resnet blocks '1,1,1,1,1': expected 1 to 4"),
                (("tiny", "basic", "0,1"), "resnet blocks '0,1'"),
                (("tiny", "basic", "65"), "resnet blocks '65'"),
                (("tiny", "basic", "1, 1"), "resnet blocks '1, 1'"),
                (("tiny", "basic", ""), "resnet blocks ''"),
                (("squeeze", "basic", "1"), "squeeze is not a ResNet")):
            with self.assertRaises(ValueError, msg=args) as cm:
                archs.backbone_tensors(*args)
            self.assertIn(message, str(cm.exception))
        self.assertEqual(len(archs.backbone_tensors("resnet18", "basic", "2,2,2,2")), 100)


class ConvertResNet(wtest.ConvertCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convert-resnet-test-")
        # a basic ResNet of 4 stages of one block, with fc and counters
        cls.entries = P.resnet_backbone(archs, "basic", (1, 1, 1, 1))
        cls.backbone = P.write_zip(cls.path("basic-1111.pth"), cls.entries)

    def ok(self, *args):
        r, out = self.convert(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertEqual(len(r.stdout.splitlines()), 1)
        return r.stdout, safetensors.read(out)

    def fails(self, message, *args, status=1):
        r, out = self.convert(*args)
        self.assertEqual(r.returncode, status, r.stdout + r.stderr)
        if status == 1:
            self.assertEqual(r.stderr, "convert: %s\n" % message)
        else:
            self.assertIn("usage: convert", r.stderr)
            self.assertIn(message, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertFalse(os.path.exists(out))

    def custom(self, blocks, block="basic", name="tiny"):
        return ["--network", name, "--resnet-block", block, "--resnet-blocks", blocks]

    def test_custom_four_stages(self):
        # unweighted without --unweighted: the default for ResNets
        out, (tensors, meta) = self.ok(*self.custom("1,1,1,1"), "--backbone", self.backbone)
        shapes = archs.resnet_tensors("basic", (1, 1, 1, 1))
        expected = kept(self.entries, shapes)
        self.assertEqual(meta, {
            "format": "gegl-perceptual-model", "format_version": "1", "network": "tiny",
            "calibration": "unweighted", "backbone_digest": safetensors.tensor_digest(expected),
            "backbone_source": "basic-1111.pth", "calibration_source": "none",
            "architecture": "resnet", "resnet_block": "basic", "resnet_blocks": "1,1,1,1"})
        self.assertEqual(list(tensors), list(shapes))  # no fc, no num_batches_tracked
        for name, (shape, values) in expected.items():
            self.assertEqual(tensors[name][0], shape)
            self.assertEqual(tensors[name][1].tobytes(), raw(values), name)
        self.assertRegex(out, r"^convert: wrote .*out\.safetensors: tiny \(resnet, basic blocks "
                         r"1,1,1,1\), unweighted, %d tensors, " % len(shapes))
        # --unweighted says the same
        _, (again, meta2) = self.ok(*self.custom("1,1,1,1"), "--backbone", self.backbone,
                                    "--unweighted")
        self.assertEqual(meta2, meta)

    def test_later_stages_are_dropped(self):
        _, (tensors, meta) = self.ok(*self.custom("1,1", name="resnet6"),
                                     "--backbone", self.backbone)
        self.assertEqual(list(tensors), list(archs.resnet_tensors("basic", (1, 1))))
        self.assertEqual((meta["network"], meta["resnet_blocks"]), ("resnet6", "1,1"))
        self.assertFalse(any(k.startswith(("layer3.", "layer4.", "fc.")) for k in tensors))

    def test_prefixed_keys_and_legacy_format(self):
        entries = [("module." + n, t) for n, t in self.entries]
        path = P.write_legacy(self.path("prefixed.pth"), entries)
        _, (tensors, meta) = self.ok(*self.custom("1,1,1"), "--backbone", path)
        expected = kept(self.entries, archs.resnet_tensors("basic", (1, 1, 1)))
        self.assertEqual(meta["backbone_digest"], safetensors.tensor_digest(expected))

    def test_without_counters_and_classifier(self):
        entries = P.resnet_backbone(archs, "bottleneck", (1, 2), fc=False, counters=False)
        path = P.write_zip(self.path("bottleneck-12.pth"), entries)
        _, (tensors, meta) = self.ok(*self.custom("1,2", "bottleneck"), "--backbone", path)
        self.assertEqual(list(tensors), list(archs.resnet_tensors("bottleneck", (1, 2))))
        self.assertEqual(meta["resnet_block"], "bottleneck")

    def test_extra_block(self):
        entries = P.resnet_backbone(archs, "basic", (1, 2, 1))
        path = P.write_zip(self.path("basic-121.pth"), entries)
        self.fails("%s: tensor layer2.1.conv1.weight belongs to block 2 of stage 2, but stage 2 "
                   "of tiny (basic blocks 1,1,1) has 1 block (a deeper ResNet? Only whole stages "
                   "beyond the description are dropped)" % path,
                   *self.custom("1,1,1"), "--backbone", path)
        # and the stages after the described ones may have any number of blocks
        self.ok(*self.custom("1"), "--backbone", path)

    def test_other_block_type(self):
        entries = P.resnet_backbone(archs, "bottleneck", (1,))
        path = P.write_zip(self.path("bottleneck-1.pth"), entries)
        self.fails("%s: unexpected tensor layer1.0.conv3.weight for tiny (basic blocks 1) (a "
                   "ResNet of bottleneck blocks?)" % path,
                   *self.custom("1"), "--backbone", path)
        self.fails("%s: missing tensors layer1.0.conv3.weight, layer1.0.bn3.weight, "
                   "layer1.0.bn3.bias, layer1.0.bn3.running_mean, ... (is this a torchvision "
                   "tiny state dict? The file has %d tensors: conv1.weight, bn1.weight, bn1.bias, "
                   "bn1.running_mean, ...)" % (self.backbone, len(self.entries)),
                   *self.custom("1", "bottleneck"), "--backbone", self.backbone)

    def test_unexpected_tensor_in_the_stem(self):
        entries = self.entries + [("conv1.bias", P.filled((64,), 0.5))]
        path = P.write_zip(self.path("stem-bias.pth"), entries)
        self.fails("%s: unexpected tensor conv1.bias in the stem of tiny (basic blocks 1)" % path,
                   *self.custom("1"), "--backbone", path)

    def test_missing_batch_norm_tensor(self):
        entries = [(n, t) for n, t in self.entries if n != "layer2.0.downsample.1.running_var"]
        path = P.write_zip(self.path("missing-bn.pth"), entries)
        self.fails("%s: missing tensor layer2.0.downsample.1.running_var (is this a torchvision "
                   "tiny state dict? The file has %d tensors: conv1.weight, bn1.weight, bn1.bias, "
                   "bn1.running_mean, ...)" % (path, len(entries)),
                   *self.custom("1,1"), "--backbone", path)

    def test_wrong_shape(self):
        entries = [(n, P.filled((63,), 1.0) if n == "layer1.0.bn2.weight" else t)
                   for n, t in self.entries]
        path = P.write_zip(self.path("bad-shape.pth"), entries)
        self.fails("%s: tensor layer1.0.bn2.weight has shape [63], expected [64] for network tiny"
                   % path, *self.custom("1,1"), "--backbone", path)

    def test_float_counter_in_a_kept_stage(self):
        # num_batches_tracked is skipped whatever its type
        entries = [(n, P.tensor([3.0], shape=()) if n == "layer1.0.bn1.num_batches_tracked"
                    else t) for n, t in self.entries]
        path = P.write_zip(self.path("float-counter.pth"), entries)
        _, (tensors, _) = self.ok(*self.custom("1,1"), "--backbone", path)
        self.assertNotIn("layer1.0.bn1.num_batches_tracked", tensors)

    def test_non_finite(self):
        bad = P.filled((128,), 0.5)
        bad.storage.values[3] = float("inf")
        entries = [(n, bad if n == "layer2.0.bn1.running_var" else t) for n, t in self.entries]
        path = P.write_zip(self.path("inf.pth"), entries)
        self.fails("%s: tensor layer2.0.bn1.running_var holds non-finite values" % path,
                   *self.custom("1,1"), "--backbone", path)

    def test_calibration(self):
        lin = P.calibration(archs, "tiny", 0.1, "basic", "1,1")
        self.assertEqual([t.shape for _, t in lin], [(1, 64, 1, 1), (1, 128, 1, 1),
                                                     (1, 64, 1, 1)])
        path = P.write_legacy(self.path("lin-tiny.pth"), lin, pairs_list=True)
        _, (tensors, meta) = self.ok(*self.custom("1,1"), "--backbone", self.backbone,
                                     "--calibration", path, "--lpips-version", "0.1")
        self.assertEqual(meta["calibration"], "lpips-v0.1")
        self.assertEqual(meta["calibration_source"], "lin-tiny.pth")
        self.assertEqual(list(tensors)[-3:], ["lin.0.weight", "lin.1.weight", "lin.2.weight"])
        self.assertEqual(tensors["lin.2.weight"][1].tobytes(), raw(lin[2][1].storage.values))
        self.fails("%s: 3 calibration layers, but tiny has 4 taps (the calibration of another "
                   "network?)" % path, *self.custom("1,1,1"), "--backbone", self.backbone,
                   "--calibration", path, "--lpips-version", "0.1")
        squeeze = P.write_legacy(self.path("squeeze-lin.pth"), P.calibration(archs, "squeeze"))
        self.fails("%s: 7 calibration layers, but tiny has 3 taps (the calibration of another "
                   "network?)" % squeeze, *self.custom("1,1"), "--backbone", self.backbone,
                   "--calibration", squeeze, "--lpips-version", "0.1")

    def test_standard_names(self):
        absent = self.path("absent.pth")
        # a matching description is accepted (the conversion then fails on the file)
        self.fails("%s: No such file or directory" % absent, "--network", "resnet50",
                   "--resnet-block", "bottleneck", "--resnet-blocks", "3,4,6,3",
                   "--backbone", absent)
        self.fails("resnet18 has basic blocks 2,2,2,2, not bottleneck blocks 2,2,2,2 (leave out "
                   "the block description for a standard ResNet, or give the network another "
                   "name)", "--network", "resnet18", "--resnet-block", "bottleneck",
                   "--backbone", self.backbone, status=2)
        self.fails("resnet34 has basic blocks 3,4,6,3, not basic blocks 3,4,6,2",
                   "--network", "resnet34", "--resnet-blocks", "3,4,6,2",
                   "--backbone", self.backbone, status=2)
        # a file of another ResNet
        self.fails("%s: missing tensors layer1.1.conv1.weight, layer1.1.bn1.weight, "
                   "layer1.1.bn1.bias, layer1.1.bn1.running_mean, ... (is this a torchvision "
                   "resnet18 state dict? The file has %d tensors: conv1.weight, bn1.weight, "
                   "bn1.bias, bn1.running_mean, ...)" % (self.backbone, len(self.entries)),
                   "--network", "resnet18", "--backbone", self.backbone)
        with self.assertRaises(convert.ConvertError) as cm:
            convert.convert("resnet50", absent, None, None, self.path("x.safetensors"),
                            resnet_block="basic")
        self.assertIn("resnet50 has bottleneck blocks 3,4,6,3, not basic", str(cm.exception))

    def test_usage(self):
        for args, message in (
                (["--network", "tiny"], "unknown network 'tiny' (choose from squeeze, alex, "
                 "vgg, resnet18, resnet34, resnet50, or describe a custom ResNet with "
                 "--resnet-block and --resnet-blocks)"),
                (["--network", "tiny", "--resnet-block", "basic"], "unknown network 'tiny'"),
                (["--network", "Tiny", "--resnet-block", "basic", "--resnet-blocks", "1"],
                 "invalid network name 'Tiny'"),
                (self.custom("1,1,1,1,1"), "expected 1 to 4 numbers of blocks per stage"),
                (self.custom("2,0"), "resnet blocks '2,0'"),
                (["--network", "squeeze", "--resnet-block", "basic", "--resnet-blocks", "1",
                  "--unweighted"], "squeeze is not a ResNet: it takes no block description"),
                (["--network", "squeeze"], "one of the arguments --calibration --unweighted "
                 "is required"),
                (self.custom("1") + ["--lpips-version", "0.1"], "--lpips-version goes with "
                 "--calibration"),
                (self.custom("1") + ["--calibration", "x.pth"], "--calibration needs "
                 "--lpips-version")):
            self.fails(message, *(args + ["--backbone", self.backbone]), status=2)
        r, _ = self.convert(*self.custom("1"), "--resnet-block", "wide", "--backbone", "x.pth")
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid choice: 'wide'", r.stderr)


class SynthResNet(unittest.TestCase):
    """tests/synth_weights.py's ResNets: the recipe of its docstring."""

    def test_recipe(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.safetensors")
            r = wtest.run_tool(os.path.join(wtest.ROOT, "tests", "synth_weights.py"),
                               ["--network", "resnet6", "--resnet-block", "basic",
                                "--resnet-blocks", "1,1", "--calibration", "lpips-v0.1",
                                "--seed", "13", "-o", path])
            self.assertEqual(r.returncode, 0, r.stderr)
            tensors, meta = safetensors.read(path)
        shapes = archs.backbone_tensors("resnet6", "basic", "1,1")
        self.assertEqual(list(tensors), list(shapes) + list(
            archs.lin_tensors("resnet6", "basic", "1,1")))
        self.assertEqual(meta["backbone_digest"], safetensors.tensor_digest(
            dict((k, tensors[k]) for k in shapes)))
        self.assertEqual((meta["network"], meta["architecture"], meta["resnet_block"],
                          meta["resnet_blocks"], meta["calibration"]),
                         ("resnet6", "resnet", "basic", "1,1", "lpips-v0.1"))

        def x(name, n):
            return [v / 2.0 ** 32 for v in synth_weights._uniform_words(13, name, n)]

        def f32(values):
            return list(array.array("f", values))

        for name, scale in (("bn1.weight", 1.0), ("layer1.0.bn1.weight", 1.0),
                            ("layer1.0.bn2.weight", synth_weights.BN_LAST_SCALE),
                            ("layer2.0.downsample.1.weight", 1.0)):
            n = shapes[name][0]
            self.assertEqual(list(tensors[name][1]), f32([(0.5 + v) * scale for v in x(name, n)]),
                             name)
        for part in ("bias", "running_mean"):
            name = "layer2.0.bn2." + part
            self.assertEqual(list(tensors[name][1]),
                             f32([(2 * v - 1) * 0.1 for v in x(name, 128)]), name)
        name = "layer2.0.bn2.running_var"
        self.assertEqual(list(tensors[name][1]), f32([0.5 + v for v in x(name, 128)]))
        name = "layer2.0.conv1.weight"
        bound = (6.0 / (64 * 9)) ** 0.5
        self.assertEqual(list(tensors[name][1][:50]),
                         f32([(2 * v - 1) * bound for v in x(name, 128 * 64 * 9)][:50]))
        self.assertEqual(synth_weights.make_tensors("resnet6", "lpips-v0.1", 13, "basic",
                                                    (1, 1))["lin.2.weight"][1],
                         tensors["lin.2.weight"][1])

    def test_standard_and_usage(self):
        t = synth_weights.make_tensors("resnet18", "unweighted", 1)
        self.assertEqual(list(t), list(archs.backbone_tensors("resnet18")))
        meta = synth_weights.make_metadata("resnet18", "unweighted", 1, t)
        self.assertEqual(meta["resnet_blocks"], "2,2,2,2")
        r = wtest.run_tool(os.path.join(wtest.ROOT, "tests", "synth_weights.py"),
                           ["--network", "resnet6", "--calibration", "unweighted", "--seed", "1",
                            "-o", os.devnull])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown network 'resnet6'", r.stderr)


if __name__ == "__main__":
    wtest.main()
