#!/usr/bin/env python3
"""weights/convert on full-size torchvision AlexNet and VGG-16 state dicts.

torch (run as a separate interpreter, see wtest.torch_python) makes
randomly initialised models, saves them as torchvision does (AlexNet in the
legacy format under an official-style name, VGG-16 in the zip format; both
with their classifier) and prints a SHA-256 of the float32 bytes of every
`features.*` tensor plus the backbone digest computed its own way.  The converted files must
hold exactly those tensors.  The state dicts (about 760 MB) live in a
temporary directory for the duration of the test only.
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
for network, make, legacy in (("alex", torchvision.models.alexnet, True),
                              ("vgg", torchvision.models.vgg16, False)):
    sd = make().state_dict()
    path = os.path.join(out, network + ".pth")
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    if legacy:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        name = os.path.join(out, "alexnet-owt-%s.pth" % h.hexdigest()[:8])
        os.rename(path, name)
        path = name
    tensors = {}
    digest = hashlib.sha256()
    for key in sorted(sd):
        if not key.startswith("features."):
            tensors[key] = [list(sd[key].shape), None]
            continue
        data = sd[key].float().contiguous().numpy().astype("<f4").tobytes()
        tensors[key] = [list(sd[key].shape), hashlib.sha256(data).hexdigest()]
        digest.update(key.encode() + b"\0" + ",".join(map(str, sd[key].shape)).encode()
                      + b"\0" + data)
    result[network] = {"path": path, "tensors": tensors, "digest": digest.hexdigest()}
    del sd
print(json.dumps(result))
"""

TORCH, WHY_NOT = wtest.torch_python()
MIRROR = wtest.real_weights()


@unittest.skipIf(TORCH is None, WHY_NOT)
class FullSize(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convert-torch-")
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

    def check(self, network):
        made = self.made[network]
        out = os.path.join(self.tmp, network + ".safetensors")
        if MIRROR:
            args = ["--calibration", os.path.join(MIRROR, "lpips/v0.1/%s.pth" % network),
                    "--lpips-version", "0.1"]
            label = "lpips-v0.1"
        else:
            args, label = ["--unweighted"], "unweighted"
        r = wtest.run_tool(wtest.CONVERT, ["--network", network, "--backbone", made["path"]]
                           + args + ["-o", out], timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        tensors, meta = safetensors.read(out)
        os.unlink(out)
        self.assertEqual(meta["calibration"], label)
        self.assertEqual(meta["backbone_source"], os.path.basename(made["path"]))
        self.assertEqual(meta["backbone_digest"], made["digest"])
        expected = archs.backbone_tensors(network)
        # every features.* tensor torch saved is one the network needs
        self.assertEqual(sorted(k for k in made["tensors"] if k.startswith("features.")),
                         sorted(expected))
        self.assertTrue(any(k.startswith("classifier.") for k in made["tensors"]))
        self.assertFalse(any(k.startswith("classifier.") for k in tensors))
        for name, shape in expected.items():
            got_shape, values = tensors[name]
            self.assertEqual(list(got_shape), made["tensors"][name][0], name)
            self.assertEqual(tuple(got_shape), shape, name)
            self.assertEqual(hashlib.sha256(values.tobytes()).hexdigest(),
                             made["tensors"][name][1], name)
        lin = [k for k in tensors if k.startswith("lin.")]
        self.assertEqual(len(lin), len(archs.TAP_CHANNELS[network]) if MIRROR else 0)

    def test_alexnet_legacy_format(self):
        self.check("alex")

    def test_vgg16_zip_format(self):
        self.check("vgg")

    def test_renamed_official_file_is_refused(self):
        path = self.made["alex"]["path"]
        renamed = os.path.join(self.tmp, "alexnet-owt-7be5be79.pth")
        os.link(path, renamed)
        try:
            r = wtest.run_tool(wtest.CONVERT, ["--network", "alex", "--backbone", renamed,
                                               "--unweighted", "-o", renamed + ".out"])
        finally:
            os.unlink(renamed)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^convert: %s: SHA-256 [0-9a-f]{64} does not start with "
                         r"7be5be79 as the file name says" % renamed)
        self.assertFalse(os.path.exists(renamed + ".out"))


if __name__ == "__main__":
    if TORCH is None:
        wtest.skip_all(WHY_NOT)
    wtest.main()
