"""A restricted, torch-free reader for PyTorch `.pth` state dicts.

Both formats written by `torch.save` are understood:

* the zip format (PyTorch >= 1.6): `<prefix>/data.pkl` holds the pickled
  object, `<prefix>/data/<key>` the raw bytes of each storage and the optional
  `<prefix>/byteorder` ("little" or "big") their byte order;
* the legacy format: a stream of pickles (magic number, protocol version,
  system info, the object, the list of storage keys) followed, for each key in
  list order, by an int64 element count and the raw little-endian data.

Every pickle is decoded opcode by opcode with `pickletools.genops` and run
by this module's own small interpreter (not `pickle`'s unpickler), which
knows only the opcodes PyTorch writes, checks memo indices and integer sizes
and builds plain data only (None, booleans, numbers, strings, bytes, lists,
tuples, dicts) plus harmless local stand-ins for a short allow-list of
globals: any other global, any call of something else and any change of an
object other than a state dict is refused.  Running a pickle has no effect
beyond building that data.  Storages become plain arrays only after the
object has been unpickled and checked, and only for the tensors the caller
asks for.  Every problem raises TorchFileError naming the file.

Hostile files are bounded by their size and by what the caller needs:

* a pickle may be at most `max_pickle_bytes` long (only that much is read
  into memory), and its interpreter may do WORK_PER_BYTE steps (opcodes run
  plus container items moved) per byte read; dict keys must be strings or
  bytes, so no hashing walks an object graph;
* attacker data is never rendered in full: messages go through `describe`,
  which stops at a few levels, items and characters and shows a shared or
  cyclic container once, so building a message visits each node at most once;
* before any storage is read, `load` hands the tensors' names, shapes and
  dtypes to the caller's `check` (which may refuse them), then refuses a
  storage larger than the span its tensors use (plus STORAGE_SLACK_BYTES),
  storages that hold more than the selected tensors need (plus a slack, see
  `read_limit`) or more than the caller's `max_bytes`, and zip members whose
  declared size is not their storage's; members are then decompressed in
  chunks with a hard stop at that size (stored and deflated members only).

A tensor is returned as `(shape, values)`: a tuple of ints and an
`array.array('f')` of float32 values in C-contiguous order.  float64, float16
and bfloat16 storages are converted to float32.
"""

import array
import collections
import io
import itertools
import os
import pickletools
import struct
import sys
import zipfile
import zlib

from . import files

