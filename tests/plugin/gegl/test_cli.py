#!/usr/bin/env python3
"""The perceptual ops from the `gegl` command line and from XML compositions.

Values come from independent computations: the PyTorch goldens
(tests/goldens/goldens.json, synthetic weights regenerated here) and, when a
mirror of the real weights is given, the official LPIPS reference maps.  The
heatmap's reference is computed here from a reference distance map, the
published colour map table and the reference image.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "support"))

import synth_weights  # noqa: E402
from checks import heatmap, max_abs_diff, srgb_to_linear  # noqa: E402
from npyfile import read_npy  # noqa: E402
from pngfile import read_png_rgb, write_png  # noqa: E402

GEGL = os.environ.get("GEGL", "gegl")


def run_gegl(*args):
    proc = subprocess.run([GEGL] + list(args), capture_output=True, text=True, timeout=120)
    # gegl exits 0 even when it cannot make a node.
    if proc.returncode != 0 or "Error:" in proc.stderr:
        raise AssertionError("gegl %s failed: %s" % (" ".join(args), proc.stderr))
    return proc


class Fixture:
    """A temporary folder with a synthetic model and the golden case's images."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="perc-cli-")
        path = os.path.join(TESTS, "goldens", "goldens.json")
        with open(path) as f:
            cases = json.load(f)["cases"]
        self.case = cases[0]
        assert (self.case["network"], self.case["calibration"], self.case["seed"]) == \
            ("squeeze", "lpips-v0.1", 1), "goldens.json changed: case 0 must be squeeze v0.1 seed 1"
        self.model = self.path("squeeze-lpips-v0.1.safetensors")
        synth_weights.write_model(self.model, "squeeze", "lpips-v0.1", 1)
        w, h = self.case["width"], self.case["height"]
        self.a, self.b = self.path("a.png"), self.path("b.png")
        write_png(self.a, w, h, self.case["image0"])
        write_png(self.b, w, h, self.case["image1"])

    def path(self, name):
        return os.path.join(self.dir.name, name)


def setUpModule():
    global fx
    fx = Fixture()


def tearDownModule():
    fx.dir.cleanup()


