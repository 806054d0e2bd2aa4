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

ResNets have no conv biases; their batch norms (the 1-D tensors) get

    weight:       0.5 + x     (times BN_LAST_SCALE for a block's last batch
                               norm: bn2 of a basic block, bn3 of a bottleneck)
    bias:         (2x - 1) * 0.1
    running_mean: (2x - 1) * 0.1
    running_var:  0.5 + x

and every value is then rounded to float32.  The convolutions keep the
features' second moment (He initialisation) and the batch norms scale by
about 1, so without BN_LAST_SCALE every residual block would roughly double
the variance of its input; the scaling of the residual branch (the idea of
zero-initialising the last batch norm of each block) keeps the activations
of ResNet-50 at the magnitudes of a trained network's.

Usage:
    python3 tests/synth_weights.py --network squeeze \\
        --calibration lpips-v0.1 --seed 1 -o model.safetensors
    python3 tests/synth_weights.py --network resnet18 --calibration unweighted \\
        --seed 11 -o resnet18.safetensors
    python3 tests/synth_weights.py --network resnet6 --resnet-block basic \\
        --resnet-blocks 1,1 --calibration unweighted --seed 13 -o resnet6.safetensors
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

# Scale of the weight of the last batch norm of every ResNet block.
BN_LAST_SCALE = 0.2


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


def _bn_tensor(u, part, scale):
    """A batch norm tensor (weight, bias, running_mean or running_var)."""
    x = [v * _ONE_OVER_2_32 for v in u]
    if part == "weight":
        return array.array("f", [(0.5 + v) * scale for v in x])
    if part in ("bias", "running_mean"):
        return array.array("f", [(2.0 * v - 1.0) * 0.1 for v in x])
    if part == "running_var":
        return array.array("f", [0.5 + v for v in x])
    raise ValueError("unexpected batch norm tensor %r" % part)


def _last_bn(backbone, name):
    """True for the last batch norm of a ResNet block (bn2 of a basic block,
    bn3 of a bottleneck)."""
    block, _, rest = name.rpartition(".bn")
    if not block.startswith("layer") or not rest[:1].isdigit():
        return False
    return "%s.conv%d.weight" % (block, int(rest[:1]) + 1) not in backbone


def make_tensors(network, calibration, seed, resnet_block=None, resnet_blocks=None):
    """OrderedDict name -> (shape, array('f')) for a synthetic model file.

    Backbone tensors come first (in archs.backbone_tensors order), then the
    calibration tensors unless `calibration` is "unweighted".  A custom
    ResNet is described by `resnet_block` and `resnet_blocks` (see
    archs.resnet_description).
    """
    if calibration not in CALIBRATIONS:
        raise ValueError("unknown calibration %r (known: %s)"
                         % (calibration, ", ".join(CALIBRATIONS)))
    seed = int(seed)
    backbone = archs.backbone_tensors(network, resnet_block, resnet_blocks)
    out = OrderedDict()
    for name, shape in backbone.items():
        u = _uniform_words(seed, name, _product(shape))
        if len(shape) == 1 and archs.is_resnet(network, resnet_block, resnet_blocks):
            scale = BN_LAST_SCALE if _last_bn(backbone, name) else 1.0
            values = _bn_tensor(u, name.rpartition(".")[2], scale)
        elif name.endswith(".weight"):
            values = _conv_weight(u, _product(shape[1:]))
        elif name.endswith(".bias"):
            wshape = backbone[name[:-len(".bias")] + ".weight"]
            values = _conv_bias(u, _product(wshape[1:]))
        else:
            raise ValueError("unexpected backbone tensor %r" % name)
        out[name] = (tuple(shape), values)
    if calibration != "unweighted":
        for name, shape in archs.lin_tensors(network, resnet_block, resnet_blocks).items():
            u = _uniform_words(seed, name, _product(shape))
            out[name] = (tuple(shape), _lin_weight(u))
    return out


def backbone_names(network, resnet_block=None, resnet_blocks=None):
    return list(archs.backbone_tensors(network, resnet_block, resnet_blocks))


def make_metadata(network, calibration, seed, tensors, resnet_block=None, resnet_blocks=None):
    backbone = OrderedDict((k, tensors[k])
                           for k in backbone_names(network, resnet_block, resnet_blocks))
    source = "synthetic seed %d" % int(seed)
    metadata = OrderedDict([
        ("format", safetensors.FORMAT),
        ("format_version", safetensors.FORMAT_VERSION),
        ("network", network),
        ("calibration", calibration),
        ("backbone_digest", safetensors.tensor_digest(backbone)),
        ("backbone_source", source),
        ("calibration_source", "none" if calibration == "unweighted" else source),
    ])
    metadata.update(archs.model_metadata(network, resnet_block, resnet_blocks))
    return metadata


def write_model(path, network, calibration, seed, resnet_block=None, resnet_blocks=None):
    """Generate and write a synthetic model file; returns the tensors."""
    tensors = make_tensors(network, calibration, seed, resnet_block, resnet_blocks)
    safetensors.write(path, tensors, make_metadata(network, calibration, seed, tensors,
                                                   resnet_block, resnet_blocks))
    return tensors


def main(argv=None):
    p = argparse.ArgumentParser(description="Write a deterministic synthetic model file.")
    p.add_argument("--network", required=True, metavar="NETWORK",
                   help="%s, or a custom ResNet's name with --resnet-block and "
                        "--resnet-blocks" % ", ".join(archs.NETWORKS))
    p.add_argument("--resnet-block", choices=archs.RESNET_BLOCKS)
    p.add_argument("--resnet-blocks", metavar="N,N,...", help="blocks per stage, e.g. 1,1")
    p.add_argument("--calibration", required=True, choices=CALIBRATIONS)
    p.add_argument("--seed", required=True, type=int)
    p.add_argument("-o", "--output", required=True, metavar="OUT.safetensors")
    args = p.parse_args(argv)
    try:
        archs.backbone_tensors(args.network, args.resnet_block, args.resnet_blocks)
    except ValueError as e:
        p.error(str(e))
    write_model(args.output, args.network, args.calibration, args.seed,
                args.resnet_block, args.resnet_blocks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