__all__ = ["TorchFileError", "load", "inspect", "describe", "read_limit"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# Refuse absurd sizes before allocating anything.
MAX_DIMS = 64
MAX_ELEMENTS = 1 << 32          # per tensor and per storage
MAX_EXPANSION = 1 << 22         # elements stride-0 views may add over the storages read
MAX_PICKLE_BYTES = 4 << 20      # default limit of the object's pickle and the key list
MAX_RECORD_BYTES = 64 << 10     # of a legacy file's magic number, version and system info
WORK_PER_BYTE = 8               # interpreter steps allowed per byte of pickle
WORK_BASE = 4096
MAX_PROTOCOL = 5
STORAGE_SLACK_BYTES = 64 << 10  # a storage may hold this much beyond its tensors' span
READ_SLACK_BYTES = 1 << 20      # the storages read may exceed the selected tensors'
READ_SLACK_FRACTION = 8         # bytes by the larger of these and 1/8 of them
IN_MEMORY_BYTES = 64 << 20      # smaller legacy files are read at once
CHUNK_BYTES = 1 << 20           # zip members are decompressed this much at a time
RENDER_DEPTH = 3                # levels, items per container and characters that
RENDER_ITEMS = 6                # describe() shows of attacker data
NAME_CHARS = 200                # of a name in a message


class TorchFileError(Exception):
    """A `.pth` file could not be read.  str() is "FILE: problem"."""

    def __init__(self, path, problem):
        self.path = path
        self.problem = problem
        super().__init__("%s: %s" % (path, problem))


class _Problem(Exception):
    """Internal: a problem with the file, reported without its name."""


def _cut(text, limit):
    return text if len(text) <= limit else text[:max(0, limit - 3)] + "..."


def describe(value, limit=60):
    """A description of `value`, which may come from a hostile file, at most
    `limit` characters long and built with bounded work: RENDER_DEPTH levels
    and RENDER_ITEMS items per container at most, strings, bytes and large
    integers cut, and a list, tuple or dict met a second time (shared or
    cyclic) shown as "..." instead of being walked again."""
    parts = []
    room = [limit + 1]          # characters still wanted (one more shows the cut)
    seen = set()

    def emit(text):
        if room[0] > 0:
            text = text[:room[0]]
            parts.append(text)
            room[0] -= len(text)

    def walk(v, depth):
        if room[0] <= 0:
            return
        if v is None or isinstance(v, (bool, float)):
            emit(repr(v))
        elif isinstance(v, int):
            bits = v.bit_length()
            emit(repr(v) if bits <= 64 else "<%d-bit integer>" % bits)
        elif isinstance(v, (str, bytes, bytearray)):
            emit(repr(v[:limit]) + ("..." if len(v) > limit else ""))
        elif isinstance(v, (list, tuple, dict)):
            if isinstance(v, list):
                opening, closing = "[", "]"
            elif isinstance(v, tuple):
                opening, closing = "(", ")"
            else:
                opening, closing = "{", "}"
            if id(v) in seen:
                emit("...")
                return
            seen.add(id(v))
            if depth >= RENDER_DEPTH:
                emit(opening + "..." + closing)
                return
            emit(opening)
            items = v.items() if isinstance(v, dict) else v
            for i, item in enumerate(itertools.islice(items, RENDER_ITEMS)):
                if room[0] <= 0:
                    return
                if i:
                    emit(", ")
                if isinstance(v, dict):
                    walk(item[0], depth + 1)
                    emit(": ")
                    walk(item[1], depth + 1)
                else:
                    walk(item, depth + 1)
            if len(v) > RENDER_ITEMS:
                emit(", ...")
            elif isinstance(v, tuple) and len(v) == 1:
                emit(",")
            emit(closing)
        elif isinstance(v, _Tensor):
            emit("tensor of shape ")
            walk(list(v.shape), depth + 1)
        elif isinstance(v, _Storage):
            emit("storage %s" % _cut(v.key, 40))
        elif isinstance(v, _DType):
            emit(repr(v))
        else:
            emit("<%s>" % type(v).__name__)

    walk(value, 0)
    return _cut("".join(parts), limit)


def _name(text):
    """A name from the file (a str) for a message: cut if very long."""
    return _cut(text, NAME_CHARS) if isinstance(text, str) else describe(text)


def _error_text(e, limit=120):
    """"Type: message" of an unexpected exception, without rendering its
    arguments (which may be attacker data)."""
    if isinstance(e, OSError) and isinstance(e.strerror, str):
        message = e.strerror
    else:
        message = e.args[0] if e.args and isinstance(e.args[0], str) else ""
    return _cut("%s: %s" % (type(e).__name__, message[:limit]) if message
                else type(e).__name__, limit)


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
            raise _Problem("unexpected state for an OrderedDict: %s" % describe(state))
        attributes = self.__dict__.setdefault("attributes", {})
        attributes.update(state)


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)):
        raise _Problem("%s is %s, not a tuple of ints" % (what, describe(value)))
    if len(value) > MAX_DIMS:
        raise _Problem("%s has %d dimensions" % (what, len(value)))
    for v in value:
        if not _is_int(v):
            raise _Problem("%s is %s, not a tuple of ints" % (what, describe(value)))
        if v < 0:
            raise _Problem("%s %s has a negative entry" % (what, describe(tuple(value))))
    return tuple(value)


def _dims(values):
    """A shape or stride for a message (bounded like describe)."""
    return describe(list(values), 120)


def _make_tensor(storage, offset, size, stride):
    if not isinstance(storage, _Storage):
        raise _Problem("a tensor is built from %s instead of a storage" % describe(storage))
    if not _is_int(offset) or offset < 0:
        raise _Problem("invalid storage offset %s" % describe(offset))
    shape = _int_tuple(size, "tensor shape")
    stride = _int_tuple(stride, "tensor stride")
    if len(shape) != len(stride):
        raise _Problem("tensor shape %s and stride %s differ in length"
                       % (_dims(shape), _dims(stride)))
    tensor = _Tensor(storage, offset, shape, stride)
    numel = tensor.numel
    if numel > MAX_ELEMENTS:
        raise _Problem("tensor of shape %s is too large" % _dims(shape))
    if numel:
        last = offset + sum((n - 1) * s for n, s in zip(shape, stride))
        if last >= storage.numel:
            raise _Problem("tensor of shape %s, stride %s at offset %d needs %d elements "
                           "but its storage %s has only %d"
                           % (_dims(shape), _dims(stride), offset, last + 1,
                              storage.key, storage.numel))
        if numel > storage.numel + MAX_EXPANSION:
            raise _Problem("tensor of shape %s would expand a storage of %d elements"
                           % (_dims(shape), storage.numel))
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
        raise _Problem("invalid requires_grad %s" % describe(args[4]))
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
for _storage_name, _dtype in _DTYPES.items():
    _GLOBALS[("torch", _storage_name)] = _dtype
del _storage_name, _dtype


