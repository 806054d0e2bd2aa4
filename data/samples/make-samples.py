#!/usr/bin/env python3
"""Makes the sample images (python3 standard library only):

  reference.png  a synthetic scene: a sky gradient, hills, a sun, a striped
                 building and fine texture
  retouched.png  the same with three local edits a retoucher might make:
                 a blurred patch, a brightened window and noise in the grass
  shifted.png    the same, one pixel to the right: almost no visible change

Deterministic: running it again gives the same files."""

import math
import os
import random
import struct
import sys
import zlib

W, H = 256, 192


def png(path, rows):
    raw = b"".join(b"\0" + bytes(v for px in row for v in px) for row in rows)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def clamp(v):
    return max(0, min(255, int(round(v))))


def scene(dx=0):
    rnd = random.Random(1)
    grain = [[rnd.random() for _ in range(W + 1)] for _ in range(H)]
    rows = []
    for y in range(H):
        row = []
        for x0 in range(W):
            x = x0 - dx
            t = y / H
            r, g, b = 90 + 80 * t, 140 + 60 * t, 230 - 40 * t              # sky
            if (x - 200) ** 2 + (y - 40) ** 2 < 22 ** 2:                    # sun
                r, g, b = 255, 220, 120
            hill = 130 + 18 * math.sin(x / 23.0) + 9 * math.sin(x / 7.0 + 1)
            if y > hill:                                                    # grass
                n = grain[y][max(x, 0)]
                r, g, b = 60 + 40 * n, 120 + 60 * n, 40 + 20 * n
            if 40 <= x < 110 and 60 <= y < 150:                             # building
                stripe = (x // 4) % 2
                r, g, b = (200, 190, 170) if stripe else (170, 160, 145)
                if 55 <= x < 75 and 80 <= y < 100 or 80 <= x < 100 and 80 <= y < 100:
                    r, g, b = 40, 60, 90                                    # windows
            row.append((clamp(r), clamp(g), clamp(b)))
        rows.append(row)
    return rows


def retouch(rows):
    out = [list(r) for r in rows]
    # A blurred patch over the building's stripes.
    for y in range(100, 140):
        for x in range(45, 85):
            acc = [0, 0, 0]
            for yy in range(y - 3, y + 4):
                for xx in range(x - 3, x + 4):
                    for c in range(3):
                        acc[c] += rows[yy][xx][c]
            out[y][x] = tuple(clamp(a / 49) for a in acc)
    # A brightened window.
    for y in range(80, 100):
        for x in range(80, 100):
            out[y][x] = tuple(clamp(v * 2.2 + 30) for v in rows[y][x])
    # Noise in the grass.
    rnd = random.Random(2)
    for y in range(150, 185):
        for x in range(150, 240):
            out[y][x] = tuple(clamp(v + rnd.gauss(0, 25)) for v in rows[y][x])
    return out


def main(folder):
    ref = scene()
    png(os.path.join(folder, "reference.png"), ref)
    png(os.path.join(folder, "retouched.png"), retouch(ref))
    png(os.path.join(folder, "shifted.png"), scene(dx=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
