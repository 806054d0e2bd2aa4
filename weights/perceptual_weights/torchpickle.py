"""A restricted, torch-free reader for PyTorch `.pth` state dicts.

Both formats written by `torch.save` are understood:

* the zip format (PyTorch >= 1.6): `<prefix>/data.pkl` holds the pickled
  object, `<prefix>/data/<key>` the raw bytes of each storage and the optional
  `<prefix>/byteorder` ("little" or "big") their byte order;
* the legacy format: a stream of pickles (magic number, protocol version,
  system info, the object, the list of storage keys) followed, for each key in
  list order, by an int64 element count and the raw little-endian data.

Every pickle is first scanned with `pickletools` without running it (known
opcodes only, globals from the allow-list, bounded memo indices and
integers), then unpickled through `pickle.Unpickler` subclasses whose
`find_class` only knows a short allow-list of globals, each mapped to a
harmless local stand-in; any other global is refused.  Storages become plain
arrays only after the object has been unpickled and checked, and only for the
tensors the caller asks for.  Every problem raises TorchFileError naming the
file.

A tensor is returned as `(shape, values)`: a tuple of ints and an
`array.array('f')` of float32 values in C-contiguous order.  float64, float16
and bfloat16 storages are converted to float32.
"""

import array
import collections
import io
import os
import pickle
import pickletools
import struct
import sys
import zipfile

__all__ = ["TorchFileError", "load", "inspect"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# Refuse absurd sizes before allocating anything.
MAX_DIMS = 64
MAX_ELEMENTS = 1 << 32          # per tensor
MAX_EXPANSION = 1 << 22         # elements a stride-0 view may add over its storage
MAX_PICKLE_BYTES = 256 << 20    # data.pkl of a zip file
IN_MEMORY_BYTES = 64 << 20      # smaller legacy files are read at once


class TorchFileError(Exception):
    """A `.pth` file could not be read.  str() is "FILE: problem"."""

    def __init__(self, path, problem):
        self.path = path
        self.problem = problem
        super().__init__("%s: %s" % (path, problem))


class _Problem(Exception):
    """Internal: a problem with the file, reported without its name."""


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# Stand-ins for the allowed globals

class _DType(object):
    """What a `torch.<Name>Storage` global stands for."""

    __slots__ = ("storage_name", "name", "size", "floating")

    def __init__(self, storage_name, name, size, floating):
        self.storage_name = storage_name
        self.name = name
        self.size = size
        self.floating = floating

    def __call__(self, *args, **kwargs):
        raise _Problem("torch.%s may not be called by the pickle" % self.storage_name)

    def __setstate__(self, state):
        raise _Problem("the pickle tries to modify torch.%s" % self.storage_name)

    def __repr__(self):
        return "torch.%s" % self.storage_name


_DTYPES = dict((d.storage_name, d) for d in (
    _DType("FloatStorage", "float32", 4, True),
    _DType("DoubleStorage", "float64", 8, True),
    _DType("HalfStorage", "float16", 2, True),
    _DType("BFloat16Storage", "bfloat16", 2, True),
    # Integer tensors (e.g. BatchNorm's num_batches_tracked) may sit in a
    # state dict next to the weights: they are recognised so that the file
    # can be read, but cannot be returned as float tensors.
    _DType("LongStorage", "int64", 8, False),
    _DType("IntStorage", "int32", 4, False),
    _DType("ShortStorage", "int16", 2, False),
    _DType("CharStorage", "int8", 1, False),
    _DType("ByteStorage", "uint8", 1, False),
    _DType("BoolStorage", "bool", 1, False),
))


class _Storage(object):
    """A storage referenced by the pickle: `numel` elements of `dtype`
    starting at element `base_offset` of the stored block `key`."""

    __slots__ = ("key", "dtype", "numel", "base_offset")

    def __init__(self, key, dtype, numel, base_offset=0):
        self.key = key
        self.dtype = dtype
        self.numel = numel
        self.base_offset = base_offset

    def __setstate__(self, state):
        raise _Problem("the pickle tries to modify a storage")


class _Tensor(object):
    """A tensor as described by the pickle; its data is read later."""

    __slots__ = ("storage", "offset", "shape", "stride")

    def __init__(self, storage, offset, shape, stride):
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.stride = stride

    def __setstate__(self, state):
        raise _Problem("the pickle tries to modify a tensor")

    @property
    def numel(self):
        n = 1
        for d in self.shape:
            n *= d
        return n


class StateDict(collections.OrderedDict):
    """Stand-in for `collections.OrderedDict`.

    PyTorch state dicts carry a `_metadata` attribute, which the pickle
    restores with a BUILD opcode; it is kept in `attributes`.
    """

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2 and state[1] is None:
            state = state[0]
        if state is None:
            return
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise _Problem("unexpected state for an OrderedDict: %s" % _short(state))
        attributes = self.__dict__.setdefault("attributes", {})
        attributes.update(state)


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)):
        raise _Problem("%s is %s, not a tuple of ints" % (what, _short(value)))
    if len(value) > MAX_DIMS:
        raise _Problem("%s has %d dimensions" % (what, len(value)))
    for v in value:
        if not _is_int(v):
            raise _Problem("%s is %s, not a tuple of ints" % (what, _short(value)))
        if v < 0:
            raise _Problem("%s %s has a negative entry" % (what, _short(tuple(value))))
    return tuple(value)


