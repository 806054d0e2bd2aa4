#!/usr/bin/env python3
"""A mutation fuzzer for the torch-free .pth reader and the converter's checks.

Seeds: the synthetic files of pthwriter.py and the fixtures, and, when
GEGL_PERCEPTUAL_WEIGHTS_MIRROR names the real weights, the LPIPS calibration
files and the SqueezeNet backbone (whole, and cropped to its pickle and small
storages).  Each mutant stacks one to three mutations:

  bytes     bit flips, interesting integers, inserted, deleted, duplicated or
            spliced ranges, truncation;
  pickle    opcode-aware: ops deleted, duplicated, swapped, replaced or
            inserted, integer arguments (shapes, sizes, counts), string
            lengths, memo indices and globals changed, spans repeated, and
            amplifiers inserted (exponential graphs of shared references,
            deep nesting, cycles, long runs);
  zip       the archive rebuilt with consistent CRCs around a mutated pickle
            or storage, members deflated, dropped, duplicated or renamed,
            storages replaced by deflated zeros, and numeric fields of the
            local headers, central directory and end record changed (sizes,
            CRC, method, flags, lengths, offsets, counts);
  legacy    a record or a storage's element count changed.

Every mutant is run in a forked child under RLIMIT_AS (512 MiB) and a time
limit (5 s) through torchpickle.load (of the seed's float tensors), every
fourth one through torchpickle.inspect too, and, for seeds that are a
backbone or a calibration, through convert.read_backbone or
convert.read_calibration.  Each must return or raise TorchFileError /
ConvertError with a message that starts with the file's name and stays
short; any other exception, a MemoryError, a timeout or a crash is a finding.
Findings are saved with a description to a temporary folder (printed).

The run lasts --seconds (default GEGL_PERCEPTUAL_FUZZ_SECONDS, else 60) with
--seed (default GEGL_PERCEPTUAL_FUZZ_SEED, else a fixed one), both printed;
mutant N of a seed is always the same, so `--seed S --index N` replays it and
`--replay FILE --target T` runs a saved file.  Exit status 1 on findings.
"""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import argparse
import collections
import io
import json
import os
import pickletools
import random
import re
import resource
import select
import shutil
import signal
import struct
import tempfile
import time
import traceback
import zipfile
import zlib

import wtest
import pthwriter as P
from perceptual_weights import archs, convert, torchpickle

DEFAULT_SECONDS = 60
DEFAULT_SEED = 20240611
SECONDS_ENV = "GEGL_PERCEPTUAL_FUZZ_SECONDS"
SEED_ENV = "GEGL_PERCEPTUAL_FUZZ_SEED"
MEMORY = 512 << 20              # RLIMIT_AS of a child
TIME_LIMIT = 5.0                # seconds per mutant
MESSAGE_LIMIT = 2000            # characters of a refusal
FLOATS = ("float32", "float64", "float16", "bfloat16")

INTERESTING = (0, 1, 2, 3, 4, 7, 8, 15, 16, 63, 64, 127, 128, 255, 256, 1000, 4095, 4096,
               65535, 65536, (1 << 20), (1 << 24), (1 << 28), (1 << 30), (1 << 31) - 1,
               (1 << 31), (1 << 32) - 1, (1 << 32), (1 << 40), (1 << 62), (1 << 63) - 1,
               -1, -2, -(1 << 31), -(1 << 63))

GLOBALS = (("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
           ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_parameter"),
           ("torch", "FloatStorage"), ("torch", "DoubleStorage"), ("torch", "HalfStorage"),
           ("torch", "BFloat16Storage"), ("torch", "LongStorage"), ("torch", "ByteStorage"),
           ("os", "system"), ("builtins", "eval"), ("torch._utils", "_rebuild_qtensor"),
           ("torch", "Tensor"), ("collections", "defaultdict"), ("", ""))

STRINGS = ("storage", "module", "cpu", "cuda:0", "0", "1", "49", "", "x" * 300,
           "features.0.weight", "features.0.bias", "lin0.model.1.weight", "conv1.weight",
           "_metadata", "version", "little_endian", "\udcff", "ü")


def interesting_int(rng):
    if rng.random() < 0.7:
        return rng.choice(INTERESTING)
    return rng.randrange(-(1 << 33), 1 << 33)


# ---------------------------------------------------------------------------
# Seeds

class Seed(object):
    """A seed file: `kind` "zip" (then `members`, a list of [name, bytes])
    or "legacy" (`data`), and the converter checks it goes through."""

    def __init__(self, name, data, targets, weight=1):
        self.name = name
        self.data = data
        self.targets = targets
        self.weight = weight
        self.kind = "zip" if data[:4] == b"PK\x03\x04" else "legacy"
        if self.kind == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                self.members = [[i.filename, z.read(i)] for i in z.infolist()]
        else:
            self.spans = pickle_spans(data)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "seed.pth")
            with open(path, "wb") as f:
                f.write(data)
            try:
                index = torchpickle.inspect(path)
            except torchpickle.TorchFileError:
                index = {}
        # the reader reads these (a mutant's integer tensors are refused)
        self.floats = sorted(k for k, (_, dtype) in index.items() if dtype in FLOATS)


