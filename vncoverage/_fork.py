"""Run one call in a forked child process while this one goes on.

The output stage has two kinds of work that hold the GIL: the folium map and the
matplotlib figures on one side, tables, rasters and the report on the other. On a machine
with two cores a forked child takes the first kind: it inherits the computed results
without copying or pickling them (copy-on-write) and sends back only what the call returns.

:class:`ForkedCall` uses the standard library's :class:`~concurrent.futures.ProcessPoolExecutor`
with the ``fork`` start method, so a failure in the child is raised again in the parent
with the child's traceback, and a child that dies is reported (``BrokenProcessPool``).
Where ``fork`` is not available or not safe (Windows, macOS), the call runs in this process
when its result is asked for: same result, no parallelism.

Fork only before starting threads that may hold locks the child needs (GDAL writes, for
instance): the child gets a copy of the memory, not of the other threads. Some locks are
out of our hands: a library's own fork handler runs in the child before any Python code
and may wait for a lock another thread held at the fork (PROJ's, inside GDAL, closes its
SQLite handles there, and SQLite's allocator lock is held by any thread inside SQLite,
e.g. one that is ending and destroying its GDAL/PROJ context). Such a child never starts.
So the child says it started (a byte through a pipe) before the parent goes on; one that
has not within :data:`START_TIMEOUT_S` is killed and forked again (the lock's holder
has moved on by then), :data:`FORK_ATTEMPTS` times, after which the call runs in this
process (the same result, without the parallelism; logged).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import select
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Generic, TypeVar

__all__ = ["ForkedCall", "fork_available"]

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Seconds a forked child has to start (to run its first Python line; it takes
#: milliseconds): one that has not is stuck in a library's fork handler.
START_TIMEOUT_S = 20.0
#: Forks tried before the call runs in this process instead.
FORK_ATTEMPTS = 3

#: Calls waiting to be picked up by a child, by key. The child reads its own copy, made at
#: the fork; the parent removes the entry right after forking.
_PENDING: dict[int, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {}


def fork_available() -> bool:
    """True where a forked child can do the work (Linux and other POSIX but macOS, whose
    system libraries are not fork-safe)."""
    return "fork" in mp.get_all_start_methods() and sys.platform != "darwin"


#: Forked calls still running. While there is one, the objects that existed at its fork
#: stay frozen (:func:`gc.freeze`): neither the child's nor this process's garbage
#: collections walk them, since a collection writes to every object's header and so would
#: copy every page of the heap the two processes still share.
_LIVE = 0


def _hold_freeze() -> None:
    global _LIVE
    gc.freeze()  # adds the objects alive now to the frozen ones
    _LIVE += 1


def _release_freeze() -> None:
    global _LIVE
    _LIVE -= 1
    if _LIVE == 0:
        gc.unfreeze()


def _started(fd: int) -> None:
    """The child's first call (the pool's initializer): say it started."""
    os.write(fd, b"1")
    os.close(fd)


def _answered(fd: int, timeout: float) -> bool:
    """Whether the child wrote its byte, or ended (end of file), within ``timeout``."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if ready:
        os.read(fd, 1)  # b"1", or b"" when it died first (result() then reports it)
    return bool(ready)


def _run_pending(key: int) -> Any:
    fn, args, kwargs = _PENDING.pop(key)
    return fn(*args, **kwargs)


class ForkedCall(Generic[T]):
    """``fn(*args, **kwargs)`` in a forked child, started now; :meth:`result` waits for it.

    The arguments are not pickled (the child has them from the fork); the return value is.
    With ``fork=False``, or where :func:`fork_available` is false, the call runs in
    :meth:`result`, in this process.
    """

    def __init__(self, fn: Callable[..., T], *args: Any, fork: bool = True,
                 **kwargs: Any) -> None:
        self._call = (fn, args, kwargs)
        self._pool: ProcessPoolExecutor | None = None
        self._future: Any = None
        if fork and fork_available():
            for attempt in range(1, FORK_ATTEMPTS + 1):
                if self._fork():
                    break
                log.warning("the forked child for %s did not start within %.0f s (a "
                            "library's fork handler waited for a lock another thread "
                            "held): killed%s", getattr(fn, "__name__", fn), START_TIMEOUT_S,
                            ", forked again" if attempt < FORK_ATTEMPTS
                            else "; the call runs in this process instead")

    def _fork(self) -> bool:
        """Fork the child and wait until it says it started: True; False (the child
        killed, nothing left) when it did not within :data:`START_TIMEOUT_S`."""
        key = id(self)
        _PENDING[key] = self._call
        r, w = os.pipe()
        _hold_freeze()
        try:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"),
                                             initializer=_started, initargs=(w,))
            # with the fork method the worker is forked here, inside submit
            self._future = self._pool.submit(_run_pending, key)
            os.close(w)
            w = -1
            answered = _answered(r, START_TIMEOUT_S)
        except BaseException:
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            _release_freeze()
            raise
        finally:
            _PENDING.pop(key, None)
            os.close(r)
            if w >= 0:
                os.close(w)
        if answered:
            return True
        # outside the try: close() releases the freeze itself, even when it raises
        self.close(kill=True)
        self._future = None
        return False

    @property
    def forked(self) -> bool:
        """Whether the call runs in a child process."""
        return self._future is not None

    def result(self) -> T:
        """The call's return value; its exception, raised again here, if it failed."""
        if self._future is None:
            fn, args, kwargs = self._call
            return fn(*args, **kwargs)
        try:
            return self._future.result()
        finally:
            self.close()

    def close(self, *, kill: bool = False) -> None:
        """Release the child; with ``kill``, stop it first if it is still running (when
        the parent gave up and its result is no longer wanted)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            if kill and self._future is not None and not self._future.done():
                # ProcessPoolExecutor has no public way to stop a running call before 3.14;
                # SIGKILL: a child stuck in a fork handler has no Python to stop yet
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.kill()
            pool.shutdown(wait=True, cancel_futures=True)
        finally:
            _release_freeze()