def _make_tensor(storage, offset, size, stride):
    if not isinstance(storage, _Storage):
        raise _Problem("a tensor is built from %s instead of a storage" % _short(storage))
    if not _is_int(offset) or offset < 0:
        raise _Problem("invalid storage offset %s" % _short(offset))
    shape = _int_tuple(size, "tensor shape")
    stride = _int_tuple(stride, "tensor stride")
    if len(shape) != len(stride):
        raise _Problem("tensor shape %s and stride %s differ in length"
                       % (list(shape), list(stride)))
    tensor = _Tensor(storage, offset, shape, stride)
    numel = tensor.numel
    if numel > MAX_ELEMENTS:
        raise _Problem("tensor of shape %s is too large" % list(shape))
    if numel:
        last = offset + sum((n - 1) * s for n, s in zip(shape, stride))
        if last >= storage.numel:
            raise _Problem("tensor of shape %s, stride %s at offset %d needs %d elements "
                           "but its storage %s has only %d"
                           % (list(shape), list(stride), offset, last + 1,
                              storage.key, storage.numel))
        if numel > storage.numel + MAX_EXPANSION:
            raise _Problem("tensor of shape %s would expand a storage of %d elements"
                           % (list(shape), storage.numel))
    return tensor


def _rebuild_tensor(*args):
    if len(args) != 4:
        raise _Problem("_rebuild_tensor called with %d arguments" % len(args))
    return _make_tensor(*args)


def _rebuild_tensor_v2(*args):
    # (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    if len(args) not in (6, 7):
        raise _Problem("_rebuild_tensor_v2 called with %d arguments" % len(args))
    if not isinstance(args[4], bool):
        raise _Problem("invalid requires_grad %s" % _short(args[4]))
    return _make_tensor(*args[:4])


def _rebuild_parameter(*args):
    # (data, requires_grad, backward_hooks)
    if len(args) != 3 or not isinstance(args[0], _Tensor):
        raise _Problem("_rebuild_parameter called with unexpected arguments")
    return args[0]


_GLOBALS = {
    ("collections", "OrderedDict"): StateDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}
for _name, _dtype in _DTYPES.items():
    _GLOBALS[("torch", _name)] = _dtype
