#!/usr/bin/env python3
"""A small synthetic data set in the BAPPS layout, and an independent scorer.

The data set (Python standard library only, deterministic from a seed):

    OUT/2afc/val/<category>/{ref,p0,p1}/NNNNNN.png   64 x 64 8-bit RGB
    OUT/2afc/val/<category>/judge/NNNNNN.npy         p: fraction of observers
                                                     who judged p1 closer to ref
    OUT/jnd/val/{traditional,cnn}/{p0,p1}/NNNNNN.png
    OUT/jnd/val/{traditional,cnn}/same/NNNNNN.npy    fraction of observers who
                                                     saw no difference

with the six 2AFC categories traditional, cnn, superres, deblur, color,
frameinterp.  Each reference image is a random mix of a smooth colour field,
gradients, stripes, soft blobs, hard-edged shapes, checks and grain.  Each
distorted image applies one or more distortions of known severity (noise, box
blur, near-Gaussian blur (repeated box filters), colour shift, contrast, 8 x 8
block quantisation, shifts by a pixel or two, posterisation, down- and
up-sampling, sharpening, saturation, channel mixing, ghosting, a displaced
region), with a mix per category.  A JND pair is a reference image and a
milder distortion of it, in either order.

Synthetic judgements.  Severities are numbers in [0, 1] per distortion, summed
over the distortions of an image.  For a triplet, the chance that one observer
judges p1 closer is logistic(4 * (severity0 - severity1)); 5 observers (4 for
every tenth triplet) each decide, and p is their mean: a multiple of 1/5 (or
1/4).  For a JND pair the chance that an observer sees no difference is
logistic(8 * (0.25 - severity)), with 3 observers.

Exact ties on purpose:
  - 2AFC triplets with index i % 20 == 1: p0 and p1 are byte-identical files
    (p = 0.5 when i % 40 == 1, the observers' coin flips otherwise); any
    distance gives d0 == d1 and the triplet scores 0.5 whatever p is;
  - triplets with i % 40 == 3 (or 23): p0 (or p1) is a copy of ref, d0 (d1) = 0;
  - JND pairs with index j % 20 == 2 (same = 1) or j % 20 == 12 (same = 2/3)
    are identical images: exact ties at distance 0, which the ranking keeps in
    file-name order.

Judgement files are NumPy .npy version 1.0 files of one float, written in the
encodings real files use: mostly '<f8' of shape (1,), every 7th (index % 7 == 3)
'<f4' of shape (1,), others (index % 7 == 5) '<f8' of shape (), and index
% 11 == 9 '<f4' of shape ().

Scoring (LPIPS-SPEC.md section 3), as functions of this module and from the
command line:
  2AFC: s = p [d1 < d0] + (1 - p) [d0 < d1] + 0.5 [d0 == d1] per triplet, the
        mean over a category (x100), and the mean of the categories with equal
        weight (the Perceptual Score).
  JND:  pairs sorted by distance (stable: ties keep file-name order), soft
        true/false positives TP += same, FP += 1 - same, precision TP / (TP + FP),
        recall TP / (sum of same, in file order); VOC average precision with
        all-point interpolation (x100), and the mean over the categories.

Usage:
    make-bapps.py OUTDIR [--seed S] [--per-category N] [--jnd-per-category N]
        write the data set
    make-bapps.py --pairs DIR
        print every (reference, compared) pair the scores need, one per line
        with a TAB (for `gegl-perceptual compare --pairs`)
    make-bapps.py --score DIR --distances FILE [--layer K]
        score DIR with the distances in FILE: JSON lines as printed by
        `gegl-perceptual compare --pairs LIST` ("reference", "compared",
        "distance", optionally "layers"); --layer K scores the K-th term
    /usr/bin/python3 make-bapps.py --goldens [-o tests/goldens/bapps.json]
        expected scores from the PyTorch reference with synthetic weights
    /usr/bin/python3 make-bapps.py --real-weights MIRROR
        SqueezeNet LPIPS v0.1 scores with the published weights, printed as
        JSON (numbers from the published weights are not kept in the tree)

Near ties (goldens).  An implementation in float32 lands a little away from
the float64 reference (the reference itself in float32: up to ~1e-5 relative
for single terms), so a triplet whose two distances are that close could be
decided either way.  Rather than tuning images until no such triplet is left
(which needs the network), the goldens flag, per configuration and for the
distance and each tap's term, every triplet with different p0 and p1 and
|d0 - d1| <= r * max(d0, d1), and every pair of JND neighbours in the ranking
that close (unless both are identical images at exactly equal distances),
with r = max(1e-4, 10 x the largest relative deviation of the float32
reference from the float64 one on this data).  Each score is given as `score`
(the float64 decisions) and `range` [lo, hi] over every way the near ties
could be decided; lo == hi == score when no near tie can change it.  With the
default seed, no near tie changes a score of the summed distances.
"""

import argparse
import hashlib
import itertools
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "support"))

import npyfile  # noqa: E402
import pngfile  # noqa: E402

SIZE = 64
NPIX = SIZE * SIZE
CATEGORIES_2AFC = ("traditional", "cnn", "superres", "deblur", "color", "frameinterp")
CATEGORIES_JND = ("traditional", "cnn")
DEFAULT_SEED = 1
DEFAULT_PER_CATEGORY = 40
DEFAULT_JND_PER_CATEGORY = 40
NEAR_TIE_RELATIVE = 1e-4


# --------------------------------------------------------------------------
# Files: PNG and .npy from tests/support (pngfile, npyfile); the images are
# compressed at zlib's level 9.

PNG_LEVEL = 9


def npy_encoding(index):
    """(descr, shape) used for the index-th judgement file of a category."""
    if index % 11 == 9:
        return "<f4", ()
    if index % 7 == 3:
        return "<f4", (1,)
    if index % 7 == 5:
        return "<f8", ()
    return "<f8", (1,)


# --------------------------------------------------------------------------
# Image planes: three lists of SIZE * SIZE floats (row-major), 0..255 scale.

def planes_to_rgb(planes):
    out = bytearray(3 * NPIX)
    for c in range(3):
        out[c::3] = bytes([0 if v <= 0 else 255 if v >= 255 else int(v + 0.5)
                           for v in planes[c]])
    return bytes(out)


def rgb_to_planes(rgb):
    return [list(rgb[c::3]) for c in range(3)]


def _transpose(p):
    return [v for x in range(SIZE) for v in p[x::SIZE]]


