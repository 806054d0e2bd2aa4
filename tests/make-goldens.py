#!/usr/bin/python3
"""Regenerate tests/goldens/goldens.json (needs torch: run with /usr/bin/python3).

Every case pairs two deterministic synthetic images with a synthetic model
(tests/synth_weights.py, same seed) and records what the float64 PyTorch
reference (tests/reference/lpips_reference.py) computes for them: the scalar
distance, the per-layer terms, each layer's map D_l at its own resolution
and the spatial map.  `float32_max_abs_diff` says how far the same reference
in float32 lands from the float64 values (scalar and spatial map), as a hint
for test tolerances.

Usage: /usr/bin/python3 tests/make-goldens.py [-o tests/goldens/goldens.json]
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
