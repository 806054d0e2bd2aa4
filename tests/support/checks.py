"""Comparisons the Python tests share, and the heatmap's colours as the
README defines them (from the published tables in data/colormaps)."""

import os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def max_abs_diff(a, b):
    """The largest |a[i] - b[i]| of two sequences of the same length."""
    assert len(a) == len(b), (len(a), len(b))
    return max(abs(x - y) for x, y in zip(a, b))


def srgb_to_linear(v):
    """IEC 61966-2-1: gegl:npy-save writes three-channel images as linear RGB."""
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def read_colormap(name):
    """A colour map's table: (r, g, b) rows, sRGB-encoded in [0, 1]."""
    if name == "gray":
        return [(0, 0, 0), (1, 1, 1)]
    with open(os.path.join(TOP, "data", "colormaps", name + ".csv")) as f:
        return [tuple(float(v) for v in line.split(",")) for line in f if line.strip()]


def colormap(table, t):
    t = min(max(t, 0.0), 1.0)
    x = t * (len(table) - 1)
    i = min(int(x), len(table) - 2)
    f = x - i
    return [(1 - f) * table[i][c] + f * table[i + 1][c] for c in range(3)]


def heatmap(reference, spatial, name, lo, hi, opacity):
    """The heatmap of an opaque reference (interleaved sRGB values in [0,
    1]) and its distance map: each colour "over" the reference with alpha
    opacity x t, t = (d - lo) / (hi - lo) clamped to [0, 1]."""
    table, out = read_colormap(name), []
    for i, d in enumerate(spatial):
        t = (d - lo) / (hi - lo)
        heat, alpha = colormap(table, t), opacity * min(max(t, 0.0), 1.0)
        out += [heat[c] * alpha + reference[3 * i + c] * (1 - alpha) for c in range(3)]
    return out