class CommandLine(unittest.TestCase):
    def distance_map(self, *op_args, out="map.npy"):
        out = fx.path(out)
        run_gegl(fx.a, "-o", out, "--", "perceptual:distance", "weights=" + fx.model,
                 *op_args, "aux=[", "gegl:load", "path=" + fx.b, "]")
        return read_npy(out)

    def test_distance_map(self):
        shape, values = self.distance_map()
        self.assertEqual(shape, (fx.case["height"], fx.case["width"]))
        self.assertLessEqual(max_abs_diff(values, fx.case["spatial"]), 1e-5)

    def test_xml_composition(self):
        xml = fx.path("distance.xml")
        with open(xml, "w") as f:
            f.write("""<?xml version='1.0' encoding='UTF-8'?>
<gegl>
  <node operation='perceptual:distance'>
    <params>
      <param name='weights'>%s</param>
    </params>
    <node operation='gegl:load'>
      <params><param name='path'>b.png</param></params>
    </node>
  </node>
  <node operation='gegl:load'>
    <params><param name='path'>a.png</param></params>
  </node>
</gegl>
""" % fx.model)
        out = fx.path("xml-map.npy")
        run_gegl(xml, "-o", out)
        shape, values = read_npy(out)
        self.assertEqual(shape, (fx.case["height"], fx.case["width"]))
        self.assertLessEqual(max_abs_diff(values, fx.case["spatial"]), 1e-5)

    def test_layer_difference(self):
        for layer in range(1, len(fx.case["layers"]) + 1):
            for native in (False, True):
                out = fx.path("layer-%d-%d.npy" % (layer, native))
                run_gegl(fx.a, "-o", out, "--", "perceptual:layer-difference",
                         "weights=" + fx.model, "layer=%d" % layer,
                         "layer-resolution=%s" % ("true" if native else "false"),
                         "aux=[", "gegl:load", "path=" + fx.b, "]")
                shape, values = read_npy(out)
                if native:
                    want = fx.case["layer_maps"][layer - 1]
                    self.assertEqual(list(shape), fx.case["layer_shapes"][layer - 1])
                else:
                    want = fx.case["layer_maps_upsampled"][layer - 1]
                    self.assertEqual(shape, (fx.case["height"], fx.case["width"]))
                self.assertLessEqual(max_abs_diff(values, want), 1e-5, (layer, native))

    def test_heatmap(self):
        w, h = fx.case["width"], fx.case["height"]
        spatial = fx.case["spatial"]
        _, _, ref = read_png_rgb(fx.a)
        for name, opacity, auto, lo, hi in (("magma", 0.8, False, 0, 0.5),   # the defaults
                                            ("magma", 0.7, True, 0, 0),
                                            ("viridis", 1.0, True, 0, 0),
                                            ("turbo", 0.5, False, 0.1, 0.5),
                                            ("gray", 0.3, False, 0.0, 2.0)):
            out = fx.path("heat-%s.npy" % name)
            props = [] if (opacity, auto, lo, hi) == (0.8, False, 0, 0.5) else [
                "colormap=" + name, "opacity=%g" % opacity,
                "auto-range=%s" % ("true" if auto else "false"),
                "range-min=%g" % lo, "range-max=%g" % hi]
            run_gegl(fx.a, "-o", out, "--", "perceptual:heatmap", "weights=" + fx.model,
                     *props, "aux=[", "gegl:load", "path=" + fx.b, "]")
            shape, got = read_npy(out)
            self.assertEqual(shape, (h, w, 3))
            if auto:
                lo, hi = 0.0, max(spatial)
            want = [srgb_to_linear(v) for v in heatmap(ref, spatial, name, lo, hi, opacity)]
            self.assertLessEqual(max_abs_diff(got, want), 1e-5, name)

    def test_missing_weights(self):
        """No model: the graph still runs and passes the input through; a
        warning names the fetch command."""
        env = dict(os.environ, GEGL_PERCEPTUAL_WEIGHTS_PATH=fx.path("nothing-here"),
                   XDG_DATA_HOME=fx.path("no-data-home"))
        _, _, ref = read_png_rgb(fx.a)
        for op in ("perceptual:distance", "perceptual:heatmap", "perceptual:layer-difference"):
            out = fx.path("nomodel.npy")
            proc = subprocess.run([GEGL, fx.a, "-o", out, "--", op,
                                   "aux=[", "gegl:load", "path=" + fx.b, "]"],
                                  capture_output=True, text=True, timeout=120, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("gegl-perceptual-fetch squeeze --calibration lpips-v0.1", proc.stderr)
            shape, got = read_npy(out)
            self.assertEqual(shape, (fx.case["height"], fx.case["width"], 3), op)
            self.assertLessEqual(max_abs_diff(got, [srgb_to_linear(v) for v in ref]), 1e-5, op)


class RealWeights(unittest.TestCase):
    """The official reference maps, with the real weights from a mirror."""

    @classmethod
    def setUpClass(cls):
        mirror = os.environ.get("GEGL_PERCEPTUAL_WEIGHTS_MIRROR", "")
        if not mirror or not os.path.isdir(mirror):
            raise unittest.SkipTest("the real weights are not available; set "
                                    "GEGL_PERCEPTUAL_WEIGHTS_MIRROR (or meson -Dweights_mirror=)")
        cls.shared = os.path.dirname(os.path.abspath(mirror))
        cls.model = fx.path("real-squeeze-lpips-v0.1.safetensors")
        subprocess.run([sys.executable, os.path.join(TOP, "weights", "convert"),
                        "--network", "squeeze",
                        "--backbone", os.path.join(mirror, "torchvision", "squeezenet1_1-features.pth"),
                        "--calibration", os.path.join(mirror, "lpips", "v0.1", "squeeze.pth"),
                        "--lpips-version", "0.1", "-o", cls.model],
                       check=True, capture_output=True)

    def test_reference_maps(self):
        with open(os.path.join(self.shared, "reference", "lpips-squeeze-v0.1-examples.json")) as f:
            examples = json.load(f)
        images = os.path.join(self.shared, "images", "lpips-examples")
        self.assertEqual(len(examples), 4)
        for e in examples:
            _, want = read_npy(os.path.join(self.shared, "reference", "spatial", e["spatial_npy"]))
            out = fx.path(e["name"] + ".npy")
            run_gegl(os.path.join(images, e["ref"]), "-o", out, "--", "perceptual:distance",
                     "weights=" + self.model, "aux=[", "gegl:load",
                     "path=" + os.path.join(images, e["dist"]), "]")
            shape, got = read_npy(out)
            self.assertEqual(shape, (e["height"], e["width"]))
            self.assertLessEqual(max_abs_diff(got, want), 1e-5, e["name"])


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    # Everything skipped: tell meson.
    sys.exit(77 if result.testsRun == len(result.skipped) else 0)
