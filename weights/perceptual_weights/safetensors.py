"""Writing (and, for checks, reading) gegl-perceptual model files.

A model file is a safetensors file: an 8-byte little-endian header length N,
N bytes of JSON header, then the raw little-endian tensor data.  The header
maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
(offsets relative to the start of the data area) and holds string metadata
under "__metadata__".  All tensors are F32.
"""

import array
import collections
import hashlib
import json
import os
import struct
import sys

FORMAT = "gegl-perceptual-model"
FORMAT_VERSION = "1"


def _le_bytes(values):
    if isinstance(values, array.array) and values.typecode == "f":
        a = values if sys.byteorder == "little" else array.array("f", values)
    else:
        a = array.array("f", values)
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def tensor_digest(tensors):
    """SHA-256 that identifies tensor contents independently of the container.

    `tensors` maps name -> (shape, float sequence).  For every tensor in
    sorted name order the digest covers the UTF-8 name, a NUL byte, the shape
    as comma-separated decimal numbers, a NUL byte and the little-endian
    float32 data.
    """
    h = hashlib.sha256()
    for name in sorted(tensors):
        shape, values = tensors[name]
        h.update(name.encode("utf-8") + b"\0")
        h.update(",".join(str(d) for d in shape).encode("ascii") + b"\0")
        h.update(_le_bytes(values))
    return h.hexdigest()


def _encode(tensors, metadata):
    """(header bytes, data blobs) of a model file; ValueError if a tensor's
    values do not fit its shape."""
    header = {"__metadata__": dict((str(k), str(v)) for k, v in metadata.items())}
    blobs = []
    offset = 0
    for name, (shape, values) in tensors.items():
        n = 1
        for d in shape:
            n *= d
        if len(values) != n:
            raise ValueError("%s: %d values for shape %s" % (name, len(values), list(shape)))
        blob = _le_bytes(values)
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # keep the data area 8-byte aligned
    return struct.pack("<Q", len(text)) + text, blobs


def write(path, tensors, metadata):
    """Write `tensors` (name -> (shape, float sequence)) with `metadata`
    into the file `path` (directly: outputs that must never be seen half
    written go through files.write_atomically and write_to)."""
    head, blobs = _encode(tensors, metadata)
    with open(path, "wb") as f:
        f.write(head)
        for blob in blobs:
            f.write(blob)


def write_to(f, tensors, metadata):
    """Write the model file of `tensors` with `metadata` into the open
    binary file `f`."""
    head, blobs = _encode(tensors, metadata)
    f.write(head)
    for blob in blobs:
        f.write(blob)


class SafetensorsError(Exception):
    """A model file could not be read.  str() is "FILE: problem"."""


MAX_HEADER_BYTES = 16 << 20


def _cut(text, limit=200):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _load(path, with_data):
    """(layout, metadata, data): `layout` maps each tensor name to (shape,
    begin, end) in header order, `data` is the data area or None."""
    def fail(problem):
        raise SafetensorsError("%s: %s" % (path, problem))

    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(0)
            head = f.read(8)
            if len(head) != 8:
                fail("file too short for a safetensors header")
            n = struct.unpack("<Q", head)[0]
            if n > MAX_HEADER_BYTES or 8 + n > size:
                fail("invalid header length %d" % n)
            try:
                header = json.loads(f.read(n).decode("utf-8"))
            except ValueError as e:
                fail("header is not valid JSON (%s)" % _cut(str(e)))
            data = f.read() if with_data else None
    except OSError as e:
        fail(e.strerror or str(e))
    data_size = size - 8 - n
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail("__metadata__ must map strings to strings")
    layout = collections.OrderedDict()
    spans = []
    for name, info in header.items():
        shown = _cut(name)
        if not isinstance(info, dict) or info.get("dtype") != "F32":
            fail("tensor %s is not F32" % shown)
        shape = info.get("shape")
        offsets = info.get("data_offsets")
        if (not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
            fail("tensor %s has an invalid shape" % shown)
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(
                isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            fail("tensor %s has invalid data_offsets" % shown)
        begin, end = offsets
        count = 1
        for d in shape:
            count *= d
            if count > data_size:       # no need to multiply further
                break
        if not 0 <= begin <= end <= data_size or end - begin != 4 * count:
            fail("tensor %s: data_offsets %s do not fit shape %s and the file size"
                 % (shown, _cut(str(offsets), 60), _cut(str(shape), 60)))
        layout[name] = (tuple(shape), begin, end)
        spans.append((begin, end))
    spans.sort()
    pos = 0
    for begin, end in spans:
        if begin != pos:
            fail("tensor data overlaps or leaves gaps")
        pos = end
    if pos != data_size:
        fail("%d bytes after the last tensor" % (data_size - pos))
    return layout, metadata, data


def read_header(path):
    """Check a model file's header against its size without reading the
    tensor data: returns (layout, metadata), `layout` a dict name ->
    (shape tuple, begin, end) in header order (offsets in the data area)."""
    layout, metadata, _ = _load(path, False)
    return layout, metadata


def read(path):
    """Read a model file: returns (tensors, metadata).

    `tensors` is a dict name -> (shape tuple, array('f')) in header order,
    `metadata` the "__metadata__" dict.  Only F32 tensors are accepted; the
    header is checked against the file size and the tensors must exactly
    tile the data area.
    """
    layout, metadata, data = _load(path, True)
    tensors = collections.OrderedDict()
    for name, (shape, begin, end) in layout.items():
        values = array.array("f")
        values.frombytes(data[begin:end])
        if sys.byteorder != "little":
            values.byteswap()
        tensors[name] = (shape, values)
    return tensors, metadata
