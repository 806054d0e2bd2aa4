#!/usr/bin/env python3
"""Checks the colour map tables in data/colormaps and their C generator.

The anchor values below are written out here, not read from any table:

* viridis, magma, inferno: first, middle (entry 128) and last entries as
  sRGB hex.  viridis #440154 -> #fde725, magma #000004 -> #fcfdbf and
  inferno #000004 -> #fcffa4 are the endpoints these maps are documented
  with; the midpoints #21918c, #b73779 and #bc3754 are entry 128 of the
  256-colour ramps in d3-scale-chromatic (src/sequential-multi/viridis.js,
  which also holds magma and inferno), published there as hex strings.
  Hex values are the table rounded to 8 bits, so a component may differ
  from them by at most half a step.
* turbo: first and last entries as floats, (0.18995, 0.07176, 0.23217) and
  (0.47960, 0.01583, 0.01055), from the published turbo_colormap_data of
  Anton Mikhailov's turbo colour map (Google, Apache-2.0), and entries 0,
  128 and 255 as sRGB bytes, (48,18,59), (164,252,60) and (122,4,3), from
  turbo_srgb_bytes in the same publication.

Beyond the anchors: viridis, magma and inferno must have strictly
increasing CIE L* (computed from the sRGB values); turbo must not.

The generator test runs gen-colormaps-c.py into a temporary folder, compiles
the result with the C compiler (CC, else cc) against a stub header, links it
with a small program that prints every table back, and checks that corrupt
CSVs are refused.

Runs with the Python standard library only; exits non-zero on failure.
"""

import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "colormaps"
GENERATOR = DATA / "gen-colormaps-c.py"
MAPS = ("magma", "inferno", "viridis", "turbo")
SIZE = 256

# name -> {entry: "#rrggbb"}
HEX_ANCHORS = {
    "viridis": {0: "#440154", 128: "#21918c", 255: "#fde725"},
    "magma": {0: "#000004", 128: "#b73779", 255: "#fcfdbf"},
    "inferno": {0: "#000004", 128: "#bc3754", 255: "#fcffa4"},
    "turbo": {0: "#30123b", 128: "#a4fc3c", 255: "#7a0403"},
}
# name -> {entry: (r, g, b)} as published with five decimals
FLOAT_ANCHORS = {
    "turbo": {0: (0.18995, 0.07176, 0.23217), 255: (0.47960, 0.01583, 0.01055)},
}
UNIFORM_LIGHTNESS = ("viridis", "magma", "inferno")


def read_csv(path):
    """Plain reader for the tests: rows of 3 floats."""
    rows = []
    with open(path, encoding="ascii") as f:
        for line in f:
            rows.append(tuple(float(x) for x in line.strip().split(",")))
    return rows


def srgb_to_linear(c):
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def lightness(rgb):
    """CIE L* of an sRGB colour (D65 white, Y of the white = 1)."""
    r, g, b = (srgb_to_linear(c) for c in rgb)
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    eps = (6 / 29) ** 3
    f = y ** (1 / 3) if y > eps else y / (3 * (6 / 29) ** 2) + 4 / 29
    return 116 * f - 16


def hex_bytes(text):
    text = text.lstrip("#")
    return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))


def find_cc():
    cc = shlex.split(os.environ.get("CC", "") or "cc")
    if not cc or shutil.which(cc[0]) is None:
        return None
    return cc


class TableTests(unittest.TestCase):
    tables = {}

    @classmethod
    def setUpClass(cls):
        for name in MAPS:
            cls.tables[name] = read_csv(DATA / f"{name}.csv")

    def test_shape_and_range(self):
        for name, rows in self.tables.items():
            with self.subTest(map=name):
                self.assertEqual(len(rows), SIZE)
                for i, row in enumerate(rows):
                    self.assertEqual(len(row), 3, f"{name}[{i}]")
                    for c in row:
                        self.assertTrue(0.0 <= c <= 1.0, f"{name}[{i}] = {row}")

    def test_no_gray_table(self):
        # gray is v -> (v, v, v) in code; a table would only shadow it.
        self.assertFalse((DATA / "gray.csv").exists())

    def test_hex_anchors(self):
        for name, anchors in HEX_ANCHORS.items():
            for i, hx in anchors.items():
                with self.subTest(map=name, entry=i, expected=hx):
                    want = hex_bytes(hx)
                    got = self.tables[name][i]
                    for w, g in zip(want, got):
                        # hex is the table rounded to 8 bits
                        self.assertLessEqual(abs(g * 255 - w), 0.5 + 1e-9,
                                             f"{name}[{i}] = {got}, documented {hx}")

    def test_float_anchors(self):
        for name, anchors in FLOAT_ANCHORS.items():
            for i, want in anchors.items():
                with self.subTest(map=name, entry=i):
                    got = self.tables[name][i]
                    for w, g in zip(want, got):
                        self.assertAlmostEqual(g, w, delta=5e-6,
                                               msg=f"{name}[{i}] = {got}, published {want}")

    def test_lightness_increases(self):
        for name in UNIFORM_LIGHTNESS:
            with self.subTest(map=name):
                ls = [lightness(rgb) for rgb in self.tables[name]]
                for i in range(SIZE - 1):
                    self.assertGreater(ls[i + 1], ls[i],
                                       f"{name}: L* falls from entry {i} to {i + 1}")
                self.assertLess(ls[0], 20)
                self.assertGreater(ls[-1], 85)

    def test_turbo_lightness_not_monotonic(self):
        ls = [lightness(rgb) for rgb in self.tables["turbo"]]
        self.assertTrue(any(b < a for a, b in zip(ls, ls[1:])))
        self.assertTrue(any(b > a for a, b in zip(ls, ls[1:])))

    def test_maps_differ(self):
        names = list(MAPS)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                self.assertNotEqual(self.tables[a], self.tables[b], f"{a} == {b}")


