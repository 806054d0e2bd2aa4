#!/usr/bin/env python3
"""Deterministic synthetic model files for tests (Python standard library only).

The tensors have the names and shapes of a real model file (see
weights/perceptual_weights/archs.py) but hold pseudo-random values that depend
only on the seed and the tensor name, so the same file can be regenerated
anywhere, on any byte order, without the published weights.

Recipe, per tensor with n values:

    rng = random.Random("%d:%s" % (seed, name))
    u   = n unsigned 32-bit integers from rng.randbytes(4 * n), little-endian
    x   = u / 2**32                                  (in [0, 1))
    conv weight:  (2x - 1) * sqrt(6 / fan_in)        fan_in = prod(shape[1:])
    conv bias:    (2x - 1) / sqrt(fan_in of the conv)
    lin weight:   x

and every value is then rounded to float32.

Usage:
    python3 tests/synth_weights.py --network squeeze \\
        --calibration lpips-v0.1 --seed 1 -o model.safetensors
"""

import argparse
import array
import math
import os
import random
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "weights"))

from perceptual_weights import archs, safetensors  # noqa: E402

CALIBRATIONS = ("lpips-v0.1", "lpips-v0.0", "unweighted")

# 2 * u / 2**32 == u * 2**-31 exactly (power of two), so (u * _TWO_OVER_2_32 - 1.0)
# is exactly 2x - 1.
_TWO_OVER_2_32 = 2.0 ** -31
_ONE_OVER_2_32 = 2.0 ** -32


def _uint32_typecode():
    for code in ("I", "L"):
        if array.array(code).itemsize == 4:
            return code
    raise RuntimeError("no 32-bit unsigned array type on this platform")


_U32 = _uint32_typecode()


def _product(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def _uniform_words(seed, name, n):
    """n pseudo-random unsigned 32-bit integers for tensor `name`."""
    rng = random.Random("%d:%s" % (seed, name))
    u = array.array(_U32, rng.randbytes(4 * n))
    if sys.byteorder != "little":
        u.byteswap()
    return u


# The chained map() calls evaluate exactly the expressions in the module
# docstring, only without a Python-level loop (about twice as fast).

def _conv_weight(u, fan_in):
    """(u * 2**-31 - 1) * sqrt(6 / fan_in) for every u."""
    s = math.sqrt(6.0 / fan_in)
    return array.array("f", map(s.__mul__, map((-1.0).__add__, map(_TWO_OVER_2_32.__mul__, u))))


def _conv_bias(u, fan_in):
    """(u * 2**-31 - 1) / sqrt(fan_in) for every u."""
    r = math.sqrt(fan_in)
    return array.array("f", map(r.__rtruediv__,
                                map((-1.0).__add__, map(_TWO_OVER_2_32.__mul__, u))))


def _lin_weight(u):
    """u * 2**-32 for every u."""
    return array.array("f", map(_ONE_OVER_2_32.__mul__, u))


def make_tensors(network, calibration, seed):
    """OrderedDict name -> (shape, array('f')) for a synthetic model file.

    Backbone tensors come first (in archs.backbone_tensors order), then the
    calibration tensors unless `calibration` is "unweighted".
    """
    if calibration not in CALIBRATIONS:
        raise ValueError("unknown calibration %r (known: %s)"
                         % (calibration, ", ".join(CALIBRATIONS)))
    seed = int(seed)
    backbone = archs.backbone_tensors(network)
    out = OrderedDict()
    for name, shape in backbone.items():
        u = _uniform_words(seed, name, _product(shape))
        if name.endswith(".weight"):
            values = _conv_weight(u, _product(shape[1:]))
        elif name.endswith(".bias"):
            wshape = backbone[name[:-len(".bias")] + ".weight"]
            values = _conv_bias(u, _product(wshape[1:]))
        else:
            raise ValueError("unexpected backbone tensor %r" % name)
        out[name] = (tuple(shape), values)
    if calibration != "unweighted":
        for name, shape in archs.lin_tensors(network).items():
            u = _uniform_words(seed, name, _product(shape))
            out[name] = (tuple(shape), _lin_weight(u))
    return out


def backbone_names(network):
    return list(archs.backbone_tensors(network))


def make_metadata(network, calibration, seed, tensors):
    backbone = OrderedDict((k, tensors[k]) for k in backbone_names(network))
    source = "synthetic seed %d" % int(seed)
    return OrderedDict([
        ("format", safetensors.FORMAT),
        ("format_version", safetensors.FORMAT_VERSION),
        ("network", network),
        ("calibration", calibration),
        ("backbone_digest", safetensors.tensor_digest(backbone)),
        ("backbone_source", source),
        ("calibration_source", "none" if calibration == "unweighted" else source),
    ])


def write_model(path, network, calibration, seed):
    """Generate and write a synthetic model file; returns the tensors."""
    tensors = make_tensors(network, calibration, seed)
    safetensors.write(path, tensors, make_metadata(network, calibration, seed, tensors))
    return tensors


def main(argv=None):
    p = argparse.ArgumentParser(description="Write a deterministic synthetic model file.")
    p.add_argument("--network", required=True, choices=archs.NETWORKS)
    p.add_argument("--calibration", required=True, choices=CALIBRATIONS)
    p.add_argument("--seed", required=True, type=int)
    p.add_argument("-o", "--output", required=True, metavar="OUT.safetensors")
    args = p.parse_args(argv)
    write_model(args.output, args.network, args.calibration, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
