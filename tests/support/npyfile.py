"""NumPy .npy files as the tests read and write them, with the standard
library only (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).

    npy_bytes(values, descr, shape)   a version 1.0 file: numbers packed as
                                      `descr`, or bytes written as they are
    write_npy(path, values, descr, shape)
    read_npy(path, descr)             (shape, values) of a C-order array of
                                      `descr` (default little-endian float32)
    read_npy_scalar(path)             the one float32 or float64 number

The header is the format's dictionary, padded with spaces and a newline so
that the data starts on a multiple of 64 bytes; shapes are written as
"(1,)", "(2,3,)" or "()".  Readers take versions 1.0 to 3.0 and raise
ValueError on anything else.  (tests/reference/lpips_reference.py keeps
its own reader: the reference stays independent of the project.)
"""

import ast
import struct

MAGIC = b"\x93NUMPY"

# The dtypes the tests use, as struct formats.
FORMATS = {"<f4": "<f", "<f8": "<d", ">f4": ">f", ">f8": ">d", "<i8": "<q", "<i4": "<i"}


def header_bytes(descr, shape, fortran_order=False):
    """Magic, version 1.0, header length and the padded header."""
    shape_text = "(%s)" % "".join("%d," % d for d in shape) if shape else "()"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, fortran_order, shape_text)
    total = len(MAGIC) + 4 + len(header) + 1
    header += " " * ((-total) % 64) + "\n"
    return MAGIC + b"\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def npy_bytes(values, descr="<f4", shape=None):
    """A version 1.0 .npy file of `values` (a sequence of numbers, packed as
    `descr`, or bytes, written as they are) with `shape` (default: one
    dimension of len(values) numbers)."""
    if isinstance(values, (bytes, bytearray)):
        data = bytes(values)
        if shape is None:
            shape = (len(data) // struct.calcsize(FORMATS[descr]),)
    else:
        values = list(values)
        fmt = FORMATS[descr]
        data = struct.pack(fmt[0] + "%d" % len(values) + fmt[1:], *values)
        if shape is None:
            shape = (len(values),)
    return header_bytes(descr, shape) + data


def write_npy(path, values, descr="<f4", shape=None):
    with open(path, "wb") as f:
        f.write(npy_bytes(values, descr, shape))


def parse(data, what="data"):
    """(header dict, data bytes) of an .npy file's bytes."""
    if data[:6] != MAGIC:
        raise ValueError("%s: not an .npy file" % what)
    major = data[6]
    if major == 1:
        length, start = struct.unpack("<H", data[8:10])[0], 10
    elif major in (2, 3):
        length, start = struct.unpack("<I", data[8:12])[0], 12
    else:
        raise ValueError("%s: .npy version %d" % (what, major))
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError("%s: not an .npy header: %r" % (what, header))
    return header, data[start + length:]


def _values(header, body, what):
    fmt = FORMATS.get(header["descr"])
    if fmt is None:
        raise ValueError("%s: unsupported dtype %r" % (what, header["descr"]))
    count = 1
    for d in header["shape"]:
        count *= d
    if len(body) != count * struct.calcsize(fmt):
        raise ValueError("%s: %d data bytes for shape %r" % (what, len(body), header["shape"]))
    return list(struct.unpack(fmt[0] + "%d" % count + fmt[1:], body))


def read_npy(path, descr="<f4"):
    """(shape, list of values) of a C-order .npy array of dtype `descr`."""
    with open(path, "rb") as f:
        header, body = parse(f.read(), path)
    if header["descr"] != descr or header["fortran_order"]:
        raise ValueError("%s: %r, %s order, not %r in C order" % (
            path, header["descr"], "Fortran" if header["fortran_order"] else "C", descr))
    return tuple(header["shape"]), _values(header, body, path)


def read_npy_scalar(path):
    """The single number of a little-endian float32 or float64 .npy file."""
    with open(path, "rb") as f:
        header, body = parse(f.read(), path)
    if header["descr"] not in ("<f4", "<f8"):
        raise ValueError("%s: unsupported dtype %r" % (path, header["descr"]))
    values = _values(header, body, path)
    if len(values) != 1:
        raise ValueError("%s: %d values, expected one" % (path, len(values)))
    return float(values[0])
