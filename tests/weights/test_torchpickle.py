#!/usr/bin/env python3
"""The restricted .pth reader: fixtures made by torch, hostile and broken files."""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import json
import os
import random
import signal
import struct
import tempfile
import unittest
import zipfile
import zlib

import wtest
import pthwriter as P
from perceptual_weights import torchpickle

FIXTURES = ("zip", "legacy", "legacy-old")


def f32(values):
    return struct.pack("<%df" % len(values), *values)


class Fixtures(unittest.TestCase):
    """The files torch wrote (or read back) give exactly torch's values."""

    def check(self, name):
        path = os.path.join(wtest.FIXTURES, name + ".pth")
        with open(os.path.join(wtest.FIXTURES, name + ".json")) as f:
            expected = json.load(f)
        floats = [k for k, e in expected["tensors"].items()
                  if e["dtype"] in ("float32", "float64", "float16", "bfloat16")]
        got = torchpickle.load(path, select=lambda k: k in floats)
        self.assertEqual(list(got), floats)
        for name_ in floats:
            shape, values = got[name_]
            e = expected["tensors"][name_]
            self.assertEqual(list(shape), e["shape"], name_)
            self.assertEqual(values.typecode, "f")
            self.assertEqual(f32(values), f32(e["values"]), name_)
        meta = getattr(got, "attributes", {}).get("_metadata")
        self.assertEqual(meta, expected["metadata"])
        index = torchpickle.inspect(path)
        self.assertEqual(list(index), list(expected["tensors"]))
        for k, (shape, dtype) in index.items():
            self.assertEqual(list(shape), expected["tensors"][k]["shape"])
            self.assertEqual(dtype, expected["tensors"][k]["dtype"])

    def test_zip(self):
        self.check("zip")

    def test_legacy(self):
        self.check("legacy")

    def test_legacy_old_style(self):
        self.check("legacy-old")

    def test_integer_tensor_is_refused_when_selected(self):
        for name in ("zip", "legacy"):
            path = os.path.join(wtest.FIXTURES, name + ".pth")
            with self.assertRaisesRegex(torchpickle.TorchFileError,
                                        r"dtype\.int64 has dtype int64, not a floating"):
                torchpickle.load(path)

    def test_select_names(self):
        path = os.path.join(wtest.FIXTURES, "zip.pth")
        got = torchpickle.load(path, select=["views.sliced", "absent"])
        self.assertEqual(list(got), ["views.sliced"])
        self.assertEqual(got["views.sliced"][0], (5, 3))