# ---------------------------------------------------------------------------
# Storage references (persistent ids)

class _StorageTable(object):
    """Resolves the persistent ids of a state dict pickle to _Storage
    objects; `storages` maps a key to the storage of its whole stored block."""

    def __init__(self, legacy):
        self.legacy = legacy
        self.storages = {}      # key -> _Storage of the whole stored block
        self.views = {}         # legacy view key -> _Storage

    def __call__(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise _Problem("unexpected persistent id %s" % describe(pid))
        typename = pid[0]
        if isinstance(typename, bytes):
            typename = typename.decode("ascii", "replace")
        if typename == "module":
            raise _Problem("the file holds a pickled module, not a state dict")
        if typename != "storage":
            raise _Problem("unexpected persistent id type %s" % describe(typename))
        if len(pid) != (6 if self.legacy else 5):
            raise _Problem("storage reference %s has %d fields" % (describe(pid), len(pid)))
        dtype, key, location, numel = pid[1:5]
        if not isinstance(dtype, _DType):
            raise _Problem("storage type %s is not a known torch storage class"
                           % describe(dtype))
        if not isinstance(key, str) or not key or len(key) > 256:
            raise _Problem("invalid storage key %s" % describe(key))
        if not isinstance(location, (str, bytes)):
            raise _Problem("invalid storage location %s" % describe(location))
        if not _is_int(numel) or numel < 0 or numel > MAX_ELEMENTS:
            raise _Problem("storage %s has invalid size %s" % (key, describe(numel)))
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
            raise _Problem("invalid storage view %s" % describe(view))
        view_key, offset, numel = view
        if offset < 0 or numel < 0 or offset + numel > storage.numel:
            raise _Problem("storage view %s (%d elements at %d) lies outside storage %s of %d "
                           "elements" % (_name(view_key), numel, offset, storage.key,
                                         storage.numel))
        known = self.views.get(view_key)
        if known is None:
            known = self.views[view_key] = _Storage(storage.key, storage.dtype, numel, offset)
        elif (known.key, known.numel, known.base_offset) != (storage.key, numel, offset):
            raise _Problem("storage view %s is defined twice differently" % _name(view_key))
        return known


def _no_persistent_ids(pid):
    raise _Problem("unexpected persistent id %s" % describe(pid))


# ---------------------------------------------------------------------------
# The pickle interpreter

# Opcodes that PyTorch never writes and that only widen what a pickle can do
# have no handler in _Interpreter and are refused: INST, OBJ, PERSID, EXT1,
# EXT2, EXT4, BYTEARRAY8, NEXT_BUFFER, READONLY_BUFFER, NEWOBJ_EX, and the
# set opcodes EMPTY_SET, ADDITEMS and FROZENSET (sets would hash their items).
MAX_MEMO_INDEX = 1 << 20
MAX_INT_BITS = 512


def _refuse_global(module, name):
    raise _Problem("refusing to load the global %s.%s (not in the allow-list of PyTorch "
                   "state dict types)" % (module, name))


def _global_name(text):
    return text if isinstance(text, str) and len(text) < 200 else describe(text)


class _Interpreter(object):
    """Runs one pickle read from `reader` (an in-memory file).  Builds plain
    data and the stand-ins of `allowed` (a dict (module, name) -> object)
    only; storage references go to `persistent_load`.  Every opcode and every
    container item moved costs a step: the pickle may take WORK_BASE steps
    plus WORK_PER_BYTE per byte read so far."""

    def __init__(self, reader, what, allowed, persistent_load):
        self.reader = reader
        self.what = what
        self.allowed = allowed
        self.callables = tuple(allowed.values())
        self.persistent_load = persistent_load
        self.work = 0
        self.stack = []
        self.marks = []
        self.memo = {}

    def problem(self, text):
        raise _Problem("%s: %s" % (self.what, text))

    def charge(self, steps):
        self.work += steps
        if self.work > WORK_BASE + WORK_PER_BYTE * self.reader.tell():
            self.problem("the pickle takes more steps than its %d bytes allow (corrupted or "
                         "hostile file)" % self.reader.tell())

    def run(self):
        handlers = self._HANDLERS
        for op, arg, _ in pickletools.genops(self.reader):
            self.charge(1)
            name = op.name
            if name == "STOP":
                return self.pop()
            handler = handlers.get(name)
            if handler is None:
                if name == "INST":
                    module, _, gname = arg.partition(" ")
                    if (module, gname) not in self.allowed:
                        _refuse_global(_global_name(module), _global_name(gname))
                self.problem("unsupported pickle opcode %s" % name)
            handler(self, arg)
        self.problem("pickle data ends without STOP (truncated file?)")

    def _big_int(self, arg):
        if arg.bit_length() > MAX_INT_BITS:
            self.problem("absurdly large integer in the pickle")
        self.push(arg)

    # stack helpers
    def push(self, value):
        self.stack.append(value)

    def pop(self):
        if not self.stack:
            self.problem("pickle stack underflow (corrupted file?)")
        return self.stack.pop()

    def top(self, kind=None, what=None):
        if not self.stack:
            self.problem("pickle stack underflow (corrupted file?)")
        value = self.stack[-1]
        if kind is not None and not isinstance(value, kind):
            self.problem("%s on %s" % (what, describe(value)))
        return value

    def pop_mark(self):
        if not self.marks:
            self.problem("pickle stack underflow: no MARK (corrupted file?)")
        items = self.stack
        self.stack = self.marks.pop()
        self.charge(len(items))
        return items

    def key(self, key):
        # Only keys whose hash is cheap and randomised: hashing a tuple would
        # walk its whole graph, numbers can be chosen to collide.
        if not isinstance(key, (str, bytes)):
            self.problem("a dict key is %s, not a string" % describe(key))
        return key

    def set_items(self, target, items):
        if len(items) % 2:
            self.problem("odd number of dict items")
        for i in range(0, len(items), 2):
            target[self.key(items[i])] = items[i + 1]

    # opcodes
    def _push_arg(self, arg):
        self.push(arg)

    def _py2_string(self, arg):
        # Python 2 str, decoded as UTF-8 like torch.load does
        try:
            self.push(arg.encode("latin-1").decode("utf-8"))
        except UnicodeError:
            self.problem("a Python 2 string is not valid UTF-8")

    def _op_PROTO(self, arg):
        if not 0 <= arg <= MAX_PROTOCOL:
            self.problem("unsupported pickle protocol %d" % arg)

    def _op_FRAME(self, arg):
        pass

    def _op_NONE(self, arg):
        self.push(None)

    def _op_NEWTRUE(self, arg):
        self.push(True)

    def _op_NEWFALSE(self, arg):
        self.push(False)

    def _op_EMPTY_LIST(self, arg):
        self.push([])

    def _op_EMPTY_TUPLE(self, arg):
        self.push(())

    def _op_EMPTY_DICT(self, arg):
        self.push({})

    def _op_APPEND(self, arg):
        value = self.pop()
        self.top(list, "APPEND").append(value)

    def _op_APPENDS(self, arg):
        items = self.pop_mark()
        self.top(list, "APPENDS").extend(items)

    def _op_LIST(self, arg):
        self.push(self.pop_mark())

    def _op_TUPLE(self, arg):
        self.push(tuple(self.pop_mark()))

    def _op_TUPLE1(self, arg):
        self.push((self.pop(),))

    def _op_TUPLE2(self, arg):
        b = self.pop()
        self.push((self.pop(), b))

    def _op_TUPLE3(self, arg):
        c = self.pop()
        b = self.pop()
        self.push((self.pop(), b, c))

    def _op_DICT(self, arg):
        d = {}
        self.set_items(d, self.pop_mark())
        self.push(d)

    def _op_SETITEM(self, arg):
        value = self.pop()
        key = self.pop()
        self.top(dict, "SETITEM")[self.key(key)] = value

    def _op_SETITEMS(self, arg):
        items = self.pop_mark()
        self.set_items(self.top(dict, "SETITEMS"), items)

    def _op_POP(self, arg):
        if self.stack:
            self.stack.pop()
        else:
            self.pop_mark()

    def _op_POP_MARK(self, arg):
        self.pop_mark()

    def _op_DUP(self, arg):
        self.push(self.top())

    def _op_MARK(self, arg):
        self.marks.append(self.stack)
        self.stack = []

    def memo_index(self, arg):
        if not 0 <= arg <= MAX_MEMO_INDEX:
            self.problem("pickle memo index %d out of range (corrupted file?)" % arg)
        return arg

    def _op_GET(self, arg):
        value = self.memo.get(self.memo_index(arg), self)
        if value is self:
            self.problem("pickle memo index %d is not defined (corrupted file?)" % arg)
        self.push(value)

    def _op_PUT(self, arg):
        self.memo[self.memo_index(arg)] = self.top()

    def _op_MEMOIZE(self, arg):
        self.memo[len(self.memo)] = self.top()

    def _op_GLOBAL(self, arg):
        module, _, name = arg.partition(" ")
        self.push(self.find_class(module, name))

    def _op_STACK_GLOBAL(self, arg):
        name = self.pop()
        module = self.pop()
        if not isinstance(module, str) or not isinstance(name, str):
            self.problem("STACK_GLOBAL with %s and %s instead of names"
                         % (describe(module), describe(name)))
        self.push(self.find_class(module, name))

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            _refuse_global(_global_name(module), _global_name(name))

    def _op_REDUCE(self, arg):
        args = self.pop()
        func = self.top()
        if not isinstance(args, tuple):
            self.problem("a call with arguments %s instead of a tuple" % describe(args))
        self.charge(len(args))
        if func is StateDict:
            self.stack[-1] = self.state_dict(args)
        elif any(func is c for c in self.callables):
            self.stack[-1] = func(*args)
        else:
            self.problem("the pickle calls %s, which is not an allowed global" % describe(func))

    def _op_NEWOBJ(self, arg):
        args = self.pop()
        cls = self.pop()
        if cls is not StateDict or args != ():
            self.problem("the pickle creates an object of %s" % describe(cls))
        self.push(StateDict())

    def _op_BUILD(self, arg):
        state = self.pop()
        target = self.top()
        if isinstance(target, (StateDict, _Tensor, _Storage, _DType)):
            target.__setstate__(state)
        else:
            self.problem("the pickle tries to modify %s" % describe(target))

    def _op_BINPERSID(self, arg):
        self.push(self.persistent_load(self.pop()))

    def state_dict(self, args):
        """OrderedDict(), OrderedDict(pairs) or OrderedDict(dict)."""
        out = StateDict()
        if not args:
            return out
        if len(args) != 1:
            self.problem("OrderedDict called with %d arguments" % len(args))
        pairs = args[0]
        if isinstance(pairs, dict):
            pairs = list(pairs.items())
        if not isinstance(pairs, (list, tuple)):
            self.problem("OrderedDict built from %s" % describe(pairs))
        self.charge(len(pairs))
        for pair in pairs:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                self.problem("OrderedDict built from %s, not key-value pairs" % describe(pair))
            out[self.key(pair[0])] = pair[1]
        return out


_Interpreter._HANDLERS = dict(
    (name[len("_op_"):], function) for name, function in vars(_Interpreter).items()
    if name.startswith("_op_"))
for _name_ in ("BININT", "BININT1", "BININT2", "FLOAT", "BINFLOAT", "BINBYTES",
               "SHORT_BINBYTES", "BINBYTES8", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
               "BINUNICODE8"):
    _Interpreter._HANDLERS[_name_] = _Interpreter._push_arg
for _name_ in ("INT", "LONG", "LONG1", "LONG4"):
    _Interpreter._HANDLERS[_name_] = _Interpreter._big_int
for _name_ in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
    _Interpreter._HANDLERS[_name_] = _Interpreter._py2_string
for _name_ in ("BINGET", "LONG_BINGET"):
    _Interpreter._HANDLERS[_name_] = _Interpreter._op_GET
for _name_ in ("BINPUT", "LONG_BINPUT"):
    _Interpreter._HANDLERS[_name_] = _Interpreter._op_PUT
del _name_


def _load_pickle(f, end, what, allowed, persistent_load, max_bytes):
    """Run the pickle at the position of `f`, which must end (its STOP
    included) before `end` and within `max_bytes`; at most that much is read
    into memory.  Leaves `f` after the pickle."""
    start = f.tell()
    window = min(end - start, max_bytes)
    reader = io.BytesIO(f.read(window))
    interpreter = _Interpreter(reader, what, allowed, persistent_load)

    def too_long():
        if window < end - start and reader.tell() >= window:
            raise _Problem("%s: the pickle is longer than %d bytes (corrupted file?)"
                           % (what, max_bytes))

    try:
        value = interpreter.run()
    except _Problem as e:
        if "ends without STOP" in str(e):
            too_long()
        raise
    except MemoryError:
        raise
    except EOFError:
        too_long()
        raise _Problem("%s: pickle data ends too early (truncated file?)" % what) from None
    except Exception as e:  # any malformed pickle
        too_long()
        raise _Problem("%s: corrupted pickle data (%s)" % (what, _error_text(e))) from None
    f.seek(start + reader.tell())
    return value


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
    out = array.array("f")
    # the start of every run along the last dimension, generated lazily
    for offsets in itertools.product(*[[k * s for k in range(n)] for n, s in dims]):
        i = start + sum(offsets)
        if step == 0:
            out.extend(values[i:i + 1] * last)
        else:
            out.extend(values[i:i + (last - 1) * step + 1:step])
    return out


def _span(tensor):
    """Elements of its stored block that `tensor` reaches (0 when empty)."""
    if tensor.numel == 0:
        return 0
    return (tensor.storage.base_offset + tensor.offset + 1
            + sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride)))