STUB_HEADER = """\
#ifndef PERCEPTUAL_COLORMAPS_H
#define PERCEPTUAL_COLORMAPS_H
#include <stddef.h>
typedef struct { const char *name; const float (*table)[3]; int size; } PerceptualColormap;
extern const PerceptualColormap perceptual_colormaps[];
#endif
"""

DUMP_PROGRAM = """\
#include <stdio.h>
#include "perceptual-colormaps.h"
int main(void)
{
  for (const PerceptualColormap *m = perceptual_colormaps; m->name; m++)
    for (int i = 0; i < m->size; i++)
      printf("%s %d %a %a %a\\n", m->name, i,
             m->table[i][0], m->table[i][1], m->table[i][2]);
  printf("end\\n");
  return 0;
}
"""


def float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


class GeneratorTests(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="colormaps-test-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def generate(self, *csvs, output=None):
        output = output or self.tmp / "out.c"
        return subprocess.run(
            [sys.executable, str(GENERATOR), "-o", str(output), *map(str, csvs)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_output_compiles_and_holds_the_tables(self):
        cc = find_cc()
        if cc is None:
            self.skipTest("no C compiler (set CC)")
        csvs = [DATA / f"{name}.csv" for name in MAPS]
        out = self.tmp / "perceptual-colormaps-data.c"
        r = self.generate(*csvs, output=out)
        self.assertEqual(r.returncode, 0, r.stderr)

        text = out.read_text()
        self.assertIn('#include "perceptual-colormaps.h"', text)
        for name in MAPS:
            self.assertIn(f"static const float {name}_table[256][3] = {{", text)
        self.assertIn("{ NULL, NULL, 0 }", text)

        (self.tmp / "perceptual-colormaps.h").write_text(STUB_HEADER)
        (self.tmp / "dump.c").write_text(DUMP_PROGRAM)
        flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", str(self.tmp)]
        r = subprocess.run(cc + flags + ["-c", str(out), "-o", str(self.tmp / "data.o")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)

        exe = self.tmp / "dump"
        r = subprocess.run(cc + flags + [str(self.tmp / "dump.c"), str(self.tmp / "data.o"),
                                         "-o", str(exe)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        r = subprocess.run([str(exe)], stdout=subprocess.PIPE, text=True, check=True)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[-1], "end")
        dumped = {}
        for line in lines[:-1]:
            name, i, *rgb = line.split()
            dumped.setdefault(name, []).append(tuple(float.fromhex(v) for v in rgb))
        self.assertEqual(list(dumped), list(MAPS), "maps in command-line order")
        for name in MAPS:
            want = [tuple(float32(c) for c in row) for row in read_csv(DATA / f"{name}.csv")]
            self.assertEqual(dumped[name], want, name)

    def corrupt(self, mutate, name="magma"):
        lines = (DATA / "magma.csv").read_text().splitlines()
        mutate(lines)
        path = self.tmp / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n")
        return path

    def assert_refused(self, path, *words):
        out = self.tmp / "refused.c"
        r = self.generate(path, output=out)
        self.assertNotEqual(r.returncode, 0, "corrupt CSV accepted")
        self.assertFalse(out.exists(), "output written for a corrupt CSV")
        self.assertIn("error", r.stderr)
        self.assertIn(path.name, r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        self.assertNotIn("Traceback", r.stderr)

    def test_refuses_255_rows(self):
        self.assert_refused(self.corrupt(lambda l: l.pop()), "256", "255")

    def test_refuses_257_rows(self):
        self.assert_refused(self.corrupt(lambda l: l.append(l[-1])), "257")

    def test_refuses_value_above_one(self):
        def mutate(lines):
            lines[10] = "0.5,1.5,0.5"
        self.assert_refused(self.corrupt(mutate), ":11:", "1.5", "[0, 1]")

    def test_refuses_negative_value(self):
        def mutate(lines):
            lines[0] = "-0.1,0.5,0.5"
        self.assert_refused(self.corrupt(mutate), ":1:")

    def test_refuses_non_number(self):
        for bad in ("abc", "nan", "inf", "", "0x1", "1_0"):
            with self.subTest(value=bad):
                def mutate(lines, bad=bad):
                    lines[42] = f"0.5,{bad},0.5"
                self.assert_refused(self.corrupt(mutate), ":43:")

    def test_refuses_wrong_column_count(self):
        for bad in ("0.5,0.5", "0.5,0.5,0.5,0.5"):
            with self.subTest(row=bad):
                def mutate(lines, bad=bad):
                    lines[5] = bad
                self.assert_refused(self.corrupt(mutate), ":6:", "3")

    def test_refuses_blank_line(self):
        def mutate(lines):
            lines[100] = ""
        self.assert_refused(self.corrupt(mutate), ":101:")

    def test_refuses_bad_name(self):
        self.assert_refused(self.corrupt(lambda l: None, name="not-a-name"), "identifier")

    def test_refuses_missing_file(self):
        self.assert_refused(self.tmp / "absent.csv")

    def test_keeps_old_output_on_error(self):
        out = self.tmp / "keep.c"
        out.write_text("old\n")
        r = self.generate(self.corrupt(lambda l: l.pop()), output=out)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(out.read_text(), "old\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