class Hostile(unittest.TestCase):
    """Pickles that would run code under a plain unpickler."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.marker = os.path.join(self.tmp.name, "marker")

    def tearDown(self):
        self.assertFalse(os.path.exists(self.marker), "code from a pickle ran")
        self.tmp.cleanup()

    def refused(self, data, pattern, zip_format=False, entries=()):
        path = os.path.join(self.tmp.name, "hostile.pth")
        if zip_format or entries:
            P.write_zip(path, list(entries), pickle_bytes=data)
        else:
            with open(path, "wb") as f:
                f.write(P.legacy_bytes([], pickle_bytes=data))
        with self.assertRaises(torchpickle.TorchFileError) as cm:
            torchpickle.load(path)
        self.assertIn(path + ": ", str(cm.exception))
        self.assertRegex(str(cm.exception), pattern)

    def system(self, p):
        return p.glob("os", "system").mark().str("touch " + self.marker).tuple().reduce()

    def test_fixture(self):
        path = os.path.join(wtest.FIXTURES, "malicious-os-system.pth")
        with self.assertRaisesRegex(torchpickle.TorchFileError,
                                    r"malicious-os-system\.pth: refusing to load the global "
                                    r"os\.system"):
            torchpickle.load(path)

    def test_os_system(self):
        self.refused(self.system(P.Pickle()).stop(), r"global os\.system")
        self.refused(self.system(P.Pickle()).stop(), r"global os\.system", zip_format=True)

    def test_inside_a_state_dict(self):
        p = P.Pickle().glob("collections", "OrderedDict").empty_tuple().reduce()
        p.mark().str("x")
        self.system(p).raw(b"u")
        self.refused(p.stop(), r"global os\.system", zip_format=True)

    def test_other_opcodes(self):
        # INST, STACK_GLOBAL (protocol 4) and OBJ all resolve globals too.
        cmd = ("touch " + self.marker).encode()
        inst = b"\x80\x02(X" + struct.pack("<I", len(cmd)) + cmd + b"ios\nsystem\n."
        self.refused(inst, r"global os\.system")
        sg = (b"\x80\x04\x8c\x08builtins\x94\x8c\x04exec\x94\x93\x94" +
              b"\x8c" + bytes([len(b"import os")]) + b"import os\x94\x85R.")
        self.refused(sg, r"global builtins\.exec")
        obj = b"\x80\x02(csubprocess\nPopen\n)o."
        self.refused(obj, r"global subprocess\.Popen")
        obj = b"\x80\x02(ccollections\nOrderedDict\n)o."
        self.refused(obj, r"unsupported pickle opcode OBJ")

    def test_unknown_torch_globals(self):
        for name in ("_rebuild_qtensor", "_rebuild_sparse_tensor", "_import_dotted_name"):
            p = P.Pickle().glob("torch._utils", name).empty_tuple().reduce()
            self.refused(p.stop(), r"global torch\._utils\.%s" % name)
        p = P.Pickle().glob("torch", "load").empty_tuple().reduce()
        self.refused(p.stop(), r"global torch\.load")

    def test_allowed_globals_cannot_be_misused(self):
        # calling a storage class
        p = P.Pickle().glob("torch", "FloatStorage").empty_tuple().reduce()
        self.refused(p.stop(), r"torch\.FloatStorage may not be called")
        # BUILD on a tensor
        t = P.tensor([1.0, 2.0])
        data, _ = P.state_dict_pickle([("t", t)])
        at = data.rindex(b"u")  # after the tensor, before SETITEMS
        data = data[:at] + b"}X\x05\x00\x00\x00shapeK\x01sb" + data[at:]
        self.refused(data, r"tries to modify a tensor", entries=[("t", t)])
        # a tensor built on something that is not a storage
        p = P.Pickle().glob("torch._utils", "_rebuild_tensor_v2").mark()
        p.str("not a storage").int(0).ints([1]).ints([1]).bool(False).none().tuple().reduce()
        self.refused(p.stop(), r"instead of a storage")
        # a persistent id that names a module
        p = P.Pickle().mark().str("module").str("x").str("y").str("z").tuple().persid()
        self.refused(p.stop(), r"pickled module")
        # a persistent id with a fake storage type
        p = P.Pickle().mark().str("storage").str("FloatStorage").str("0").str("cpu").int(1)
        p.tuple().persid()
        self.refused(p.stop(), r"not a known torch storage class", zip_format=True)
        # an extension code (copyreg registry)
        self.refused(b"\x80\x02\x82\x01.", r"unsupported pickle opcode EXT1")
        # a memo index that would make the C unpickler allocate gigabytes
        self.refused(b"\x80\x02K\x01r\x00\x00\x00\x40.", r"memo index \d+ out of range")

    def test_plain_records_allow_no_globals(self):
        path = os.path.join(self.tmp.name, "hostile.pth")
        evil = self.system(P.Pickle()).stop()
        good = P.legacy_bytes([("a", P.tensor([1.0]))])
        magic = P.plain_pickle(P.MAGIC_NUMBER)
        with open(path, "wb") as f:
            f.write(magic + evil + good[len(magic):])
        with self.assertRaisesRegex(torchpickle.TorchFileError, r"global os\.system"):
            torchpickle.load(path)


class Broken(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "broken.pth")

    def tearDown(self):
        self.tmp.cleanup()

    def fails(self, pattern, path=None):
        path = path or self.path
        with self.assertRaises(torchpickle.TorchFileError) as cm:
            torchpickle.load(path)
        self.assertTrue(str(cm.exception).startswith(path + ": "), str(cm.exception))
        self.assertRegex(str(cm.exception), pattern)
        return str(cm.exception)

    def write(self, data):
        with open(self.path, "wb") as f:
            f.write(data)

    def test_not_a_pth_file(self):
        self.write(b"")
        self.fails("empty file")
        self.write(b"hello world\n")
        self.fails("not a PyTorch file")
        self.write(b"\0" * 257 + b"ustar" + b"\0" * 300)
        self.fails("tar-based")
        self.fails("No such file", os.path.join(self.tmp.name, "absent.pth"))
        self.write(P.plain_pickle(12345))
        self.fails("bad magic number")

    def test_storage_too_small(self):
        s = P.Storage([1.0] * 6)
        cases = [
            (P.Tensor(s, (2, 4)), r"needs 8 elements but its storage 0 has only 6"),
            (P.Tensor(s, (3, 2), (1, 4)), r"stride \[1, 4\] at offset 0 needs 7 elements"),
            (P.Tensor(s, (2, 3), offset=1), r"at offset 1 needs 7 elements"),
            (P.Tensor(s, (7,), (0,), offset=6), r"needs 7 elements"),
            (P.Tensor(s, (-1, 2)), r"negative entry"),
            (P.Tensor(s, (2, 3), (3, -1)), r"negative entry"),
            (P.Tensor(s, (2, 3), (3,)), r"differ in length"),
            (P.Tensor(s, (1 << 20, 1 << 20), (0, 0)), r"too large"),
            (P.Tensor(s, (1 << 14, 1 << 14), (0, 0)), r"would expand"),
            (P.Tensor(s, (2,), offset=-1), r"invalid storage offset"),
        ]
        for tensor, pattern in cases:
            P.write_zip(self.path, [("t", tensor)])
            self.fails(pattern)
            P.write_legacy(self.path, [("t", tensor)])
            self.fails(pattern)

    def test_huge_or_negative_storage_size(self):
        for numel in (-1, 1 << 40):
            s = P.Storage([1.0])
            s.numel = numel
            P.write_zip(self.path, [("t", P.Tensor(s, (1,)))])
            self.fails("invalid size")

    def test_zip_members(self):
        entries = [("a", P.tensor([1.0, 2.0])), ("b", P.tensor([3.0]))]
        P.write_zip(self.path, entries, omit=("1",))
        self.fails(r"zip member archive/data/1 is missing")
        self.assertEqual(list(torchpickle.load(self.path, select=["a"])), ["a"])
        P.write_zip(self.path, entries, truncate={"0": 5})
        self.fails(r"archive/data/0 has 5 bytes, expected 8")
        with zipfile.ZipFile(self.path, "w") as z:
            z.writestr("archive/version", "3\n")
        self.fails(r"without <name>/data\.pkl")
        P.write_zip(self.path, entries, byteorder="middle")
        self.fails(r"invalid byteorder")
        # a flipped byte in a storage: the CRC check catches it
        P.write_zip(self.path, entries)
        data = bytearray(open(self.path, "rb").read())
        at = data.index(struct.pack("<2f", 1.0, 2.0))
        data[at + 3] ^= 0x40
        self.write(bytes(data))
        self.fails(r"cannot read zip member archive/data/0 \(BadZipFile")

    def test_big_endian_zip(self):
        entries = [("a", P.tensor([1.5, -2.25, 3e-5], (3,))),
                   ("d", P.tensor([0.1, 1e300], (2,), "float64")),
                   ("h", P.tensor([0.5, -65504.0], (2,), "float16"))]
        P.write_zip(self.path, entries, byteorder="big")
        got = torchpickle.load(self.path)
        self.assertEqual(f32(got["a"][1]), f32([1.5, -2.25, 3e-5]))
        self.assertEqual(f32(got["d"][1][:1]), f32([0.1]))
        self.assertEqual(got["d"][1][1], float("inf"))
        self.assertEqual(list(got["h"][1]), [0.5, -65504.0])
        # no byteorder record: little-endian, as written by PyTorch < 1.12
        P.write_zip(self.path, entries, byteorder=None)
        self.assertEqual(list(torchpickle.load(self.path)["h"][1]), [0.5, -65504.0])

    def test_legacy_byte_order(self):
        entries = [("a", P.tensor([1.0, 2.0, 3.0]))]
        self.write(P.legacy_bytes(entries, count_order=">"))
        self.fails(r"storage 0: the file gives \d+ elements, the object says 3 .*wrong byte order")
        # a file from a big-endian machine that wrote its native order
        self.write(P.legacy_bytes(entries, little_endian=False, count_order=">",
                                  data_order="big"))
        self.assertEqual(list(torchpickle.load(self.path)["a"][1]), [1.0, 2.0, 3.0])
        self.write(P.legacy_bytes(entries, little_endian=False))
        self.assertEqual(list(torchpickle.load(self.path)["a"][1]), [1.0, 2.0, 3.0])

    def test_legacy_storage_list(self):
        entries = [("a", P.tensor([1.0])), ("b", P.tensor([2.0]))]
        self.write(P.legacy_bytes(entries, keys=["0"]))
        self.fails(r"storage 1 is used but not stored")
        data = P.legacy_bytes(entries)
        self.write(data + b"\0" * 4)
        self.assertEqual(len(torchpickle.load(self.path)), 2)
        self.write(data[:-2])
        self.fails(r"ends inside the data of storage 1 \(truncated file: needs 2 more bytes\)")

    def test_truncated_copies(self):
        """Every prefix of the fixtures fails cleanly."""
        for name in FIXTURES:
            data = open(os.path.join(wtest.FIXTURES, name + ".pth"), "rb").read()
            # every cut in the pickles at the start, every 5th byte after
            for n in list(range(0, min(1024, len(data)))) + list(range(1024, len(data), 5)):
                self.write(data[:n])
                with self.assertRaises(torchpickle.TorchFileError, msg="%s[:%d]" % (name, n)):
                    torchpickle.load(self.path, select=lambda k: k != "dtype.int64")

    def test_corrupted_copies(self):
        """Random byte changes give values or a TorchFileError, never another
        exception or a hang."""
        rng = random.Random(1234)
        if hasattr(signal, "alarm"):
            signal.signal(signal.SIGALRM, lambda *a: self.fail("reading a corrupted file hangs"))
            signal.alarm(60)
        try:
            for name in FIXTURES:
                data = open(os.path.join(wtest.FIXTURES, name + ".pth"), "rb").read()
                for _ in range(300):
                    mutated = bytearray(data)
                    for _ in range(rng.choice((1, 1, 2, 8))):
                        mutated[rng.randrange(len(data))] = rng.randrange(256)
                    self.write(bytes(mutated))
                    try:
                        torchpickle.load(self.path, select=lambda k: k != "dtype.int64")
                    except torchpickle.TorchFileError:
                        pass
        finally:
            if hasattr(signal, "alarm"):
                signal.alarm(0)


class Limits(unittest.TestCase):
    """The bounds on work, memory and messages (see torchpickle's docstring)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "limits.pth")

    def tearDown(self):
        self.tmp.cleanup()

    def fails(self, pattern, **kw):
        with self.assertRaises(torchpickle.TorchFileError) as cm:
            torchpickle.load(self.path, **kw)
        self.assertTrue(str(cm.exception).startswith(self.path + ": "), str(cm.exception))
        self.assertRegex(str(cm.exception), pattern)
        return str(cm.exception)

    def zip_pickle(self, data):
        P.write_zip(self.path, [], pickle_bytes=data)

    def test_describe(self):
        node = []
        for _ in range(100):
            node = [node, node]
        self.assertEqual(torchpickle.describe(node), "[[[[...], ...], ...], ...]")
        text = torchpickle.describe(("a" * 100, 1 << 300, b"x"))
        self.assertEqual((len(text), text[:5], text[-4:]), (60, "('aaa", "a..."))
        self.assertEqual(torchpickle.describe((1 << 300, b"x")), "(<301-bit integer>, b'x')")
        self.assertEqual(torchpickle.describe({"k": (1,)}), "{'k': (1,)}")
        self.assertEqual(torchpickle.describe(list(range(10))), "[0, 1, 2, 3, 4, 5, ...]")

    def test_step_budget(self):
        # one list of pairs, turned into an OrderedDict again and again:
        # each call costs as many steps as there are pairs
        p = P.Pickle().glob("collections", "OrderedDict").raw(b"q\x00").raw(b"]q\x01(")
        for k in range(1000):
            p.raw(b"(").str("k%d" % k).none().raw(b"l")
        p.raw(b"e")
        for _ in range(1000):
            p.raw(b"h\x00h\x01\x85R0")
        data = p.none().stop()
        self.zip_pickle(data)
        self.fails(r"archive/data\.pkl: the pickle takes more steps than its \d+ bytes allow")

    def test_keys_must_be_strings(self):
        for key in (b"(K\x01K\x02t", b"K\x01", b"G" + struct.pack(">d", 0.5), b"N"):
            self.zip_pickle(b"\x80\x02}" + key + b"Ns.")
            self.fails(r"a dict key is .*, not a string")
        self.zip_pickle(b"\x80\x02ccollections\nOrderedDict\n]K\x01N\x86a\x85R.")
        self.fails(r"a dict key is 1, not a string")

    def test_refused_opcodes(self):
        for op in (b"\x8f", b"\x91", b"\x97", b"P1\n", b"\x82\x01"):
            self.zip_pickle(b"\x80\x04" + op + b".")
            self.fails(r"unsupported pickle opcode")
        self.zip_pickle(b"\x80\x02]K\x01b.")
        self.fails(r"the pickle tries to modify \[\]")
        self.zip_pickle(b"\x80\x02X\x01\x00\x00\x00x)R.")
        self.fails(r"the pickle calls 'x', which is not an allowed global")

    def test_pickle_length(self):
        entries = [("a" * 500, P.tensor([1.0]))]
        P.write_zip(self.path, entries)
        self.assertEqual(len(torchpickle.load(self.path, max_pickle_bytes=1000)), 1)
        self.fails(r"zip member archive/data\.pkl is too large \(\d+ bytes; a pickle may have "
                   r"300\)", max_pickle_bytes=300)
        P.write_legacy(self.path, entries)
        self.assertEqual(len(torchpickle.load(self.path, max_pickle_bytes=1000)), 1)
        self.fails(r"object: the pickle is longer than 300 bytes", max_pickle_bytes=300)

    def test_storage_sizes(self):
        big = P.Storage([0.5] * 20000)
        # a storage much larger than the span of its tensors
        P.write_zip(self.path, [("a", P.Tensor(big, (2,)))])
        self.fails(r"storage 0 holds 80000 bytes, but the tensors on it use only 8 \(a padded")
        for write in (P.write_zip, P.write_legacy):
            # shared with an unselected tensor: what the selection needs counts
            write(self.path, [("a", P.Tensor(big, (2,))), ("b", P.Tensor(big, (20000,)))])
            self.assertEqual(len(torchpickle.load(self.path)), 2)
            saved = torchpickle.READ_SLACK_BYTES
            torchpickle.READ_SLACK_BYTES = 1000
            try:
                self.fails(r"the selected tensors need 8 bytes, but their storages hold 80000",
                           select=["a"])
            finally:
                torchpickle.READ_SLACK_BYTES = saved
            self.fails(r"storages hold 80000 bytes, more than the 4096 bytes allowed",
                       max_bytes=4096)
        # stride-0 views may not expand the storages read by more than MAX_EXPANSION
        one = P.Storage([1.0])
        P.write_zip(self.path, [("e%d" % k, P.Tensor(one, (1 << 21,), (0,))) for k in range(3)])
        self.fails(r"the selected tensors have 6291456 elements, 6291455 more than their "
                   r"storages hold")

    def test_check_runs_before_any_read(self):
        P.write_zip(self.path, [("a", P.tensor([1.0, 2.0]))], truncate={"0": 3})
        seen = []

        def check(selected, index):
            seen.append((dict(selected), dict(index)))
            raise KeyError("refused by the caller")
        with self.assertRaises(KeyError):
            torchpickle.load(self.path, check=check)
        self.assertEqual(seen, [({"a": ((2,), "float32")}, {"a": ((2,), "float32")})])

    def test_zip_members_are_read_with_a_hard_limit(self):
        entries = [("a", P.tensor([0.0] * 256))]
        members = P.zip_members(entries)
        stream, crc = P.deflated_zeros(1 << 20)
        members["0"].update(data=stream, method=8, crc=zlib.crc32(bytes(1024)), size=1024)
        P.write_raw_zip(self.path, list(members.values()))
        self.fails(r"zip member archive/data/0 holds more than its declared 1024 bytes")
        members = P.zip_members(entries)
        members["0"].update(method=12)
        P.write_raw_zip(self.path, list(members.values()))
        self.fails(r"zip member archive/data/0 uses compression method 12 \(only stored and "
                   r"deflated")
        members = P.zip_members(entries)
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        members["0"].update(data=c.compress(bytes(1024)) + c.flush() + b"junk", method=8,
                            crc=zlib.crc32(bytes(1024)), size=1024)
        P.write_raw_zip(self.path, list(members.values()))
        self.fails(r"its compressed data end before its declared compressed size")
        members = P.zip_members(entries)
        members["0"].update(local_size=1 << 30)    # ignored: the central directory counts
        P.write_raw_zip(self.path, list(members.values()))
        self.assertEqual(list(torchpickle.load(self.path)["a"][1]), [0.0] * 256)

    def test_non_regular_files(self):
        with self.assertRaisesRegex(torchpickle.TorchFileError, r": is a directory, not a "
                                                                r"regular file$"):
            torchpickle.load(self.tmp.name)
        fifo = os.path.join(self.tmp.name, "fifo")
        os.mkfifo(fifo)
        with self.assertRaisesRegex(torchpickle.TorchFileError, r"fifo: is a FIFO, not a "
                                                                r"regular file$"):
            torchpickle.inspect(fifo)


if __name__ == "__main__":
    wtest.main()
