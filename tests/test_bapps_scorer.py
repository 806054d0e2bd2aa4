#!/usr/bin/env python3
"""Tests of tests/make-bapps.py: the 2AFC and JND scorers on hand-computed
cases, and the generated data set (deterministic, well-formed files).

Python standard library only:  python3 tests/test_bapps_scorer.py
"""

import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "make-bapps.py")
GOLDENS = os.path.join(HERE, "goldens", "bapps.json")
sys.path.insert(0, os.path.join(HERE, "support"))

import npyfile  # noqa: E402
import pngfile  # noqa: E402

_spec = importlib.util.spec_from_file_location("make_bapps", SCRIPT)
bapps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bapps)

SMALL = {"seed": 5, "per_category": 6, "jnd_per_category": 10}


def tree_files(root):
    out = {}
    for folder, _, names in os.walk(root):
        for n in names:
            path = os.path.join(folder, n)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def toy_distance(a, b):
    """Mean absolute pixel difference of two PNG files."""
    _, _, x = pngfile.read_png(a)
    _, _, y = pngfile.read_png(b)
    return sum(abs(u - v) for u, v in zip(x, y)) / len(x)


class TwoAFC(unittest.TestCase):
    def test_triplet_credit(self):
        t = bapps.afc_triplet
        self.assertEqual(t(1.0, 2.0, 0.2), 0.8)     # d0 < d1: 1 - p
        self.assertEqual(t(2.0, 1.0, 0.2), 0.2)     # d1 < d0: p
        self.assertEqual(t(1.0, 1.0, 0.2), 0.5)     # tie: 0.5 whatever p
        self.assertEqual(t(1.0, 1.0, 1.0), 0.5)
        self.assertEqual(t(0.0, 0.0, 0.0), 0.5)
        self.assertEqual(t(1.0, 2.0, 0.0), 1.0)
        self.assertEqual(t(2.0, 1.0, 0.0), 0.0)
        self.assertEqual(t(1.0, 2.0, 1.0), 0.0)
        self.assertEqual(t(2.0, 1.0, 1.0), 1.0)
        self.assertEqual(t(1.0, 2.0, 0.5), 0.5)
        self.assertEqual(t(2.0, 1.0, 0.5), 0.5)

    def test_category_score(self):
        # credits: 1 - 0.2 = 0.8, 0.2, tie 0.5 (p 0.7 ignored), p = 1, tie 0.5 (p 0)
        # sum 3.0 over 5 triplets -> 60
        d0 = [1.0, 2.0, 1.0, 1.0, 3.0]
        d1 = [2.0, 1.0, 1.0, 0.5, 3.0]
        p = [0.2, 0.2, 0.7, 1.0, 0.0]
        self.assertAlmostEqual(bapps.afc_score(d0, d1, p), 60.0, places=12)
        # every soft label in {0, 0.2, 0.5, 1} both ways: credits
        # 1, 0 | 0.8, 0.2 | 0.5, 0.5 | 0, 1  -> 4 / 8 = 50
        d0 = [1, 2] * 4
        d1 = [2, 1] * 4
        p = [0.0, 0.0, 0.2, 0.2, 0.5, 0.5, 1.0, 1.0]
        self.assertAlmostEqual(bapps.afc_score(d0, d1, p), 50.0, places=12)
        # the human-consistent ordering earns max(p, 1 - p)
        d0 = [1, 2, 1, 2]
        d1 = [2, 1, 2, 1]
        p = [0.0, 1.0, 0.2, 0.8]
        self.assertAlmostEqual(bapps.afc_score(d0, d1, p), 90.0, places=12)

    def test_perceptual_score_is_mean_of_categories(self):
        s = bapps.score_distances({"a": ([1, 2], [2, 1], [0.0, 1.0]),     # 100
                                   "b": ([1, 1, 1, 1], [2, 2, 2, 1], [1, 1, 1, 1])},  # 12.5
                                  {})
        self.assertAlmostEqual(s["2afc"]["a"], 100.0)
        self.assertAlmostEqual(s["2afc"]["b"], 12.5)
        self.assertAlmostEqual(s["2afc"]["mean"], 56.25)   # not (2 + 0.5) / 6

    def test_near_tie_range(self):
        score, lo, hi, ties = bapps.afc_score_range([1.0, 1.0, 3.0], [1.00000001, 2.0, 3.0],
                                                    [0.2, 0.0, 1.0], [False, False, True])
        # triplet 0 is a near tie (0.2 or 0.8, or 0.5), 1 earns 1, 2 is an exact tie 0.5
        self.assertEqual(ties, [0])
        self.assertAlmostEqual(score, 100 * (0.8 + 1 + 0.5) / 3)
        self.assertAlmostEqual(lo, 100 * (0.2 + 1 + 0.5) / 3)
        self.assertAlmostEqual(hi, 100 * (0.8 + 1 + 0.5) / 3)
        score, lo, hi, ties = bapps.afc_score_range([1.0, 2.0], [2.0, 1.0], [0.2, 0.2])
        self.assertEqual((lo, hi, ties), (score, score, []))


