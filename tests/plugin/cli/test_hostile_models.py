#!/usr/bin/env python3
"""Hostile model files through the real front ends: `gegl-perceptual compare
--weights`, `gegl-perceptual models` with the file in the weights path, and
the `gegl` command line with `perceptual:distance weights=FILE`.

One file per class of defect the loader once had: a header nested deep
enough to overflow json-glib's recursive parser, megabytes of duplicated
keys (quadratic in json-glib), a header of white space (a json-glib
critical), header lengths too large for the file or for the limit, files
that are no regular files (/dev/zero, a FIFO, a folder), and a ResNet whose
batch norm folds into infinite weights.  Each must be refused promptly with a
message that names the file and the problem, never crash, hang or exhaust
memory (the front ends run with 1 GiB of address space), and leave the other
models usable.
"""

import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "support"))
sys.path.insert(0, os.path.join(TOP, "weights"))

import synth_weights  # noqa: E402
from perceptual_weights import safetensors  # noqa: E402
from pngfile import write_png  # noqa: E402

CLI = os.environ.get("GEGL_PERCEPTUAL_CLI", "gegl-perceptual")
GEGL = os.environ.get("GEGL", "gegl")
TIMEOUT = 20                 # seconds: every refusal takes well under one
MEMORY = 1 << 30             # bytes of address space for the front ends
ENTRY = b'"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
# What compare says for a folder given as --weights (with no --network: the
# network is to come from the file).
FOLDER_MEANS = "no weights file is given"


def container(header, data=b""):
    return struct.pack("<Q", len(header)) + header + data


def sanitized(program):
    """Whether `program` runs under AddressSanitizer, which needs far more
    address space than MEMORY."""
    try:
        with open(program, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def setUpModule():
    global tmp, a, b, good, env, hostile, preexec
    tmp = tempfile.TemporaryDirectory(prefix="perc-hostile-")
    a, b = path("a.png"), path("b.png")
    write_png(a, 32, 32, [(7 * i) % 256 for i in range(32 * 32 * 3)])
    write_png(b, 32, 32, [(11 * i) % 256 for i in range(32 * 32 * 3)])
    os.mkdir(path("models"))
    good = os.path.join(path("models"), "squeeze-lpips-v0.1.safetensors")
    synth_weights.write_model(good, "squeeze", "lpips-v0.1", 1)
    env = dict(os.environ, GEGL_PERCEPTUAL_WEIGHTS_PATH=path("models"),
               XDG_DATA_HOME=path("data-home"))
    preexec = None if sanitized(CLI) else limit_memory
    hostile = make_hostile_files()


def tearDownModule():
    tmp.cleanup()


def path(*names):
    return os.path.join(tmp.name, *names)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)
    return path(name)


def huge_batch_norm_resnet():
    """A one-block ResNet whose stem's batch norm is finite but folds into
    infinite weights: weight 3e38 over sqrt(running_var 1e-3 + 1e-5)."""
    args = ("resnet1", "unweighted", 5, "basic", "1")
    tensors = synth_weights.make_tensors(*args)
    for name, value in (("bn1.weight", 3e38), ("bn1.running_var", 1e-3)):
        shape, values = tensors[name]
        for i in range(len(values)):
            values[i] = value
    metadata = synth_weights.make_metadata(args[0], args[1], args[2], tensors, args[3], args[4])
    out = path("huge-batch-norm.safetensors")
    safetensors.write(out, tensors, metadata)
    return out


def make_hostile_files():
    """name -> (path, words the message must hold, is a regular file)."""
    files = {}
    # 75,000 nested arrays (150 KB): json-glib recursed once per level.
    depth = 75000
    files["deep-nesting"] = (
        write("deep.safetensors", container(b'{"a":' + b"[" * depth + b"]" * depth + b"}")),
        "nested deeper than the 3 levels", True)
    # 1.7 MB of keys, the second half all the same as the last of the
    # first: json-glib searched its list of members for each duplicate
    # (minutes).  No header may have more than 4096 tensors.
    keys = [b'"k%05d":0' % i for i in range(70000)]
    files["duplicate-keys"] = (
        write("duplicates.safetensors",
              container(b"{" + b",".join(keys + [keys[-1]] * 70000) + b"}")),
        "more than 4096 tensors", True)
    # And within the limit: a key twice is refused.
    entries = [ENTRY.replace(b'"t"', b'"t%d"' % i) for i in range(4000)]
    files["duplicate-key"] = (
        write("duplicate.safetensors",
              container(b"{" + b",".join(entries + [entries[-1]]) + b"}")),
        'names "t3999" twice', True)
    files["white-space"] = (write("space.safetensors", container(b" " * 64)),
                            "only white space", True)
    # A header length of 2^62 in a tiny file, and 90 MB of JSON (about 2 GB
    # in json-glib), far more than a header may have.
    files["huge-header-length"] = (
        write("length.safetensors", struct.pack("<Q", 1 << 62) + b"{}"),
        "header length 4611686018427387904", True)
    body = b'{"a":[' + b"0," * (45 << 20) + b"0]}"
    files["huge-header"] = (write("huge-header.safetensors", container(body)),
                            "more than the 4 MiB", True)
    files["dev-zero"] = ("/dev/zero", "character device", False)
    os.mkfifo(path("fifo.safetensors"))
    files["fifo"] = (path("fifo.safetensors"), "named pipe (FIFO)", False)
    # The front ends take a folder for "no weights file" (GEGL's XML reader
    # turns an empty path into the composition's folder), so they never
    # give it to the loader: see FOLDER_MEANS.
    os.mkdir(path("folder.safetensors"))
    files["folder"] = (path("folder.safetensors"), "folder", False)
    files["huge-batch-norm"] = (huge_batch_norm_resnet(),
                                'folding batch norm "bn1" into tensor "conv1.weight"', True)
    return files


