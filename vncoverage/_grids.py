"""Whole-grid arrays that do not have to stay in memory: a run's bounded memory.

At 30 m a province's grid has tens of millions of pixels; its best-server layers alone
(8 layers x 16 bytes a pixel) are several GB. A :class:`GridMemory` gives such arrays a
home in a scratch file instead of in the process's anonymous memory:

* each array is a shared memory map of its own file in the scratch folder, allocated on
  disk first (``posix_fallocate``: a full disk is a clear error before any work, never a
  crash halfway through) and unlinked at once, so that nothing is left behind however
  the process ends, and the file goes when its last array does;
* a trimmer thread watches the process's resident file-backed memory and, past
  ``resident_bytes``, drops the arrays' pages from the process (``madvise(MADV_DONTNEED)``).
  On a shared file mapping this loses nothing: the pages stay in the operating system's
  page cache, which writes them to disk and frees them when memory is short, and the next
  read maps them back.

So the process holds at most about ``resident_bytes`` of its grids at once, whatever the
grid's size; the rest is ordinary file cache, which the kernel can reclaim (unlike
anonymous memory, which needs swap). Code that reads or writes the arrays does not know:
they are numpy arrays.

:func:`use` makes a :class:`GridMemory` the one :func:`empty` and :func:`full` allocate
from, for the duration of a ``with`` block (the pipeline does, for a run whose grids are
large: :func:`vncoverage.pipeline.run`); without one they are plain numpy arrays.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GridMemory", "GridSpaceError", "Parked", "active", "empty", "full", "park",
           "relieve", "resident_file_bytes", "supported", "use"]

#: ``madvise`` advice that faults a range in for writing in one call (Linux 5.14); older
#: kernels refuse it (EINVAL) and the pages are faulted in one by one as they are written.
_MADV_POPULATE_WRITE = 23
#: Bytes filled per step by :meth:`GridMemory.full`, so that a fill stays under the budget.
_FILL_STEP = 32 << 20
#: Seconds between two looks of the trimmer at the process's resident memory.
_TRIM_PERIOD_S = 0.02
_STATM = Path("/proc/self/statm")


class GridSpaceError(OSError):
    """The scratch folder has no room for a grid array."""


def supported() -> bool:
    """Whether this system can keep grids in files: POSIX, with ``posix_fallocate`` and
    ``madvise`` (Linux, the BSDs); elsewhere a run keeps its grids in memory."""
    return (os.name == "posix" and hasattr(os, "posix_fallocate")
            and hasattr(mmap.mmap, "madvise") and hasattr(mmap, "MADV_DONTNEED"))


def resident_file_bytes() -> int:
    """The process's resident file-backed and shared memory, in bytes (``/proc/self/statm``,
    third field); 0 where there is no such file."""
    try:
        return int(_STATM.read_bytes().split()[2]) * mmap.PAGESIZE
    except (OSError, IndexError, ValueError):
        return 0


class GridMemory:
    """Arrays in unlinked scratch files under ``folder``, of which the process keeps at
    most about ``resident_bytes`` mapped (see the module's docstring)."""

    def __init__(self, folder: str | Path, resident_bytes: int) -> None:
        self.folder = Path(folder)
        self.resident_bytes = int(resident_bytes)
        self._maps: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: resident file-backed memory when the first array was made (the libraries'
        #: code): the budget is on top of it
        self._base = 0
        #: times the arrays' pages were dropped (for the tests and the benchmark)
        self.trims = 0
        self._spill: _SpillFile | None = None
        _memories.add(self)

    # -- allocation --------------------------------------------------------------------

    def empty(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """An uninitialised (zero) array of ``shape`` and ``dtype`` in a scratch file."""
        dt = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        nbytes = max(count * dt.itemsize, 1)
        fd = self._scratch_file("vncoverage-grid-")
        try:
            try:
                os.posix_fallocate(fd, 0, nbytes)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise _no_room(exc, nbytes, self.folder) from exc
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                os.ftruncate(fd, nbytes)  # a filesystem without fallocate
            m = mmap.mmap(fd, nbytes, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        with self._lock:
            if not self._maps:
                self._base = resident_file_bytes()
            self._maps.add(m)
            self._start()
        return np.frombuffer(m, dtype=dt, count=count).reshape(shape)

    def full(self, shape: tuple[int, ...], value: Any, dtype: Any) -> np.ndarray:
        """:meth:`empty` filled with ``value``, a step at a time (each step's pages
        faulted in at once where the kernel can), so that the fill stays within the
        budget."""
        out = self.empty(shape, dtype)
        if value == 0:
            return out  # the file reads as zeros
        flat = out.reshape(-1)
        m = _mapping_of(out)
        step = max(_FILL_STEP // out.itemsize, 1)
        for i in range(0, flat.size, step):
            j = min(i + step, flat.size)
            _populate(m, i * out.itemsize, (j - i) * out.itemsize)
            flat[i:j] = value
            self.relieve()
        return out

    def _scratch_file(self, prefix: str) -> int:
        """A new file in ``folder``, unlinked at once (its descriptor). A folder made for
        it is removed again when it is left empty: nothing of the run stays on disk."""
        made = not self.folder.is_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=prefix, dir=self.folder)
        Path(name).unlink()
        if made:
            with contextlib.suppress(OSError):  # not empty: another user's files
                self.folder.rmdir()
        return fd

    # -- parked arrays -----------------------------------------------------------------

    def park(self, *arrays: np.ndarray) -> Parked:
        """Copy ``arrays`` to this memory's spill file (unlinked, in ``folder``) and
        return what gives them back (:meth:`Parked.take`): for arrays a stage keeps a
        long while, not in memory meanwhile (a pruned run's near paths until the far
        pass)."""
        with self._lock:
            if self._spill is None:
                self._spill = _SpillFile(self._scratch_file("vncoverage-spill-"),
                                         self.folder)
            spill = self._spill
        return spill.park(arrays)

    # -- residency ---------------------------------------------------------------------

    def _mappings(self) -> list[mmap.mmap]:
        """The arrays' mappings alive (a copy, taken under the lock: the set changes as
        arrays are made and collected in other threads)."""
        with self._lock:
            return list(self._maps)

    @property
    def mapped(self) -> int:
        """Bytes of grid arrays alive (mapped, resident or not)."""
        return sum(len(m) for m in self._mappings())

    def over(self) -> bool:
        """Whether the process's resident file-backed memory is past the budget."""
        return resident_file_bytes() - self._base > self.resident_bytes

    def relieve(self) -> None:
        """:meth:`trim` when over the budget (for a caller that just touched much)."""
        if self.over():
            self.trim()

    def trim(self) -> None:
        """Drop every array's pages from the process (their content stays in the file's
        page cache: nothing is lost)."""
        for m in self._mappings():
            with contextlib.suppress(ValueError):  # closed meanwhile
                m.madvise(mmap.MADV_DONTNEED)
        self.trims += 1

    def _start(self) -> None:
        """Start the trimmer, unless it runs (called under the lock)."""
        if self._thread is None:
            # the thread holds the memory, not the other way round: it trims the arrays
            # as long as one is alive, also after the run that made them returned
            self._thread = threading.Thread(target=_watch, args=(self,),
                                            name="vncoverage-grid-trimmer", daemon=True)
            self._thread.start()


def _after_fork_in_child() -> None:
    """In a forked child (the FTTH reach, the map, the figures): only the forking thread
    is there, so a lock another thread held at the fork would never be released. Every
    lock of this module is made anew, and the trimmer counts as not running (the next
    array the child makes starts its own)."""
    global _active_lock
    _active_lock = threading.Lock()
    for mem in list(_memories):
        mem._lock = threading.Lock()
        mem._thread = None
        if mem._spill is not None:
            mem._spill._lock = threading.Lock()


def _no_room(exc: OSError, nbytes: int, folder: Path) -> GridSpaceError:
    return GridSpaceError(
        exc.errno, f"no room for {nbytes / 2**20:,.1f} MB of grids in {folder}: free disk "
        "space there, or set [run] scratch to a folder with room (or [run] memory_mb = 0 "
        "to keep the grids in memory)")


class Parked:
    """Arrays set aside by :func:`park`; :meth:`take` gives them back (once)."""

    def __init__(self, arrays: tuple[np.ndarray, ...] | None,
                 spill: _SpillFile | None = None,
                 spec: tuple[tuple[int, np.dtype, tuple[int, ...]], ...] = ()) -> None:
        self._arrays, self._spill, self._spec = arrays, spill, spec

    def take(self) -> tuple[np.ndarray, ...]:
        """The arrays as they were parked (new arrays, read back from the file)."""
        if self._arrays is not None:
            out, self._arrays = self._arrays, None
            return out
        if self._spill is None:
            raise RuntimeError("parked arrays taken twice")
        spill, self._spill = self._spill, None
        return tuple(spill.read(offset, dtype, shape) for offset, dtype, shape in self._spec)


class _SpillFile:
    """An unlinked file that parked arrays are appended to (closed with its last user)."""

    def __init__(self, fd: int, folder: Path) -> None:
        self.fd, self.folder = fd, folder
        self.end = 0
        self._lock = threading.Lock()

    def park(self, arrays: tuple[np.ndarray, ...]) -> Parked:
        spec = []
        for a in arrays:
            data = np.ascontiguousarray(a)
            with self._lock:
                offset, self.end = self.end, self.end + data.nbytes
            view = data.reshape(-1).view(np.uint8).data
            done = 0
            try:
                while done < len(view):
                    done += os.pwrite(self.fd, view[done:], offset + done)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise _no_room(exc, data.nbytes, self.folder) from exc
                raise
            spec.append((offset, data.dtype, data.shape))
        return Parked(None, self, tuple(spec))

    def read(self, offset: int, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
        out = np.empty(shape, dtype=dtype)
        view = out.reshape(-1).view(np.uint8).data
        done = 0
        while done < len(view):
            k = os.preadv(self.fd, [view[done:]], offset + done)
            if k <= 0:
                raise OSError(errno.EIO, "spill file shorter than what was parked")
            done += k
        return out

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def park(*arrays: np.ndarray) -> Parked:
    """``arrays`` set aside until :meth:`Parked.take`: in the active
    :class:`GridMemory`'s spill file, else kept as they are."""
    mem = active()
    return mem.park(*arrays) if mem is not None else Parked(tuple(arrays))


def _watch(mem: GridMemory) -> None:
    """The trimmer: every :data:`_TRIM_PERIOD_S`, trim ``mem``'s arrays when the process
    is over budget; ends when its last array is gone."""
    while True:
        time.sleep(_TRIM_PERIOD_S)
        with mem._lock:
            if not mem._maps:
                mem._thread = None
                return
        mem.relieve()


def _mapping_of(a: np.ndarray) -> mmap.mmap:
    base: Any = a
    while not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else base.base
    return base


def _populate(m: mmap.mmap, start: int, length: int) -> None:
    """Fault ``length`` bytes of ``m`` from ``start`` in for writing in one call, where the
    kernel can (else they fault in as they are written)."""
    page = mmap.PAGESIZE
    a = start - start % page
    with contextlib.suppress(OSError, ValueError):
        m.madvise(_MADV_POPULATE_WRITE, a, min(length + (start - a), len(m) - a))


# -- the active memory ------------------------------------------------------------------

_active: list[GridMemory] = []
_active_lock = threading.Lock()
#: Every GridMemory alive (their locks are made anew in a forked child).
_memories: weakref.WeakSet[GridMemory] = weakref.WeakSet()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def active() -> GridMemory | None:
    """The memory :func:`empty` and :func:`full` allocate from, or None (numpy's)."""
    with _active_lock:
        return _active[-1] if _active else None


@contextlib.contextmanager
def use(memory: GridMemory | None) -> Iterator[GridMemory | None]:
    """Allocate grids from ``memory`` (None: in memory, as numpy does) within the block;
    arrays made there outlive it."""
    if memory is None:
        yield None
        return
    with _active_lock:
        _active.append(memory)
    try:
        yield memory
    finally:
        with _active_lock:
            _active.remove(memory)


def empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A whole-grid array: in the active :class:`GridMemory` (zeros), else ``np.zeros``."""
    mem = active()
    return mem.empty(shape, dtype) if mem is not None else np.zeros(shape, dtype=dtype)


def full(shape: tuple[int, ...], value: Any, dtype: Any) -> np.ndarray:
    """A whole-grid array filled with ``value``: in the active :class:`GridMemory`, else
    ``np.full``."""
    mem = active()
    return mem.full(shape, value, dtype) if mem is not None else np.full(shape, value, dtype)


def relieve() -> None:
    """Let the active memory drop its pages if the process is over budget (a loop that
    touches much of a grid calls this between steps)."""
    mem = active()
    if mem is not None:
        mem.relieve()