del _name, _dtype


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data only: no global is allowed."""

    allowed = {}

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except (KeyError, TypeError):
            pass
        _refuse_global(*[x if isinstance(x, str) and len(x) < 200 else _short(x)
                         for x in (module, name)])

    def persistent_load(self, pid):
        raise _Problem("unexpected persistent id %s" % _short(pid))


class _StateDictUnpickler(_PlainUnpickler):
    """Unpickles a state dict; storages are recorded in `storages`."""

    allowed = _GLOBALS

    def __init__(self, file, legacy):
        super().__init__(file, encoding="utf-8")
        self.legacy = legacy
        self.storages = {}      # key -> _Storage of the whole stored block
        self.views = {}         # legacy view key -> _Storage

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise _Problem("unexpected persistent id %s" % _short(pid))
        typename = pid[0]
        if isinstance(typename, bytes):
            typename = typename.decode("ascii", "replace")
        if typename == "module":
            raise _Problem("the file holds a pickled module, not a state dict")
        if typename != "storage":
            raise _Problem("unexpected persistent id type %s" % _short(typename))
        if len(pid) != (6 if self.legacy else 5):
            raise _Problem("storage reference %s has %d fields" % (_short(pid), len(pid)))
        dtype, key, location, numel = pid[1:5]
        if not isinstance(dtype, _DType):
            raise _Problem("storage type %s is not a known torch storage class" % _short(dtype))
        if not isinstance(key, str) or not key or len(key) > 256:
            raise _Problem("invalid storage key %s" % _short(key))
        if not isinstance(location, (str, bytes)):
            raise _Problem("invalid storage location %s" % _short(location))
        if not _is_int(numel) or numel < 0 or numel > MAX_ELEMENTS:
            raise _Problem("storage %s has invalid size %s" % (key, _short(numel)))
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = _Storage(key, dtype, numel)
        elif storage.dtype is not dtype or storage.numel != numel:
            raise _Problem("storage %s is referenced as %d x %s and as %d x %s"
                           % (key, storage.numel, storage.dtype.name, numel, dtype.name))
        if self.legacy and pid[5] is not None:
            return self._view(storage, pid[5])
        return storage

    def _view(self, storage, view):
        # Old PyTorch versions could save views into a storage.
        if (not isinstance(view, tuple) or len(view) != 3 or not isinstance(view[0], str)
                or not _is_int(view[1]) or not _is_int(view[2])):
            raise _Problem("invalid storage view %s" % _short(view))
        view_key, offset, numel = view
        if offset < 0 or numel < 0 or offset + numel > storage.numel:
            raise _Problem("storage view %s (%d elements at %d) lies outside storage %s of %d "
                           "elements" % (view_key, numel, offset, storage.key, storage.numel))
        known = self.views.get(view_key)
        if known is None:
            known = self.views[view_key] = _Storage(storage.key, storage.dtype, numel, offset)
        elif (known.key, known.numel, known.base_offset) != (storage.key, numel, offset):
            raise _Problem("storage view %s is defined twice differently" % view_key)
        return known


# Opcodes that PyTorch never writes and that only widen what a pickle can do.
_REFUSED_OPCODES = frozenset(("INST", "OBJ", "PERSID", "EXT1", "EXT2", "EXT4",
                              "BYTEARRAY8", "NEXT_BUFFER", "READONLY_BUFFER"))
_MEMO_OPCODES = frozenset(("PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"))
MAX_MEMO_INDEX = 1 << 20
MAX_INT_BITS = 512


def _refuse_global(module, name):
    raise _Problem("refusing to load the global %s.%s (not in the allow-list of PyTorch "
                   "state dict types)" % (module, name))


def _scan(reader, what, allowed):
    """Check one pickle without running it: known opcodes only, globals from
    `allowed`, small memo indices (the C unpickler allocates its memo up to
    the largest index) and small integers."""
    try:
        for op, arg, _ in pickletools.genops(reader):
            name = op.name
            if name in _REFUSED_OPCODES:
                if name == "INST":
                    module, _, gname = arg.partition(" ")
                    if (module, gname) not in allowed:
                        _refuse_global(module, gname)
                raise _Problem("%s: unsupported pickle opcode %s" % (what, name))
            if name == "GLOBAL":
                module, _, gname = arg.partition(" ")
                if (module, gname) not in allowed:
                    _refuse_global(module, gname)
            elif name in _MEMO_OPCODES:
                if not _is_int(arg) or not 0 <= arg <= MAX_MEMO_INDEX:
                    raise _Problem("%s: pickle memo index %s out of range (corrupted file?)"
                                   % (what, _short(arg)))
            elif _is_int(arg) and arg.bit_length() > MAX_INT_BITS:
                raise _Problem("%s: absurdly large integer in the pickle" % what)
            if name == "STOP":
                return
    except _Problem:
        raise
    except Exception as e:
        raise _Problem("%s: corrupted pickle data (%s: %s)"
                       % (what, type(e).__name__, _short(str(e), 120))) from None
    raise _Problem("%s: pickle data ends without STOP (truncated file?)" % what)


def _unpickle(unpickler, what):
    try:
        return unpickler.load()
    except _Problem:
        raise
    except RecursionError:
        raise _Problem("%s: pickle nested too deeply" % what) from None
    except MemoryError:
        raise _Problem("%s: pickle needs too much memory (corrupted?)" % what) from None
    except EOFError:
        raise _Problem("%s: pickle data ends too early (truncated file?)" % what) from None
    except Exception as e:  # any malformed pickle
        raise _Problem("%s: corrupted pickle data (%s: %s)"
                       % (what, type(e).__name__, _short(str(e), 120))) from None


class _BoundedReader(object):
    """File wrapper for the unpickler that never reads past `end`, nor more
    than `max_line` bytes for a text line."""

    def __init__(self, f, end, max_line=4096):
        self.f = f
        self.end = end
        self.max_line = max_line

    def _room(self, n):
        room = self.end - self.f.tell()
        if n is None or n < 0:
            return max(0, room)
        return max(0, min(n, room))

    def read(self, n=-1):
        return self.f.read(self._room(n))

    def readinto(self, buf):
        with memoryview(buf) as view:
            data = self.f.read(self._room(view.nbytes))
            view.cast("B")[:len(data)] = data
        return len(data)

    def readline(self, limit=-1):
        if limit is None or limit < 0 or limit > self.max_line:
            limit = self.max_line
        return self.f.readline(self._room(limit))

    def tell(self):
        return self.f.tell()

    def seek(self, pos):
        return self.f.seek(pos)


def _load_pickle(reader, unpickler_factory, what, allowed):
    """Scan, then unpickle, the pickle at the reader's position."""
    start = reader.tell()
    _scan(reader, what, allowed)
    reader.seek(start)
    unpickler = unpickler_factory(reader)
    return unpickler, _unpickle(unpickler, what)


