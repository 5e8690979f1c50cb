"""Atomic directory swaps and file locks for the local warehouse."""


import ctypes
import ctypes.util
import errno
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # Linux renameat2 flag
_RENAME_SWAP = 2  # macOS renamex_np flag


def _native_exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one system call; False where the system or file system can't."""
    if sys.platform.startswith("linux") and hasattr(_libc, "renameat2"):
        result = _libc.renameat2(
            _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
        )
    elif sys.platform == "darwin" and hasattr(_libc, "renamex_np"):
        result = _libc.renamex_np(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
    else:
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def replace_dir(new: Path, live: Path, parking: Path) -> Path | None:
    """Put directory `new` in place of `live`; return where the old `live` now is (or None).

    Where the system can swap two directories atomically (Linux renameat2, macOS renamex_np), a
    reader sees `live` old or new at every instant. Elsewhere `live` is moved to `parking` first;
    `restore_parked` puts it back if the process dies between the two renames.
    """
    if not live.exists():
        new.rename(live)
        return None
    if _native_exchange(new, live):
        return new
    parking.mkdir(parents=True, exist_ok=True)
    parked = parking / live.name
    live.rename(parked)
    new.rename(live)
    return parked


def restore_parked(parking: Path, table_dir: Path) -> None:
    """Put back partitions a killed `replace_dir` fallback left parked with no live copy."""
    if not parking.is_dir():
        return
    for parked in parking.iterdir():
        live = table_dir / parked.name
        if not live.exists():
            parked.rename(live)


@contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on `path` while the block runs; yields False if not `blocking` and
    another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
