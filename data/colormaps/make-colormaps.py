#!/usr/bin/python3
"""Regenerate the colour map tables (magma, inferno, viridis, turbo) as CSV.

Reads the published 256-entry tables that matplotlib ships and writes one
file per map, <name>.csv, with 256 lines of "r,g,b": sRGB-encoded floats in
[0, 1], entry i standing for the value i/255.  The published tables have at
most six decimals (turbo has five), so each number is written with six
decimals, or with as many digits as it takes to read back unchanged should a
table ever carry more.

Usage (Debian: apt-get install python3-matplotlib):
    /usr/bin/python3 make-colormaps.py [-o OUTPUT_DIR]

OUTPUT_DIR defaults to the folder holding this script.
"""

import argparse
import os
import sys

NAMES = ("magma", "inferno", "viridis", "turbo")
SIZE = 256


def published_table(name):
    import matplotlib

    registry = getattr(matplotlib, "colormaps", None)
    if registry is not None:
        cmap = registry[name]
    else:  # matplotlib older than 3.5
        import matplotlib.cm
        cmap = matplotlib.cm.get_cmap(name)
    colors = getattr(cmap, "colors", None)
    if colors is None:
        sys.exit(f"{name}: matplotlib does not hold this map as a table")
    table = [tuple(float(c) for c in row[:3]) for row in colors]
    if len(table) != SIZE:
        sys.exit(f"{name}: expected {SIZE} entries, matplotlib has {len(table)}")
    for i, row in enumerate(table):
        if len(row) != 3 or not all(0.0 <= c <= 1.0 for c in row):
            sys.exit(f"{name}: entry {i} is not an RGB triple in [0, 1]: {row!r}")
    return table


def number(c):
    text = f"{c:.6f}"
    return text if float(text) == c else repr(c)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output-dir",
                        default=os.path.dirname(os.path.abspath(__file__)),
                        help="where to write the CSV files")
    args = parser.parse_args()

    os.makedirs(args.output_dir, exist_ok=True)
    for name in NAMES:
        table = published_table(name)
        path = os.path.join(args.output_dir, name + ".csv")
        with open(path, "w", encoding="ascii", newline="\n") as f:
            for row in table:
                f.write(",".join(number(c) for c in row) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