def read_limit(needed):
    """Bytes of storage that `load` reads at most for selected tensors of
    `needed` bytes: those plus the larger of READ_SLACK_BYTES and 1/8 of them."""
    return needed + max(READ_SLACK_BYTES, needed // READ_SLACK_FRACTION)


# ---------------------------------------------------------------------------
# The two container formats

class _Source(object):
    """An unpickled file: its entries plus a way to read storage blocks."""

    def __init__(self, obj, storages, byteorder):
        self.obj = obj
        self.storages = storages
        self.byteorder = byteorder

    def check_blocks(self, keys):
        """Refuse, before anything is read, blocks that cannot be read whole."""

    def position(self, key):
        return 0

    def read_block(self, key):
        """(raw bytes, byte order) of the stored block `key`."""
        raise NotImplementedError

    def close(self):
        pass


class _ZipSource(_Source):
    def __init__(self, f, max_pickle_bytes):
        self.f = f
        try:
            z = zipfile.ZipFile(f)
        except MemoryError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile) as e:
            raise _Problem("not a valid zip archive (%s; truncated file?)"
                           % _error_text(e)) from None
        except Exception as e:
            raise _Problem("not a valid zip archive (%s)" % _error_text(e)) from None
        self.zip = z
        try:
            self._read_object(max_pickle_bytes)
        except BaseException:
            z.close()
            raise

    def _read_object(self, max_pickle_bytes):
        names = set(self.zip.namelist())
        pickles = sorted(n for n in names if n.count("/") == 1 and n.endswith("/data.pkl"))
        if not pickles:
            raise _Problem("zip archive without <name>/data.pkl: not a PyTorch file")
        if len(pickles) > 1:
            raise _Problem("zip archive with several data.pkl members: %s"
                           % _name(", ".join(pickles[:4])))
        self.prefix = pickles[0][:-len("data.pkl")]
        byteorder = "little"
        if self.prefix + "byteorder" in names:
            info = self._info(self.prefix + "byteorder")
            if info.file_size > 16:
                raise _Problem("invalid byteorder record (%d bytes)" % info.file_size)
            raw = self._member(info, info.file_size)
            byteorder = raw.decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise _Problem("invalid byteorder record %s" % describe(bytes(raw)))
        info = self._info(pickles[0])
        if info.file_size > max_pickle_bytes:
            raise _Problem("zip member %s is too large (%d bytes; a pickle may have %d)"
                           % (_name(pickles[0]), info.file_size, max_pickle_bytes))
        data = self._member(info, info.file_size)
        table = _StorageTable(legacy=False)
        obj = _load_pickle(io.BytesIO(data), len(data), _name(pickles[0]), _GLOBALS, table,
                           max_pickle_bytes)
        _Source.__init__(self, obj, table.storages, byteorder)

    def _info(self, name):
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise _Problem("zip member %s is missing" % _name(name)) from None
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Problem("zip member %s uses compression method %d (only stored and "
                           "deflated members are read)" % (_name(name), info.compress_type))
        return info

    def _block_info(self, key):
        storage = self.storages[key]
        name = self.prefix + "data/" + key
        info = self._info(name)
        nbytes = storage.numel * storage.dtype.size
        if info.file_size != nbytes:
            raise _Problem("zip member %s has %d bytes, expected %d (truncated or corrupted "
                           "storage)" % (_name(name), info.file_size, nbytes))
        return info, nbytes

    def _member(self, info, size):
        """The `size` bytes of member `info` (its declared size), read from
        the archive with its own bounded decompression: the compressed data
        must end exactly where they give `size` bytes with the right CRC;
        no more than `size` + 1 bytes are ever decompressed."""
        name = _name(info.filename)
        f = self.f
        try:
            f.seek(info.header_offset)
            head = f.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise _Problem("zip member %s: no local header at offset %d (corrupted file)"
                               % (name, info.header_offset))
            flags, = struct.unpack("<H", head[6:8])
            name_len, extra_len = struct.unpack("<HH", head[26:30])
            if flags & 0x41:
                raise _Problem("zip member %s is encrypted" % name)
            try:
                local_name = f.read(name_len).decode(
                    "utf-8" if info.flag_bits & 0x800 else "cp437")
            except UnicodeError:
                local_name = None
            if local_name != info.orig_filename:
                raise _Problem("zip member %s: its local header names another file (corrupted "
                               "file)" % name)
            f.seek(extra_len, os.SEEK_CUR)
        except _Problem:
            raise
        except (OSError, ValueError, struct.error) as e:
            raise _Problem("cannot read zip member %s (%s)" % (name, _error_text(e))) from None
        left = info.compress_size       # compressed bytes still to read
        if info.compress_type == zipfile.ZIP_STORED and left != size:
            raise _Problem("zip member %s: stored with %d bytes but declared as %d (corrupted "
                           "file)" % (name, left, size))
        inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        data = bytearray()
        crc = 0
        pending = b""
        while True:
            if not pending:
                if not left:
                    if inflate is not None:
                        raise _Problem("zip member %s: its compressed data are cut short "
                                       "(corrupted file)" % name)
                    break
                pending = f.read(min(CHUNK_BYTES, left))
                if not pending:
                    raise _Problem("zip member %s is truncated (the file ends inside its "
                                   "data)" % name)
                left -= len(pending)
            if inflate is None:
                chunk, pending = pending, b""
            else:
                try:
                    chunk = inflate.decompress(pending, size + 1 - len(data))
                except zlib.error as e:
                    raise _Problem("zip member %s: corrupted compressed data (%s)"
                                   % (name, _error_text(e))) from None
                pending = inflate.unconsumed_tail
            data += chunk
            crc = zlib.crc32(chunk, crc)
            if len(data) > size:
                raise _Problem("zip member %s holds more than its declared %d bytes (corrupted "
                               "or hostile file)" % (name, size))
            if inflate is not None and inflate.eof:
                if pending or inflate.unused_data or left:
                    raise _Problem("zip member %s: its compressed data end before its "
                                   "declared compressed size (corrupted file)" % name)
                break
        if len(data) != size:
            raise _Problem("zip member %s is truncated (%d of %d bytes)"
                           % (name, len(data), size))
        if crc != info.CRC:
            raise _Problem("cannot read zip member %s (BadZipFile: CRC-32 mismatch, corrupted "
                           "file)" % name)
        return data

    def check_blocks(self, keys):
        for key in keys:
            self._block_info(key)

    def read_block(self, key):
        info, nbytes = self._block_info(key)
        return self._member(info, nbytes), self.byteorder

    def close(self):
        self.zip.close()


