"""Writes PyTorch-style .pth files without torch, for the tests.

The pickles are assembled opcode by opcode, so that the tests can produce
both well-formed files (checked against torch by make-fixtures.py) and
deliberately broken or hostile ones.
"""

import array
import collections
import io
import struct
import sys
import zipfile
import zlib

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

DTYPES = {
    # name: (storage class, struct code, element size)
    "float32": ("FloatStorage", "f", 4),
    "float64": ("DoubleStorage", "d", 8),
    "float16": ("HalfStorage", "e", 2),
    "int64": ("LongStorage", "q", 8),
}


class Pickle(object):
    """A protocol 2 pickle written opcode by opcode."""

    def __init__(self, proto=2):
        self.out = io.BytesIO()
        self.out.write(b"\x80" + bytes([proto]))

    def raw(self, data):
        self.out.write(data)
        return self

    def glob(self, module, name):
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def mark(self):
        return self.raw(b"(")

    def tuple(self):
        return self.raw(b"t")

    def empty_tuple(self):
        return self.raw(b")")

    def reduce(self):
        return self.raw(b"R")

    def build(self):
        return self.raw(b"b")

    def none(self):
        return self.raw(b"N")

    def bool(self, value):
        return self.raw(b"\x88" if value else b"\x89")

    def int(self, value):
        if -(1 << 31) <= value < (1 << 31):
            return self.raw(b"J" + struct.pack("<i", value))
        data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
        return self.raw(b"\x8a" + bytes([len(data)]) + data)

    def str(self, value, py2=False):
        data = value.encode("utf-8")
        if py2 and len(data) < 256:
            return self.raw(b"U" + bytes([len(data)]) + data)  # SHORT_BINSTRING
        return self.raw(b"X" + struct.pack("<I", len(data)) + data)

    def empty_dict(self):
        return self.raw(b"}")

    def setitems(self):
        return self.raw(b"u")

    def empty_list(self):
        return self.raw(b"]")

    def appends(self):
        return self.raw(b"e")

    def persid(self):
        return self.raw(b"Q")

    def ints(self, values):
        self.mark()
        for v in values:
            self.int(v)
        return self.tuple()

    def stop(self):
        return self.raw(b".").out.getvalue()


class Storage(object):
    def __init__(self, values, dtype="float32", key=None):
        self.values = values if isinstance(values, array.array) else list(values)
        self.dtype = dtype
        self.key = key
        self.numel = len(self.values)

    def data(self, byteorder="little"):
        code = DTYPES[self.dtype][1]
        if isinstance(self.values, array.array) and self.values.typecode == code:
            a = array.array(code, self.values)
            if byteorder != sys.byteorder:
                a.byteswap()
            return a.tobytes()
        order = "<" if byteorder == "little" else ">"
        return struct.pack("%s%d%s" % (order, len(self.values), code), *self.values)


class Tensor(object):
    """A view of `storage`; contiguous by default."""

    def __init__(self, storage, shape, stride=None, offset=0, parameter=False):
        self.storage = storage
        self.shape = tuple(shape)
        if stride is None:
            stride, n = [], 1
            for d in reversed(self.shape):
                stride.insert(0, n)
                n *= d
        self.stride = tuple(stride)
        self.offset = offset
        self.parameter = parameter


def tensor(values, shape=None, dtype="float32"):
    values = list(values)
    return Tensor(Storage(values, dtype), (len(values),) if shape is None else shape)


def _storages(entries):
    keys = collections.OrderedDict()
    for _, value in entries:
        if isinstance(value, Tensor) and id(value.storage) not in keys:
            keys[id(value.storage)] = value.storage
    out = collections.OrderedDict()
    for i, storage in enumerate(keys.values()):
        out[storage.key if storage.key is not None else str(i)] = storage
    return out


def _key_of(storages, storage):
    for key, s in storages.items():
        if s is storage:
            return key
    raise KeyError


