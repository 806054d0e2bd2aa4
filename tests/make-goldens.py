#!/usr/bin/python3
"""Regenerate tests/goldens/goldens.json and tests/goldens/resnet.json (needs
torch: run with /usr/bin/python3).

Every case pairs two deterministic synthetic images with a synthetic model
(tests/synth_weights.py, same seed) and records what the float64 PyTorch
reference (tests/reference/lpips_reference.py) computes for them: the scalar
distance, the per-layer terms, each layer's map D_l at its own resolution
and the spatial map.  `float32_max_abs_diff` says how far the same reference
in float32 lands from the float64 values (scalar and spatial map), as a hint
for test tolerances.

resnet.json holds ResNet cases (and two SqueezeNet cases) with more: the raw
features of the first image at every tap, the terms of every tap for the
three distances (spatial, mean-pool, style) and the spatial map over every
tap.  Its cases have these fields, in this order:

    name, network, resnet_block, resnet_blocks (null for squeeze/alex/vgg;
        resnet_blocks as in the model file's metadata, e.g. "2,2,2,2"),
    calibration, seed, width, height,
    default_layers      1-based taps the distances sum by default
    tap_shapes          [C, h, w] of every tap, in tap order (a ResNet's
                        stages, then its stem)
    image0, image1      H x W x 3 bytes, row by row
    features0           per tap, the raw features of image0 (after the
                        tap's ReLU), C x h x w flattened (channel slowest)
    distance            LPIPS (spatial) distance over default_layers
    layers              its terms, every tap
    layer_shapes, layer_maps   D_l of every tap at its own resolution
    spatial             sum over default_layers of the upsampled D_l
    spatial_all_taps    the same over every tap
    mean_pool_distance, mean_pool_layers   the mean-pool distance over
                        default_layers and its terms at every tap
    style_distance, style_layers           the same for the style distance
    float32_max_abs_diff             scalar and spatial map, as above
    float32_max_abs_diff_features    features0 (absolute)
    float32_max_abs_diff_mean_pool, float32_max_abs_diff_style   the terms

Usage: /usr/bin/python3 tests/make-goldens.py [-o tests/goldens/goldens.json]
                                              [--resnet-output tests/goldens/resnet.json]
"""

import argparse
import copy
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))

import torch  # noqa: E402

import lpips_reference as ref  # noqa: E402
import synth_weights  # noqa: E402
from perceptual_weights import archs  # noqa: E402  (synth_weights put it on the path)

# name, network, calibration, seed, width, height, identical images
# Sizes are odd or otherwise awkward on purpose: SqueezeNet's ceil-mode pools
# then have windows hanging over the edge, and the upsampling scale factors are
# not integers.  Cases 1 and 2 keep 2 pixels (in at least one direction) at
# SqueezeNet's deepest taps; the *-min cases use the smallest square input.
CASES = [
    ("squeeze-v0.1-33x25", "squeeze", "lpips-v0.1", 1, 33, 25, False),
    ("squeeze-v0.0-37x33", "squeeze", "lpips-v0.0", 2, 37, 33, False),
    ("squeeze-unweighted-25x41", "squeeze", "unweighted", 3, 25, 41, False),
    ("squeeze-v0.1-min", "squeeze", "lpips-v0.1", 4, 17, 17, False),
    ("alex-v0.1-47x31", "alex", "lpips-v0.1", 5, 47, 31, False),
    ("alex-v0.1-min", "alex", "lpips-v0.1", 6, 31, 31, False),
    ("vgg-v0.1-33x27", "vgg", "lpips-v0.1", 7, 33, 27, False),
    ("vgg-unweighted-min", "vgg", "unweighted", 8, 16, 16, False),
    ("squeeze-v0.1-identical", "squeeze", "lpips-v0.1", 9, 20, 18, True),
]
UPSAMPLED_CASE = 0  # only this case stores every layer's upsampled map

# resnet.json: name, network, resnet_block, resnet_blocks, calibration, seed,
# width, height.  The squeeze cases are goldens.json's (same seeds and
# sizes, so the same images and spatial values).
RESNET_CASES = [
    ("resnet18-unweighted-67x45", "resnet18", None, None, "unweighted", 11, 67, 45),
    ("resnet50-unweighted-49x37", "resnet50", None, None, "unweighted", 12, 49, 37),
    ("resnet6-basic-1,1-unweighted-29x23", "resnet6", "basic", "1,1", "unweighted", 13, 29, 23),
    # the deeper taps are 1 x 1 (ResNets take any input of at least 1 x 1)
    ("resnet18-unweighted-3x2", "resnet18", None, None, "unweighted", 14, 3, 2),
    # calibrated (lin weights on every tap, the stem's last), no input scaling
    ("resnet-b3-bottleneck-1,1,1-v0.0-23x19", "resnet-b3", "bottleneck", "1,1,1",
     "lpips-v0.0", 15, 23, 19),
    ("squeeze-unweighted-25x41", "squeeze", None, None, "unweighted", 3, 25, 41),
    ("squeeze-v0.1-33x25", "squeeze", None, None, "lpips-v0.1", 1, 33, 25),
]