class _LegacySource(_Source):
    def __init__(self, f, size, max_pickle_bytes):
        self.f = f
        self.size = size

        def plain(what, limit=min(max_pickle_bytes, MAX_RECORD_BYTES)):
            return _load_pickle(f, size, what, {}, _no_persistent_ids, limit)

        magic = plain("magic number")
        if magic != MAGIC_NUMBER:
            raise _Problem("not a PyTorch file (bad magic number %s)" % describe(magic))
        version = plain("protocol version")
        if version != PROTOCOL_VERSION:
            raise _Problem("unsupported legacy protocol version %s" % describe(version))
        sys_info = plain("system info")
        if not isinstance(sys_info, dict):
            raise _Problem("invalid system info record %s" % describe(sys_info))
        little = sys_info.get("little_endian", True)
        if not isinstance(little, bool):
            raise _Problem("invalid little_endian flag %s" % describe(little))
        table = _StorageTable(legacy=True)
        obj = _load_pickle(f, size, "object", _GLOBALS, table, max_pickle_bytes)
        keys = plain("storage key list", max_pickle_bytes)
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise _Problem("invalid storage key list %s" % describe(keys))
        if len(set(keys)) != len(keys):
            raise _Problem("storage key list has duplicates")
        unknown = [k for k in keys if k not in table.storages]
        if unknown:
            raise _Problem("stored storage %s is not used by the object" % _name(unknown[0]))
        missing = sorted(set(table.storages) - set(keys))
        if missing:
            raise _Problem("storage %s is used but not stored" % missing[0])
        _Source.__init__(self, obj, table.storages, "little" if little else "big")
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

    def position(self, key):
        return self.blocks[key][0]

    def read_block(self, key):
        pos, nbytes, order = self.blocks[key]
        self.f.seek(pos)
        data = self.f.read(nbytes)
        if len(data) != nbytes:
            raise _Problem("storage %s is truncated" % key)
        return data, order


