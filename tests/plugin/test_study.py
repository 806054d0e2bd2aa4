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

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "plugin"))

import synth_weights  # noqa: E402
from test_cli import write_png  # noqa: E402

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
                 "holds a resnet6 model, but the network chosen is resnet18"),
                (("-n", "resnet50"), "fetch resnet50 --calibration unweighted"),
                (("-d", "gram"), "unknown distance function \"gram\" (choose from spatial, "
                                 "mean-pool, style)")):
            proc = run("compare", a, b, *args, ok=False)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn(message, proc.stderr)
            self.assertEqual(proc.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
