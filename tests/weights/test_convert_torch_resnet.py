#!/usr/bin/env python3
"""weights/convert on full-size torchvision ResNet-18 and ResNet-50 state dicts.

torch (run as a separate interpreter, see wtest.torch_python) makes
randomly initialised models (batch norms included: random weights, biases
and running statistics, num_batches_tracked set), saves them as torchvision
does (ResNet-18 in the zip format, ResNet-50 in the legacy format; both with
their classifier and int64 num_batches_tracked) and prints a SHA-256 of the
float32 bytes of every tensor plus the backbone digest computed its own way.
The converted files must hold exactly the stem's and the stages' float
tensors, and the reference (tests/reference/lpips_reference.py) with a
converted file must tap the same features as torchvision's model.  The state
dicts (about 150 MB) live in a temporary directory for the duration of the
test only.
"""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import wtest
from perceptual_weights import archs, safetensors

TORCH_SCRIPT = r"""
import hashlib, json, os, sys
import torch, torchvision

out = sys.argv[1]
torch.manual_seed(0)
result = {}
for network, make, legacy in (("resnet18", torchvision.models.resnet18, False),
                              ("resnet50", torchvision.models.resnet50, True)):
    model = make()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(1000)
    sd = model.state_dict()
    path = os.path.join(out, network + ".pth")
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    tensors = {}
    digest = hashlib.sha256()
    for key in sorted(sd):
        t = sd[key]
        if not t.is_floating_point():
            tensors[key] = [list(t.shape), str(t.dtype)]
            continue
        data = t.float().contiguous().numpy().astype("<f4").tobytes()
        tensors[key] = [list(t.shape), hashlib.sha256(data).hexdigest()]
        if not key.startswith("fc."):
            digest.update(key.encode() + b"\0" + ",".join(map(str, t.shape)).encode()
                          + b"\0" + data)
    result[network] = {"path": path, "tensors": tensors, "digest": digest.hexdigest()}
print(json.dumps(result))
"""

# Loads a converted file into the reference and compares its taps with
# torchvision's model (loaded from the original state dict).
COMPARE_SCRIPT = r"""
import json, sys
import torch, torchvision
root, network, pth, converted = sys.argv[1:5]
sys.path.insert(0, root + "/weights")
sys.path.insert(0, root + "/tests/reference")
from perceptual_weights import safetensors
import lpips_reference as ref

tensors, meta = safetensors.read(converted)
model = ref.Reference(network, meta["calibration"], tensors)
tv = getattr(torchvision.models, network)()
tv.load_state_dict(torch.load(pth))
tv.eval()
seen = {}
for name in ("relu", "layer1", "layer2", "layer3", "layer4"):
    def hook(module, args, output, name=name):
        seen.setdefault(name, output)
    getattr(tv, name).register_forward_hook(hook)
torch.manual_seed(1)
x = torch.rand(2, 3, 45, 67) * 2 - 1
with torch.no_grad():
    taps = model.taps(x)
    shift = torch.tensor(ref.SHIFT).view(1, 3, 1, 1)
    scale = torch.tensor(ref.SCALE).view(1, 3, 1, 1)
    tv((x - shift) / scale)
names = ["layer1", "layer2", "layer3", "layer4", "relu"]
print(json.dumps({"shapes": [list(t.shape) for t in taps],
                  "max_abs_diff": [(t - seen[n]).abs().max().item() for t, n in zip(taps, names)],
                  "max_abs": [t.abs().max().item() for t in taps]}))
"""

TORCH, WHY_NOT = wtest.torch_python()