def _open(f, max_pickle_bytes):
    head = f.read(512)
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    if head[:4] == b"PK\x03\x04":
        return _ZipSource(f, max_pickle_bytes)
    if head[:1] == b"\x80":
        if size <= IN_MEMORY_BYTES:
            f = io.BytesIO(f.read())
        return _LegacySource(f, size, max_pickle_bytes)
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
            raise _Problem("state dict key %s is not a string" % describe(key))
    return obj


def _with_file(path, action, max_pickle_bytes, fileobj):
    try:
        if fileobj is not None:
            fileobj.seek(0)
            source = _open(fileobj, max_pickle_bytes)
            try:
                return action(source)
            finally:
                source.close()
        with files.open_regular(path) as f:
            source = _open(f, max_pickle_bytes)
            try:
                return action(source)
            finally:
                source.close()
    except _Problem as e:
        raise TorchFileError(path, str(e)) from None
    except files.FileProblem as e:
        raise TorchFileError(path, e.problem) from None
    except OSError as e:
        raise TorchFileError(path, e.strerror or str(e)) from None


def _index(entries):
    return collections.OrderedDict((name, (value.shape, value.storage.dtype.name))
                                   for name, value in entries.items()
                                   if isinstance(value, _Tensor))


def inspect(path, max_pickle_bytes=MAX_PICKLE_BYTES, fileobj=None):
    """OrderedDict name -> (shape, dtype name) of the tensors in `path`
    (entries that are not tensors are left out).  Reads no tensor data."""
    return _with_file(path, lambda source: _index(_entries(source.obj)), max_pickle_bytes,
                      fileobj)


