#!/usr/bin/env python3
"""The study's instruments from the command line: ResNets, the distance
functions and layer subsets in `compare`, and the `2afc` / `jnd`
evaluators on a generated BAPPS-layout data set.  Expected values come
from the PyTorch goldens (tests/goldens/resnet.json, bapps.json) with
synthetic weights made here; with a mirror of the real weights, the real
SqueezeNet's scores are checked against PyTorch when it is installed."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "support"))

import synth_weights  # noqa: E402
from npyfile import write_npy  # noqa: E402
from pngfile import write_png  # noqa: E402

CLI = os.environ.get("GEGL_PERCEPTUAL_CLI", "gegl-perceptual")
TORCH_PYTHON = os.environ.get("GEGL_PERCEPTUAL_TORCH_PYTHON", "/usr/bin/python3")


def setUpModule():
    global tmp, env, studies
    tmp = tempfile.TemporaryDirectory(prefix="perc-study-")
    with open(os.path.join(TESTS, "goldens", "resnet.json")) as f:
        studies = {c["name"]: c for c in json.load(f)["cases"]}
    env = dict(os.environ, GEGL_PERCEPTUAL_WEIGHTS_PATH=path("models"),
               XDG_DATA_HOME=path("data-home"))
    os.mkdir(path("models"))


def tearDownModule():
    tmp.cleanup()


def path(*names):
    return os.path.join(tmp.name, *names)


def run(*args, ok=True, environ=None):
    proc = subprocess.run([CLI] + list(args), capture_output=True, text=True,
                          timeout=600, env=environ or env)
    if ok and proc.returncode != 0:
        raise AssertionError("gegl-perceptual %s: exit %d\n%s"
                             % (" ".join(args), proc.returncode, proc.stderr))
    return proc


def model_file(network, calibration, seed, block=None, blocks=None, installed=False):
    name = "%s-%s.safetensors" % (network, calibration)
    out = path("models", name) if installed else path("%s-%d-%s" % (network, seed, name))
    if not os.path.exists(out):
        synth_weights.write_model(out, network, calibration, seed,
                                  resnet_block=block, resnet_blocks=blocks)
    return out


def case_images(case):
    a, b = path(case["name"] + "-a.png"), path(case["name"] + "-b.png")
    if not os.path.exists(a):
        write_png(a, case["width"], case["height"], case["image0"])
        write_png(b, case["width"], case["height"], case["image1"])
    return a, b


def relative(got, want):
    return abs(got - want) / max(abs(want), 1e-12)


class Compare(unittest.TestCase):
    def test_resnet18(self):
        case = studies["resnet18-unweighted-67x45"]
        model_file("resnet18", "unweighted", 11, installed=True)
        a, b = case_images(case)
        out = json.loads(run("compare", a, b, "--network", "resnet18", "--json",
                             "--layers").stdout)
        self.assertEqual((out["network"], out["calibration"], out["distance_function"],
                          out["layer_subset"]), ("resnet18", "unweighted", "spatial", [1, 2, 3, 4]))
        self.assertLessEqual(relative(out["distance"], case["distance"]), 1e-5)
        for got, want in zip(out["layers"], case["layers"]):
            self.assertLessEqual(relative(got, want), 1e-5)
        # Stage 3 alone, the study's best single layer.
        out = json.loads(run("compare", a, b, "-n", "resnet18", "-s", "3", "--json").stdout)
        self.assertEqual(out["layer_subset"], [3])
        self.assertLessEqual(relative(out["distance"], case["layers"][2]), 1e-5)
        for kind, key in (("mean-pool", "mean_pool"), ("style", "style")):
            out = json.loads(run("compare", a, b, "-n", "resnet18", "-d", kind, "--json",
                                 "--layers").stdout)
            self.assertLessEqual(relative(out["distance"], case[key + "_distance"]), 1e-5)
            for got, want in zip(out["layers"], case[key + "_layers"]):
                self.assertLessEqual(relative(got, want), 1e-5)

    def test_custom_resnet_from_its_file(self):
        case = studies["resnet6-basic-1,1-unweighted-29x23"]
        weights = model_file("resnet6", "unweighted", 13, "basic", "1,1")
        a, b = case_images(case)
        out = json.loads(run("compare", a, b, "--weights", weights, "--json").stdout)
        self.assertEqual((out["network"], out["layer_subset"]), ("resnet6", [1, 2]))
        self.assertLessEqual(relative(out["distance"], case["distance"]), 1e-5)

    def test_models(self):
        out = run("models").stdout
        self.assertIn("not installed: gegl-perceptual fetch resnet50 --calibration unweighted", out)
        self.assertNotIn("resnet50 --calibration lpips", out)

    def test_errors(self):
        case = studies["resnet6-basic-1,1-unweighted-29x23"]
        weights = model_file("resnet6", "unweighted", 13, "basic", "1,1")
        squeeze = model_file("squeeze", "lpips-v0.1", 1)
        a, b = case_images(case)
        for args, message in (
                (("--weights", weights, "-s", "4"),
                 "\"4\" is not a list of layer numbers from 1 to 3 for resnet6"),
                (("--weights", weights, "-s", "1,x"), "not a list of layer numbers"),
                (("--weights", weights, "-d", "mean-pool", "--map", path("m.npy")),
                 "the mean-pool distance compares whole layers: it has no map or heatmap"),
                (("--weights", squeeze, "-d", "style"),
                 "the style distance has no calibrated weights: use the unweighted calibration"),
                (("--weights", weights, "-c", "lpips-v0.1"),
                 "the model holds unweighted weights, not lpips-v0.1"),
                (("--weights", weights, "-n", "resnet18"),
                 "holds a model of the resnet6 network, but the network chosen is resnet18"),
                (("-n", "resnet50"), "fetch resnet50 --calibration unweighted"),
                (("-d", "gram"), "unknown distance function \"gram\" (choose from spatial, "
                                 "mean-pool, style)")):
            proc = run("compare", a, b, *args, ok=False)
            # An unknown choice is wrong usage; the rest are errors.
            self.assertEqual(proc.returncode, 2 if "unknown" in message else 1, proc.stderr)
            self.assertIn(message, proc.stderr)
            self.assertEqual(proc.stdout, "")


def make_bapps(*args, python=sys.executable):
    return subprocess.run([python, os.path.join(TESTS, "make-bapps.py")] + list(args),
                          capture_output=True, text=True, timeout=900, check=True).stdout


class Evaluate(unittest.TestCase):
    """Scores against tests/goldens/bapps.json: per category, the mean and
    every layer alone, within the range the golden allows for comparisons
    too close to call in float32 (a single value almost everywhere)."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(TESTS, "goldens", "bapps.json")) as f:
            cls.golden = json.load(f)
        cls.data = path("bapps")
        summary = make_bapps(cls.data)
        # The data set the goldens were made for (pixels and judgements).
        assert "sha256 %s" % cls.golden["dataset"]["content_sha256"][:16] in summary, summary

    def check(self, what, got, score, allowed):
        lo, hi = allowed
        # Printed with 6 decimals.
        self.assertTrue(lo - 1e-5 <= got <= hi + 1e-5,
                        "%s: %.6f, expected %.6f (allowed %.6f .. %.6f)" % (what, got, score, lo, hi))

    def test_configurations(self):
        for config in self.golden["configurations"]:
            weights = model_file(config["network"], config["calibration"], config["seed"])
            args = ["--weights", weights, "--calibration", config["calibration"],
                    "--distance", config["kind"], "--json"]
            if config["layers"]:
                args += ["--layer-subset", ",".join(str(l) for l in config["layers"])]
            for test in ("2afc", "jnd"):
                out = json.loads(run(test, self.data, *args).stdout)
                want = config[test]
                name = "%s %s" % (config["name"], test)
                self.assertEqual([c["name"] for c in out["categories"]], list(want["categories"]))
                self.assertEqual(out["layer_subset"], config["summed_taps"])
                for c in out["categories"]:
                    w = want["categories"][c["name"]]
                    self.check("%s %s" % (name, c["name"]), c["score"], w["score"], w["range"])
                    for l, got in enumerate(c["per_layer"]):
                        w = config["per_layer"][l][test]["categories"][c["name"]]
                        self.check("%s %s layer %d" % (name, c["name"], l + 1), got,
                                   w["score"], w["range"])
                self.check(name + " mean", out["score"], want["mean"], want["mean_range"])
                for l, got in enumerate(out["per_layer"]):
                    w = config["per_layer"][l][test]
                    self.check("%s layer %d mean" % (name, l + 1), got, w["mean"], w["mean_range"])
                n = sum(c["triplets" if test == "2afc" else "pairs"] for c in out["categories"])
                # Reading the images and computing are parts of the time.
                self.assertGreater(out["reading_seconds"], 0)
                self.assertGreater(out["computing_seconds"], 0)
                self.assertLessEqual(out["reading_seconds"] + out["computing_seconds"],
                                     out["seconds"])
                print("  %s: %.2f in %.2f s (%.2f s per 1000, %.2f s reading)"
                      % (name, out["score"], out["seconds"], 1000 * out["seconds"] / n,
                         out["reading_seconds"]))

    def small_set(self, name):
        """A copy of three triplets of one category, to break: the
        category's folder."""
        root = path(name, "2afc", "val", "cnn")
        for sub in ("ref", "p0", "p1", "judge"):
            os.makedirs(os.path.join(root, sub))
            src = os.path.join(self.data, "2afc", "val", "cnn", sub)
            for f in sorted(os.listdir(src))[:3]:
                shutil.copy(os.path.join(src, f), os.path.join(root, sub))
        return root

    def test_errors(self):
        weights = model_file("squeeze", "lpips-v0.1", 21)
        cases = []
        root = self.small_set("missing")
        os.unlink(os.path.join(root, "judge", "000002.npy"))
        cases.append((root, "has no counterpart in"))
        for name, content, message in (
                ("junk", b"not numpy", "not a NumPy file holding one float32 or float64 number"),
                ("int", None, "not a NumPy file"),
                ("big", struct.pack("<d", 1.5), "a judgement is a fraction of people, from 0 to 1, not 1.5"),
                ("nan", struct.pack("<d", float("nan")), "the number is not finite")):
            root = self.small_set(name)
            judge = os.path.join(root, "judge", "000001.npy")
            if content is None:
                write_npy(judge, struct.pack("<q", 1), "<i8", (1,))
            elif content.startswith(b"not"):
                with open(judge, "wb") as f:
                    f.write(content)
            else:
                write_npy(judge, content, "<f8", (1,))
            cases.append((root, message))
        root = self.small_set("size")
        write_png(os.path.join(root, "p1", "000001.png"), 32, 30, [100] * (32 * 30 * 3))
        cases.append((root, "000001.png is 32x30 pixels, but"))
        root = self.small_set("tiny")
        for sub in ("ref", "p0", "p1"):
            write_png(os.path.join(root, sub, "000000.png"), 8, 8, [100] * 192)
        cases.append((root, "the squeeze network needs at least 17x17"))
        os.makedirs(path("empty", "2afc", "val", "cnn"))
        cases.append((path("empty"), "no 2afc categories"))
        for folder, message in cases:
            # The data set's folder, above 2afc/val/cnn.
            if folder.endswith("cnn"):
                folder = os.path.dirname(os.path.dirname(os.path.dirname(folder)))
            proc = run("2afc", folder, "--weights", weights, ok=False)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn(message, proc.stderr)
            self.assertEqual(proc.stdout, "")
        proc = run("2afc", self.data, "--weights", weights, "--category", "nothing", ok=False)
        self.assertIn("no category \"nothing\"", proc.stderr)
        self.assertEqual(run("2afc", ok=False).returncode, 2)
        self.assertEqual(run("2afc", self.data, "--threads", "0", "--weights", weights).returncode, 0)
        self.assertEqual(run("jnd", self.data, "--threads", "65", ok=False).returncode, 2)

    def test_real_weights(self):
        mirror = os.environ.get("GEGL_PERCEPTUAL_WEIGHTS_MIRROR")
        if not mirror:
            self.skipTest("no mirror of the real weights (set GEGL_PERCEPTUAL_WEIGHTS_MIRROR)")
        probe = subprocess.run([TORCH_PYTHON, "-c", "import torch, torchvision"],
                               capture_output=True)
        if probe.returncode != 0:
            self.skipTest("no PyTorch in %s to compute the expected scores" % TORCH_PYTHON)
        want = json.loads(make_bapps("--real-weights", mirror, python=TORCH_PYTHON))
        home = dict(env, XDG_DATA_HOME=path("real-home"))
        run("fetch", "squeeze", "--mirror", mirror, environ=home)
        for test in ("2afc", "jnd"):
            out = json.loads(run(test, self.data, "--json", environ=home).stdout)
            self.check("real " + test, out["score"], want[test]["mean"], want[test]["mean_range"])
            if want[test]["mean_range"][0] == want[test]["mean_range"][1]:
                for c in out["categories"]:
                    self.assertAlmostEqual(c["score"], want[test][c["name"]], delta=1e-5)
            n = sum(c["triplets" if test == "2afc" else "pairs"] for c in out["categories"])
            print("  real SqueezeNet %s: %.2f (PyTorch %.2f), %.2f s per 1000"
                  % (test, out["score"], want[test]["mean"], 1000 * out["seconds"] / n))


if __name__ == "__main__":
    unittest.main(verbosity=2)
