#!/usr/bin/env python3
"""Bad input to the command line and the ops, each class of what once went
wrong: a distance that is not finite, images GEGL cannot read (cut short,
unreadable, absurdly large), data sets whose files do not pair up, empty or
folder `weights` in XML graphs, outputs that would replace an input or each
other, writes that fail, bad settings and options, JSON and CSV that must
stay well-formed, and messages that must say what is wrong.  Every case
checks the exit status, the message, and that no file changed that should
not."""

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "support"))

import synth_weights  # noqa: E402
import pngfile  # noqa: E402
from checks import max_abs_diff  # noqa: E402
from npyfile import read_npy, write_npy  # noqa: E402
from pngfile import write_png  # noqa: E402

CLI = os.environ.get("GEGL_PERCEPTUAL_CLI", "gegl-perceptual")
GEGL = os.environ.get("GEGL", "gegl")


def setUpModule():
    global tmp, case, models, a, b, env
    tmp = tempfile.TemporaryDirectory(prefix="perc-hostile-")
    os.chmod(tmp.name, 0o755)
    with open(os.path.join(TESTS, "goldens", "goldens.json")) as f:
        case = json.load(f)["cases"][0]
    models = path("models")
    os.mkdir(models)
    synth_weights.write_model(os.path.join(models, "squeeze-lpips-v0.1.safetensors"),
                              "squeeze", "lpips-v0.1", 1)
    a, b = path("a.png"), path("b.png")
    write_png(a, case["width"], case["height"], case["image0"])
    write_png(b, case["width"], case["height"], case["image1"])
    env = dict(os.environ, GEGL_PERCEPTUAL_WEIGHTS_PATH=models, XDG_DATA_HOME=path("data-home"),
               LC_ALL="C.UTF-8", LANGUAGE="")
    env.pop("GEGL_PERCEPTUAL_MEMORY_BUDGET", None)


def tearDownModule():
    tmp.cleanup()


def path(*names):
    return os.path.join(tmp.name, *names)


def run(*args, environ=None, timeout=120, user=None, cli=True):
    cmd = ([CLI] if cli else []) + list(args)
    if user:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=environ or env, errors="replace")
    proc.seconds = time.monotonic() - start
    return proc


def digest(*files):
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


