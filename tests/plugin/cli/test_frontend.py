#!/usr/bin/env python3
"""The gegl-perceptual command line: compare (one pair, batches), models,
fetch.  Values come from the PyTorch goldens (synthetic weights made here)
and, with a mirror of the real weights, the official LPIPS value."""

import json
import os
import pty
import subprocess
import sys
import tempfile
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "support"))

import synth_weights  # noqa: E402
from checks import colormap, heatmap, max_abs_diff, read_colormap, srgb_to_linear  # noqa: E402
from npyfile import read_npy  # noqa: E402
from pngfile import read_png_rgb, write_png  # noqa: E402

CLI = os.environ.get("GEGL_PERCEPTUAL_CLI", "gegl-perceptual")


def setUpModule():
    global tmp, case, model, a, b, env
    tmp = tempfile.TemporaryDirectory(prefix="perc-frontend-")
    with open(os.path.join(TESTS, "goldens", "goldens.json")) as f:
        case = json.load(f)["cases"][0]
    assert (case["network"], case["calibration"], case["seed"]) == ("squeeze", "lpips-v0.1", 1)
    models = path("models")
    os.mkdir(models)
    model = os.path.join(models, "squeeze-lpips-v0.1.safetensors")
    synth_weights.write_model(model, "squeeze", "lpips-v0.1", 1)
    a, b = path("a.png"), path("b.png")
    write_png(a, case["width"], case["height"], case["image0"])
    write_png(b, case["width"], case["height"], case["image1"])
    env = dict(os.environ, GEGL_PERCEPTUAL_WEIGHTS_PATH=models,
               XDG_DATA_HOME=path("data-home"),
               GEGL_PERCEPTUAL_TOOLS_DIR=os.path.join(TOP, "weights"))


def tearDownModule():
    tmp.cleanup()


def path(name):
    return os.path.join(tmp.name, name)


def run(*args, ok=True, environ=None):
    proc = subprocess.run([CLI] + list(args), capture_output=True, text=True,
                          timeout=300, env=environ or env)
    if ok and proc.returncode != 0:
        raise AssertionError("gegl-perceptual %s: exit %d\n%s" % (" ".join(args), proc.returncode, proc.stderr))
    return proc