def _clamp_byte(v):
    return 0 if v < 0 else 255 if v > 255 else int(round(v))


def make_image0(rng, width, height):
    """Smooth colour pattern (gradients, waves, soft blobs) plus noise."""
    chans = []
    for _ in range(3):
        gx, gy = rng.uniform(-60, 60), rng.uniform(-60, 60)
        waves = []
        for _ in range(3):
            angle = rng.uniform(0, math.pi)
            freq = rng.uniform(0.5, 4.0) * 2 * math.pi / max(width, height)
            waves.append((math.cos(angle) * freq, math.sin(angle) * freq,
                          rng.uniform(0, 2 * math.pi), rng.uniform(15, 45)))
        blobs = [(rng.uniform(0, width), rng.uniform(0, height),
                  rng.uniform(0.1, 0.3) * max(width, height), rng.uniform(-70, 70))
                 for _ in range(2)]
        chans.append((rng.uniform(90, 160), gx, gy, waves, blobs))
    img = []
    for y in range(height):
        for x in range(width):
            u, v = x / max(width - 1, 1) - 0.5, y / max(height - 1, 1) - 0.5
            for base, gx, gy, waves, blobs in chans:
                val = base + gx * u + gy * v
                for fx, fy, ph, amp in waves:
                    val += amp * math.sin(fx * x + fy * y + ph)
                for bx, by, br, bamp in blobs:
                    val += bamp * math.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * br * br))
                val += rng.gauss(0, 10)
                img.append(_clamp_byte(val))
    return img