# ---------------------------------------------------------------------------
# Turning storages into float32 arrays

def _to_float32(data, dtype, byteorder):
    """float32 array from the raw bytes of a storage."""
    swap = byteorder != sys.byteorder
    if dtype.name == "float32":
        a = array.array("f")
        a.frombytes(data)
        if swap:
            a.byteswap()
        return a
    if dtype.name == "float64":
        d = array.array("d")
        d.frombytes(data)
        if swap:
            d.byteswap()
        return array.array("f", d)
    if dtype.name == "float16":
        n = len(data) // 2
        order = "<" if byteorder == "little" else ">"
        return array.array("f", struct.unpack("%s%de" % (order, n), data))
    if dtype.name == "bfloat16":
        # bfloat16 is the upper half of a float32.
        n = len(data) // 2
        out = bytearray(4 * n)
        if byteorder == "little":
            hi, lo = data[1::2], data[0::2]
        else:
            hi, lo = data[0::2], data[1::2]
        if sys.byteorder == "little":
            out[3::4], out[2::4] = hi, lo
        else:
            out[0::4], out[1::4] = hi, lo
        a = array.array("f")
        a.frombytes(bytes(out))
        return a
    raise AssertionError(dtype.name)


def _contiguous(tensor, values):
    """The elements of `tensor` in C order, from its storage's `values`."""
    shape, stride = tensor.shape, tensor.stride
    start = tensor.offset + tensor.storage.base_offset
    numel = tensor.numel
    if numel == 0:
        return array.array("f")
    expected = 1
    contiguous = True
    for n, s in zip(reversed(shape), reversed(stride)):
        if n != 1 and s != expected:
            contiguous = False
            break
        expected *= n
    if contiguous:
        return values[start:start + numel]
    dims = [(n, s) for n, s in zip(shape, stride) if n != 1]
    last, step = dims.pop()
    index = [start]
    for n, s in dims:
        steps = [k * s for k in range(n)]
        index = [i + d for i in index for d in steps]
    out = array.array("f")
    if step == 0:
        for i in index:
            out.extend(values[i:i + 1] * last)
    else:
        for i in index:
            out.extend(values[i:i + (last - 1) * step + 1:step])
    return out


# ---------------------------------------------------------------------------
# The two container formats

class _Source(object):
    """An unpickled file: its entries plus a way to read storage blocks."""

    def __init__(self, obj, storages, views, byteorder):
        self.obj = obj
        self.storages = storages
        self.views = views
        self.byteorder = byteorder

    def read_blocks(self, keys):
        """Raw bytes of the stored blocks `keys` (dict key -> bytes)."""
        raise NotImplementedError

    def close(self):
        pass