def run(args, environ=None, extra_env=None):
    """Runs a front end with the memory limit and the timeout; returns the
    process and the seconds it took."""
    e = dict(environ or env, **(extra_env or {}))
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env=e,
                          preexec_fn=preexec)
    return proc, time.monotonic() - start


class Compare(unittest.TestCase):
    """gegl-perceptual compare --weights FILE: exit 1, a clear message."""

    def check(self, name, extra_env=None):
        file, words, _ = hostile[name]
        proc, seconds = run([CLI, "compare", "--weights", file, a, b], extra_env=extra_env)
        self.assertEqual(proc.returncode, 1, "%s: exit %d\n%s" % (name, proc.returncode, proc.stderr))
        if name == "folder":
            self.assertIn(FOLDER_MEANS, proc.stderr)
        else:
            self.assertIn(file, proc.stderr)
            self.assertIn(words, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertLess(seconds, TIMEOUT / 2, name)

    def test_each(self):
        for name in hostile:
            with self.subTest(name):
                self.check(name)

    def test_fatal_criticals(self):
        """No GLib critical on the way (it would abort here)."""
        for name in hostile:
            with self.subTest(name):
                self.check(name, {"G_DEBUG": "fatal-criticals"})


class Models(unittest.TestCase):
    """gegl-perceptual models with the file in the weights path: listed as
    unusable (regular files; the others are not model files at all), and
    the other models still listed."""

    def test_each(self):
        for name, (file, words, regular) in hostile.items():
            with self.subTest(name):
                folder = path("path-" + name)
                os.mkdir(folder)
                os.link(good, os.path.join(folder, "squeeze-lpips-v0.1.safetensors"))
                planted = os.path.join(folder, "alex-lpips-v0.1.safetensors")
                os.symlink(file, planted)
                proc, _ = run([CLI, "models", "--json"],
                              environ=dict(env, GEGL_PERCEPTUAL_WEIGHTS_PATH=folder))
                self.assertEqual(proc.returncode, 0, proc.stderr)
                listed = [json.loads(line) for line in proc.stdout.splitlines()]
                squeeze = [m for m in listed if m["network"] == "squeeze" and "file" in m]
                self.assertEqual(len(squeeze), 2, listed)    # lpips-v0.1, unweighted
                self.assertTrue(all(m["valid"] for m in squeeze), listed)
                alex = [m for m in listed if m["network"] == "alex" and
                        m["calibration"] == "lpips-v0.1"]
                self.assertEqual(len(alex), 1, listed)
                if regular:
                    self.assertFalse(alex[0]["valid"])
                    self.assertIn(planted, alex[0]["error"])
                    self.assertIn(words, alex[0]["error"])
                else:
                    self.assertFalse(alex[0]["installed"])


class GeglCommandLine(unittest.TestCase):
    """perceptual:distance weights=FILE in a `gegl` graph: the graph runs and
    writes its map (zero), the warning names the file and the problem."""

    def test_each(self):
        for name, (file, words, _) in hostile.items():
            with self.subTest(name):
                out = path("map-%s.npy" % name)
                proc, seconds = run([GEGL, a, "-o", out, "--", "perceptual:distance",
                                     "weights=" + file, "aux=[", "gegl:load", "path=" + b, "]"])
                self.assertEqual(proc.returncode, 0, "%s: exit %d\n%s" % (name, proc.returncode, proc.stderr))
                if name != "folder":     # the installed model, which is good
                    self.assertIn(file, proc.stderr)
                    self.assertIn(words, proc.stderr)
                self.assertTrue(os.path.getsize(out) > 32 * 32 * 4, name)
                self.assertLess(seconds, TIMEOUT / 2, name)


class Control(unittest.TestCase):
    """The same front ends with the good model, under the same limits."""

    def test_good_model(self):
        proc, _ = run([CLI, "compare", "--weights", good, a, b])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertGreater(float(proc.stdout), 0)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