def pickle_spans(data):
    """(start, end) of the five pickles at the start of a legacy file."""
    spans = []
    f = io.BytesIO(data)
    for _ in range(5):
        start = f.tell()
        for op, _, pos in pickletools.genops(f):
            if op.name == "STOP":
                break
        spans.append((start, f.tell()))
    return spans


def zip_bytes(entries, **kw):
    with tempfile.TemporaryDirectory() as tmp:
        path = P.write_zip(os.path.join(tmp, "x.pth"), entries, **kw)
        with open(path, "rb") as f:
            return f.read()


def make_seeds():
    seeds = []
    lin = P.calibration(archs, "squeeze")
    seeds.append(Seed("lin-zip", zip_bytes(lin), [("calibration", "squeeze")]))
    seeds.append(Seed("lin-legacy", P.legacy_bytes(lin, pairs_list=True),
                      [("calibration", "squeeze")]))
    seeds.append(Seed("lin-old", P.legacy_bytes(P.calibration(archs, "alex"), old_style=True),
                      [("calibration", "alex")]))
    resnet = P.resnet_backbone(archs, "basic", (1,), fc=False)
    seeds.append(Seed("resnet5-zip", zip_bytes(resnet), [("backbone", "resnet5", "basic", "1")]))
    seeds.append(Seed("resnet5-legacy", P.legacy_bytes(resnet),
                      [("backbone", "resnet5", "basic", "1")]))
    base = P.Storage([0.25 * i for i in range(30)])
    views = [("a", P.Tensor(base, (5, 6))), ("t", P.Tensor(base, (6, 5), (1, 6))),
             ("s", P.Tensor(base, (2, 2), (6, 1), offset=17)),
             ("e", P.Tensor(P.Storage([1.0, 2.0]), (2, 3), (1, 0))),
             ("d", P.tensor([0.1, 1e300], (2,), "float64")),
             ("h", P.tensor([0.5, -65504.0], (2,), "float16")),
             ("i", P.tensor([7], (), "int64")),
             ("p", P.Tensor(P.Storage([1.0, 2.0, 3.0, 4.0]), (2, 2), parameter=True))]
    meta = {"": {"version": 1}, "a": {"version": 2}}
    seeds.append(Seed("views-zip", zip_bytes(views, metadata=meta), []))
    seeds.append(Seed("views-big", zip_bytes(views, byteorder="big"), []))
    seeds.append(Seed("views-legacy", P.legacy_bytes(views, metadata=meta), []))
    seeds.append(Seed("views-be", P.legacy_bytes(views, little_endian=False, count_order=">",
                                                 data_order="big"), []))
    for name in ("zip", "legacy", "legacy-old", "malicious-os-system"):
        with open(os.path.join(wtest.FIXTURES, name + ".pth"), "rb") as f:
            seeds.append(Seed("fixture-" + name, f.read(), []))
    mirror = wtest.real_weights()
    if mirror is not None:
        for version in ("v0.1", "v0.0"):
            for network in ("squeeze", "alex", "vgg"):
                path = os.path.join(mirror, "lpips", version, network + ".pth")
                with open(path, "rb") as f:
                    seeds.append(Seed("real-%s-%s" % (version, network), f.read(),
                                      [("calibration", network)], weight=2))
        with open(os.path.join(mirror, "torchvision", "squeezenet1_1-features.pth"), "rb") as f:
            full = Seed("real-squeezenet", f.read(), [("backbone", "squeeze", None, None)])
        seeds.append(full)
        cropped = Seed("real-squeezenet-cropped", full.data, [], weight=4)
        cropped.members = [m for m in cropped.members if len(m[1]) <= 16384]
        cropped.data = pack_zip(cropped.members)[0]
        seeds.append(cropped)
    return seeds