class _ZipSource(_Source):
    def __init__(self, f):
        try:
            z = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, zipfile.LargeZipFile) as e:
            raise _Problem("not a valid zip archive (%s; truncated file?)" % e) from None
        except Exception as e:
            raise _Problem("not a valid zip archive (%s: %s)" % (type(e).__name__, e)) from None
        self.zip = z
        names = set(z.namelist())
        pickles = sorted(n for n in names if n.count("/") == 1 and n.endswith("/data.pkl"))
        if not pickles:
            raise _Problem("zip archive without <name>/data.pkl: not a PyTorch file")
        if len(pickles) > 1:
            raise _Problem("zip archive with several data.pkl members: %s" % ", ".join(pickles))
        self.prefix = pickles[0][:-len("data.pkl")]
        byteorder = "little"
        if self.prefix + "byteorder" in names:
            raw = self._member(self.prefix + "byteorder", limit=16)
            byteorder = raw.decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise _Problem("invalid byteorder record %s" % _short(raw))
        data = self._member(pickles[0], limit=MAX_PICKLE_BYTES)
        unpickler, obj = _load_pickle(_BoundedReader(io.BytesIO(data), len(data)),
                                      lambda r: _StateDictUnpickler(r, legacy=False),
                                      pickles[0], _GLOBALS)
        _Source.__init__(self, obj, unpickler.storages, unpickler.views, byteorder)

    def _member(self, name, exact=None, limit=None):
        """The bytes of member `name`: exactly `exact` bytes long, or at
        most `limit` bytes."""
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise _Problem("zip member %s is missing" % name) from None
        if exact is not None and info.file_size != exact:
            raise _Problem("zip member %s has %d bytes, expected %d (truncated or corrupted "
                           "storage)" % (name, info.file_size, exact))
        if limit is not None and info.file_size > limit:
            raise _Problem("zip member %s is too large (%d bytes)" % (name, info.file_size))
        try:
            data = self.zip.read(info)
        except Exception as e:
            raise _Problem("cannot read zip member %s (%s: %s)"
                           % (name, type(e).__name__, _short(str(e), 120))) from None
        if len(data) != info.file_size:
            raise _Problem("zip member %s is truncated" % name)
        return data

    def read_blocks(self, keys):
        out = {}
        for key in keys:
            storage = self.storages[key]
            out[key] = self._member(self.prefix + "data/" + key,
                                    exact=storage.numel * storage.dtype.size)
        return out

    def close(self):
        self.zip.close()


class _LegacySource(_Source):
    def __init__(self, f, size):
        self.f = f
        self.size = size
        reader = _BoundedReader(f, size)

        def plain(what):
            return _load_pickle(reader, lambda r: _PlainUnpickler(r, encoding="utf-8"),
                                what, {})[1]

        magic = plain("magic number")
        if magic != MAGIC_NUMBER:
            raise _Problem("not a PyTorch file (bad magic number %s)" % _short(magic))
        version = plain("protocol version")
        if version != PROTOCOL_VERSION:
            raise _Problem("unsupported legacy protocol version %s" % _short(version))
        sys_info = plain("system info")
        if not isinstance(sys_info, dict):
            raise _Problem("invalid system info record %s" % _short(sys_info))
        little = sys_info.get("little_endian", True)
        if not isinstance(little, bool):
            raise _Problem("invalid little_endian flag %s" % _short(little))
        unpickler, obj = _load_pickle(reader, lambda r: _StateDictUnpickler(r, legacy=True),
                                      "object", _GLOBALS)
        keys = plain("storage key list")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise _Problem("invalid storage key list %s" % _short(keys))
        if len(set(keys)) != len(keys):
            raise _Problem("storage key list has duplicates")
        unknown = [k for k in keys if k not in unpickler.storages]
        if unknown:
            raise _Problem("stored storage %s is not used by the object" % unknown[0])
        missing = sorted(set(unpickler.storages) - set(keys))
        if missing:
            raise _Problem("storage %s is used but not stored" % missing[0])
        _Source.__init__(self, obj, unpickler.storages, unpickler.views,
                         "little" if little else "big")
        # Locate every block now, so that truncation is found even in
        # storages the caller does not want.
        self.blocks = {}
        pos = f.tell()
        for key in keys:
            storage = self.storages[key]
            if pos + 8 > size:
                raise _Problem("file ends before the data of storage %s (truncated file?)" % key)
            f.seek(pos)
            head = f.read(8)
            count_le = struct.unpack("<q", head)[0]
            count_be = struct.unpack(">q", head)[0]
            # PyTorch writes the data little-endian; files from very old
            # big-endian machines used their native order.
            if count_le == storage.numel:
                order = "little"
            elif not little and count_be == storage.numel:
                order = "big"
            else:
                hint = " (wrong byte order?)" if count_be == storage.numel else ""
                raise _Problem("storage %s: the file gives %d elements, the object says %d "
                               "(corrupted file)%s" % (key, count_le, storage.numel, hint))
            nbytes = storage.numel * storage.dtype.size
            if pos + 8 + nbytes > size:
                raise _Problem("file ends inside the data of storage %s (truncated file: "
                               "needs %d more bytes)" % (key, pos + 8 + nbytes - size))
            self.blocks[key] = (pos + 8, nbytes, order)
            pos += 8 + nbytes

    def read_blocks(self, keys):
        out = {}
        for key in sorted(keys, key=lambda k: self.blocks[k][0]):
            pos, nbytes, order = self.blocks[key]
            self.f.seek(pos)
            data = self.f.read(nbytes)
            if len(data) != nbytes:
                raise _Problem("storage %s is truncated" % key)
            out[key] = (data, order)
        return out


