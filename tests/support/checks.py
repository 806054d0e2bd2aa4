"""Comparisons the Python tests share."""


def max_abs_diff(a, b):
    """The largest |a[i] - b[i]| of two sequences of the same length."""
    assert len(a) == len(b), (len(a), len(b))
    return max(abs(x - y) for x, y in zip(a, b))
