"""Careful file handling shared by convert and fetch.

* open_regular: inputs are opened without blocking and must be regular files
  (a FIFO, a device or a directory is refused instead of hanging or being
  read forever);
* sha256_stream: a streaming digest that stops at a byte limit;
* write_atomically: outputs are written to a temporary file in the target's
  folder, flushed to disk, then renamed over the target, so that the target
  name only ever holds a complete file (the old one, or the new one);
* same_file: whether two paths name one file (through links too), so that an
  output never replaces an input.
"""

import errno
import hashlib
import os
import stat
import tempfile

CHUNK = 1 << 20


class FileProblem(OSError):
    """A file cannot be used.  str() is "FILE: problem"; `strerror` is the
    problem alone, as for other OSErrors."""

    def __init__(self, path, problem):
        super().__init__("%s: %s" % (path, problem))
        self.path = path
        self.problem = problem
        self.strerror = problem


def _kind(mode):
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path):
    """`path` opened for binary reading; FileProblem unless it is a regular
    file (symbolic links are followed)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise FileProblem(path, e.strerror or str(e)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _kind(mode)
            raise FileProblem(path, "is %s, not a regular file" % kind
                              if kind.startswith("a ") else kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256_stream(f, limit, path):
    """(hex SHA-256, byte count) of the rest of the open file `f`, read in
    blocks; FileProblem once more than `limit` bytes come."""
    h = hashlib.sha256()
    total = 0
    while True:
        block = f.read(min(CHUNK, limit + 1 - total))
        if not block:
            return h.hexdigest(), total
        total += len(block)
        if total > limit:
            raise FileProblem(path, "larger than %d bytes" % limit)
        h.update(block)


def same_file(a, b):
    """True when the paths `a` and `b` both exist and are one file."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _new_file_mode():
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomically(path, write, mode=None):
    """Create or replace `path` with what `write(f)` writes into a binary
    file `f`: the data go to a hidden temporary file in the same folder,
    which is flushed to disk and only then renamed to `path`.  A failure (or
    a kill) before the rename leaves `path` as it was.

    `mode` defaults to the current mode of an existing `path`, else to
    0666 minus the umask.  OSError on failure (the temporary file removed).
    """
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if mode is None:
        try:
            st = os.stat(path)
            mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None
        except OSError:
            mode = None
    if mode is None:
        mode = _new_file_mode()
    fd, partial = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                                   suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(partial, mode)
        os.replace(partial, path)
    except BaseException:
        try:
            os.unlink(partial)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
