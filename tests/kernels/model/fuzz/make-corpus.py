#!/usr/bin/env python3
"""Writes the fuzz target's seed corpus (tests/kernels/model/fuzz/corpus), or
with --full also the seeds too large to commit.

The committed seeds are small: a valid safetensors file that is no model,
model files cut short after their first tensors (a SqueezeNet's first
convolution; a one-stage ResNet's stem with its batch norm, which the loader
folds, and the same with a batch norm that folds into infinite weights),
and hostile headers of each kind the loader refuses before json-glib
sees them.  The smallest complete model, a ResNet of one basic block, has
330 KB of weights; `--full` writes it (and a copy whose batch norm folds into
infinite weights) instead, which `tests/run-all --fuzz` does into its temporary
copy of the corpus.  Everything is deterministic (synth_weights).

    python3 tests/kernels/model/fuzz/make-corpus.py [--full] [--out DIR (default: corpus/
    beside it)]
"""

import argparse
import json
import os
import struct
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, TESTS)

import synth_weights  # noqa: E402


def container(header, data=b""):
    """8-byte length, header (bytes or str), data."""
    if isinstance(header, str):
        header = header.encode("utf-8")
    return struct.pack("<Q", len(header)) + header + data


def model_file(network, calibration, seed, names=None, block=None, blocks=None,
               edit=None):
    """A synthetic model file as bytes, keeping only the tensors in `names`
    (all if None); `edit(name, values)` may change a tensor's values."""
    tensors = synth_weights.make_tensors(network, calibration, seed, block, blocks)
    metadata = synth_weights.make_metadata(network, calibration, seed, tensors, block, blocks)
    header = {"__metadata__": dict(metadata)}
    data = b""
    for name, (shape, values) in tensors.items():
        if names is not None and name not in names:
            continue
        if edit:
            edit(name, values)
        blob = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":"))
    text += " " * (-len(text) % 8)
    return container(text, data)


def huge_batch_norm(name, values):
    """Finite, but folded into the stem's convolution (scaled by
    weight / sqrt(running_var + 1e-5)): infinite."""
    if name in ("bn1.weight", "bn1.running_var"):
        for i in range(len(values)):
            values[i] = 3e38 if name == "bn1.weight" else 1e-3


STEM = ("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var")
SMALL = ('{"__metadata__":{"format":"x"},'
         '"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},'
         '"b":{"dtype":"F32","shape":[4],"data_offsets":[24,40]},'
         '"c":{"dtype":"F32","shape":[],"data_offsets":[40,44]}}')
ENTRY = '"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'


def seeds():
    f4 = struct.pack("<f", 0.5)
    yield "valid-small", container(SMALL, struct.pack("<11f", *[i * 0.5 for i in range(11)]))
    yield "squeeze-first-layer", model_file(
        "squeeze", "lpips-v0.1", 1, ("features.0.weight", "features.0.bias"))
    yield "resnet1-stem", model_file("resnet1", "unweighted", 5, STEM, "basic", "1")
    yield "resnet1-stem-huge-bn", model_file("resnet1", "unweighted", 5, STEM, "basic", "1",
                                             edit=huge_batch_norm)
    # Hostile headers: one of each kind the scanner refuses.
    yield "deep-nesting", container("{\"a\":" + "[" * 40 + "]" * 40 + "}")
    yield "duplicate-keys", container("{%s,%s}" % (ENTRY, ENTRY), f4)
    yield "duplicate-member", container('{"t":{"dtype":"F32","dtype":"F32","shape":[1],'
                                        '"data_offsets":[0,4]}}', f4)
    yield "duplicate-escaped", container('{"t":{},"\\u0074":{}}')
    yield "white-space", container(" \t\r\n" * 4)
    yield "empty-object", container("{}", b"xyz")
    yield "top-array", container("[]")
    yield "trailing-text", container("{%s} {}" % ENTRY, f4)
    yield "unterminated", container('{"a"')
    yield "nul-escape", container('{"t\\u0000x":{}}')
    yield "lone-surrogate", container('{"\\ud800":{}}')
    yield "surrogate-pair", container('{"\\ud83d\\ude00":{"dtype":"F32","shape":[1],'
                                      '"data_offsets":[0,4]}}', f4)
    yield "long-key", container('{"%s":{}}' % ("k" * 300))
    yield "long-number", container('{"t":{"dtype":"F32","shape":[%s],"data_offsets":[0,4]}}'
                                   % ("1" * 40), f4)
    yield "bad-number", container('{"t":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}', f4)
    yield "many-dimensions", container('{"t":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],'
                                       '"data_offsets":[0,4]}}', f4)
    yield "metadata-number", container('{"__metadata__":{"format":7}}')
    yield "literals", container('{"t":{"dtype":null,"shape":[true],"data_offsets":[false,4]}}', f4)
    yield "header-too-long", struct.pack("<Q", 1 << 40) + b"{}"
    yield "header-past-end", struct.pack("<Q", 100) + b"{}"
    yield "header-length-max", b"\xff" * 8 + b"{}"
    yield "short", b"\x02\0\0\0"


def full_seeds():
    yield "resnet1-full", model_file("resnet1", "unweighted", 5, None, "basic", "1")
    yield "resnet1-full-huge-bn", model_file("resnet1", "unweighted", 5, None, "basic", "1",
                                             edit=huge_batch_norm)


def write(folder, items):
    os.makedirs(folder, exist_ok=True)
    for name, data in items:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "corpus"))
    p.add_argument("--full", action="store_true",
                   help="write the complete models, too large to commit, instead")
    args = p.parse_args()
    write(args.out, full_seeds() if args.full else seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