def _plan(source, entries, chosen, max_bytes):
    """The stored blocks to read for the tensors `chosen`, in file order,
    after the checks on their sizes (see the module's description)."""
    keys = []
    for tensor in chosen.values():
        if tensor.storage.key not in keys:
            keys.append(tensor.storage.key)
    wanted = set(keys)
    span = dict.fromkeys(keys, 0)
    for value in entries.values():
        if isinstance(value, _Tensor) and value.storage.key in wanted:
            span[value.storage.key] = max(span[value.storage.key], _span(value))
    total = stored = 0
    for key in keys:
        storage = source.storages[key]
        nbytes = storage.numel * storage.dtype.size
        used = span[key] * storage.dtype.size
        if nbytes - used > STORAGE_SLACK_BYTES:
            raise _Problem("storage %s holds %d bytes, but the tensors on it use only %d "
                           "(a padded or corrupted file?)" % (key, nbytes, used))
        total += nbytes
        stored += storage.numel
    needed = sum(t.numel * t.storage.dtype.size for t in chosen.values())
    if total > read_limit(needed):
        raise _Problem("the selected tensors need %d bytes, but their storages hold %d "
                       "(storages shared with other tensors? A padded or corrupted file?)"
                       % (needed, total))
    if max_bytes is not None and total > max_bytes:
        raise _Problem("the selected tensors' storages hold %d bytes, more than the %d "
                       "bytes allowed" % (total, max_bytes))
    elements = sum(t.numel for t in chosen.values())
    if elements > stored + MAX_EXPANSION:
        raise _Problem("the selected tensors have %d elements, %d more than their storages "
                       "hold (views expanding a storage)" % (elements, elements - stored))
    return sorted(keys, key=source.position)