class JND(unittest.TestCase):
    def test_worked_example(self):
        # File order: distances 0.3, 0.1, 0.2, 0.4; same 0, 1, 0.5, 1 (sum 2.5).
        # Ranked by distance: same 1, 0.5, 0, 1
        #   TP  1    1.5  1.5  2.5     FP  0    0.5  1.5  1.5
        #   precision 1, 0.75, 0.5, 0.625     recall 0.4, 0.6, 0.6, 1
        # With (0, 0) in front and (recall 1, precision 0) at the end:
        #   recall    0  0.4  0.6  0.6    1      1
        #   precision 0  1    0.75 0.5    0.625  0
        # running max from the right:
        #   precision 1  1    0.75 0.625  0.625  0
        # sum over recall changes of (r[i+1] - r[i]) * p[i+1]:
        #   0.4 * 1 + 0.2 * 0.75 + 0.4 * 0.625 = 0.4 + 0.15 + 0.25 = 0.8
        ap = bapps.jnd_average_precision([0.3, 0.1, 0.2, 0.4], [0.0, 1.0, 0.5, 1.0])
        self.assertAlmostEqual(ap, 80.0, places=12)

    def test_ties_keep_file_order(self):
        # Distances 0, 0, 0.5 with same 0, 1, 1: the two zeros stay in file order.
        #   TP 0, 1, 2   FP 1, 1, 1   precision 0, 0.5, 2/3   recall 0, 0.5, 1
        #   recall 0 0 0.5 1 1, precision after the running max 2/3 2/3 2/3 2/3 0
        #   AP = 0.5 * 2/3 + 0.5 * 2/3 = 2/3
        self.assertAlmostEqual(bapps.jnd_average_precision([0.0, 0.0, 0.5], [0.0, 1.0, 1.0]),
                               200.0 / 3, places=12)
        # The other file order: precision 1, 0.5, 2/3 at recall 0.5, 0.5, 1:
        #   AP = 0.5 * 1 + 0.5 * 2/3 = 5/6
        self.assertAlmostEqual(bapps.jnd_average_precision([0.0, 0.0, 0.5], [1.0, 0.0, 1.0]),
                               500.0 / 6, places=12)

    def test_perfect_and_reversed(self):
        self.assertAlmostEqual(bapps.jnd_average_precision([1, 2, 3], [1, 1, 0]), 100.0)
        # worst order: same 0, 0, 1 -> precision 1/3 at recall 1
        self.assertAlmostEqual(bapps.jnd_average_precision([3, 2, 1], [1, 0, 0]), 100.0 / 3)

    def test_soft_labels_everywhere(self):
        # All pairs 0.5: precision 0.5 at every rank, AP 0.5 whatever the order.
        self.assertAlmostEqual(bapps.jnd_average_precision([4, 1, 3, 2], [0.5] * 4), 50.0)

    def test_mean_over_categories(self):
        s = bapps.score_distances({}, {"a": ([1, 2, 3], [1, 1, 0]),
                                       "b": ([3, 2, 1], [1, 0, 0])})
        self.assertAlmostEqual(s["jnd"]["mean"], (100.0 + 100.0 / 3) / 2)

    def test_near_tie_range(self):
        score, lo, hi, groups = bapps.jnd_score_range([1.0, 1.00000001, 2.0], [1.0, 0.0, 1.0])
        self.assertEqual(groups, [[0, 1]])
        self.assertAlmostEqual(score, 500.0 / 6)
        self.assertAlmostEqual(lo, 200.0 / 3)
        self.assertAlmostEqual(hi, 500.0 / 6)
        # exact ties of identical images are not near ties
        score, lo, hi, groups = bapps.jnd_score_range([0.0, 0.0, 2.0], [1.0, 0.0, 1.0],
                                                      [True, True, False])
        self.assertEqual((lo, hi, groups), (score, score, []))