def state_dict_pickle(entries, legacy=False, old_style=False, location="cpu",
                      pairs_list=False, metadata=None, views=None):
    """The pickle of an OrderedDict of `entries` ((name, Tensor or plain
    value) pairs).  old_style: `_rebuild_tensor` and Python 2 strings, as in
    the LPIPS v0.0 files; pairs_list: OrderedDict([[k, v], ...]) as in the
    v0.1 files; views: storage -> (view key, offset, numel) for legacy
    storage views."""
    storages = _storages(entries)
    p = Pickle()
    py2 = old_style

    def put(value):
        if isinstance(value, Tensor):
            if value.parameter:
                p.glob("torch._utils", "_rebuild_parameter").mark()
            p.glob("torch._utils", "_rebuild_tensor" if old_style else "_rebuild_tensor_v2")
            p.mark()
            p.mark().str("storage", py2)
            p.glob("torch", DTYPES[value.storage.dtype][0])
            p.str(_key_of(storages, value.storage), py2).str(location, py2)
            p.int(value.storage.numel)
            if legacy:
                view = (views or {}).get(id(value.storage))
                if view is None:
                    p.none()
                else:
                    p.mark().str(view[0], py2).int(view[1]).int(view[2]).tuple()
            p.tuple().persid()
            p.int(value.offset).ints(value.shape).ints(value.stride)
            if not old_style:
                p.bool(False)
                p.glob("collections", "OrderedDict").empty_tuple().reduce()
            p.tuple().reduce()
            if value.parameter:
                p.bool(True)
                p.glob("collections", "OrderedDict").empty_tuple().reduce()
                p.tuple().reduce()
        elif isinstance(value, str):
            p.str(value, py2)
        elif isinstance(value, bool) or value is None:
            p.none() if value is None else p.bool(value)
        elif isinstance(value, int):
            p.int(value)
        elif isinstance(value, dict):
            p.empty_dict()
            if value:
                p.mark()
                for k, v in value.items():
                    put(k)
                    put(v)
                p.setitems()
        else:
            raise TypeError(type(value))

    p.glob("collections", "OrderedDict")
    if pairs_list:
        p.empty_list().mark()
        for name, value in entries:
            p.empty_list().mark().str(name, py2)
            put(value)
            p.appends()
        p.appends().raw(b"\x85").reduce()  # TUPLE1
    else:
        p.empty_tuple().reduce()
        if entries:
            p.mark()
            for name, value in entries:
                p.str(name, py2)
                put(value)
            p.setitems()
    if metadata is not None:
        # state dicts carry a `_metadata` attribute, restored by BUILD
        p.empty_dict().str("_metadata")
        put(metadata)
        p.raw(b"s").build()  # SETITEM, BUILD
    return p.stop(), storages


def write_zip(path, entries, prefix="archive", byteorder="little", metadata=None,
              omit=(), truncate=None, pickle_bytes=None):
    """A zip-format file.  omit: storage keys to leave out; truncate: key ->
    number of bytes to keep; pickle_bytes: replaces data.pkl."""
    data, storages = state_dict_pickle(entries, metadata=metadata)
    if pickle_bytes is not None:
        data = pickle_bytes
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(prefix + "/data.pkl", data)
        if byteorder is not None:
            z.writestr(prefix + "/byteorder", byteorder)
        for key, storage in storages.items():
            if key in omit:
                continue
            blob = storage.data(byteorder or "little")
            if truncate and key in truncate:
                blob = blob[:truncate[key]]
            z.writestr(prefix + "/data/" + key, blob)
        z.writestr(prefix + "/version", "3\n")
    return path


def deflated_zeros(nbytes):
    """(raw deflate stream, CRC-32) of `nbytes` zero bytes, `nbytes` a
    multiple of 1 MiB.  The stream repeats one full-flush block of 1 MiB, so a
    gigabyte costs a second instead of the compression of a gigabyte."""
    chunk = bytes(1 << 20)
    if nbytes % len(chunk):
        raise ValueError("deflated_zeros: %d is not a multiple of 1 MiB" % nbytes)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(nbytes // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return block * (nbytes // len(chunk)) + zlib.compressobj(9, zlib.DEFLATED, -15).flush(), crc


def write_raw_zip(path, members):
    """A zip archive written field by field (not with zipfile), so that a
    member's declared sizes, CRC or method can lie.  `members` are dicts:
    name, data (the bytes stored in the archive) and optionally method (0
    stored, 8 deflated), crc and size (the uncompressed size; both default
    to those of `data`), and local_size, the size in the local header."""
    out = io.BytesIO()
    central = io.BytesIO()
    for m in members:
        name = m["name"].encode("utf-8")
        data = m["data"]
        size = m.get("size", len(data))
        crc = m.get("crc", zlib.crc32(data))
        method = m.get("method", 0)
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc,
                              len(data), m.get("local_size", size), len(name), 0))
        out.write(name)
        out.write(data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                                  crc, len(data), size, len(name), 0, 0, 0, 0, 0, offset))
        central.write(name)
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                          len(directory), start, 0))
    with open(path, "wb") as f:
        f.write(out.getvalue())
    return path