def write_float_tiff(path, width, height, rgb):
    """An uncompressed RGB float32 TIFF (little-endian), one strip."""
    data = struct.pack("<%df" % len(rgb), *rgb)
    entries = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, 3, None), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, None), (277, 3, 1, 3), (278, 3, 1, height),
               (279, 4, 1, len(data)), (284, 3, 1, 1), (339, 3, 3, None)]
    ifd_at = 8
    extra_at = ifd_at + 2 + 12 * len(entries) + 4
    bits_at, format_at, data_at = extra_at, extra_at + 6, extra_at + 12
    out = bytearray(b"II*\0" + struct.pack("<I", ifd_at) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if tag == 258:
            value = bits_at
        elif tag == 339:
            value = format_at
        elif tag == 273:
            value = data_at
        if kind == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    out += struct.pack("<I", 0)
    out += struct.pack("<3H", 32, 32, 32) + struct.pack("<3H", 3, 3, 3)
    out += data
    with open(path, "wb") as f:
        f.write(out)


def nobody():
    """A user id without our files' rights, when we are root (else None)."""
    return 65534 if os.geteuid() == 0 and shutil.which("setpriv") else None


class NotFinite(unittest.TestCase):
    def test_huge_pixel(self):
        w, h = case["width"], case["height"]
        rgb = [v / 255.0 for v in case["image1"]]
        rgb[3 * (w * 5 + 7)] = 3e38
        ref, huge = path("ref.tif"), path("huge.tif")
        write_float_tiff(ref, w, h, [v / 255.0 for v in case["image0"]])
        write_float_tiff(huge, w, h, rgb)
        # The file is read as written.
        ok = run("compare", ref, path("ref.tif"))
        self.assertEqual((ok.returncode, ok.stdout.strip()), (0, "0.00000000"), ok.stderr)
        for args in ((), ("--json",)):
            proc = run("compare", ref, huge, *args)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn("not finite", proc.stderr)
            self.assertNotIn("nan", proc.stdout.lower())
        # In a batch: a JSON line with the error, and the batch fails.
        pairs = path("huge-pairs.txt")
        with open(pairs, "w") as f:
            f.write("%s\t%s\n%s\t%s\n" % (ref, huge, a, b))
        proc = run("compare", "--pairs", pairs, "--layers")
        self.assertEqual(proc.returncode, 1)
        lines = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertIn("not finite", lines[0]["error"])
        self.assertNotIn("distance", lines[0])
        self.assertAlmostEqual(lines[1]["distance"], case["distance"], delta=1e-5)


class Unreadable(unittest.TestCase):
    def test_cut_short(self):
        with open(a, "rb") as f:
            data = f.read()
        half = path("half.png")
        with open(half, "wb") as f:
            f.write(data[:len(data) // 2])
        proc = run("compare", a, half)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("half.png: cannot read this image", proc.stderr)
        self.assertEqual(proc.stdout, "")
        # In a batch, read while other pairs are compared: that pair alone fails.
        pairs = path("half-pairs.txt")
        with open(pairs, "w") as f:
            f.write("".join("%s\t%s\n" % (a, x) for x in (b, half, b, half, b)))
        proc = run("compare", "--pairs", pairs)
        self.assertEqual(proc.returncode, 1)
        lines = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertEqual(["error" in l for l in lines], [False, True, False, True, False])
        self.assertIn("half.png: cannot read this image", lines[1]["error"])
        self.assertEqual(len({l["distance"] for l in lines if "distance" in l}), 1)
        self.assertIn("3 pairs compared, 2 failed", proc.stderr)

    def test_absurd_size(self):
        # 233 bytes that claim 100000 x 100000 pixels.
        huge = path("claims-huge.png")
        with open(huge, "wb") as f:
            f.write(pngfile.SIGNATURE +
                    pngfile.chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) +
                    pngfile.chunk(b"IDAT", zlib.compress(b"\0" * 300000)[:150]) +
                    pngfile.chunk(b"IEND", b""))
        proc = run("compare", huge, huge, "--network", "resnet18", timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("100000×100000 pixels", proc.stderr)
        self.assertLess(proc.seconds, 20)
        self.assertLess(len(proc.stderr), 2000)

    def test_folder_and_missing(self):
        proc = run("compare", a, tmp.name)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is a folder, not an image", proc.stderr)
        proc = run("compare", a, path("nothing.png"))
        self.assertIn("nothing.png: no such file", proc.stderr)

    def test_no_permission(self):
        user = nobody()
        if user is None:
            self.skipTest("needs root (to run as another user) and setpriv")
        locked = [path("locked-%d.png" % i) for i in (0, 1)]
        for f in locked:
            shutil.copy(a, f)
            os.chmod(f, 0)
        proc = run("compare", locked[0], locked[1], "--network", "resnet18", user=user)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("cannot read the file", proc.stderr)
        self.assertEqual(proc.stdout, "")


def make_bapps(root, judged=True):
    """A tiny 2AFC set: 3 triplets in one category, judgements of 0, 1, 0.5."""
    w, h = case["width"], case["height"]
    cat = os.path.join(root, "2afc", "val", "cnn")
    for sub in ("ref", "p0", "p1") + (("judge",) if judged else ()):
        os.makedirs(os.path.join(cat, sub))
    for i, p in enumerate((0.0, 1.0, 0.5)):
        name = "%06d" % i
        write_png(os.path.join(cat, "ref", name + ".png"), w, h, case["image0"])
        write_png(os.path.join(cat, "p0", name + ".png"), w, h,
                  case["image1"] if i % 2 else case["image0"])
        write_png(os.path.join(cat, "p1", name + ".png"), w, h,
                  case["image0"] if i % 2 else case["image1"])
        if judged:
            write_npy(os.path.join(cat, "judge", name + ".npy"), [p], "<f8")
    return cat


class DataSets(unittest.TestCase):
    def test_pairing_by_name(self):
        root = path("bapps-renamed")
        cat = make_bapps(root)
        good = run("2afc", root, "--json")
        self.assertEqual(good.returncode, 0, good.stderr)
        os.rename(os.path.join(cat, "p1", "000001.png"), os.path.join(cat, "p1", "000007.png"))
        proc = run("2afc", root)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("has no counterpart", proc.stderr)
        self.assertIn("000001", proc.stderr + "")

    def test_category_without_judgements(self):
        root = path("bapps-unjudged")
        make_bapps(root)
        make_bapps(path("bapps-other"), judged=False)
        shutil.move(os.path.join(path("bapps-other"), "2afc", "val", "cnn"),
                    os.path.join(root, "2afc", "val", "color"))
        proc = run("2afc", root)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("color has no judge/", proc.stderr)

    def test_big_endian_judgement(self):
        root = path("bapps-big-endian")
        cat = make_bapps(root)
        write_npy(os.path.join(cat, "judge", "000002.npy"), [0.5], ">f8")
        make_bapps(path("bapps-little"))
        little = run("2afc", path("bapps-little"), "--json")
        big = run("2afc", root, "--json")
        self.assertEqual(big.returncode, 0, big.stderr)
        self.assertEqual(json.loads(big.stdout)["score"], json.loads(little.stdout)["score"])


class XmlWeights(unittest.TestCase):
    def test_empty_and_folder(self):
        for value in ("", tmp.name):
            xml = path("graph.xml")
            with open(xml, "w") as f:
                f.write("""<?xml version='1.0' encoding='UTF-8'?>
<gegl>
  <node operation='perceptual:distance'>
    <params><param name='weights'>%s</param></params>
    <node operation='gegl:load'><params><param name='path'>%s</param></params></node>
  </node>
  <node operation='gegl:load'><params><param name='path'>%s</param></params></node>
</gegl>
""" % (value, b, a))
            out = path("xml-map.npy")
            proc = run(GEGL, xml, "-o", out, cli=False)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            shape, values = read_npy(out)
            self.assertLessEqual(max_abs_diff(values, case["spatial"]), 1e-5,
                                 "weights=%r: the installed model" % value)


class Outputs(unittest.TestCase):
    def test_never_over_an_input(self):
        before = digest(a, b)
        for option in ("--heatmap", "--map"):
            for target in (a, b, os.path.join(os.path.dirname(a), ".", os.path.basename(a))):
                proc = run("compare", a, b, option, target)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn("would replace the input image", proc.stderr)
        self.assertEqual(digest(a, b), before)

    def test_folders_never_over_inputs(self):
        orig, exports = path("orig"), path("exports")
        for d in (orig, exports):
            os.makedirs(d)
            for name in ("x.png", "y.png"):
                shutil.copy(a if d == orig else b, os.path.join(d, name))
        before = digest(*[os.path.join(d, n) for d in (orig, exports) for n in ("x.png", "y.png")])
        proc = run("compare", orig, exports, "--heatmap", exports)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("would replace the input image", proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(before, digest(*[os.path.join(d, n) for d in (orig, exports)
                                          for n in ("x.png", "y.png")]))

    def test_batch_name_collisions(self):
        for d in ("c1", "c2"):
            os.makedirs(path(d), exist_ok=True)
        shutil.copy(a, path("c1", "x.png"))
        shutil.copy(b, path("c2", "x.png"))
        shutil.copy(b, path("c2", "x.jpg"))
        pairs = path("collide.txt")
        with open(pairs, "w") as f:
            f.write("c1/x.png\tc2/x.png\nc1/x.png\tc2/x.jpg\n")
        proc = run("compare", "--pairs", pairs, "--heatmap", path("heat-out"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("would both write", proc.stderr)
        self.assertFalse(os.path.exists(path("heat-out")))

    def test_unwritable_folder(self):
        user = nobody()
        if user is None:
            self.skipTest("needs root (to run as another user) and setpriv")
        out = path("readonly")
        os.makedirs(out)
        old = os.path.join(out, "heat.png")
        with open(old, "wb") as f:
            f.write(b"the old heatmap")
        os.chmod(out, 0o755)
        proc = run("compare", a, b, "--heatmap", old, user=user)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("cannot write in", proc.stderr)
        with open(old, "rb") as f:
            self.assertEqual(f.read(), b"the old heatmap")
        self.assertEqual(os.listdir(out), ["heat.png"])

    def test_heatmap_is_a_folder(self):
        proc = run("compare", a, b, "--heatmap", tmp.name)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is a folder: give a file name", proc.stderr)

    def test_atomic(self):
        heat = path("atomic", "heat.png")
        os.makedirs(os.path.dirname(heat))
        proc = run("compare", a, b, "--heatmap", heat)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(os.listdir(os.path.dirname(heat)), ["heat.png"])
        self.assertEqual(oct(os.stat(heat).st_mode & 0o777), oct(0o666 & ~current_umask()))


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Settings(unittest.TestCase):
    def test_memory_budget(self):
        for value in (str(1 << 44), "1e3", "abc", "-5", "0", "", " 64"):
            proc = run("compare", a, b, environ=dict(env, GEGL_PERCEPTUAL_MEMORY_BUDGET=value))
            self.assertEqual(proc.returncode, 1, "budget %r: %s" % (value, proc.stdout))
            self.assertIn("GEGL_PERCEPTUAL_MEMORY_BUDGET is “%s”" % value, proc.stderr)
        proc = run("compare", a, b, environ=dict(env, GEGL_PERCEPTUAL_MEMORY_BUDGET="64"))
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_wrong_usage(self):
        for args in (("--network", "squeezenet"), ("--calibration", "v2"),
                     ("--distance", "cosine"), ("--colormap", "jet"),
                     ("--opacity", "nan"), ("--opacity", "1.5")):
            proc = run("compare", a, b, *args)
            self.assertEqual(proc.returncode, 2, "%s: %s" % (args, proc.stderr))
            self.assertTrue(proc.stderr.startswith("gegl-perceptual: "), proc.stderr)
        proc = run("2afc", tmp.name, "--network", "squeezenet")
        self.assertEqual(proc.returncode, 2, proc.stderr)


class WellFormed(unittest.TestCase):
    def test_models_json(self):
        crafted = path("crafted")
        os.makedirs(crafted)
        target = os.path.join(crafted, "alex-lpips-v0.1.safetensors")
        synth_weights.write_model(target, "alex", "lpips-v0.1", 5)
        with open(target, "rb") as f:
            data = f.read()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + n])
        header["__metadata__"]["backbone_digest"] = 'ab"cd\\\n\x1b[31m'
        text = json.dumps(header).encode()
        with open(target, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data[8 + n:])
        proc = run("models", "--json", environ=dict(env, GEGL_PERCEPTUAL_WEIGHTS_PATH=crafted))
        for line in proc.stdout.splitlines():
            json.loads(line)
        self.assertIn('ab\\"cd', proc.stdout)
        text_out = run("models", environ=dict(env, GEGL_PERCEPTUAL_WEIGHTS_PATH=crafted))
        self.assertNotIn("\x1b", text_out.stdout)

    def test_csv_rows(self):
        pairs = path("csv-pairs.txt")
        with open(pairs, "w") as f:
            f.write("%s\t%s\n%s\t%s\n" % (a, b, a, path("nothing.png")))
        proc = run("compare", "--pairs", pairs, "--csv", "--layers")
        rows = proc.stdout.splitlines()
        fields = [r.count(",") for r in rows]
        self.assertEqual(len(set(fields)), 1, rows)
        self.assertEqual(len(rows), 3)


class Messages(unittest.TestCase):
    def test_bom_and_bad_lines(self):
        pairs = path("bom.txt")
        with open(pairs, "w", encoding="utf-8-sig") as f:
            f.write("%s\t%s\n%s %s %s\n%s\t%s\n" % (a, b, a, b, a, b, a))
        proc = run("compare", "--pairs", pairs)
        self.assertEqual(proc.returncode, 1)
        lines = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertEqual(len(lines), 3)
        self.assertAlmostEqual(lines[0]["distance"], case["distance"], delta=1e-5)
        self.assertIn("line 2: expected two file names, found 3", lines[1]["error"])
        self.assertIn("distance", lines[2])

    def test_network_mismatch_wording(self):
        model = os.path.join(models, "squeeze-lpips-v0.1.safetensors")
        proc = run("compare", a, b, "--network", "alex", "--weights", model)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("holds a model of the squeeze network, but the network chosen is alex",
                      proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