class Files(unittest.TestCase):
    def test_npy_encodings(self):
        for value in (0.0, 0.2, 1.0 / 3, 0.5, 1.0):
            for descr in ("<f8", "<f4"):
                for shape in ((1,), ()):
                    data = npyfile.npy_bytes([value], descr, shape)
                    self.assertEqual(data[:8], b"\x93NUMPY\x01\x00")
                    hlen = struct.unpack("<H", data[8:10])[0]
                    self.assertEqual((10 + hlen) % 64, 0)
                    header = data[10:10 + hlen].decode("latin1")
                    self.assertTrue(header.endswith("\n"))
                    self.assertEqual(eval(header, {}), {"descr": descr, "fortran_order": False,
                                                        "shape": shape})
                    size = 8 if descr == "<f8" else 4
                    self.assertEqual(len(data), 10 + hlen + size)
                    with tempfile.NamedTemporaryFile(suffix=".npy") as f:
                        f.write(data)
                        f.flush()
                        got = npyfile.read_npy_scalar(f.name)
                    want = value if size == 8 else struct.unpack("<f", struct.pack("<f", value))[0]
                    self.assertEqual(got, want)

    def test_png_round_trip(self):
        rgb = bytes((i * 7) % 256 for i in range(3 * 5 * 4))
        data = pngfile.png_bytes(rgb, 5, 4, bapps.PNG_LEVEL)
        with tempfile.NamedTemporaryFile(suffix=".png") as f:
            f.write(data)
            f.flush()
            self.assertEqual(pngfile.read_png(f.name), (5, 4, rgb))