# ---------------------------------------------------------------------------
# Zip archives, field by field

def pack_zip(members):
    """(archive bytes, numeric fields) for `members`: lists [name, data] with
    an optional options dict: method (0 or 8), crc, size, local_size.  A
    field is (offset, width, label) in the archive."""
    out = io.BytesIO()
    central = io.BytesIO()
    fields = []
    offsets = []
    for member in members:
        name, data = member[0], member[1]
        opts = member[2] if len(member) > 2 else {}
        raw = name.encode("utf-8", "surrogateescape")
        method = opts.get("method", 0)
        stored = data
        if method == 8 and "stream" not in opts:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            stored = c.compress(data) + c.flush()
        elif "stream" in opts:
            stored = opts["stream"]
        crc = opts.get("crc", zlib.crc32(data))
        size = opts.get("size", len(data))
        at = out.tell()
        offsets.append(at)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc,
                              len(stored), opts.get("local_size", size), len(raw), 0))
        for off, width, label in ((6, 2, "flags"), (8, 2, "method"), (14, 4, "crc"),
                                  (18, 4, "csize"), (22, 4, "size"), (26, 2, "name_len"),
                                  (28, 2, "extra_len")):
            fields.append((at + off, width, "local " + label))
        out.write(raw)
        out.write(stored)
        cat = central.tell()
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0,
                                  0x21, crc, len(stored), size, len(raw), 0, 0, 0, 0, 0, at))
        central.write(raw)
        for off, width, label in ((8, 2, "flags"), (10, 2, "method"), (16, 4, "crc"),
                                  (20, 4, "csize"), (24, 4, "size"), (28, 2, "name_len"),
                                  (30, 2, "extra_len"), (32, 2, "comment_len"),
                                  (42, 4, "offset")):
            fields.append((-(cat + off) - 1, width, "central " + label))
    start = out.tell()
    directory = central.getvalue()
    fields = [(f if f >= 0 else start + (-f - 1), w, l) for f, w, l in fields]
    out.write(directory)
    end = out.tell()
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                          len(directory), start, 0))
    for off, width, label in ((8, 2, "entries on disk"), (10, 2, "entries"),
                              (12, 4, "directory size"), (16, 4, "directory offset"),
                              (20, 2, "comment length")):
        fields.append((end + off, width, "end " + label))
    return out.getvalue(), fields


# ---------------------------------------------------------------------------
# Pickle mutations

def ops_of(data):
    """[(start, end, opcode name)] of the ops of the pickle `data`, as far
    as they parse."""
    ops = []
    f = io.BytesIO(data)
    try:
        prev = None
        for op, arg, pos in pickletools.genops(f):
            if prev is not None:
                ops.append((prev[0], pos, prev[1]))
            prev = (pos, op.name)
            if op.name == "STOP":
                ops.append((pos, f.tell(), "STOP"))
                break
    except Exception:
        pass
    return ops


def str_op(rng, text=None):
    text = rng.choice(STRINGS) if text is None else text
    raw = text.encode("utf-8", "surrogatepass")
    choice = rng.randrange(4)
    if choice == 0 and len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    if choice == 1 and len(raw) < 256:
        return b"U" + bytes([len(raw)]) + raw
    if choice == 2:
        return b"C" + bytes([len(raw) & 255]) + raw[:255]
    return b"X" + struct.pack("<I", len(raw)) + raw