def _box_rows(p, r):
    """Horizontal box filter of radius r (edges replicated): running sums
    along the rows, each padded with r + 1 copies of its first value and r of
    its last."""
    if r <= 0:
        return list(p)
    padded = []
    for y in range(0, NPIX, SIZE):
        row = p[y:y + SIZE]
        padded += [row[0]] * (r + 1) + row + [row[-1]] * r
    sums = list(itertools.accumulate(padded))
    k = 1.0 / (2 * r + 1)
    diff = [(a - b) * k for a, b in zip(sums[2 * r + 1:], sums)]
    width = SIZE + 2 * r + 1
    out = []
    for y in range(SIZE):
        out += diff[y * width:y * width + SIZE]
    return out


def box_blur(p, r):
    """Separable box filter of radius r."""
    return _transpose(_box_rows(_transpose(_box_rows(p, r)), r))


# Near-Gaussian blurs: successive box filters of these radii; the variance
# adds up to sum r (r + 1) / 3.
GAUSS_BOXES = ((1,), (1, 1), (1, 1, 1), (2, 1), (2, 1, 1), (2, 2), (2, 2, 1), (2, 2, 2),
               (3, 2, 2))


def boxes_sigma(radii):
    return math.sqrt(sum(r * (r + 1) for r in radii) / 3.0)


def gauss_blur(p, radii):
    for r in radii:
        p = _box_rows(p, r)
    p = _transpose(p)
    for r in radii:
        p = _box_rows(p, r)
    return _transpose(p)


def _noise(rng, n, sigma):
    """n zero-mean values of deviation sigma: the sum of two uniform bytes."""
    b = rng.randbytes(2 * n)
    k = sigma / math.sqrt(2 * (256 * 256 - 1) / 12.0)
    return [(x + y - 255) * k for x, y in zip(b[:n], b[n:])]


def _clampi(v, lo=0, hi=SIZE - 1):
    return lo if v < lo else hi if v > hi else v


def _remap(p, index):
    return [p[i] for i in index]


def _shift_index(dx, dy):
    """Indices moving the content by (dx, dy) pixels, edges replicated."""
    xs = [_clampi(x - dx) for x in range(SIZE)]
    return [_clampi(y - dy) * SIZE + xv for y in range(SIZE) for xv in xs]


_GRID_TAPS = {}


def _grid_taps(g):
    """Per output coordinate: the two grid cells around it and the weight of
    the second, for a grid of g cells centred at (i + 0.5) * SIZE / g."""
    if g not in _GRID_TAPS:
        taps = []
        for x in range(SIZE):
            t = (x + 0.5) * g / SIZE - 0.5
            i0 = int(math.floor(t))
            taps.append((_clampi(i0, 0, g - 1), _clampi(i0 + 1, 0, g - 1), t - i0))
        weights = [w for _, _, w in taps for _ in range(SIZE)]
        _GRID_TAPS[g] = (taps, weights)
    return _GRID_TAPS[g]


def _upsample_grid(values, gw, gh):
    """Bilinear interpolation of a gh x gw grid (row-major) to the image size,
    edges held."""
    tx, _ = _grid_taps(gw)
    ty, wy = _grid_taps(gh)
    rows = []
    for j in range(gh):
        row = values[j * gw:(j + 1) * gw]
        rows.append([row[a] * (1 - w) + row[b] * w for a, b, w in tx])
    upper, lower = [], []
    for a, b, _ in ty:
        upper += rows[a]
        lower += rows[b]
    return [u + (v - u) * w for u, v, w in zip(upper, lower, wy)]


def _add(planes, pattern, amps):
    return [[v + a * t for v, t in zip(pc, pattern)] if a else pc
            for pc, a in zip(planes, amps)]


def _colour(rng, amount):
    """A random colour vector: mostly grey, sometimes tinted."""
    if rng.random() < 0.4:
        return [amount] * 3
    return [amount * rng.uniform(-0.3, 1.2) for _ in range(3)]