class DataSet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = os.path.join(cls.tmp.name, "a")
        cls.summary = bapps.generate(cls.root, **SMALL)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_deterministic(self):
        other = os.path.join(self.tmp.name, "b")
        out = subprocess.run([sys.executable, SCRIPT, other, "--seed", str(SMALL["seed"]),
                              "--per-category", str(SMALL["per_category"]),
                              "--jnd-per-category", str(SMALL["jnd_per_category"])],
                             capture_output=True, text=True, check=True)
        self.assertEqual(len(out.stdout.strip().splitlines()), 1, out.stdout)
        a, b = tree_files(self.root), tree_files(other)
        self.assertEqual(sorted(a), sorted(b))
        for k in a:
            self.assertEqual(a[k], b[k], k)
        # another seed gives other images
        c = bapps.generate(None, seed=SMALL["seed"] + 1, per_category=SMALL["per_category"],
                           jnd_per_category=SMALL["jnd_per_category"], write=False)
        self.assertNotEqual(c["content_sha256"], self.summary["content_sha256"])

    def test_refuses_existing_set(self):
        with self.assertRaises(FileExistsError):
            bapps.generate(self.root, **SMALL)
        out = subprocess.run([sys.executable, SCRIPT, self.root, "--per-category", "1"],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("already exists", out.stderr)

    def test_layout(self):
        files = tree_files(self.root)
        n, m = SMALL["per_category"], SMALL["jnd_per_category"]
        expected = set()
        for c in bapps.CATEGORIES_2AFC:
            for i in range(n):
                for sub in ("ref", "p0", "p1"):
                    expected.add("2afc/val/%s/%s/%06d.png" % (c, sub, i))
                expected.add("2afc/val/%s/judge/%06d.npy" % (c, i))
        for c in bapps.CATEGORIES_JND:
            for j in range(m):
                for sub in ("p0", "p1"):
                    expected.add("jnd/val/%s/%s/%06d.png" % (c, sub, j))
                expected.add("jnd/val/%s/same/%06d.npy" % (c, j))
        self.assertEqual(set(k.replace(os.sep, "/") for k in files), expected)
        for k, data in files.items():
            if k.endswith(".png"):
                self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
                self.assertEqual(data[12:16], b"IHDR")
                self.assertEqual(struct.unpack(">IIBBBBB", data[16:29]), (64, 64, 8, 2, 0, 0, 0))

    def test_judgements_parse(self):
        encodings = set()
        for folder, _, names in os.walk(self.root):
            for name in names:
                if not name.endswith(".npy"):
                    continue
                with open(os.path.join(folder, name), "rb") as f:
                    data = f.read()
                hlen = struct.unpack("<H", data[8:10])[0]
                header = eval(data[10:10 + hlen].decode("latin1"), {})
                encodings.add((header["descr"], header["shape"]))
                v = npyfile.read_npy_scalar(os.path.join(folder, name))
                self.assertTrue(0.0 <= v <= 1.0)
                observers = (5, 4) if os.path.basename(folder) == "judge" else (3,)
                self.assertTrue(any(abs(v * k - round(v * k)) < 1e-6 for k in observers),
                                (folder, name, v))
        self.assertEqual(encodings, {("<f8", (1,)), ("<f4", (1,)), ("<f8", ()), ("<f4", ())})

    def test_ties_and_copies(self):
        afc = bapps.list_2afc(self.root)
        self.assertEqual(list(afc), list(bapps.CATEGORIES_2AFC))
        for category, triplets in afc.items():
            self.assertEqual(len(triplets), SMALL["per_category"])
            for i, (ref, p0, p1, p) in enumerate(triplets):
                same01 = read(p0) == read(p1)
                self.assertEqual(same01, i % 20 == 1, (category, i))
                if i == 1:
                    self.assertEqual(p, 0.5)
                self.assertEqual(read(ref) == read(p0),
                                 i % 40 == 3, (category, i))
        jnd = bapps.list_jnd(self.root)
        self.assertEqual(list(jnd), list(bapps.CATEGORIES_JND))
        for category, pairs in jnd.items():
            for j, (p0, p1, same) in enumerate(pairs):
                identical = read(p0) == read(p1)
                self.assertEqual(identical, j % 20 in (2, 12), (category, j))
                if j % 20 == 2:
                    self.assertEqual(same, 1.0)

    def test_pixels_decode(self):
        w, h, rgb = pngfile.read_png(os.path.join(self.root, "2afc/val/color/ref/000000.png"))
        self.assertEqual((w, h, len(rgb)), (64, 64, 64 * 64 * 3))
        self.assertGreater(len(set(rgb)), 50)

    def test_score_tree_and_command_line(self):
        scores = bapps.score_tree(self.root, toy_distance)
        # by hand from the same distances
        afc = bapps.list_2afc(self.root)
        for category, triplets in afc.items():
            credits = []
            for ref, p0, p1, p in triplets:
                d0, d1 = toy_distance(ref, p0), toy_distance(ref, p1)
                credits.append(p if d1 < d0 else (1 - p) if d0 < d1 else 0.5)
            self.assertAlmostEqual(scores["2afc"][category], 100 * sum(credits) / len(credits))
            self.assertEqual(credits[1], 0.5)                  # identical p0, p1
        self.assertAlmostEqual(scores["2afc"]["mean"],
                               sum(scores["2afc"][c] for c in afc) / len(afc))
        self.assertEqual(set(scores["jnd"]), set(bapps.CATEGORIES_JND) | {"mean"})
        # --pairs, then --score on JSON lines such as `gegl-perceptual compare` prints
        out = subprocess.run([sys.executable, SCRIPT, "--pairs", self.root],
                             capture_output=True, text=True, check=True).stdout
        pairs = [line.split("\t") for line in out.splitlines()]
        self.assertEqual(len(pairs), 2 * 6 * SMALL["per_category"] + 2 * SMALL["jnd_per_category"])
        lines = os.path.join(self.tmp.name, "distances.jsonl")
        with open(lines, "w") as f:
            for a, b in pairs:
                d = toy_distance(a, b)
                f.write(json.dumps({"reference": a, "compared": b, "network": "squeeze",
                                    "calibration": "lpips-v0.1", "distance": d,
                                    "layers": [d, 2 * d]}) + "\n")
        for layer in (None, 2):
            argv = [sys.executable, SCRIPT, "--score", self.root, "--distances", lines]
            if layer:
                argv += ["--layer", str(layer)]
            got = json.loads(subprocess.run(argv, capture_output=True, text=True,
                                            check=True).stdout)
            for key in ("2afc", "jnd"):
                for k, v in scores[key].items():
                    self.assertAlmostEqual(got[key][k], v, places=9)


class DefaultSet(unittest.TestCase):
    def test_default_set(self):
        s = bapps.generate(None, write=False)
        self.assertEqual((s["triplets"], s["jnd_pairs"]), (240, 80))
        counts = s["p_counts"]
        for v in (0.0, 0.5, 1.0):
            self.assertGreater(counts.get(v, 0), 2, counts)
        if os.path.exists(GOLDENS):
            with open(GOLDENS) as f:
                goldens = json.load(f)
            d = goldens["dataset"]
            self.assertEqual((d["seed"], d["per_category"], d["jnd_per_category"]),
                             (bapps.DEFAULT_SEED, bapps.DEFAULT_PER_CATEGORY,
                              bapps.DEFAULT_JND_PER_CATEGORY))
            self.assertEqual(d["content_sha256"], s["content_sha256"],
                             "the generator changed: regenerate tests/goldens/bapps.json")


if __name__ == "__main__":
    unittest.main()