def int_op(rng, value=None):
    value = interesting_int(rng) if value is None else value
    if 0 <= value < 256 and rng.random() < 0.5:
        return b"K" + bytes([value])
    if 0 <= value < 65536 and rng.random() < 0.5:
        return b"M" + struct.pack("<H", value)
    if -(1 << 31) <= value < (1 << 31) and rng.random() < 0.7:
        return b"J" + struct.pack("<i", value)
    n = max(1, (value.bit_length() + 8) // 8)
    return b"\x8a" + bytes([n]) + value.to_bytes(n, "little", signed=True)


def random_op(rng):
    r = rng.randrange(12)
    if r < 4:
        return rng.choice((b"(", b")", b"]", b"}", b"N", b"\x88", b"\x89", b"t", b"l", b"d",
                           b"e", b"a", b"s", b"u", b"R", b"b", b"Q", b"0", b"1", b"2", b"\x85",
                           b"\x86", b"\x87", b"\x94", b"\x93", b"\x81", b".", b"o", b"\x8f",
                           b"\x90", b"\x91", b"\x92", b"\x97", b"\x98", b"P0\n", b"\x82\x01",
                           b"I01\n", b"I7\n", b"L12345678901234567890L\n", b"F1e308\n",
                           b"G" + struct.pack(">d", float("nan")), b"S'abc'\n", b"V\\u1234\n",
                           b"g0\n", b"p0\n", b"\x80\x02", b"\x80\x09",
                           b"\x95" + struct.pack("<Q", rng.randrange(1 << 20))))
    if r < 6:
        return int_op(rng)
    if r < 8:
        return str_op(rng)
    if r < 10:
        index = rng.choice((0, 1, 2, 5, 50, 255, rng.randrange(1 << 21), (1 << 20) + 1))
        if index < 256 and rng.random() < 0.6:
            return rng.choice((b"h", b"q")) + bytes([index])
        return rng.choice((b"j", b"r")) + struct.pack("<I", index & 0xFFFFFFFF)
    module, name = rng.choice(GLOBALS)
    if rng.random() < 0.8:
        return b"c" + module.encode() + b"\n" + name.encode() + b"\n"
    return str_op(rng, module) + str_op(rng, name) + b"\x93"


def amplifier(rng, limit):
    """Ops that build something large from few bytes, at most `limit` long."""
    r = rng.randrange(6)
    if r == 0:      # exponential graph of shared references (list or tuple)
        kind = rng.choice((b"l", b"t"))
        base = rng.choice((1000, 300000))
        levels = rng.randrange(10, 90)
        ops = bytearray(b"]" if kind == b"l" else b")") + b"r" + struct.pack("<I", base) + b"0"
        for i in range(1, levels):
            get = b"j" + struct.pack("<I", base + i - 1)
            ops += b"(" + get + get + kind + b"r" + struct.pack("<I", base + i) + b"0"
        return bytes(ops + b"j" + struct.pack("<I", base + levels - 1))
    if r == 1:      # deep nesting
        n = rng.randrange(1, max(2, min(limit // 2, 300000)))
        return b"]" * n + b"a" * (n - 1)
    if r == 2:      # a cycle
        return b"]2a"
    if r == 3:      # many marks
        return b"(" * rng.randrange(1, max(2, min(limit, 200000)))
    if r == 4:      # a long run of cheap ops
        return b"N0" * rng.randrange(1, max(2, limit // 2))
    n = rng.randrange(1, max(2, min(limit // 6, 100000)))   # many memo entries
    return b"N" + b"".join(b"r" + struct.pack("<I", i) for i in range(n)) + b"0"


def mutate_pickle(rng, data, log):
    """One opcode-aware change of the pickle `data`."""
    ops = ops_of(data)
    if not ops:
        log.append("pickle: unparsable, random op appended")
        return data + random_op(rng)
    i = rng.randrange(len(ops))
    start, end, name = ops[i]
    r = rng.randrange(11)
    if r == 0:
        log.append("pickle: delete op %d (%s)" % (i, name))
        return data[:start] + data[end:]
    if r == 1:
        log.append("pickle: duplicate op %d (%s)" % (i, name))
        return data[:end] + data[start:end] + data[end:]
    if r == 2:
        j = rng.randrange(len(ops))
        a, b = sorted((i, j))
        if a == b:
            return data
        (s1, e1, _), (s2, e2, _) = ops[a], ops[b]
        log.append("pickle: swap ops %d and %d" % (a, b))
        return data[:s1] + data[s2:e2] + data[e1:s2] + data[s1:e1] + data[e2:]
    if r == 3:
        op = random_op(rng)
        log.append("pickle: replace op %d (%s) by %r" % (i, name, op[:20]))
        return data[:start] + op + data[end:]
    if r == 4:
        op = random_op(rng)
        log.append("pickle: insert %r before op %d" % (op[:20], i))
        return data[:start] + op + data[start:]
    if r == 5:      # an integer argument
        ints = [k for k, o in enumerate(ops) if o[2] in ("BININT", "BININT1", "BININT2",
                                                          "LONG1", "INT")]
        if ints:
            k = rng.choice(ints)
            s, e, n = ops[k]
            op = int_op(rng)
            log.append("pickle: integer op %d (%s) -> %r" % (k, n, op))
            return data[:s] + op + data[e:]
    if r == 6:      # a length field, the data left as they are
        strs = [k for k, o in enumerate(ops) if o[2] in (
            "BINUNICODE", "SHORT_BINUNICODE", "BINSTRING", "SHORT_BINSTRING", "BINBYTES",
            "SHORT_BINBYTES", "BINUNICODE8", "BINBYTES8")]
        if strs:
            k = rng.choice(strs)
            s, e, n = ops[k]
            width = {"SHORT_BINUNICODE": 1, "SHORT_BINSTRING": 1, "SHORT_BINBYTES": 1,
                     "BINUNICODE8": 8, "BINBYTES8": 8}.get(n, 4)
            value = interesting_int(rng) & ((1 << (8 * width)) - 1)
            log.append("pickle: length of op %d (%s) -> %d" % (k, n, value))
            return data[:s + 1] + value.to_bytes(width, "little") + data[s + 1 + width:]
    if r == 7:      # a memo index
        memo = [k for k, o in enumerate(ops) if o[2] in ("BINGET", "BINPUT", "LONG_BINGET",
                                                          "LONG_BINPUT")]
        if memo:
            k = rng.choice(memo)
            s, e, n = ops[k]
            width = 1 if n in ("BINGET", "BINPUT") else 4
            value = rng.choice((0, 1, rng.randrange(256), rng.randrange(1 << 32)))
            value &= (1 << (8 * width)) - 1
            log.append("pickle: memo index of op %d (%s) -> %d" % (k, n, value))
            return data[:s + 1] + value.to_bytes(width, "little") + data[s + 1 + width:]
    if r == 8:      # a global or a string
        named = [k for k, o in enumerate(ops) if o[2] in ("GLOBAL", "BINUNICODE",
                                                           "SHORT_BINUNICODE", "BINSTRING",
                                                           "SHORT_BINSTRING")]
        if named:
            k = rng.choice(named)
            s, e, n = ops[k]
            if n == "GLOBAL":
                module, gname = rng.choice(GLOBALS)
                op = b"c" + module.encode() + b"\n" + gname.encode() + b"\n"
            else:
                op = str_op(rng)
            log.append("pickle: op %d (%s) -> %r" % (k, n, op[:40]))
            return data[:s] + op + data[e:]
    if r == 9:      # repeat a span of ops
        j = min(len(ops) - 1, i + rng.randrange(1, 8))
        span = data[start:ops[j][1]]
        times = rng.choice((2, 3, 10, 100, 1000))
        log.append("pickle: repeat ops %d..%d %d times" % (i, j, times))
        return data[:start] + span * times + data[start:]
    op = amplifier(rng, 1 << 20 if rng.random() < 0.1 else 1 << 16)
    log.append("pickle: insert amplifier of %d bytes before op %d" % (len(op), i))
    return data[:start] + op + data[start:]


# ---------------------------------------------------------------------------
# Byte, zip and legacy mutations

def mutate_bytes(rng, data, log, seeds):
    data = bytearray(data)
    if not data:
        return bytes([rng.randrange(256)])
    r = rng.randrange(8)
    pos = rng.randrange(len(data))
    if r == 0:
        n = rng.choice((1, 1, 2, 8))
        for _ in range(n):
            p = rng.randrange(len(data))
            data[p] ^= 1 << rng.randrange(8)
        log.append("bytes: %d bit flips" % n)
    elif r == 1:
        width = rng.choice((1, 2, 4, 8))
        value = interesting_int(rng) & ((1 << (8 * width)) - 1)
        order = rng.choice(("little", "big"))
        data[pos:pos + width] = value.to_bytes(width, order)
        log.append("bytes: %d at %d (%d bytes, %s)" % (value, pos, width, order))
    elif r == 2:
        n = rng.choice((1, 4, 64, 1024))
        data[pos:pos] = bytes(rng.randrange(256) for _ in range(n))
        log.append("bytes: insert %d at %d" % (n, pos))
    elif r == 3:
        n = rng.randrange(1, min(len(data) - pos, 4096) + 1)
        del data[pos:pos + n]
        log.append("bytes: delete %d at %d" % (n, pos))
    elif r == 4:
        n = rng.randrange(1, min(len(data) - pos, 4096) + 1)
        data[pos:pos] = data[pos:pos + n]
        log.append("bytes: duplicate %d at %d" % (n, pos))
    elif r == 5:
        data = data[:pos]
        log.append("bytes: truncate at %d" % pos)
    elif r == 6:
        other = rng.choice(seeds).data
        a = rng.randrange(len(other))
        n = rng.randrange(1, min(len(other) - a, 4096) + 1)
        data[pos:pos + n] = other[a:a + n]
        log.append("bytes: splice %d bytes from another seed at %d" % (n, pos))
    else:
        n = rng.choice((1, 100, 5000))
        data += bytes(rng.randrange(256) for _ in range(n))
        log.append("bytes: append %d" % n)
    return bytes(data)


def mutate_zip(rng, seed, log):
    """The seed's archive rebuilt with mutated members, then maybe with a
    numeric field changed."""
    members = [list(m) for m in seed.members]
    pickles = [k for k, m in enumerate(members) if m[0].endswith("data.pkl")]
    r = rng.randrange(10)
    if r < 5 and pickles:
        k = pickles[0]
        for _ in range(rng.choice((1, 1, 2, 3))):
            members[k][1] = mutate_pickle(rng, members[k][1], log)
    elif r == 5:
        k = rng.randrange(len(members))
        members[k][1] = mutate_bytes(rng, members[k][1], log, [seed])
        log.append("zip: (in member %s)" % members[k][0])
    elif r == 6:
        k = rng.randrange(len(members))
        what = rng.randrange(4)
        if what == 0:
            log.append("zip: drop member %s" % members[k][0])
            del members[k]
        elif what == 1:
            log.append("zip: duplicate member %s" % members[k][0])
            members.insert(k, list(members[k]))
        elif what == 2:
            name = members[k][0]
            new = rng.choice(("other/" + name.split("/", 1)[-1], name + "x", "data.pkl",
                              name.replace("/", "//"), "a/b/" + name))
            log.append("zip: rename %s to %s" % (name, new))
            members[k][0] = new
        else:
            log.append("zip: deflate member %s" % members[k][0])
            members[k].append({"method": 8})
    elif r == 7:    # a storage of deflated zeros with true or lying sizes
        k = rng.randrange(len(members))
        nbytes = rng.choice((1 << 20, 16 << 20, 256 << 20, 1 << 30))
        stream, crc = zeros_stream(nbytes)
        declared = rng.choice((nbytes, len(members[k][1]), nbytes // 2, nbytes + 4))
        log.append("zip: member %s -> %d deflated zero bytes declared as %d"
                   % (members[k][0], nbytes, declared))
        members[k] = [members[k][0], b"", {"method": 8, "stream": stream, "crc": crc,
                                            "size": declared & 0xFFFFFFFF}]
    else:
        k = rng.randrange(len(members))
        opts = {"method": 8} if rng.random() < 0.3 else {}
        key = rng.choice(("crc", "size", "local_size"))
        opts[key] = interesting_int(rng) & 0xFFFFFFFF
        log.append("zip: member %s with %s %d" % (members[k][0], key, opts[key]))
        members[k].append(opts)
    data, fields = pack_zip(members)
    if rng.random() < 0.3:
        off, width, label = rng.choice(fields)
        value = interesting_int(rng) & ((1 << (8 * width)) - 1)
        if label.endswith("method"):
            value = rng.choice((0, 8, 12, 14, 99, 1))
        elif label.endswith("flags"):
            value = rng.choice((0, 1, 8, 0x800, 0x41, 0xFFFF))
        log.append("zip: field %s at %d -> %d" % (label, off, value))
        data = data[:off] + value.to_bytes(width, "little") + data[off + width:]
    return data


_ZEROS = {}


def zeros_stream(nbytes):
    if nbytes not in _ZEROS:
        _ZEROS[nbytes] = P.deflated_zeros(nbytes)
    return _ZEROS[nbytes]


def mutate_legacy(rng, seed, log):
    data = seed.data
    spans = seed.spans
    r = rng.randrange(10)
    if r < 6:
        k = 3 if rng.random() < 0.7 else rng.randrange(5)
        start, end = spans[k]
        piece = data[start:end]
        for _ in range(rng.choice((1, 1, 2, 3))):
            piece = mutate_pickle(rng, piece, log)
        log.append("legacy: (in record %d)" % k)
        return data[:start] + piece + data[end:]
    if r < 8:       # a storage's element count
        pos = spans[4][1]
        counts = []
        while pos + 8 <= len(data) and len(counts) < 64:
            counts.append(pos)
            n = struct.unpack("<q", data[pos:pos + 8])[0]
            if n < 0 or n > len(data):
                break
            pos += 8 + n * 4            # float32 seeds; others just misalign
        if counts:
            at = rng.choice(counts)
            value = interesting_int(rng)
            log.append("legacy: element count at %d -> %d" % (at, value))
            return data[:at] + struct.pack("<q", max(-(1 << 63), min(value, (1 << 63) - 1))) \
                + data[at + 8:]
    return mutate_bytes(rng, data, log, [seed])


def mutant(seeds, seed_number, index):
    """(seed, bytes, description) of mutant `index` of run `seed_number`."""
    rng = random.Random("%d/%d" % (seed_number, index))
    total = sum(s.weight for s in seeds)
    pick = rng.randrange(total)
    for seed in seeds:
        pick -= seed.weight
        if pick < 0:
            break
    log = []
    data = seed.data
    count = rng.choice((1, 1, 1, 2, 3))
    for n in range(count):
        r = rng.random()
        if n == 0 and seed.kind == "zip" and r < 0.75:
            data = mutate_zip(rng, seed, log)
        elif n == 0 and seed.kind == "legacy" and r < 0.75:
            data = mutate_legacy(rng, seed, log)
        else:
            data = mutate_bytes(rng, data, log, seeds)
    return seed, data, log


# ---------------------------------------------------------------------------
# Running a mutant

def targets_of(seed, index=0):
    """reader (torchpickle.load of the seed's float tensors), every 4th
    mutant inspect (torchpickle.inspect), then the seed's converter checks."""
    return (["reader:" + ",".join(seed.floats)] + (["inspect"] if index % 4 == 0 else [])
            + [":".join(str(x) for x in t if x is not None) for t in seed.targets])


def execute(path, targets):
    """Run `path` through `targets`; a JSON-able outcome."""
    results = []
    for target in targets:
        try:
            if target.startswith("reader:"):
                torchpickle.load(path, select=target[len("reader:"):].split(","))
            elif target == "inspect":
                torchpickle.inspect(path)
            else:
                parts = target.split(":")
                if parts[0] == "backbone":
                    block = parts[2] if len(parts) > 2 else None
                    blocks = parts[3] if len(parts) > 3 else None
                    convert.read_backbone(parts[1], path, block, blocks)
                else:
                    convert.read_calibration(parts[1], path)
            results.append({"target": target, "status": "ok"})
        except (torchpickle.TorchFileError, convert.ConvertError) as e:
            message = str(e)
            status = "refused"
            if not message.startswith(path + ": ") or len(message) > MESSAGE_LIMIT:
                status = "unclear message"
            results.append({"target": target, "status": status,
                            "message": message[:MESSAGE_LIMIT + 100]})
        except MemoryError:
            return results + [{"target": target, "status": "MemoryError",
                               "message": traceback.format_exc()[-3000:]}]
        except BaseException as e:
            return results + [{"target": target, "status": type(e).__name__,
                               "message": traceback.format_exc()[-3000:]}]
    return results


def run_child(path, targets, time_limit=TIME_LIMIT, memory=MEMORY):
    """The outcome of execute() in a forked child under the limits, or a
    finding for a timeout or a crash.  Returns (outcome list, seconds)."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            cpu = int(time_limit) + 2
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            outcome = execute(path, targets)
            data = json.dumps(outcome).encode("utf-8", "replace")
        except BaseException:
            data = json.dumps([{"target": "child", "status": "harness error",
                                "message": traceback.format_exc()[-3000:]}]).encode()
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    timed_out = False
    with os.fdopen(r, "rb", buffering=0) as pipe:
        while True:
            left = start + time_limit - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([pipe], [], [], left)
            if not ready:
                continue
            chunk = pipe.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - start
    if timed_out:
        return [{"target": "?", "status": "timeout",
                 "message": "no result after %.1f s" % time_limit}], seconds
    if os.WIFSIGNALED(status):
        return [{"target": "?", "status": "crash",
                 "message": "killed by signal %d" % os.WTERMSIG(status)}], seconds
    try:
        return json.loads(b"".join(chunks).decode("utf-8")), seconds
    except ValueError:
        return [{"target": "?", "status": "crash", "message": "no outcome"}], seconds


def findings_of(outcome):
    return [o for o in outcome if o["status"] not in ("ok", "refused")]


def normalise(message, path):
    message = message.replace(path, "FILE")
    return re.sub(r"[0-9a-f]{16,}|\d+", "N", message)[:160]


# ---------------------------------------------------------------------------
# The campaign

def campaign(seconds, seed_number, work, report):
    seeds = make_seeds()
    report("fuzz: seed %d, %d s, %d seed files (%s), limits %d MiB and %.0f s per mutant"
           % (seed_number, seconds, len(seeds), ", ".join(s.name for s in seeds),
              MEMORY >> 20, TIME_LIMIT))
    report("fuzz: replay a mutant with: %s --seed %d --index N" % (sys.argv[0], seed_number))
    stats = collections.Counter()
    messages = collections.Counter()
    per_seed = collections.Counter()
    slowest = (0.0, None)
    found = []
    findings_dir = None
    start = time.monotonic()
    last_report = start
    index = 0
    path_of = {}
    while time.monotonic() - start < seconds:
        seed, data, log = mutant(seeds, seed_number, index)
        path = path_of.setdefault(seed.name, os.path.join(work, "%s.pth" % seed.name))
        with open(path, "wb") as f:
            f.write(data)
        targets = targets_of(seed, index)
        outcome, took = run_child(path, targets)
        per_seed[seed.name] += 1
        if took > slowest[0]:
            slowest = (took, index)
        for o in outcome:
            stats[o["status"]] += 1
            if o["status"] == "refused":
                messages[normalise(o["message"], path)] += 1
        bad = findings_of(outcome)
        if bad:
            if findings_dir is None:
                findings_dir = tempfile.mkdtemp(prefix="fuzz-pth-findings-")
                report("fuzz: findings are saved in %s" % findings_dir)
            name = os.path.join(findings_dir, "%06d-%s" % (index, seed.name))
            shutil.copyfile(path, name + ".pth")
            with open(name + ".txt", "w") as f:
                f.write("seed %d index %d, from %s, %d bytes\nmutations:\n  %s\ntargets: %s\n"
                        "outcome:\n%s\n" % (seed_number, index, seed.name, len(data),
                                            "\n  ".join(log), ", ".join(targets),
                                            json.dumps(outcome, indent=1)))
            found.append((index, seed.name, bad[0]["status"], bad[0]["target"]))
            report("fuzz: FINDING %d (%s, %s) in %s: %s" % (
                index, seed.name, bad[0]["target"], bad[0]["status"],
                bad[0]["message"].strip().splitlines()[-1][:200]))
        index += 1
        now = time.monotonic()
        if now - last_report >= 30:
            last_report = now
            report("fuzz: %d mutants in %.0f s (%.0f/s), %d findings"
                   % (index, now - start, index / (now - start), len(found)))
    elapsed = time.monotonic() - start
    report("fuzz: %d mutants in %.1f s (%.0f/s), %d runs through reader and converter "
           "checks: %s" % (index, elapsed, index / elapsed, sum(stats.values()),
                           ", ".join("%s %d" % kv for kv in sorted(stats.items()))))
    report("fuzz: slowest mutant %.2f s (index %s); mutants per seed: %s"
           % (slowest[0], slowest[1], ", ".join("%s %d" % kv for kv in sorted(per_seed.items()))))
    report("fuzz: %d distinct refusals; the most frequent:" % len(messages))
    for message, count in messages.most_common(12):
        report("  %6d  %s" % (count, message))
    if found:
        report("fuzz: %d findings, saved in %s" % (len(found), findings_dir))
    else:
        report("fuzz: no findings")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get(SECONDS_ENV) or DEFAULT_SECONDS))
    parser.add_argument("--seed", type=int, default=int(os.environ.get(SEED_ENV) or DEFAULT_SEED))
    parser.add_argument("--index", type=int, help="replay mutant INDEX of --seed")
    parser.add_argument("--replay", metavar="FILE", help="run a saved mutant")
    parser.add_argument("--target", action="append",
                        help="with --replay: inspect, reader:NAME,NAME,..., "
                             "backbone:NETWORK[:BLOCK:BLOCKS] or calibration:NETWORK (default: "
                             "inspect); may be repeated")
    args = parser.parse_args(argv)

    def report(line):
        print(line)
        sys.stdout.flush()

    if args.replay:
        outcome, took = run_child(args.replay, args.target or ["inspect"])
        print(json.dumps(outcome, indent=1))
        return 1 if findings_of(outcome) else 0
    work = tempfile.mkdtemp(prefix="fuzz-pth-")
    try:
        if args.index is not None:
            seeds = make_seeds()
            seed, data, log = mutant(seeds, args.seed, args.index)
            path = os.path.join(work, "%s.pth" % seed.name)
            with open(path, "wb") as f:
                f.write(data)
            print("mutant %d of seed %d, from %s:\n  %s" % (args.index, args.seed, seed.name,
                                                            "\n  ".join(log)))
            outcome, took = run_child(path, targets_of(seed, args.index))
            print(json.dumps(outcome, indent=1))
            return 1 if findings_of(outcome) else 0
        found = campaign(args.seconds, args.seed, work, report)
        return 1 if found else 0
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
