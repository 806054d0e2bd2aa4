#!/usr/bin/env python3
"""Hostile and careless input to weights/convert and weights/fetch, run as
subprocesses under a memory limit (RLIMIT_AS) and a timeout: each must end in
a result or a clear refusal (exit status, message naming the file), never a
hang, an unbounded allocation, a silently wrong file or a lost file.

  graph pickles     exponential graphs of shared references, cycles, deep
                    nesting and overlong pickles (bounded rendering and work);
  storage bombs     1 MiB zips declaring 1 GiB storages of zeros (shapes
                    checked and sizes capped before anything is read, bounded
                    decompression that a lying size field cannot get past);
  mirror digests    a mirror file with a wrong SHA-256 is refused unparsed;
  installed files   a damaged installed model is installed again, a
                    directory or another model in its place is refused;
  outputs           killed or failing writes leave the final name as it was,
                    an output that is an input is refused.
"""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import copy
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import time
import unittest

import wtest
import pthwriter as P
from perceptual_weights import archs, convert, fetch, safetensors, torchpickle

MEMORY = 512 << 20          # RLIMIT_AS of the tools
TIMEOUT = 60                # seconds
GIB = 1 << 30

# Runs a tool with SIGXFSZ at its default action (Python ignores it), so that
# RLIMIT_FSIZE kills the tool in the middle of a write.
KILLED_BY_FSIZE = ("import runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
                   "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


def run_limited(tool, args, env=None, fsize=None, kill_on_fsize=False, timeout=TIMEOUT):
    """Run weights/<tool> under RLIMIT_AS = MEMORY (and RLIMIT_FSIZE =
    `fsize`); the result has `seconds`.  A timeout fails the test."""
    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    command = [sys.executable] + (["-c", KILLED_BY_FSIZE] if kill_on_fsize else []) + [tool]
    start = time.monotonic()
    r = subprocess.run(command + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, env=env if env is not None else wtest.clean_env(),
                       timeout=timeout, preexec_fn=limits)
    r.seconds = time.monotonic() - start
    return r


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def snapshot(folder):
    """relative path -> (type, size, mtime, inode, SHA-256 of a file of at
    most 64 MiB) of everything in `folder`."""
    out = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = os.path.join(root, name)
            st = os.lstat(path)
            digest = (sha256(path) if stat.S_ISREG(st.st_mode) and st.st_size <= 64 << 20
                      else None)
            out[os.path.relpath(path, folder)] = (stat.S_IFMT(st.st_mode), st.st_size,
                                                  st.st_mtime_ns, st.st_ino, digest)
    return out


def exponential(levels=85, kind=b"l"):
    """Pickle opcodes leaving one list (kind b"l") or tuple (b"t") on the
    stack that holds the previous level twice, `levels` deep: a graph of
    `levels` nodes that is 2**levels nodes as a tree."""
    ops = bytearray(b"]q\x000" if kind == b"l" else b")q\x000")
    for i in range(1, levels):
        ops += b"(h%ch%c" % (i - 1, i - 1) + kind + b"q%c0" % i
    return bytes(ops + b"h%c" % (levels - 1))


def state_dict_around(inner):
    """A pickle of OrderedDict() whose SETITEMS holds "x": <inner ops>."""
    return (b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00x" + inner + b"u.")


class Refusals(unittest.TestCase):
    """Shared checks: a refusal through a tool leaves its inputs alone."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hostile-test-")
        cls.inputs = os.path.join(cls.tmp, "inputs")
        os.makedirs(cls.inputs)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def setUp(self):
        self.out_dir = tempfile.mkdtemp(dir=self.tmp)

    def run_tool(self, tool, args, **kw):
        """run_limited, checking that nothing in the inputs changed."""
        before = snapshot(self.inputs)
        r = run_limited(tool, args, **kw)
        self.assertEqual(snapshot(self.inputs), before, "an input changed")
        return r

    def refused(self, r, tool, path, pattern, *args, status=1, seconds=30):
        self.assertEqual(r.returncode, status, r.stdout + r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertLess(len(r.stderr), 2000)
        prefix = "%s: %s: " % (tool, path) if path else "%s: " % tool
        self.assertTrue(r.stderr.startswith(prefix), r.stderr)
        self.assertRegex(r.stderr, pattern % tuple(re.escape(str(a)) for a in args)
                         if args else pattern)
        self.assertLess(r.seconds, seconds, "took %.1f s" % r.seconds)
        self.assertEqual(os.listdir(self.out_dir), [], "an output was left")

    def convert(self, backbone, *args):
        out = os.path.join(self.out_dir, "out.safetensors")
        return self.run_tool(wtest.CONVERT, ["--network", "squeeze", "--backbone", backbone]
                             + (list(args) or ["--unweighted"]) + ["-o", out])

    def put(self, name, data):
        path = os.path.join(self.inputs, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


class GraphPickles(Refusals):
    """Class 1: work and messages are bounded by the pickle, not by the
    size of the graph it describes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backbone = P.write_zip(os.path.join(cls.inputs, "good.pth"),
                                   P.squeeze_backbone(archs, extra=False))

    def zip_file(self, name, pickle_bytes):
        return P.write_zip(os.path.join(self.inputs, name), [], pickle_bytes=pickle_bytes)

    def check(self, path, pattern):
        r = self.convert(path)
        self.refused(r, "convert", path, pattern)

    def test_exponential_list_to_persistent_id(self):
        data = b"\x80\x02" + exponential(85) + b"Q."
        self.assertLess(len(data), 1024)     # 2**85 nodes as a tree
        path = self.zip_file("persid.pth", data)
        self.check(path, r"^convert: \S+: unexpected persistent id \[\[\[\[\.\.\.\], "
                         r"\.\.\.\], \.\.\.\], \.\.\.\]\n$")

    def test_exponential_tuple_as_key(self):
        # hashing it would walk 2**85 nodes
        path = self.zip_file("key.pth", state_dict_around(b"}" + exponential(85, b"t")
                                                           + b"Ns"))
        self.check(path, r"a dict key is \(\(\(\(\.\.\.\), \.\.\.\), \.\.\.\), \.\.\.\), "
                         r"not a string")
        pairs = (b"\x80\x02ccollections\nOrderedDict\n]" + exponential(85, b"t")
                 + b"K\x01\x86a\x85R.")
        path = self.zip_file("pairs.pth", pairs)
        self.check(path, r"a dict key is \(\(\(\(")

    def test_exponential_shape_and_state(self):
        p = P.Pickle().glob("torch._utils", "_rebuild_tensor_v2").mark()
        p.mark().str("storage").glob("torch", "FloatStorage").str("0").str("cpu").int(4)
        p.tuple().persid().int(0).raw(exponential(85)).ints([1, 1]).bool(False)
        p.glob("collections", "OrderedDict").empty_tuple().reduce().tuple().reduce()
        path = self.zip_file("shape.pth", state_dict_around(p.stop()[2:-1]))
        self.check(path, r"tensor shape is \[\[\[\[\.\.\.\], \.\.\.\], \.\.\.\], \.\.\.\], not a "
                         r"tuple of ints")
        data = (b"\x80\x02ccollections\nOrderedDict\n)R" + exponential(85) + b"b.")
        path = self.zip_file("state.pth", data)
        self.check(path, r"unexpected state for an OrderedDict: \[\[\[\[")

    def test_cycle_and_deep_nesting(self):
        path = self.zip_file("cycle.pth", b"\x80\x02]2aQ.")
        self.check(path, r"unexpected persistent id \[\.\.\.\]\n$")
        depth = 100000               # 200 KB, within the limit of a squeeze pickle
        path = self.zip_file("deep.pth", b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"Q.")
        self.check(path, r"unexpected persistent id \[\[\[\[\.\.\.\]\]\]\]\n$")

    def test_legacy_records(self):
        entries = [("features.0.bias", P.tensor([1.0]))]
        obj, _ = P.state_dict_pickle(entries, legacy=True)
        head = (P.plain_pickle(P.MAGIC_NUMBER) + P.plain_pickle(P.PROTOCOL_VERSION)
                + P.plain_pickle({"little_endian": True}))
        path = self.put("keys.pth", head + obj + b"\x80\x02" + exponential(85) + b".")
        self.check(path, r"invalid storage key list \[\[\[\[")
        path = self.put("magic.pth", b"\x80\x02" + exponential(85) + b".")
        self.check(path, r"bad magic number \[\[\[\[")

    def test_overlong_pickles(self):
        # convert allows 1 MiB + 2 KiB per tensor of the network
        limit = convert.pickle_limit(len(archs.backbone_tensors("squeeze")))
        good, _ = P.state_dict_pickle(P.squeeze_backbone(archs, extra=False))
        padded = good[:2] + b"N0" * (limit // 2) + good[2:]
        path = self.zip_file("long.pth", padded)
        self.check(path, r"zip member archive/data\.pkl is too large \(%d bytes; a pickle may "
                         r"have %d\)" % (len(padded), limit))
        entries = [("features.0.bias", P.tensor([1.0]))]
        data = P.legacy_bytes(entries)
        obj, _ = P.state_dict_pickle(entries, legacy=True)
        at = data.index(obj)
        path = self.put("long-legacy.pth", data[:at + 2] + b"N0" * (limit // 2) + data[at + 2:])
        self.check(path, r"object: the pickle is longer than %d bytes" % limit)

    def test_fetch_parses_a_hostile_backbone_within_bounds(self):
        # the re-saved name carries no hash prefix: only the tensor digest
        # pin can identify it, so fetch must parse it, within bounds
        mirror = os.path.join(self.inputs, "mirror")
        os.makedirs(os.path.join(mirror, "torchvision"))
        path = os.path.join(mirror, "torchvision", "squeezenet1_1-features.pth")
        P.write_zip(path, [], pickle_bytes=b"\x80\x02" + exponential(85) + b"Q.")
        r = self.run_tool(wtest.FETCH, ["squeeze", "--calibration", "unweighted", "--mirror",
                                        mirror, "--dest", self.out_dir])
        self.refused(r, "fetch", None, r"^fetch: refusing the squeeze backbone: %s: cannot be "
                     r"converted: unexpected persistent id \[\[\[\[", path)

    def test_describe_is_bounded(self):
        node = []
        for _ in range(200):
            node = [node, node, (node,), {"k": node}]
        cyclic = []
        cyclic.append(cyclic)
        start = time.monotonic()
        for value in (node, cyclic, "x" * 10 ** 7, 1 << 100000, b"\0" * 10 ** 7):
            text = torchpickle.describe(value)
            self.assertLessEqual(len(text), 60)
        self.assertLess(time.monotonic() - start, 2)


class StorageBombs(Refusals):
    """Class 2: a 1 MiB file declaring a 1 GiB storage is refused before
    the storage is read; decompression never goes past the declared size."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zeros, cls.crc = P.deflated_zeros(GIB)
        entries = P.squeeze_backbone(archs, extra=False)
        cls.first = entries[0][1]     # features.0.weight, [64, 3, 3, 3], storage "0"
        cls.entries = entries

    def bomb(self, name, entries, numel=GIB // 4, declared=GIB):
        """A zip of `entries` whose storage "0" declares `numel` elements and
        is stored as a deflated gigabyte of zeros declared as `declared` bytes."""
        real = self.first.storage.numel
        self.first.storage.numel = numel
        try:
            members = P.zip_members(entries)
        finally:
            self.first.storage.numel = real
        members["0"].update(data=self.zeros, method=8, crc=self.crc, size=declared)
        path = P.write_raw_zip(os.path.join(self.inputs, name), list(members.values()))
        self.assertLess(os.path.getsize(path), 5 << 20)
        return path

    def test_control(self):
        # the same layout without the bomb converts
        path = P.write_raw_zip(os.path.join(self.inputs, "control.pth"),
                               list(P.zip_members(self.entries).values()))
        r = self.convert(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.unlink(os.path.join(self.out_dir, "out.safetensors"))

    def test_padded_storage(self):
        path = self.bomb("padded.pth", self.entries)
        self.refused(self.convert(path), "convert", path,
                     r"storage 0 holds 1073741824 bytes, but the tensors on it use only 6912 "
                     r"\(a padded or corrupted file\?\)")

    def test_storage_shared_with_an_unselected_tensor(self):
        junk = P.Tensor(self.first.storage, (GIB // 4,))
        path = self.bomb("shared.pth", self.entries + [("junk", junk)])
        self.refused(self.convert(path), "convert", path,
                     r"the selected tensors need \d+ bytes, but their storages hold \d+ ")

    def test_wrong_shape_over_a_big_storage(self):
        entries = [("features.0.weight", P.Tensor(self.first.storage, (GIB // 4,)))]
        path = self.bomb("shape.pth", entries + self.entries[1:])
        self.refused(self.convert(path), "convert", path,
                     r"tensor features\.0\.weight has shape \[268435456\], expected "
                     r"\[64, 3, 3, 3\] for network squeeze")

    def test_lying_size_field(self):
        # the central directory says 6912 bytes (right for the tensor), the
        # deflate stream holds a gigabyte
        path = self.bomb("lying.pth", self.entries, numel=self.first.storage.numel,
                         declared=6912)
        self.refused(self.convert(path), "convert", path,
                     r"zip member archive/data/0 holds more than its declared 6912 bytes")

    def test_calibration(self):
        lin = P.calibration(archs, "squeeze")
        self.first, saved = lin[0][1], self.first
        try:
            path = self.bomb("lin-bomb.pth", lin)
        finally:
            self.first = saved
        r = self.convert(P.write_zip(os.path.join(self.inputs, "b.pth"), self.entries),
                         "--calibration", path, "--lpips-version", "0.1")
        self.refused(r, "convert", path, r"storage 0 holds 1073741824 bytes, but the tensors "
                                         r"on it use only 256")

    def test_fetch(self):
        mirror = os.path.join(self.inputs, "mirror")
        os.makedirs(os.path.join(mirror, "torchvision"))
        path = os.path.join(mirror, "torchvision", "squeezenet1_1-features.pth")
        shutil.move(self.bomb("shared.pth", self.entries + [
            ("junk", P.Tensor(self.first.storage, (GIB // 4,)))]), path)
        r = self.run_tool(wtest.FETCH, ["squeeze", "--calibration", "unweighted", "--mirror",
                                        mirror, "--dest", self.out_dir])
        self.refused(r, "fetch", None, r"^fetch: refusing the squeeze backbone: %s: cannot be "
                     r"converted: the selected tensors need \d+ bytes", path)


class MirrorDigests(Refusals):
    """Class 3: fetch hashes a mirror file first and parses it only when a
    pin that needs the parse is left."""

    def mirror_with(self, rel, data):
        mirror = tempfile.mkdtemp(dir=self.inputs)
        path = os.path.join(mirror, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return mirror, path

    def fetch(self, *args):
        return self.run_tool(wtest.FETCH, list(args) + ["--dest", self.out_dir])

    def test_calibration_with_a_wrong_digest(self):
        hostile = P.legacy_bytes([], pickle_bytes=b"\x80\x02" + exponential(85) + b"Q.")
        mirror, path = self.mirror_with("lpips/v0.1/squeeze.pth", hostile)
        r = self.fetch("squeeze", "--mirror", mirror)
        self.refused(r, "fetch", None, r"^fetch: refusing the squeeze lpips-v0\.1 calibration: "
                     r"%s: SHA-256 %s differs from the pinned 4a5350f2[0-9a-f]{56}\n$",
                     path, hashlib.sha256(hostile).hexdigest())

    def test_official_name_with_a_wrong_digest(self):
        # resnet18 pins only the hash prefix of its official name: nothing to parse for
        hostile = P.legacy_bytes([], pickle_bytes=b"\x80\x02" + exponential(85) + b"Q.")
        mirror, path = self.mirror_with("resnet18-f37072fd.pth", hostile)
        r = self.fetch("resnet18", "--mirror", mirror)
        self.refused(r, "fetch", None, r"^fetch: refusing the resnet18 backbone: %s: SHA-256 %s "
                     r"does not start with f37072fd as its official name says\n$",
                     path, hashlib.sha256(hostile).hexdigest())

    def test_oversized_file(self):
        mirror, path = self.mirror_with("lpips/v0.1/squeeze.pth", b"")
        with open(path, "r+b") as f:
            f.truncate(fetch.MAX_DOWNLOAD + 1)     # sparse
        r = self.fetch("squeeze", "--mirror", mirror)
        self.refused(r, "fetch", None, r"%s: %s bytes, more than the %s a source file may have",
                     path, fetch.MAX_DOWNLOAD + 1, fetch.MAX_DOWNLOAD, seconds=10)

    def test_nothing_is_parsed_before_the_digest(self):
        # in-process, with the parsers replaced by tripwires
        hostile = self.put("hostile.pth", b"\x80\x02" + exponential(85) + b"Q.")
        saved = convert.read_backbone, convert.read_calibration

        def tripwire(*args, **kw):
            raise AssertionError("parsed before its digest was checked")
        convert.read_backbone = convert.read_calibration = tripwire
        try:
            item = {"name": "squeeze.pth", "sha256": "0" * 64}
            reasons = fetch.check_calibration("squeeze", "lpips-v0.1", item, hostile,
                                              wtest.MANIFEST)
            self.assertRegex(reasons[0], r"^SHA-256 [0-9a-f]{64} differs")
            for item in ({"name": "hostile.pth", "sha256_prefix": "00000000"},
                         {"name": "x.pth", "sha256": "0" * 64}):
                tensors, reasons = fetch.check_backbone("squeeze", item, hostile)
                self.assertIsNone(tensors)
                self.assertEqual(len(reasons), 1, reasons)
        finally:
            convert.read_backbone, convert.read_calibration = saved


class Installed(Refusals):
    """Class 4 (fetch): "already installed" only for a sound model file; a
    damaged one is installed again, anything else in the way is refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        entries = P.squeeze_backbone(archs, extra=False)
        files = os.path.join(cls.tmp, "files")
        os.makedirs(files)
        backbone = P.write_zip(os.path.join(files, "backbone.pth"), entries)
        lin = P.write_legacy(os.path.join(files, "lin.pth"), P.calibration(archs, "squeeze"))
        cls.mirror = os.path.join(cls.inputs, "mirror")
        for src, rel in ((backbone, "torchvision/squeezenet1_1-features.pth"),
                         (lin, "lpips/v0.1/squeeze.pth")):
            os.makedirs(os.path.dirname(os.path.join(cls.mirror, rel)), exist_ok=True)
            shutil.copy(src, os.path.join(cls.mirror, rel))
        with open(wtest.MANIFEST) as f:
            m = json.load(f)
        sq = copy.deepcopy(m["networks"]["squeeze"])
        sq["backbone"]["backbone_digest"] = safetensors.tensor_digest(dict(
            (n, (t.shape, t.storage.values)) for n, t in entries))
        sq["calibrations"]["lpips-v0.1"]["sha256"] = sha256(lin)
        m["networks"] = {"squeeze": sq}
        cls.manifest = os.path.join(cls.inputs, "manifest.json")
        with open(cls.manifest, "w") as f:
            json.dump(m, f)
        # a good install, for comparisons
        good = os.path.join(cls.tmp, "good")
        r = cls.run_fetch(good)
        assert r.returncode == 0, r.stderr
        cls.good = os.path.join(good, "squeeze-lpips-v0.1.safetensors")
        r = cls.run_fetch(good, "--calibration", "unweighted")
        assert r.returncode == 0, r.stderr
        cls.unweighted = os.path.join(good, "squeeze-unweighted.safetensors")

    @classmethod
    def run_fetch(cls, dest, *args, **kw):
        return run_limited(wtest.FETCH, ["squeeze", "--mirror", cls.mirror, "--dest", dest,
                                         "--manifest", cls.manifest] + list(args), **kw)

    def fetch(self, *args, **kw):
        return self.run_tool(wtest.FETCH, ["squeeze", "--mirror", self.mirror, "--dest",
                                           self.dest, "--manifest", self.manifest] + list(args),
                             **kw)

    def setUp(self):
        super().setUp()
        self.dest = os.path.join(self.out_dir, "dest")
        os.makedirs(self.dest)
        self.target = os.path.join(self.dest, "squeeze-lpips-v0.1.safetensors")

    def tearDown(self):
        shutil.rmtree(self.out_dir)

    def put_target(self, data):
        with open(self.target, "wb") as f:
            f.write(data)
        return os.stat(self.target)

    def good_bytes(self):
        with open(self.good, "rb") as f:
            return f.read()

    def assert_good(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "fetch: installed squeeze-lpips-v0.1.safetensors at %s\n"
                         % self.target)
        with open(self.target, "rb") as f:
            self.assertEqual(f.read(), self.good_bytes())
        self.assertEqual(os.listdir(self.dest), [os.path.basename(self.target)])

    def test_sound_file_is_left_alone(self):
        st = self.put_target(self.good_bytes())
        r = self.fetch()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already installed", r.stdout)
        self.assertEqual((os.stat(self.target).st_ino, os.stat(self.target).st_mtime_ns),
                         (st.st_ino, st.st_mtime_ns))

    def test_damaged_files_are_installed_again(self):
        data = self.good_bytes()
        n = struct.unpack("<Q", data[:8])[0]
        flipped = bytearray(data)
        flipped[8 + n + 100] ^= 0x10             # in features.0.weight
        for damaged, reason in ((data[:len(data) // 2], r"tensor \S+: data_offsets \[\d+, \d+\] "
                                 r"do not fit shape \[[0-9, ]+\] and the file size"),
                                (data[:5], r"truncated \(5 bytes\)"),
                                (b"", r"truncated \(0 bytes\)"),
                                (bytes(flipped), r"its backbone tensors have the digest "
                                 r"[0-9a-f]{64}, not the [0-9a-f]{64} its metadata records")):
            self.put_target(damaged)
            r = self.fetch()
            self.assertRegex(r.stderr, r"^fetch: the installed %s is damaged: %s; installing it "
                             r"again\n$" % (re.escape(self.target), reason))
            self.assert_good(r)

    def test_directory_in_the_way(self):
        os.makedirs(os.path.join(self.target, "inside"))
        for args in ((), ("--force",)):
            r = self.fetch(*args)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr, "fetch: %s is a directory, not a model file: remove it "
                             "or choose another --dest (it is left alone)\n" % self.target)
            self.assertEqual(os.listdir(self.target), ["inside"])

    def test_another_model_in_the_way(self):
        with open(self.unweighted, "rb") as f:
            st = self.put_target(f.read())
        r = self.fetch()
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "fetch: %s is in the way: its metadata calibration is "
                         "'unweighted', not 'lpips-v0.1'; it is left alone (--force replaces "
                         "it)\n" % self.target)
        self.assertEqual(os.stat(self.target).st_ino, st.st_ino)
        self.assertEqual(sha256(self.target), sha256(self.unweighted))
        self.assert_good(self.fetch("--force"))

    def test_killed_install(self):
        self.put_target(b"an older, damaged file")
        r = self.fetch(fsize=1 << 20, kill_on_fsize=True)
        self.assertEqual(r.returncode, -signal.SIGXFSZ, r.stderr)
        with open(self.target, "rb") as f:
            self.assertEqual(f.read(), b"an older, damaged file")
        others = [n for n in os.listdir(self.dest) if n != os.path.basename(self.target)]
        self.assertTrue(all(n.startswith(".squeeze-lpips-v0.1.safetensors.") for n in others),
                        others)
        # a failed write (no kill) leaves nothing behind
        r = self.fetch("--force", fsize=1 << 20)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "fetch: cannot install %s: File too large\n" % self.target)
        with open(self.target, "rb") as f:
            self.assertEqual(f.read(), b"an older, damaged file")
        self.assertEqual(len(os.listdir(self.dest)), 1 + len(others))

    def test_input_in_the_way(self):
        shutil.copy(self.manifest, self.target)
        before = sha256(self.target)
        r = self.run_tool(wtest.FETCH, ["squeeze", "--mirror", self.mirror, "--dest", self.dest,
                                        "--manifest", self.target])
        self.assertEqual(r.returncode, 1)
        self.assertIn("\nfetch: %s is the manifest %s; refusing to overwrite an input\n"
                      % (self.target, self.target), r.stderr)
        self.assertEqual(sha256(self.target), before)


class Outputs(Refusals):
    """Class 4 (convert): the output name only ever holds a complete file;
    inputs are never overwritten; non-regular inputs are refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backbone = P.write_zip(os.path.join(cls.inputs, "backbone.pth"),
                                   P.squeeze_backbone(archs, extra=False))
        cls.lin = P.write_legacy(os.path.join(cls.inputs, "lin.pth"),
                                 P.calibration(archs, "squeeze"))

    def tearDown(self):
        shutil.rmtree(self.out_dir)

    def args(self, out):
        return ["--network", "squeeze", "--backbone", self.backbone, "--calibration", self.lin,
                "--lpips-version", "0.1", "-o", out]

    def test_output_is_an_input(self):
        link = os.path.join(self.inputs, "link.pth")
        hard = os.path.join(self.inputs, "hard.pth")
        os.symlink(self.backbone, link)
        os.link(self.lin, hard)
        # convert reads weights/manifest.json too (official calibrations); a
        # link to it, which a rename into place would replace, not write through
        manifest = os.path.join(self.out_dir, "manifest-link.json")
        os.symlink(wtest.MANIFEST, manifest)
        for out, option in ((self.backbone, "--backbone"), (self.lin, "--calibration"),
                            (link, "--backbone"), (hard, "--calibration"),
                            (manifest, "manifest")):
            r = self.run_tool(wtest.CONVERT, self.args(out))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("usage: convert", r.stderr)
            self.assertIn("convert: error: argument -o/--output: %s is the %s file; refusing to "
                          "overwrite an input\n" % (out, option), r.stderr)
        self.assertTrue(os.path.islink(manifest))
        with open(wtest.MANIFEST, "rb") as f:
            self.assertEqual(json.loads(f.read().decode("utf-8"))["format"],
                             "gegl-perceptual-weights-manifest")
        os.unlink(manifest)

    def test_output_is_a_directory(self):
        os.makedirs(os.path.join(self.out_dir, "d", "inside"))
        out = os.path.join(self.out_dir, "d")
        r = self.run_tool(wtest.CONVERT, self.args(out))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "convert: %s: is a directory\n" % out)
        self.assertEqual(os.listdir(out), ["inside"])

    def test_killed_and_failed_writes(self):
        out = os.path.join(self.out_dir, "out.safetensors")
        r = self.run_tool(wtest.CONVERT, self.args(out), fsize=1 << 20, kill_on_fsize=True)
        self.assertEqual(r.returncode, -signal.SIGXFSZ, r.stderr)
        self.assertFalse(os.path.exists(out))
        leftovers = os.listdir(self.out_dir)
        self.assertTrue(all(n.startswith(".out.safetensors.") and n.endswith(".part")
                            for n in leftovers), leftovers)
        for name in leftovers:
            os.unlink(os.path.join(self.out_dir, name))
        # an older output survives a killed or failed write
        with open(out, "wb") as f:
            f.write(b"older output")
        os.chmod(out, 0o640)
        r = self.run_tool(wtest.CONVERT, self.args(out), fsize=1 << 20, kill_on_fsize=True)
        self.assertEqual(r.returncode, -signal.SIGXFSZ)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"older output")
        for name in os.listdir(self.out_dir):
            if name != "out.safetensors":
                os.unlink(os.path.join(self.out_dir, name))
        r = self.run_tool(wtest.CONVERT, self.args(out), fsize=1 << 20)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "convert: %s: File too large\n" % out)
        self.assertEqual(os.listdir(self.out_dir), ["out.safetensors"])
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"older output")
        # a complete write replaces it, keeping its mode
        r = self.run_tool(wtest.CONVERT, self.args(out))
        self.assertEqual(r.returncode, 0, r.stderr)
        safetensors.read(out)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o640)
        self.assertEqual(os.listdir(self.out_dir), ["out.safetensors"])

    def test_fifo_input(self):
        fifo = os.path.join(self.out_dir, "fifo.pth")
        os.mkfifo(fifo)
        r = self.run_tool(wtest.CONVERT, ["--network", "squeeze", "--backbone", fifo,
                                        "--unweighted", "-o", os.path.join(self.tmp, "x")],
                        timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "convert: %s: is a FIFO, not a regular file\n" % fifo)
        os.unlink(fifo)


if __name__ == "__main__":
    wtest.main()