class Compare(unittest.TestCase):
    def test_distance_and_layers(self):
        out = run("compare", a, b, "--layers").stdout.split("\n")
        self.assertAlmostEqual(float(out[0]), case["distance"], delta=1e-5)
        for l, term in enumerate(case["layers"]):
            self.assertTrue(out[1 + l].startswith("layer %d: " % (l + 1)), out)
            self.assertAlmostEqual(float(out[1 + l].split(": ")[1]), term, delta=1e-6)

    def test_json_map_heatmap(self):
        npy, tiff, heat = path("map.npy"), path("map.tiff"), path("heat.png")
        out = json.loads(run("compare", a, b, "--json", "--layers", "--map", npy,
                             "--heatmap", heat).stdout)
        self.assertEqual((out["reference"], out["compared"], out["network"], out["calibration"]),
                         (a, b, "squeeze", "lpips-v0.1"))
        self.assertAlmostEqual(out["distance"], case["distance"], delta=1e-5)
        self.assertLessEqual(max_abs_diff(out["layers"], case["layers"]), 1e-6)
        shape, values = read_npy(npy)
        self.assertEqual(shape, (case["height"], case["width"]))
        self.assertLessEqual(max_abs_diff(values, case["spatial"]), 1e-5)
        with open(heat, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual((int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")),
                         (case["width"], case["height"]))
        run("compare", a, b, "--map", tiff)
        self.assertGreater(os.path.getsize(tiff), case["width"] * case["height"] * 4)

    def test_heatmap_scale(self):
        """The fixed scale (0 to 0.5, opacity 0.8) by default; --auto-range
        stretches it to the map's largest distance."""
        _, _, ref = read_png_rgb(a)
        for args, lo, hi, opacity in (([], 0.0, 0.5, 0.8),
                                      (["--auto-range", "--opacity", "1",
                                        "--colormap", "viridis"], 0.0, max(case["spatial"]), 1.0)):
            heat = path("scale.npy")
            run("compare", a, b, "--heatmap", heat, *args)
            shape, got = read_npy(heat)
            self.assertEqual(shape, (case["height"], case["width"], 3))
            name = "viridis" if args else "magma"
            want = [srgb_to_linear(v) for v in heatmap(ref, case["spatial"], name, lo, hi, opacity)]
            self.assertLessEqual(max_abs_diff(got, want), 1e-5, args)

    def test_legend(self):
        """--legend: the heatmap as it is, then a strip with the colour bar
        of the scale (left 0, right 0.5) and its values written under it."""
        w, h = case["width"], case["height"]
        plain, legend = path("plain.npy"), path("legend.npy")
        run("compare", a, b, "--heatmap", plain)
        run("compare", a, b, "--heatmap", legend, "--legend")
        _, top = read_npy(plain)
        shape, got = read_npy(legend)
        self.assertEqual((shape[1], shape[2]), (w, 3))
        strip = shape[0] - h
        self.assertGreaterEqual(strip, 20)
        self.assertLessEqual(max_abs_diff(got[:h * w * 3], top), 1e-5)
        table = read_colormap("magma")
        # The bar: a row in its middle, from the margin to the margin.
        bar_row = h + 12
        row = got[bar_row * w * 3:(bar_row + 1) * w * 3]
        left, right = row[8 * 3:8 * 3 + 3], row[(w - 9) * 3:(w - 9) * 3 + 3]
        for pixel, t in ((left, 0.0), (right, 1.0)):
            want = [srgb_to_linear(v) for v in colormap(table, t)]
            self.assertLessEqual(max_abs_diff(pixel, want), 1e-5, (pixel, want))
        # The values: dark text on white below the bar.
        below = got[(h + 21) * w * 3:shape[0] * w * 3]
        self.assertEqual(max(below), 1.0)
        self.assertLess(min(below), 0.3)

    def test_network_and_calibration(self):
        unweighted = float(run("compare", a, b, "--calibration", "unweighted").stdout)
        self.assertGreater(abs(unweighted - case["distance"]), 1e-3)
        proc = run("compare", a, b, "--network", "resnet", ok=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("unknown network \"resnet\" (choose from squeeze, alex, vgg, resnet18, resnet34, resnet50, file)", proc.stderr)

    def test_errors(self):
        small = path("small.png")
        write_png(small, 20, 20, [128] * 1200)
        junk = path("junk.png")
        with open(junk, "wb") as f:
            f.write(b"not an image")
        for args, message in (((a, path("nothing.png")), "nothing.png: no such file"),
                              ((a, junk), "junk.png: cannot read this image"),
                              ((a, small), "the images differ in size: %s is 33x25, %s is 20x20" % (a, small)),
                              ((a, b, "--heatmap", path("no/such/dir/h.png")), "cannot write in"),
                              ((a, b, "--map", path("map.xyz")), "GEGL cannot write “.xyz” files")):
            proc = run("compare", *args, ok=False)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn(message, proc.stderr)
            self.assertEqual(proc.stdout, "")
        # No model anywhere: the message says how to install one.
        bare = dict(env, GEGL_PERCEPTUAL_WEIGHTS_PATH=path("empty"))
        proc = run("compare", a, b, ok=False, environ=bare)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("fetch squeeze --calibration lpips-v0.1", proc.stderr)
        self.assertEqual(run(ok=False).returncode, 2)
        self.assertEqual(run("compare", a, ok=False).returncode, 2)


    def test_threads(self):
        # Any number of threads computes the same numbers and map, bit for
        # bit: every op is split by its output, never by its sums.
        w, h = 240, 180
        pixels = [[(x * 7 + y * 3 * (k + 1) + c * 50 + (x * y) % (13 + k)) % 256
                   for y in range(h) for x in range(w) for c in range(3)] for k in range(2)]
        images = [path("threads-%d.png" % k) for k in range(2)]
        for k in range(2):
            write_png(images[k], w, h, pixels[k])
        outputs = set()
        for n in (1, 2, 3, 8, 16):
            npy = path("threads-%d.npy" % n)
            out = run("compare", *images, "--layers", "--map", npy, "--threads", str(n)).stdout
            with open(npy, "rb") as f:
                outputs.add((out, f.read()))
        self.assertEqual(len(outputs), 1)
        for bad in ("65", "-1"):
            proc = run("compare", a, b, "--threads", bad, ok=False)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("--threads takes 1 to 64", proc.stderr)


class Batch(unittest.TestCase):
    def test_pairs_list(self):
        listing = path("pairs.txt")
        with open(listing, "w") as f:
            f.write("# reference\tcompared\na.png\tb.png\n\na.png nothing.png\n%s %s\n" % (b, a))
        proc = run("compare", "--pairs", listing, "--layers", ok=False)
        self.assertEqual(proc.returncode, 1)
        lines = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertEqual(len(lines), 3)
        self.assertAlmostEqual(lines[0]["distance"], case["distance"], delta=1e-5)
        self.assertEqual(len(lines[0]["layers"]), 7)
        self.assertIn("no such file", lines[1]["error"])
        self.assertAlmostEqual(lines[2]["distance"], lines[0]["distance"], delta=1e-3)
        self.assertIn("2 pairs compared, 1 failed", proc.stderr)

        proc = run("compare", "--pairs", listing, "--csv", ok=False)
        rows = proc.stdout.splitlines()
        self.assertEqual(rows[0], "reference,compared,distance,error")
        self.assertAlmostEqual(float(rows[1].split(",")[2]), case["distance"], delta=1e-5)
        self.assertTrue(rows[2].endswith("no such file"), rows[2])

    def test_folders(self):
        d1, d2, heat = path("d1"), path("d2"), path("heat")
        for d in (d1, d2):
            os.makedirs(d, exist_ok=True)
        for name in ("x.png", "y.png"):
            os.link(a, os.path.join(d1, name))
            os.link(b, os.path.join(d2, name))
        os.link(a, os.path.join(d1, "only-here.png"))
        proc = run("compare", d1, d2, "--heatmap", heat, ok=False)
        self.assertEqual(proc.returncode, 1)
        lines = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertEqual([os.path.basename(l["compared"]) for l in lines], ["only-here.png", "x.png", "y.png"])
        self.assertIn("error", lines[0])
        for l in lines[1:]:
            self.assertAlmostEqual(l["distance"], case["distance"], delta=1e-5)
        self.assertEqual(sorted(os.listdir(heat)), ["x.png", "y.png"])

    def test_progress_on_a_terminal(self):
        listing = path("pairs2.txt")
        with open(listing, "w") as f:
            f.write("a.png b.png\nb.png a.png\n")
        master, slave = pty.openpty()
        proc = subprocess.run([CLI, "compare", "--pairs", listing], stdout=subprocess.PIPE,
                              stderr=slave, env=env, timeout=300)
        os.close(slave)
        shown = os.read(master, 65536).decode()
        os.close(master)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("\r\x1b[K1/2 ", shown)
        self.assertIn("\r\x1b[K2/2 ", shown)

    def test_progress_of_a_large_image(self):
        """One large pair on a terminal: how far it has got, then a clean line."""
        big = [path("big-%d.png" % k) for k in range(2)]
        w, h = 2048, 2048
        row = bytes((x * 7 + 30) % 256 for x in range(3 * w))
        for k, name in enumerate(big):
            write_png(name, w, h, (row[3 * k:] + row[:3 * k]) * h, level=1)
        master, slave = pty.openpty()
        proc = subprocess.run([CLI, "compare", big[0], big[1]], stdout=subprocess.PIPE,
                              stderr=slave, env=env, timeout=300)
        os.close(slave)
        shown = os.read(master, 65536).decode()
        os.close(master)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("\r\x1b[K%s " % big[1], shown)
        self.assertIn(" 100 %", shown)
        self.assertTrue(shown.endswith("\r\x1b[K"), shown[-40:])
        float(proc.stdout)


class Models(unittest.TestCase):
    def test_models(self):
        out = run("models").stdout
        self.assertIn(model, out)
        self.assertIn("not installed: gegl-perceptual fetch alex --calibration lpips-v0.1", out)
        listed = [json.loads(l) for l in run("models", "--json").stdout.splitlines()]
        mine = [m for m in listed if m.get("file") == model]
        self.assertEqual(len(mine), 2)       # lpips-v0.1, and unweighted from the same file
        self.assertTrue(all(m["valid"] for m in mine))
        self.assertEqual(len(mine[0]["backbone_digest"]), 64)

    def test_fetch(self):
        self.assertEqual(run("fetch", "--help").returncode, 0)
        mirror = os.environ.get("GEGL_PERCEPTUAL_WEIGHTS_MIRROR", "")
        if not mirror or not os.path.isdir(mirror):
            self.skipTest("the real weights are not available; set GEGL_PERCEPTUAL_WEIGHTS_MIRROR")
        dest = path("fetched")
        run("fetch", "squeeze", "--mirror", mirror, "--dest", dest)
        self.assertTrue(os.path.isfile(os.path.join(dest, "squeeze-lpips-v0.1.safetensors")))
        images = os.path.join(os.path.dirname(os.path.abspath(mirror)), "images", "lpips-examples")
        out = run("compare", os.path.join(images, "ex_ref.png"), os.path.join(images, "ex_p0.png"),
                  "--weights", os.path.join(dest, "squeeze-lpips-v0.1.safetensors")).stdout
        self.assertAlmostEqual(float(out), 0.7110476493835449, delta=1e-5)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