def zip_members(entries, prefix="archive"):
    """The members of a zip-format file of `entries`, for write_raw_zip: a
    dict name -> member dict, in file order (data.pkl, byteorder, data/...)."""
    data, storages = state_dict_pickle(entries)
    members = collections.OrderedDict()
    members["data.pkl"] = {"name": prefix + "/data.pkl", "data": data}
    members["byteorder"] = {"name": prefix + "/byteorder", "data": b"little"}
    for key, storage in storages.items():
        members[key] = {"name": prefix + "/data/" + key, "data": storage.data()}
    members["version"] = {"name": prefix + "/version", "data": b"3\n"}
    return members


def plain_pickle(value):
    import pickle
    return pickle.dumps(value, protocol=2)


def legacy_bytes(entries, old_style=False, location="cpu", pairs_list=False, metadata=None,
                 little_endian=True, count_order="<", data_order="little", views=None,
                 pickle_bytes=None, keys=None):
    data, storages = state_dict_pickle(entries, legacy=True, old_style=old_style,
                                       location=location, pairs_list=pairs_list,
                                       metadata=metadata, views=views)
    if pickle_bytes is not None:
        data = pickle_bytes
    out = io.BytesIO()
    out.write(plain_pickle(MAGIC_NUMBER))
    out.write(plain_pickle(PROTOCOL_VERSION))
    out.write(plain_pickle({"protocol_version": PROTOCOL_VERSION, "little_endian": little_endian,
                            "type_sizes": {"short": 2, "int": 4, "long": 8}}))
    out.write(data)
    order = sorted(storages) if keys is None else keys
    out.write(plain_pickle(order))
    for key in order:
        storage = storages[key]
        out.write(struct.pack(count_order + "q", storage.numel))
        out.write(storage.data(data_order))
    return out.getvalue()


def write_legacy(path, entries, **kwargs):
    with open(path, "wb") as f:
        f.write(legacy_bytes(entries, **kwargs))
    return path


def filled(shape, value):
    """A contiguous float32 tensor of `shape` whose values start at `value`
    and repeat a short ramp (cheap to make even for big shapes)."""
    n = 1
    for d in shape:
        n *= d
    ramp = array.array("f", [value + 0.001 * k for k in range(7)])
    values = (ramp * (n // 7 + 1))[:n]
    return Tensor(Storage(values, "float32"), shape)


def squeeze_backbone(archs, scale=1.0, extra=True):
    """(name, Tensor) entries of a SqueezeNet 1.1 state dict with made-up values."""
    entries = []
    for i, (name, shape) in enumerate(archs.backbone_tensors("squeeze").items()):
        entries.append((name, filled(shape, scale * (i + 1) / 100.0)))
    if extra:
        entries.append(("classifier.1.weight", filled((1000, 512, 1, 1), 0.5)))
        entries.append(("classifier.1.bias", filled((1000,), 0.25)))
    return entries


def resnet_backbone(archs, block, blocks, scale=1.0, fc=True, counters=True):
    """(name, Tensor) entries of a torchvision ResNet state dict with made-up
    values, in torchvision's order: every batch norm followed by its int64
    `num_batches_tracked` (unless counters is False), `fc` last."""
    entries = []
    for i, (name, shape) in enumerate(archs.resnet_tensors(block, blocks).items()):
        entries.append((name, filled(shape, scale * (i % 97 + 1) / 100.0)))
        if counters and name.endswith(".running_var"):
            entries.append((name[:-len("running_var")] + "num_batches_tracked",
                            tensor([12345], shape=(), dtype="int64")))
    if fc:
        features = archs.resnet_tap_channels(block, blocks)[-2]
        entries.append(("fc.weight", filled((1000, features), 0.5)))
        entries.append(("fc.bias", filled((1000,), 0.25)))
    return entries


def calibration(archs, network, value=0.1, resnet_block=None, resnet_blocks=None):
    return [("lin%d.model.1.weight" % k, filled((1, c, 1, 1), value * (k + 1)))
            for k, c in enumerate(archs.tap_channels(network, resnet_block, resnet_blocks))]


if sys.byteorder != "little":  # pragma: no cover
    raise SystemExit("pthwriter assumes a little-endian machine")