def _open(path, f):
    head = f.read(512)
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    if head[:4] == b"PK\x03\x04":
        return _ZipSource(f)
    if head[:1] == b"\x80":
        if size <= IN_MEMORY_BYTES:
            f = io.BytesIO(f.read())
        return _LegacySource(f, size)
    if head[257:262] == b"ustar":
        raise _Problem("old tar-based PyTorch format (before 0.4) is not supported")
    if not head:
        raise _Problem("empty file")
    raise _Problem("not a PyTorch file (neither zip nor legacy pickle format)")


def _entries(obj):
    if not isinstance(obj, dict):
        raise _Problem("the file holds %s, not a state dict" % type(obj).__name__)
    for key in obj:
        if not isinstance(key, str):
            raise _Problem("state dict key %s is not a string" % _short(key))
    return obj


def _with_file(path, action):
    try:
        with open(path, "rb") as f:
            source = _open(path, f)
            try:
                return action(source)
            finally:
                source.close()
    except _Problem as e:
        raise TorchFileError(path, str(e)) from None
    except OSError as e:
        raise TorchFileError(path, e.strerror or str(e)) from None


def inspect(path):
    """OrderedDict name -> (shape, dtype name) of the tensors in `path`
    (entries that are not tensors are left out).  Reads no tensor data."""
    def action(source):
        out = collections.OrderedDict()
        for name, value in _entries(source.obj).items():
            if isinstance(value, _Tensor):
                out[name] = (value.shape, value.storage.dtype.name)
        return out
    return _with_file(path, action)


def load(path, select=None):
    """Read the state dict in `path`.

    Returns a StateDict (an OrderedDict) name -> (shape tuple, array('f'))
    in file order; its `attributes` dict holds the pickled attributes of the
    file's OrderedDict, e.g. `_metadata`, if any.
    `select` limits what is read: None for every entry, else a callable
    name -> bool or a collection of names.  Every selected entry must be a
    floating-point tensor.  Raises TorchFileError on any problem.
    """
    if select is None:
        wanted = lambda name: True
    elif callable(select):
        wanted = select
    else:
        names = frozenset(select)
        wanted = names.__contains__

    def action(source):
        chosen = collections.OrderedDict()
        for name, value in _entries(source.obj).items():
            if not wanted(name):
                continue
            if not isinstance(value, _Tensor):
                raise _Problem("entry %s is %s, not a tensor" % (name, type(value).__name__))
            if not value.storage.dtype.floating:
                raise _Problem("tensor %s has dtype %s, not a floating-point type"
                               % (name, value.storage.dtype.name))
            chosen[name] = value
        keys = set(t.storage.key for t in chosen.values())
        blocks = source.read_blocks(keys)
        arrays = {}
        for key, block in blocks.items():
            if isinstance(block, tuple):
                data, order = block
            else:
                data, order = block, source.byteorder
            arrays[key] = _to_float32(data, source.storages[key].dtype, order)
        out = StateDict()
        attributes = getattr(source.obj, "attributes", None)
        if isinstance(attributes, dict):
            out.attributes = dict(attributes)
        for name, tensor in chosen.items():
            out[name] = (tensor.shape, _contiguous(tensor, arrays[tensor.storage.key]))
        return out

    return _with_file(path, action)