def make_reference(rng):
    """A random 64 x 64 image: smooth colour field plus some of gradients,
    stripes, soft blobs, hard-edged shapes, checks and grain."""
    g = rng.randint(2, 6)
    luma = [rng.uniform(40, 215) for _ in range(g * g)]
    planes = [_upsample_grid([v + rng.uniform(-45, 45) for v in luma], g, g) for _ in range(3)]
    coords = [(i + 0.5) / SIZE - 0.5 for i in range(SIZE)]
    if rng.random() < 0.5:                                  # linear gradient
        ax, ay = rng.uniform(-1, 1), rng.uniform(-1, 1)
        ramp = [ax * u + ay * v for v in coords for u in coords]
        planes = _add(planes, ramp, _colour(rng, rng.uniform(30, 90)))
    if rng.random() < 0.5:                                  # stripes
        angle = rng.uniform(0, math.pi)
        freq = rng.uniform(2, 14) * 2 * math.pi / SIZE
        fx, fy, ph = math.cos(angle) * freq, math.sin(angle) * freq, rng.uniform(0, 2 * math.pi)
        sx = [math.sin(fx * x + ph) for x in range(SIZE)]
        cx = [math.cos(fx * x + ph) for x in range(SIZE)]
        sy = [math.sin(fy * y) for y in range(SIZE)]
        cy = [math.cos(fy * y) for y in range(SIZE)]
        wave = [a * c + b * s for c, s in zip(cy, sy) for a, b in zip(sx, cx)]
        if rng.random() < 0.4:
            wave = [1.0 if v >= 0 else -1.0 for v in wave]
        planes = _add(planes, wave, _colour(rng, rng.uniform(8, 45)))
    for _ in range(rng.randint(0, 4)):                      # soft blobs
        bx, by = rng.uniform(0, SIZE), rng.uniform(0, SIZE)
        r = rng.uniform(4, 20)
        ex = [math.exp(-0.5 * ((x - bx) / r) ** 2) for x in range(SIZE)]
        ey = [math.exp(-0.5 * ((y - by) / r) ** 2) for y in range(SIZE)]
        planes = _add(planes, [a * b for b in ey for a in ex],
                      [rng.uniform(-80, 80) for _ in range(3)])
    if rng.random() < 0.15:                                 # checks
        cell = rng.choice((4, 6, 8, 12, 16))
        checks = [1.0 if ((x // cell) + (y // cell)) % 2 else -1.0
                  for y in range(SIZE) for x in range(SIZE)]
        planes = _add(planes, checks, _colour(rng, rng.uniform(10, 40)))
    for _ in range(rng.randint(0, 3)):                      # hard-edged shapes
        col = [rng.uniform(0, 255) for _ in range(3)]
        alpha = rng.uniform(0.5, 1.0)
        cx0, cy0 = rng.uniform(0, SIZE), rng.uniform(0, SIZE)
        rad = rng.uniform(4, 18)
        disc = rng.random() < 0.5
        for y in range(max(0, int(cy0 - rad)), min(SIZE, int(cy0 + rad) + 1)):
            if disc:
                h = rad * rad - (y + 0.5 - cy0) ** 2
                if h <= 0:
                    continue
                h = math.sqrt(h)
            else:
                h = rad
            x0, x1 = _clampi(int(cx0 - h), 0, SIZE), _clampi(int(cx0 + h), 0, SIZE)
            for c in range(3):
                pc, k = planes[c], alpha * col[c]
                pc[y * SIZE + x0:y * SIZE + x1] = [(1 - alpha) * v + k
                                                   for v in pc[y * SIZE + x0:y * SIZE + x1]]
    sigma = rng.uniform(1.5, 14)                            # grain
    grain = _noise(rng, NPIX, sigma)
    if rng.random() < 0.4:
        grain = box_blur(grain, 1)
        grain = [3 * v for v in grain]
    planes = _add(planes, grain, [1.0, 1.0, 1.0])
    if rng.random() < 0.5:
        planes = _add(planes, _noise(rng, NPIX, sigma * 0.5), _colour(rng, 1.0))
    return planes_to_rgb(planes)


# --------------------------------------------------------------------------
# Distortions: f(planes, rng, s) -> (planes, effective severity), s in [0, 1].

def d_noise(p, rng, s):
    sigma = 2.0 + 26.0 * s
    if rng.random() < 0.5:
        n = _noise(rng, NPIX, sigma)
        return [[v + e for v, e in zip(pc, n)] for pc in p], s
    return [[v + e for v, e in zip(pc, _noise(rng, NPIX, sigma))] for pc in p], s


def d_box_blur(p, rng, s):
    r = 1 + int(s * 2.999)
    return [box_blur(pc, r) for pc in p], r / 3.0


def d_gauss_blur(p, rng, s):
    """Near-Gaussian blur, sigma from 0.8 to 2.8."""
    target = 0.8 + 2.0 * s
    radii = min(GAUSS_BOXES, key=lambda b: abs(boxes_sigma(b) - target))
    return [gauss_blur(pc, radii) for pc in p], (boxes_sigma(radii) - 0.8) / 2.0


def d_colour_shift(p, rng, s):
    mag = 6 + 50 * s
    d = [rng.gauss(0, 1) for _ in range(3)]
    norm = math.sqrt(sum(v * v for v in d)) or 1.0
    return [[v + mag * dc / norm for v in pc] for pc, dc in zip(p, d)], s


def d_contrast(p, rng, s):
    mean = sum(sum(pc) for pc in p) / (3 * NPIX)
    k = 1 + (0.15 + 0.6 * s) * (1 if rng.random() < 0.5 else -1)
    return [[mean + k * (v - mean) for v in pc] for pc in p], s


_BLOCKS = [[(by + y) * SIZE + bx + x for y in range(8) for x in range(8)]
           for by in range(0, SIZE, 8) for bx in range(0, SIZE, 8)]


def d_block_quant(p, rng, s):
    """JPEG-like: per 8 x 8 block, the mean plus the deviations quantised."""
    q = 6 + 50 * s
    out = []
    for pc in p:
        o = [0.0] * NPIX
        for idx in _BLOCKS:
            vals = [pc[i] for i in idx]
            m = sum(vals) / 64.0
            m = math.floor(m / 4 + 0.5) * 4
            for i, v in zip(idx, vals):
                o[i] = m + q * math.floor((v - m) / q + 0.5)
        out.append(o)
    return out, s


def d_shift(p, rng, s):
    m = 1 if s < 0.5 else 2
    dx, dy = 0, 0
    while dx == 0 and dy == 0:
        dx, dy = rng.randint(-m, m), rng.randint(-m, m)
    index = _shift_index(dx, dy)
    return [_remap(pc, index) for pc in p], 0.3 * max(abs(dx), abs(dy))


def d_posterise(p, rng, s):
    bits = 6 - int(s * 3.999)
    step = 256 >> bits
    return ([[math.floor(v / step) * step + step / 2 for v in pc] for pc in p],
            (7 - bits) / 4.0)


def d_downup(p, rng, s):
    """Box down-sampling by 2, 3 or 4, then nearest or bilinear up-sampling."""
    f = 2 + int(s * 2.999)
    g = (SIZE + f - 1) // f
    nearest = rng.random() < 0.4
    out = []
    for pc in p:
        sums, counts = [0.0] * (g * g), [0] * (g * g)
        for y in range(SIZE):
            row = (y // f) * g
            for x in range(SIZE):
                b = row + x // f
                sums[b] += pc[y * SIZE + x]
                counts[b] += 1
        means = [a / n for a, n in zip(sums, counts)]
        if nearest:
            out.append([means[(y // f) * g + x // f] for y in range(SIZE) for x in range(SIZE)])
        else:
            out.append(_upsample_grid(means, g, g))
    return out, (f - 1) / 3.0


def d_sharpen(p, rng, s):
    a = 0.4 + 2.5 * s
    return [[v + a * (v - b) for v, b in zip(pc, gauss_blur(pc, (1, 1)))] for pc in p], s


def d_saturation(p, rng, s):
    k = 1 + (0.2 + 0.7 * s) * (1 if rng.random() < 0.4 else -1)
    grey = [(a + b + c) / 3.0 for a, b, c in zip(*p)]
    return [[g + k * (v - g) for v, g in zip(pc, grey)] for pc in p], s


def d_channel_mix(p, rng, s):
    a = 0.08 + 0.4 * s
    o = rng.choice((1, 2))
    return [[(1 - a) * v + a * w for v, w in zip(p[c], p[(c + o) % 3])] for c in range(3)], s


def d_tint(p, rng, s):
    gains = [1 + 0.35 * s * rng.uniform(-1, 1) for _ in range(3)]
    return [[k * v for v in pc] for pc, k in zip(p, gains)], s


def d_ghost(p, rng, s):
    d = 1 + int(s * 3.999)
    dx, dy = rng.choice(((d, 0), (-d, 0), (0, d), (0, -d), (d, d), (-d, d)))
    a = rng.uniform(0.3, 0.6)
    index = _shift_index(dx, dy)
    return [[(1 - a) * v + a * w for v, w in zip(pc, _remap(pc, index))] for pc in p], s


def d_region_warp(p, rng, s):
    m = 1 + int(s * 4.999)
    dx, dy = rng.randint(-m, m), rng.randint(-m, m)
    if dx == 0 and dy == 0:
        dx = m
    w, h = rng.randint(16, 40), rng.randint(16, 40)
    x0, y0 = rng.randint(0, SIZE - w), rng.randint(0, SIZE - h)
    index = list(range(NPIX))
    for y in range(y0, y0 + h):
        for x in range(x0, x0 + w):
            index[y * SIZE + x] = _clampi(y - dy) * SIZE + _clampi(x - dx)
    return [_remap(pc, index) for pc in p], s


TRADITIONAL = (d_noise, d_box_blur, d_gauss_blur, d_colour_shift, d_contrast,
               d_block_quant, d_shift, d_posterise)
CNN_LIKE = (d_gauss_blur, d_noise, d_colour_shift, d_contrast, d_block_quant,
            d_posterise, d_saturation, d_sharpen)
COLOUR = (d_colour_shift, d_saturation, d_channel_mix, d_tint, d_contrast)
MOTION = (d_ghost, d_region_warp, d_shift, d_gauss_blur)


def pick_distortions(category, rng, scale=1.0):
    """A list of (distortion, s) for one image of `category`."""
    def one(choices, lo=0.0, hi=1.0):
        return (rng.choice(choices), scale * rng.uniform(lo, hi))
    if category == "traditional":
        chain = [one(TRADITIONAL)]
        if rng.random() < 0.3:
            chain.append(one(TRADITIONAL))
    elif category == "cnn":
        chain = [one(CNN_LIKE, 0, 0.6) for _ in range(rng.randint(2, 3))]
    elif category == "superres":
        chain = [(d_downup, scale * rng.random())]
        r = rng.random()
        if r < 0.3:
            chain.append((d_sharpen, scale * rng.uniform(0, 0.5)))
        elif r < 0.5:
            chain.append((d_gauss_blur, scale * rng.uniform(0, 0.4)))
    elif category == "deblur":
        r = rng.random()
        if r < 0.5:
            chain = [(d_gauss_blur, scale * rng.random()), (d_sharpen, scale * rng.random())]
        elif r < 0.8:
            chain = [(d_gauss_blur, scale * rng.random()), (d_noise, scale * rng.uniform(0, 0.4))]
        else:
            chain = [(d_sharpen, scale * rng.random())]
    elif category == "color":
        chain = [one(COLOUR) for _ in range(rng.randint(1, 2))]
    elif category == "frameinterp":
        chain = [one(MOTION) for _ in range(rng.randint(1, 2))]
    else:
        raise ValueError("unknown category %r" % category)
    return chain


def apply_distortions(ref_rgb, chain, rng):
    planes = rgb_to_planes(ref_rgb)
    severity = 0.0
    for fn, s in chain:
        planes, eff = fn(planes, rng, s)
        severity += eff
    return planes_to_rgb(planes), severity


def _logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def _observe(rng, chance, observers):
    return sum(1 for _ in range(observers) if rng.random() < chance) / observers


# --------------------------------------------------------------------------
# The data set.

def make_triplet(seed, category, i):
    """(ref, p0, p1 as RGB bytes, p, description) of the i-th triplet."""
    rng = random.Random("bapps-2afc:%d:%s:%d" % (seed, category, i))
    ref = make_reference(rng)
    observers = 4 if i % 10 == 7 else 5
    if i % 20 == 1:
        p0, sev0 = apply_distortions(ref, pick_distortions(category, rng), rng)
        p1, sev1 = p0, sev0
        p = 0.5 if i % 40 == 1 else _observe(rng, 0.5, observers)
        return ref, p0, p1, p, "identical p0 and p1"
    if i % 40 == 3:
        p0, sev0 = ref, 0.0
    else:
        p0, sev0 = apply_distortions(ref, pick_distortions(category, rng), rng)
    if i % 40 == 23:
        p1, sev1 = ref, 0.0
    else:
        p1, sev1 = apply_distortions(ref, pick_distortions(category, rng), rng)
    p = _observe(rng, _logistic(4.0 * (sev0 - sev1)), observers)
    return ref, p0, p1, p, "severities %.3f %.3f" % (sev0, sev1)


def make_jnd_pair(seed, category, j):
    """(p0, p1 as RGB bytes, same) of the j-th JND pair."""
    rng = random.Random("bapps-jnd:%d:%s:%d" % (seed, category, j))
    ref = make_reference(rng)
    if j % 20 == 2:
        return ref, ref, 1.0
    if j % 20 == 12:
        return ref, ref, 2.0 / 3.0
    dist, sev = apply_distortions(ref, pick_distortions(category, rng, scale=0.45), rng)
    same = _observe(rng, _logistic(8.0 * (0.25 - sev)), 3)
    if rng.random() < 0.3:
        return dist, ref, same
    return ref, dist, same


def generate(out, seed=DEFAULT_SEED, per_category=DEFAULT_PER_CATEGORY,
             jnd_per_category=DEFAULT_JND_PER_CATEGORY, write=True):
    """Write the data set under `out` (unless write is False) and return a
    summary with a digest of the content (paths, pixels, judgement files).
    `out` must not hold a data set already (its 2afc or jnd folder)."""
    if write:
        for sub in ("2afc", "jnd"):
            if os.path.exists(os.path.join(out, sub)):
                raise FileExistsError("%s already exists: remove it or choose another folder"
                                      % os.path.join(out, sub))
    files = []      # (relative path, kind, payload)
    p_counts = {}
    for category in CATEGORIES_2AFC:
        base = "2afc/val/%s" % category
        for i in range(per_category):
            ref, p0, p1, p, _ = make_triplet(seed, category, i)
            p_counts[p] = p_counts.get(p, 0) + 1
            name = "%06d" % i
            files += [("%s/ref/%s.png" % (base, name), "png", ref),
                      ("%s/p0/%s.png" % (base, name), "png", p0),
                      ("%s/p1/%s.png" % (base, name), "png", p1),
                      ("%s/judge/%s.npy" % (base, name), "npy",
                       npyfile.npy_bytes([p], *npy_encoding(i)))]
    for category in CATEGORIES_JND:
        base = "jnd/val/%s" % category
        for j in range(jnd_per_category):
            p0, p1, same = make_jnd_pair(seed, category, j)
            name = "%06d" % j
            files += [("%s/p0/%s.png" % (base, name), "png", p0),
                      ("%s/p1/%s.png" % (base, name), "png", p1),
                      ("%s/same/%s.npy" % (base, name), "npy",
                       npyfile.npy_bytes([same], *npy_encoding(j)))]
    digest = hashlib.sha256()
    made = set()
    total_bytes = 0
    for rel, kind, payload in sorted(files):
        digest.update(rel.encode() + b"\0" + payload)
        if not write:
            continue
        path = os.path.join(out, *rel.split("/"))
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        data = pngfile.png_bytes(payload, SIZE, SIZE, PNG_LEVEL) if kind == "png" else payload
        with open(path, "wb") as f:
            f.write(data)
        total_bytes += len(data)
    return {"seed": seed, "per_category": per_category, "jnd_per_category": jnd_per_category,
            "triplets": per_category * len(CATEGORIES_2AFC),
            "jnd_pairs": jnd_per_category * len(CATEGORIES_JND),
            "files": len(files), "bytes": total_bytes,
            "p_counts": dict(sorted(p_counts.items())),
            "content_sha256": digest.hexdigest()}


# --------------------------------------------------------------------------
# Reading a data set.

def _sorted_files(folder, ext):
    return sorted(n for n in os.listdir(folder) if n.endswith(ext))


def _list(root, test, images, judgement):
    """{category: [(image paths..., judgement value), ...]} of `test`, in sorted
    file-name order; paths absolute."""
    base = os.path.join(root, test, "val")
    out = {}
    for category in _category_order(os.listdir(base)):
        d = os.path.join(base, category)
        cols = [[os.path.join(d, sub, n) for n in _sorted_files(os.path.join(d, sub), ext)]
                for sub, ext in [(s, ".png") for s in images] + [(judgement, ".npy")]]
        if len(set(map(len, cols))) != 1:
            raise ValueError("%s: %s and %s hold different numbers of files"
                             % (d, ", ".join(images), judgement))
        out[category] = [row[:-1] + (npyfile.read_npy_scalar(row[-1]),) for row in zip(*cols)]
    return out


def list_2afc(root):
    """{category: [(ref, p0, p1, p), ...]}"""
    return _list(root, "2afc", ("ref", "p0", "p1"), "judge")


def list_jnd(root):
    """{category: [(p0, p1, same), ...]}"""
    return _list(root, "jnd", ("p0", "p1"), "same")


def _category_order(names):
    known = [c for c in CATEGORIES_2AFC if c in names]
    return known + sorted(n for n in names if n not in CATEGORIES_2AFC)


# --------------------------------------------------------------------------
# Scores.

def afc_triplet(d0, d1, p):
    """2AFC credit of one triplet."""
    if d1 < d0:
        return p
    if d0 < d1:
        return 1.0 - p
    return 0.5


def afc_score(d0s, d1s, ps):
    """A category's 2AFC score, x100."""
    if not ps:
        raise ValueError("no triplets")
    total = 0.0
    for d0, d1, p in zip(d0s, d1s, ps):
        total += afc_triplet(d0, d1, p)
    return 100.0 * total / len(ps)


def jnd_average_precision(distances, sames):
    """JND mAP of one category, x100: VOC average precision (all points) of
    the ranking by ascending distance with soft labels `same`."""
    n = len(distances)
    if n == 0:
        raise ValueError("no pairs")
    total = 0.0
    for s in sames:
        total += s
    if total <= 0:
        raise ValueError("no pair judged the same")
    order = sorted(range(n), key=lambda i: distances[i])     # stable
    tp = fp = 0.0
    recall, precision = [0.0], [0.0]
    for i in order:
        tp += sames[i]
        fp += 1.0 - sames[i]
        recall.append(tp / total)
        precision.append(tp / (tp + fp))
    recall.append(1.0)
    precision.append(0.0)
    for k in range(len(precision) - 2, -1, -1):
        precision[k] = max(precision[k], precision[k + 1])
    ap = 0.0
    for k in range(len(recall) - 1):
        if recall[k + 1] != recall[k]:
            ap += (recall[k + 1] - recall[k]) * precision[k + 1]
    return 100.0 * ap


def mean(values):
    values = list(values)
    return sum(values) / len(values)


def score_distances(afc, jnd):
    """afc: {category: (d0s, d1s, ps)}, jnd: {category: (distances, sames)}
    -> {"2afc": {category: score, ..., "mean": PS}, "jnd": {...}}."""
    out = {}
    if afc:
        scores = {c: afc_score(*v) for c, v in afc.items()}
        scores["mean"] = mean(scores.values())
        out["2afc"] = scores
    if jnd:
        scores = {c: jnd_average_precision(*v) for c, v in jnd.items()}
        scores["mean"] = mean(scores.values())
        out["jnd"] = scores
    return out


# Near ties: scores over every way the flagged comparisons could go.

def near_tie(a, b, rel=NEAR_TIE_RELATIVE):
    """True if a and b differ, but by no more than rel times the larger."""
    return a != b and abs(a - b) <= rel * max(abs(a), abs(b))


def afc_score_range(d0s, d1s, ps, exact=None, rel=NEAR_TIE_RELATIVE):
    """(score, lo, hi, near-tie indices) of one category.  `exact[i]` True:
    d0 == d1 is exact (identical images), never a near tie."""
    score = afc_score(d0s, d1s, ps)
    lo = hi = 0.0
    ties = []
    for i, (d0, d1, p) in enumerate(zip(d0s, d1s, ps)):
        s = afc_triplet(d0, d1, p)
        if not (exact and exact[i]) and (near_tie(d0, d1, rel) or (d0 == d1)):
            ties.append(i)
            lo += min(p, 1.0 - p, 0.5)
            hi += max(p, 1.0 - p, 0.5)
        else:
            lo += s
            hi += s
    n = len(ps)
    if not ties:
        return score, score, score, ties
    return score, 100.0 * lo / n, 100.0 * hi / n, ties


def jnd_score_range(distances, sames, exact_zero=None, rel=NEAR_TIE_RELATIVE, limit=20000):
    """(score, lo, hi, near-tie groups): groups of pairs whose distances form a
    chain of near ties in the ranking; lo/hi over their orderings."""
    score = jnd_average_precision(distances, sames)
    order = sorted(range(len(distances)), key=lambda i: distances[i])
    groups, cur = [], [order[0]]
    for a, b in zip(order, order[1:]):
        da, db = distances[a], distances[b]
        exact = da == db and exact_zero and exact_zero[a] and exact_zero[b]
        if not exact and (near_tie(da, db, rel) or da == db):
            cur.append(b)
        else:
            if len(cur) > 1:
                groups.append(cur)
            cur = [b]
    if len(cur) > 1:
        groups.append(cur)
    if not groups:
        return score, score, score, []
    # Rank positions are fixed; only the orders within each group vary.
    choices = [list(itertools.permutations(g)) for g in groups]
    count = 1
    for c in choices:
        count *= len(c)
    if count > limit:
        raise ValueError("too many near-tie orderings (%d)" % count)
    lo, hi = score, score
    rank = {i: r for r, i in enumerate(order)}
    for combo in itertools.product(*choices):
        new = list(order)
        for g, perm in zip(groups, combo):
            slots = sorted(rank[i] for i in g)
            for slot, i in zip(slots, perm):
                new[slot] = i
        # Distances that make the stable sort produce `new`.
        fake = [0.0] * len(distances)
        for r, i in enumerate(new):
            fake[i] = float(r)
        ap = jnd_average_precision(fake, sames)
        lo, hi = min(lo, ap), max(hi, ap)
    return score, lo, hi, groups


# --------------------------------------------------------------------------
# Command line: pairs and scoring from `gegl-perceptual compare` output.

def needed_pairs(root):
    pairs = []
    for triplets in list_2afc(root).values():
        for ref, p0, p1, _ in triplets:
            pairs += [(ref, p0), (ref, p1)]
    for items in list_jnd(root).values():
        for p0, p1, _ in items:
            pairs.append((p0, p1))
    return pairs


def score_tree(root, distance):
    """Scores of the data set at `root`, with distance(a, b) for two paths."""
    afc = {}
    for category, triplets in list_2afc(root).items():
        afc[category] = ([distance(r, a) for r, a, _, _ in triplets],
                         [distance(r, b) for r, _, b, _ in triplets],
                         [p for _, _, _, p in triplets])
    jnd = {}
    for category, items in list_jnd(root).items():
        jnd[category] = ([distance(a, b) for a, b, _ in items], [s for _, _, s in items])
    return score_distances(afc, jnd)


def load_distances(path, root, layer=None):
    """{(reference, compared): distance} from JSON lines (paths resolved
    against the list's folder `root` if relative)."""
    table = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            rec = json.loads(line)
            if "error" in rec:
                raise ValueError("%s: %s" % (rec.get("compared"), rec["error"]))
            value = rec["distance"] if layer is None else rec["layers"][layer - 1]
            a, b = (os.path.realpath(os.path.join(root, rec[k]))
                    for k in ("reference", "compared"))
            table[(a, b)] = value
    return table


def _table_distance(table):
    def distance(a, b):
        a, b = os.path.realpath(a), os.path.realpath(b)
        if (a, b) in table:
            return table[(a, b)]
        if (b, a) in table:
            return table[(b, a)]
        raise KeyError("no distance for %s and %s" % (a, b))
    return distance


# --------------------------------------------------------------------------
# Expected scores from the PyTorch reference (needs torch).

CONFIGURATIONS = [
    # name, network, calibration, model seed, distance kind, layers (None: default)
    ("squeeze-lpips-v0.1-spatial", "squeeze", "lpips-v0.1", 21, "spatial", None),
    ("squeeze-unweighted-spatial-layer3", "squeeze", "unweighted", 21, "spatial", [3]),
    ("resnet18-unweighted-mean-pool", "resnet18", "unweighted", 22, "mean-pool", None),
    ("resnet18-unweighted-style-layer3", "resnet18", "unweighted", 22, "style", [3]),
]
# A comparison is a near tie when the gap is at most this many times the
# largest relative deviation of the float32 reference from the float64 one
# (measured per configuration, for the sum and for each tap), and at least
# NEAR_TIE_RELATIVE.
NEAR_TIE_FLOAT32_FACTOR = 10.0


def _import_reference():
    for path in (HERE, os.path.join(HERE, "reference")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import lpips_reference
    return lpips_reference


def _load_image(path):
    import torch
    w, h, rgb = pngfile.read_png(path)
    return torch.frombuffer(bytearray(rgb), dtype=torch.uint8).reshape(h, w, 3)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class PairSet:
    """Every pair the scores of a data set need, each image read once."""

    def __init__(self, root):
        self.afc = list_2afc(root)
        self.jnd = list_jnd(root)
        cache, self.first, self.second = {}, [], []

        def image(path):
            if path not in cache:
                cache[path] = _load_image(path)
            return cache[path]

        def add(a, b):
            self.first.append(image(a))
            self.second.append(image(b))
            return len(self.first) - 1

        self.afc_index = {c: [(add(r, a), add(r, b)) for r, a, b, _ in t]
                          for c, t in self.afc.items()}
        self.jnd_index = {c: [add(a, b) for a, b, _ in t] for c, t in self.jnd.items()}
        self.afc_identical = {c: [_read(a) == _read(b) for _, a, b, _ in t]
                              for c, t in self.afc.items()}
        self.jnd_identical = {c: [_read(a) == _read(b) for a, b, _ in t]
                              for c, t in self.jnd.items()}

    @staticmethod
    def names(items):
        return [os.path.splitext(os.path.basename(t[0]))[0] for t in items]


def _max_rel_diff(exact, approx):
    worst = 0.0
    for a, b in zip(exact, approx):
        if a != 0:
            worst = max(worst, abs(a - b) / abs(a))
        elif b != 0:
            worst = math.inf
    return worst


def _scores(pairs, values, rel):
    """Scores with ranges, the distance of pair k being values[k]."""
    out = {"2afc": {}, "jnd": {}}
    for category, triplets in pairs.afc.items():
        d0 = [values[i] for i, _ in pairs.afc_index[category]]
        d1 = [values[j] for _, j in pairs.afc_index[category]]
        identical = pairs.afc_identical[category]
        names = pairs.names(triplets)
        for i, same in enumerate(identical):
            if same and d0[i] != d1[i]:
                raise AssertionError("%s/%s: identical p0 and p1, d0 %r != d1 %r"
                                     % (category, names[i], d0[i], d1[i]))
        score, lo, hi, ties = afc_score_range(d0, d1, [t[3] for t in triplets], identical, rel)
        out["2afc"][category] = {"score": score, "range": [lo, hi],
                                 "near_ties": [names[i] for i in ties]}
    for category, items in pairs.jnd.items():
        d = [values[k] for k in pairs.jnd_index[category]]
        names = pairs.names(items)
        score, lo, hi, groups = jnd_score_range(d, [t[2] for t in items],
                                                pairs.jnd_identical[category], rel)
        out["jnd"][category] = {"score": score, "range": [lo, hi],
                                "near_ties": [[names[i] for i in g] for g in groups]}
    for key in ("2afc", "jnd"):
        cats = list(out[key].values())
        out[key] = {"categories": out[key],
                    "mean": mean(c["score"] for c in cats),
                    "mean_range": [mean(c["range"][0] for c in cats),
                                   mean(c["range"][1] for c in cats)]}
    return out


def evaluate(ref_module, pairs, model, kind, layers, model32=None):
    """Distances of every pair with the reference `model` (float64) and the
    scores; with `model32` (the same in float32), near ties are judged
    against its deviation."""
    distances, terms = ref_module.pair_distances(model, pairs.first, pairs.second,
                                                 kind=kind, layers=layers)
    n_taps = len(terms[0])
    tap_values = [[t[k] for t in terms] for k in range(n_taps)]
    rel_sum, rel_taps = NEAR_TIE_RELATIVE, [NEAR_TIE_RELATIVE] * n_taps
    result = {"taps": n_taps, "summed_taps": list(layers if layers else model.default_layers)}
    if model32 is not None:
        d32, t32 = ref_module.pair_distances(model32, pairs.first, pairs.second,
                                             kind=kind, layers=layers)
        dev_sum = _max_rel_diff(distances, d32)
        dev_taps = [_max_rel_diff(tap_values[k], [t[k] for t in t32]) for k in range(n_taps)]
        rel_sum = max(NEAR_TIE_RELATIVE, NEAR_TIE_FLOAT32_FACTOR * dev_sum)
        rel_taps = [max(NEAR_TIE_RELATIVE, NEAR_TIE_FLOAT32_FACTOR * v) for v in dev_taps]
        result["float32_max_rel_diff"] = {"distance": dev_sum, "terms": dev_taps}
    result["near_tie_relative"] = {"distance": rel_sum, "terms": rel_taps}
    result.update(_scores(pairs, distances, rel_sum))
    result["per_layer"] = [_scores(pairs, tap_values[k], rel_taps[k]) for k in range(n_taps)]
    result["triplets"] = {}
    for category, triplets in pairs.afc.items():
        index = pairs.afc_index[category]
        result["triplets"][category] = {
            "names": pairs.names(triplets),
            "p": [t[3] for t in triplets],
            "identical": pairs.afc_identical[category],
            "d0": [distances[i] for i, _ in index],
            "d1": [distances[j] for _, j in index],
            "terms0": [terms[i] for i, _ in index],
            "terms1": [terms[j] for _, j in index]}
    result["jnd_pairs"] = {}
    for category, items in pairs.jnd.items():
        index = pairs.jnd_index[category]
        result["jnd_pairs"][category] = {
            "names": pairs.names(items),
            "same": [t[2] for t in items],
            "identical": pairs.jnd_identical[category],
            "distance": [distances[k] for k in index],
            "terms": [terms[k] for k in index]}
    return result


def _summary_line(name, result):
    def fmt(block):
        lo, hi = block["mean_range"]
        return "%.2f%s" % (block["mean"], "" if lo == hi else " [%.2f, %.2f]" % (lo, hi))

    def count(block):
        return sum(len(c["near_ties"]) for c in block["categories"].values())

    def changing(block):
        return sum(1 for c in block["categories"].values() if c["range"][0] != c["range"][1])

    per_layer = result["per_layer"]
    layer_ties = sum(count(l[k]) for l in per_layer for k in ("2afc", "jnd"))
    layer_changing = sum(changing(l[k]) for l in per_layer for k in ("2afc", "jnd"))
    lines = ["%-34s 2AFC %s  JND mAP %s" % (name, fmt(result["2afc"]), fmt(result["jnd"])),
             "    2AFC " + " ".join("%s %.2f" % (c, v["score"])
                                    for c, v in result["2afc"]["categories"].items()),
             "    JND  " + " ".join("%s %.2f" % (c, v["score"])
                                    for c, v in result["jnd"]["categories"].items()),
             "    per layer 2AFC " + " ".join("%.2f" % x["2afc"]["mean"] for x in per_layer),
             "    per layer JND  " + " ".join("%.2f" % x["jnd"]["mean"] for x in per_layer),
             "    near ties: 2AFC %d, JND %d groups; per layer %d (%d category scores with "
             "a range)" % (count(result["2afc"]), count(result["jnd"]), layer_ties,
                           layer_changing)]
    if "float32_max_rel_diff" in result:
        dev = result["float32_max_rel_diff"]
        lines.append("    float32 max rel diff: sum %.1e, taps %s"
                     % (dev["distance"], " ".join("%.1e" % v for v in dev["terms"])))
    return "\n".join(lines)


def _dump(doc, path):
    """JSON, indented, with every list of numbers or strings (and list of such
    lists) on one line, so that changes show up readably in diffs."""
    def flat(v):
        return isinstance(v, list) and all(
            not isinstance(x, (dict, list)) or (isinstance(x, list) and flat(x)) for x in v)

    def fmt(v, indent):
        if isinstance(v, dict):
            if not v:
                return "{}"
            pad = " " * (indent + 1)
            items = ["%s%s: %s" % (pad, json.dumps(k), fmt(x, indent + 1)) for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
        if isinstance(v, list) and not flat(v):
            pad = " " * (indent + 1)
            return ("[\n" + ",\n".join(pad + fmt(x, indent + 1) for x in v) + "\n"
                    + " " * indent + "]")
        return json.dumps(v, separators=(",", ":"))

    with open(path, "w") as f:
        f.write(fmt(doc, 0) + "\n")


def make_goldens(path, seed=DEFAULT_SEED, per_category=DEFAULT_PER_CATEGORY,
                 jnd_per_category=DEFAULT_JND_PER_CATEGORY):
    import torch
    torch.set_num_threads(2)
    ref_module = _import_reference()
    start = time.time()
    tmp = tempfile.mkdtemp(prefix="bapps-")
    try:
        summary = generate(tmp, seed, per_category, jnd_per_category)
        pairs = PairSet(tmp)
    finally:
        shutil.rmtree(tmp)
    print("generated %d triplets, %d JND pairs in %.1f s"
          % (summary["triplets"], summary["jnd_pairs"], time.time() - start))
    models, configs = {}, []
    for name, network, calibration, mseed, kind, layers in CONFIGURATIONS:
        t0 = time.time()
        for dtype in (torch.float64, torch.float32):
            key = (network, calibration, mseed, dtype)
            if key not in models:
                models[key] = ref_module.synthetic_model(network, calibration, mseed, dtype=dtype)
        result = evaluate(ref_module, pairs, models[(network, calibration, mseed, torch.float64)],
                          kind, layers, models[(network, calibration, mseed, torch.float32)])
        entry = {"name": name, "network": network, "calibration": calibration, "seed": mseed,
                 "kind": kind, "layers": layers,
                 "model": "tests/synth_weights.py --network %s --calibration %s --seed %d"
                          % (network, calibration, mseed)}
        entry.update(result)
        configs.append(entry)
        print(_summary_line(name, result) + "\n    (%.1f s)" % (time.time() - t0))
    doc = {
        "generator": "tests/make-bapps.py --goldens",
        "dataset": {"command": "tests/make-bapps.py OUTDIR --seed %d --per-category %d "
                               "--jnd-per-category %d" % (seed, per_category, jnd_per_category),
                    "seed": seed, "per_category": per_category,
                    "jnd_per_category": jnd_per_category,
                    "categories_2afc": list(CATEGORIES_2AFC),
                    "categories_jnd": list(CATEGORIES_JND),
                    "content_sha256": summary["content_sha256"]},
        "scores": "x100. 2afc: per category the mean over its triplets of p [d1 < d0] + "
                  "(1 - p) [d0 < d1] + 0.5 [d0 == d1]; 'mean': the mean of the categories. "
                  "jnd: per category the VOC average precision (all points) of the ranking by "
                  "ascending distance (ties in file-name order) with soft labels 'same'; "
                  "'mean': the mean of the categories. 'per_layer': the same scores with "
                  "each tap's term (1-based tap k at index k - 1) in place of the distance, "
                  "which is the sum of the terms of 'summed_taps'.",
        "near_ties": "A triplet whose images p0 and p1 differ is a near tie when |d0 - d1| <= "
                     "r * max(d0, d1); so are JND pairs next to each other in the ranking "
                     "(unless both are identical images at exactly equal distances). r "
                     "('near_tie_relative', for the distance and per tap) is %g times the "
                     "largest relative deviation of the float32 reference from the float64 "
                     "values ('float32_max_rel_diff'), and at least %g. 'near_ties' lists them "
                     "(JND: groups of neighbours); 'range' is [lo, hi] over every way they "
                     "could be decided ('mean_range' likewise for the mean); lo == hi == score "
                     "when none can change the score."
                     % (NEAR_TIE_FLOAT32_FACTOR, NEAR_TIE_RELATIVE),
        "configurations": configs,
    }
    _dump(doc, path)
    print("wrote %s (%d bytes) in %.1f s" % (path, os.path.getsize(path), time.time() - start))
    return doc


def real_weights_scores(mirror, seed=DEFAULT_SEED, per_category=DEFAULT_PER_CATEGORY,
                        jnd_per_category=DEFAULT_JND_PER_CATEGORY):
    """SqueezeNet LPIPS v0.1 with the published weights in `mirror` (laid out
    as torchvision/... and lpips/v0.1/...), on the generated set."""
    import torch
    torch.set_num_threads(2)
    ref_module = _import_reference()
    backbone, lin = ref_module.load_official(mirror, "squeeze", "0.1")
    tensors = dict(backbone)
    tensors.update(lin)
    model = ref_module.Reference("squeeze", "lpips-v0.1", tensors)
    tmp = tempfile.mkdtemp(prefix="bapps-")
    try:
        generate(tmp, seed, per_category, jnd_per_category)
        pairs = PairSet(tmp)
    finally:
        shutil.rmtree(tmp)
    result = evaluate(ref_module, pairs, model.double(), "spatial", None,
                      ref_module.Reference("squeeze", "lpips-v0.1", tensors).float())

    def brief(block):
        return dict({c: v["score"] for c, v in block["categories"].items()},
                    mean=block["mean"], mean_range=block["mean_range"])
    return {"network": "squeeze", "calibration": "lpips-v0.1", "weights": "published",
            "dataset": {"seed": seed, "per_category": per_category,
                        "jnd_per_category": jnd_per_category},
            "2afc": brief(result["2afc"]), "jnd": brief(result["jnd"]),
            "2afc_per_layer": [x["2afc"]["mean"] for x in result["per_layer"]],
            "jnd_per_layer": [x["jnd"]["mean"] for x in result["per_layer"]],
            "float32_max_rel_diff": result["float32_max_rel_diff"]}


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Synthetic BAPPS-layout data set, and its 2AFC / JND scores.",
        epilog="See the module docstring for the layout and the judgements.")
    p.add_argument("outdir", nargs="?", help="where to write the data set")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--per-category", type=int, default=DEFAULT_PER_CATEGORY,
                   help="2AFC triplets per category (default %(default)s)")
    p.add_argument("--jnd-per-category", type=int, default=DEFAULT_JND_PER_CATEGORY,
                   help="JND pairs per category (default %(default)s)")
    p.add_argument("--pairs", metavar="DIR", help="print the pairs DIR's scores need")
    p.add_argument("--score", metavar="DIR", help="score DIR (needs --distances)")
    p.add_argument("--distances", metavar="FILE",
                   help="JSON lines from `gegl-perceptual compare --pairs`")
    p.add_argument("--layer", type=int, help="with --score: use this 1-based layer term")
    p.add_argument("--goldens", action="store_true",
                   help="write the expected scores (needs torch)")
    p.add_argument("-o", "--output", default=os.path.join(HERE, "goldens", "bapps.json"))
    p.add_argument("--real-weights", metavar="MIRROR",
                   help="print scores with the published SqueezeNet v0.1 weights (needs torch)")
    args = p.parse_args(argv)
    if args.per_category < 1 or args.jnd_per_category < 1:
        p.error("--per-category and --jnd-per-category must be at least 1")
    modes = sum(map(bool, (args.outdir, args.pairs, args.score, args.goldens,
                           args.real_weights)))
    if modes != 1:
        p.error("give exactly one of OUTDIR, --pairs, --score, --goldens, --real-weights")
    if args.outdir:
        start = time.time()
        try:
            s = generate(args.outdir, args.seed, args.per_category, args.jnd_per_category)
        except FileExistsError as e:
            print("make-bapps.py: %s" % e, file=sys.stderr)
            return 1
        print("%s: %d 2AFC triplets (%d categories), %d JND pairs (%d categories), "
              "%d files, %d bytes, seed %d, sha256 %s, %.1f s"
              % (args.outdir, s["triplets"], len(CATEGORIES_2AFC), s["jnd_pairs"],
                 len(CATEGORIES_JND), s["files"], s["bytes"], s["seed"],
                 s["content_sha256"][:16], time.time() - start))
        return 0
    if args.pairs:
        for a, b in needed_pairs(args.pairs):
            print("%s\t%s" % (os.path.abspath(a), os.path.abspath(b)))
        return 0
    if args.score:
        if not args.distances:
            p.error("--score needs --distances")
        table = load_distances(args.distances, os.path.dirname(os.path.abspath(args.distances)),
                               args.layer)
        print(json.dumps(score_tree(args.score, _table_distance(table)), indent=1))
        return 0
    if args.goldens:
        make_goldens(args.output, args.seed, args.per_category, args.jnd_per_category)
        return 0
    print(json.dumps(real_weights_scores(args.real_weights, args.seed, args.per_category,
                                         args.jnd_per_category), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