def distort(rng, img, width, height):
    """A mix of distortions of `img`: a one-pixel shift, a box blur over a
    left part, a per-channel gain and offset, a block replaced mostly by other
    image content (mirrored, channel-rotated, inverted) and noise."""
    def px(x, y, c):
        x = min(max(x, 0), width - 1)
        y = min(max(y, 0), height - 1)
        return img[(y * width + x) * 3 + c]

    dx, dy = rng.choice((-1, 1)), rng.choice((-1, 0, 1))
    gain = [rng.uniform(0.8, 1.2) for _ in range(3)]
    offset = [rng.uniform(-20, 20) for _ in range(3)]
    bw, bh = max(2, width // 3), max(2, height // 3)
    bx, by = rng.randrange(0, width - bw + 1), rng.randrange(0, height - bh + 1)
    sx, sy = rng.randrange(width), rng.randrange(height)
    split = rng.uniform(0.3, 0.7) * width
    out = []
    for y in range(height):
        for x in range(width):
            for c in range(3):
                if x < split:
                    val = sum(px(x + dx + i, y + dy + j, c)
                              for i in (-1, 0, 1) for j in (-1, 0, 1)) / 9.0
                else:
                    val = px(x + dx, y + dy, c)
                val = (val - 128) * gain[c] + 128 + offset[c]
                if bx <= x < bx + bw and by <= y < by + bh:
                    other = 255 - px((sx - x) % width, (sy + y) % height, (c + 1) % 3)
                    val = 0.15 * val + 0.85 * other
                val += rng.gauss(0, 6)
                out.append(_clamp_byte(val))
    return out


def make_images(seed, width, height, identical):
    rng = random.Random("images:%d" % seed)
    img0 = make_image0(rng, width, height)
    img1 = list(img0) if identical else distort(rng, img0, width, height)
    return img0, img1


def _as_tensor(pixels, width, height, dtype):
    t = torch.tensor(pixels, dtype=torch.uint8).reshape(height, width, 3)
    return ref.image_tensor(t, dtype)


def _tap_stats(model, x0, x1):
    """Per tap: fraction of zero activations, and pixels with an all-zero feature vector."""
    stats = []
    with torch.no_grad():
        for a, b in zip(model.taps(x0), model.taps(x1)):
            both = torch.cat([a, b])
            zero_frac = (both == 0).double().mean().item()
            dead_px = int((both.abs().sum(dim=1) == 0).sum().item())
            stats.append((zero_frac, dead_px))
    return stats


def run_case(spec, models, upsampled):
    name, network, calibration, seed, width, height, identical = spec
    key = (network, calibration, seed)
    if key not in models:
        tensors = synth_weights.make_tensors(network, calibration, seed)
        m32 = ref.Reference(network, calibration, tensors).float()
        models[key] = (m32, copy.deepcopy(m32).double())
    m32, m64 = models[key]
    img0, img1 = make_images(seed, width, height, identical)
    with torch.no_grad():
        r64 = m64(_as_tensor(img0, width, height, torch.float64),
                  _as_tensor(img1, width, height, torch.float64), upsampled=upsampled)
        r32 = m32(_as_tensor(img0, width, height, torch.float32),
                  _as_tensor(img1, width, height, torch.float32))
    diff32 = max(abs(r32["distance"].double().item() - r64["distance"].item()),
                 (r32["spatial"].double() - r64["spatial"]).abs().max().item())
    case = {
        "name": name, "network": network, "calibration": calibration, "seed": seed,
        "width": width, "height": height,
        "image0": img0, "image1": img1,
        "distance": r64["distance"].item(),
        "layers": r64["layers"][0].tolist(),
        "layer_shapes": [list(m.shape[1:]) for m in r64["layer_maps"]],
        "layer_maps": [m[0].reshape(-1).tolist() for m in r64["layer_maps"]],
        "spatial": r64["spatial"][0].reshape(-1).tolist(),
    }
    if upsampled:
        case["layer_maps_upsampled"] = [m[0].reshape(-1).tolist()
                                        for m in r64["layer_maps_upsampled"]]
    case["float32_max_abs_diff"] = diff32
    x0 = _as_tensor(img0, width, height, torch.float64)
    x1 = _as_tensor(img1, width, height, torch.float64)
    return case, _tap_stats(m64, x0, x1)


def _flat(t):
    return t.reshape(-1).tolist()


def _max_diff(a, b):
    return max((x.double() - y).abs().max().item() for x, y in zip(a, b))


def run_resnet_case(spec, models):
    """A resnet.json case (see the module docstring)."""
    name, network, block, blocks, calibration, seed, width, height = spec
    key = (network, block, blocks, calibration, seed)
    if key not in models:
        tensors = synth_weights.make_tensors(network, calibration, seed, block, blocks)
        m32 = ref.Reference(network, calibration, tensors, block, blocks).float()
        models[key] = (m32, copy.deepcopy(m32).double())
    m32, m64 = models[key]
    img0, img1 = make_images(seed, width, height, False)
    out = {}
    for dtype, model in ((torch.float64, m64), (torch.float32, m32)):
        x0 = _as_tensor(img0, width, height, dtype)
        x1 = _as_tensor(img1, width, height, dtype)
        with torch.no_grad():
            f0, f1 = model.taps(x0), model.taps(x1)
            r = model(x0, x1, features=(f0, f1))
            every = model(x0, x1, layers=range(1, len(f0) + 1), features=(f0, f1))
            out[dtype] = (f0, r, every["spatial"],
                          model.terms(f0, f1, "mean-pool"), model.terms(f0, f1, "style"))
    f0, r, spatial_all, mean_pool, style = out[torch.float64]
    g0, r32, _, mean_pool32, style32 = out[torch.float32]
    default = list(m64.default_layers)
    if network in ref.RESNETS or block is not None:
        sides = [archs.resnet_tap_sizes(*m64.resnet, side) for side in (height, width)]
        assert [tuple(f.shape[2:]) for f in f0] == list(zip(*sides)), name
    case = {
        "name": name, "network": network, "resnet_block": block, "resnet_blocks": blocks,
        "calibration": calibration, "seed": seed, "width": width, "height": height,
        "default_layers": default,
        "tap_shapes": [list(f.shape[1:]) for f in f0],
        "image0": img0, "image1": img1,
        "features0": [_flat(f[0]) for f in f0],
        "distance": r["distance"].item(),
        "layers": r["layers"][0].tolist(),
        "layer_shapes": [list(m.shape[1:]) for m in r["layer_maps"]],
        "layer_maps": [_flat(m[0]) for m in r["layer_maps"]],
        "spatial": _flat(r["spatial"][0]),
        "spatial_all_taps": _flat(spatial_all[0]),
        "mean_pool_distance": sum(mean_pool[l - 1].item() for l in default),
        "mean_pool_layers": [t.item() for t in mean_pool],
        "style_distance": sum(style[l - 1].item() for l in default),
        "style_layers": [t.item() for t in style],
        "float32_max_abs_diff": max(abs(r32["distance"].double().item() - r["distance"].item()),
                                    (r32["spatial"].double() - r["spatial"]).abs().max().item()),
        "float32_max_abs_diff_features": _max_diff(g0, f0),
        "float32_max_abs_diff_mean_pool": _max_diff(mean_pool32, mean_pool),
        "float32_max_abs_diff_style": _max_diff(style32, style),
    }
    # pair_distances (what studies use) agrees with the per-case computation
    t = torch.tensor(img0, dtype=torch.uint8).reshape(height, width, 3)
    u = torch.tensor(img1, dtype=torch.uint8).reshape(height, width, 3)
    for kind, total, terms in (("spatial", "distance", "layers"),
                               ("mean-pool", "mean_pool_distance", "mean_pool_layers"),
                               ("style", "style_distance", "style_layers")):
        d, per_tap = ref.pair_distances(m64, [t], [u], kind)
        assert abs(d[0] - case[total]) <= 1e-12 * max(1.0, abs(d[0])), (name, kind)
        assert max(abs(a - b) for a, b in zip(per_tap[0], case[terms])) <= 1e-12, (name, kind)
    return case, _tap_stats(m64, _as_tensor(img0, width, height, torch.float64),
                            _as_tensor(img1, width, height, torch.float64))


def dump(cases, path):
    """One line per field of each case, so that changes show up readably in diffs."""
    lines = ['{"generator": "tests/make-goldens.py", "cases": [']
    for i, case in enumerate(cases):
        fields = ["  %s: %s" % (json.dumps(k), json.dumps(v, separators=(",", ":")))
                  for k, v in case.items()]
        lines.append(" {\n" + ",\n".join(fields) + "\n }" + ("," if i + 1 < len(cases) else ""))
    lines.append("]}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description="Regenerate the LPIPS test goldens.")
    p.add_argument("-o", "--output", default=os.path.join(HERE, "goldens", "goldens.json"))
    p.add_argument("--resnet-output", default=os.path.join(HERE, "goldens", "resnet.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)   # keeps float32 summation order reproducible
    start = time.time()
    models, cases = {}, []
    for i, spec in enumerate(CASES):
        case, stats = run_case(spec, models, i == UPSAMPLED_CASE)
        cases.append(case)
        total = case["distance"]
        print("%-26s %3dx%-3d distance %.9g  float32_max_abs_diff %.3g"
              % (case["name"], case["width"], case["height"], total,
                 case["float32_max_abs_diff"]))
        print("    layers  %s" % " ".join("%.4g" % t for t in case["layers"]))
        if total > 0:
            print("    share   %s" % " ".join("%.3f" % (t / total) for t in case["layers"]))
        print("    zeros   %s" % " ".join("%.2f/%d" % s for s in stats))
        if spec[6]:
            assert total == 0.0 and not any(case["spatial"]), "identical images: nonzero distance"
    dump(cases, args.output)
    print("wrote %s (%d bytes) in %.1f s"
          % (args.output, os.path.getsize(args.output), time.time() - start))
    start = time.time()
    models, cases, by_name = {}, [], {c["name"]: c for c in cases}
    for spec in RESNET_CASES:
        case, stats = run_resnet_case(spec, models)
        cases.append(case)
        print("%-38s %3dx%-3d distance %.9g  mean-pool %.6g  style %.6g  float32 %.3g"
              % (case["name"], case["width"], case["height"], case["distance"],
                 case["mean_pool_distance"], case["style_distance"],
                 case["float32_max_abs_diff"]))
        print("    taps    %s" % " ".join("%dx%dx%d" % tuple(s) for s in case["tap_shapes"]))
        print("    |f0|max %s" % " ".join("%.3g" % max(map(abs, f)) for f in case["features0"]))
        print("    layers  %s" % " ".join("%.4g" % t for t in case["layers"]))
        print("    mean-p  %s" % " ".join("%.4g" % t for t in case["mean_pool_layers"]))
        print("    style   %s" % " ".join("%.4g" % t for t in case["style_layers"]))
        print("    zeros   %s" % " ".join("%.2f/%d" % s for s in stats))
        same = by_name.get(case["name"])
        if same is not None:  # the same case in goldens.json
            assert same["distance"] == case["distance"] and same["spatial"] == case["spatial"]
    dump(cases, args.resnet_output)
    print("wrote %s (%d bytes) in %.1f s"
          % (args.resnet_output, os.path.getsize(args.resnet_output), time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