def load(path, select=None, check=None, max_bytes=None, max_pickle_bytes=MAX_PICKLE_BYTES,
         fileobj=None):
    """Read the state dict in `path`.

    Returns a StateDict (an OrderedDict) name -> (shape tuple, array('f'))
    in file order; its `attributes` dict holds the pickled attributes of the
    file's OrderedDict, e.g. `_metadata`, if any.
    `select` limits what is read: None for every entry, else a callable
    name -> bool or a collection of names.  Every selected entry must be a
    floating-point tensor.
    `check(selected, index)`, if given, is called before any storage is
    read with OrderedDicts name -> (shape, dtype name) of the selected
    tensors and of every tensor of the file; what it raises propagates.
    `max_bytes` limits the bytes of storage read; `max_pickle_bytes` the
    length of a pickle.  `fileobj`, an open binary file, is read instead of
    opening `path` (which still names it in messages).
    Raises TorchFileError on any problem.
    """
    if select is None:
        wanted = lambda name: True
    elif callable(select):
        wanted = select
    else:
        names = frozenset(select)
        wanted = names.__contains__

    def action(source):
        entries = _entries(source.obj)
        chosen = collections.OrderedDict()
        for name, value in entries.items():
            if not wanted(name):
                continue
            if not isinstance(value, _Tensor):
                raise _Problem("entry %s is %s, not a tensor" % (_name(name),
                                                                 type(value).__name__))
            if not value.storage.dtype.floating:
                raise _Problem("tensor %s has dtype %s, not a floating-point type"
                               % (_name(name), value.storage.dtype.name))
            chosen[name] = value
        if check is not None:
            check(_index(chosen), _index(entries))
        keys = _plan(source, entries, chosen, max_bytes)
        source.check_blocks(keys)
        arrays = {}
        for key in keys:
            data, order = source.read_block(key)
            arrays[key] = _to_float32(data, source.storages[key].dtype, order)
            del data
        out = StateDict()
        attributes = getattr(source.obj, "attributes", None)
        if isinstance(attributes, dict):
            out.attributes = dict(attributes)
        for name, tensor in chosen.items():
            out[name] = (tensor.shape, _contiguous(tensor, arrays[tensor.storage.key]))
        return out

    return _with_file(path, action, max_pickle_bytes, fileobj)