@unittest.skipIf(TORCH is None, WHY_NOT)
class FullSizeResNets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convert-torch-resnet-")
        try:
            r = subprocess.run([TORCH, "-c", TORCH_SCRIPT, cls.tmp], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
            if r.returncode != 0:
                raise AssertionError("the torch script failed:\n" + r.stderr)
            cls.made = json.loads(r.stdout)
        except BaseException:
            shutil.rmtree(cls.tmp)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def convert(self, network, source, *args):
        """Convert the state dict torch made for `source` as `network`."""
        out = os.path.join(self.tmp, network + ".safetensors")
        if os.path.exists(out):
            os.unlink(out)
        r = wtest.run_tool(wtest.CONVERT, ["--network", network, "--backbone",
                                           self.made[source]["path"]]
                           + list(args) + ["-o", out], timeout=300)
        return r, out

    def check(self, network):
        made = self.made[network]
        r, out = self.convert(network, network)
        self.assertEqual(r.returncode, 0, r.stderr)
        tensors, meta = safetensors.read(out)
        block, blocks = archs.STANDARD_RESNETS[network]
        self.assertEqual(meta["calibration"], "unweighted")
        self.assertEqual((meta["architecture"], meta["resnet_block"], meta["resnet_blocks"]),
                         ("resnet", block, archs.format_blocks(blocks)))
        self.assertEqual(meta["backbone_source"], os.path.basename(made["path"]))
        self.assertEqual(meta["backbone_digest"], made["digest"])
        expected = archs.backbone_tensors(network)
        # every float tensor torch saved but the classifier is one the network needs
        self.assertEqual(sorted(k for k, v in made["tensors"].items()
                                if not k.startswith("fc.") and len(v[1]) == 64),
                         sorted(expected))
        counters = [k for k in made["tensors"] if k.endswith(".num_batches_tracked")]
        self.assertEqual(len(counters), sum(1 for k in expected if k.endswith(".running_var")))
        self.assertEqual(set(made["tensors"][k][1] for k in counters), {"torch.int64"})
        self.assertEqual(list(tensors), list(expected))
        for name, shape in expected.items():
            got_shape, values = tensors[name]
            self.assertEqual(list(got_shape), made["tensors"][name][0], name)
            self.assertEqual(tuple(got_shape), shape, name)
            self.assertEqual(hashlib.sha256(values.tobytes()).hexdigest(),
                             made["tensors"][name][1], name)
        # the reference with the converted file taps what torchvision computes
        c = subprocess.run([TORCH, "-c", COMPARE_SCRIPT, wtest.ROOT, network, made["path"], out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=300)
        self.assertEqual(c.returncode, 0, c.stderr)
        compared = json.loads(c.stdout)
        channels = archs.tap_channels(network)
        sides = [archs.resnet_tap_sizes(block, blocks, n) for n in (45, 67)]
        self.assertEqual(compared["shapes"], [[2, ch, h, w] for ch, h, w in
                                              zip(channels, sides[0], sides[1])])
        self.assertEqual(compared["max_abs_diff"], [0.0] * 5)
        self.assertTrue(all(0 < m < 1e4 for m in compared["max_abs"]), compared["max_abs"])
        os.unlink(out)

    def test_resnet18_zip_format(self):
        self.check("resnet18")

    def test_resnet50_legacy_format(self):
        self.check("resnet50")

    def test_shallower_descriptions(self):
        # the first two stages of ResNet-18: its later stages are dropped
        r, out = self.convert("resnet18-2", "resnet18", "--resnet-block", "basic", "--resnet-blocks", "2,2")
        self.assertEqual(r.returncode, 0, r.stderr)
        tensors, meta = safetensors.read(out)
        self.assertEqual(list(tensors), list(archs.resnet_tensors("basic", (2, 2))))
        for name, (shape, values) in tensors.items():
            self.assertEqual(hashlib.sha256(values.tobytes()).hexdigest(),
                             self.made["resnet18"]["tensors"][name][1], name)
        # but not its extra blocks
        r, out = self.convert("resnet50-x", "resnet50", "--resnet-block", "bottleneck",
                              "--resnet-blocks", "3,4,6,2")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "convert: %s: tensor layer4.2.conv1.weight belongs to block "
                         "3 of stage 4, but stage 4 of resnet50-x (bottleneck blocks 3,4,6,2) "
                         "has 2 blocks (a deeper ResNet? Only whole stages beyond the "
                         "description are dropped)\n" % self.made["resnet50"]["path"])
        self.assertFalse(os.path.exists(out))

    def test_other_resnets_are_refused(self):
        r, _ = self.convert("resnet34", "resnet18")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^convert: .*resnet18\.pth: missing tensors "
                         r"layer1\.2\.conv1\.weight, .* \(is this a torchvision resnet34 state "
                         r"dict\? The file has 122 tensors: conv1\.weight, bn1\.weight, ")
        r, _ = self.convert("resnet50-as-basic", "resnet50", "--resnet-block", "basic",
                            "--resnet-blocks", "3,4,6,3")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"resnet50\.pth: unexpected tensor layer1\.0\.conv3\.weight "
                         r"for resnet50-as-basic \(basic blocks 3,4,6,3\) \(a ResNet of "
                         r"bottleneck blocks\?\)\n$")


if __name__ == "__main__":
    if TORCH is None:
        wtest.skip_all(WHY_NOT)
    wtest.main()
