"""ForkedCall: the same result in a child as in-process, failures raised in the parent."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time

import numpy as np
import pytest

from vncoverage import _fork
from vncoverage._fork import ForkedCall, fork_available


def _work(a: np.ndarray, *, scale: float) -> tuple[int, float]:
    return os.getpid(), float((a * scale).sum())


def _fail(message: str) -> None:
    raise ValueError(message)


def test_result_comes_from_a_child_and_equals_the_in_process_one() -> None:
    big = np.arange(2_000_000, dtype=np.float64)  # inherited by the fork, not pickled
    call = ForkedCall(_work, big, scale=0.5)
    assert call.forked == fork_available()  # Linux (CI): forked
    pid, total = call.result()
    assert (pid != os.getpid()) == fork_available()
    here = ForkedCall(_work, big, scale=0.5, fork=False)
    assert not here.forked
    assert here.result() == (os.getpid(), total)


def test_failure_in_the_child_is_raised_in_the_parent() -> None:
    call = ForkedCall(_fail, "bad village <V7>")
    with pytest.raises(ValueError, match="bad village <V7>"):
        call.result()


def _sleep_forever(pid_file: str) -> None:
    import time
    from pathlib import Path

    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(3600)


def test_close_with_kill_stops_a_running_child(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time

    pid_file = tmp_path / "pid"
    call = ForkedCall(_sleep_forever, str(pid_file))
    if not call.forked:
        return  # nothing runs until result() without fork
    while not pid_file.exists() or not pid_file.read_text():
        time.sleep(0.01)
    pid = int(pid_file.read_text())
    call.close(kill=True)  # would wait an hour if the child were not stopped
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped


def test_write_outputs_in_process_and_forked_give_the_same_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import build_world

    from vncoverage.config import load_config
    from vncoverage.outputs.writer import write_outputs
    from vncoverage.pipeline import run

    world = build_world(tmp_path / "world", ridge=True)
    res = run(load_config(world.config), progress=False)
    forked = write_outputs(res, tmp_path / "a")
    here = write_outputs(res, tmp_path / "b", fork=False)
    names = sorted(str(p.relative_to(tmp_path / "a")) for p in forked)
    assert names == sorted(str(p.relative_to(tmp_path / "b")) for p in here)
    assert "map.html" in names and "figures/gap_map.png" in names
    for name in names:
        a, b = (tmp_path / "a" / name), (tmp_path / "b" / name)
        if name.endswith((".png", ".csv")):
            assert a.read_bytes() == b.read_bytes(), name
    # folium gives every element a random id: compare the map without them
    import re

    def strip(p):  # type: ignore[no-untyped-def]
        return re.sub(r"[0-9a-f]{32}", "ID", p.read_text(encoding="utf-8"))

    assert strip(tmp_path / "a" / "map.html") == strip(tmp_path / "b" / "map.html")


def test_objects_stay_frozen_while_a_child_lives_and_are_released_after() -> None:
    import gc

    if not fork_available():
        assert not ForkedCall(_work, np.ones(3), scale=1.0).forked
        return
    assert gc.get_freeze_count() == 0
    first = ForkedCall(_work, np.ones(3), scale=1.0)
    second = ForkedCall(_work, np.ones(3), scale=2.0)
    assert gc.get_freeze_count() > 0  # neither process's collections walk the shared heap
    assert first.result()[1] == 3.0
    assert gc.get_freeze_count() > 0  # the second child still shares the heap
    assert second.result()[1] == 6.0
    assert gc.get_freeze_count() == 0


# A library's fork handler that needs a lock (as PROJ's, inside GDAL, needs SQLite's when
# it closes its database in the child): armed only in the tests below.
_HANDLER_LOCK = threading.Lock()
_ARMED = False


def _library_fork_handler() -> None:
    if _ARMED:
        with _HANDLER_LOCK:  # held by another thread at the fork: waits forever
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_library_fork_handler)


@pytest.fixture
def lock_held_at_fork(monkeypatch):  # type: ignore[no-untyped-def]
    """A thread holds the handler's lock (until ``release`` is set); the fork handler is
    armed; a child has 1 s to start."""
    global _ARMED
    monkeypatch.setattr(_fork, "START_TIMEOUT_S", 1.0)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _HANDLER_LOCK:
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    _ARMED = True
    try:
        yield release
    finally:
        _ARMED = False
        release.set()
        holder.join()


@pytest.mark.skipif(not fork_available(), reason="needs fork")
def test_a_child_stuck_in_a_fork_handler_is_forked_again(
        lock_held_at_fork, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """The first child waits for a lock another thread held at the fork; it is killed
    and a second one (forked once the holder has let go) does the work."""
    real = _fork._answered
    tries = []

    def answered(fd: int, timeout: float) -> bool:
        ok = real(fd, timeout)
        tries.append(ok)
        if not ok:
            lock_held_at_fork.set()  # the holder moves on, as SQLite's does
            time.sleep(0.2)
        return ok

    monkeypatch.setattr(_fork, "_answered", answered)
    with caplog.at_level(logging.WARNING, logger="vncoverage._fork"):
        call = ForkedCall(_work, np.ones(4), scale=2.0)
    assert tries == [False, True] and call.forked
    pid, total = call.result()
    assert pid != os.getpid() and total == 8.0
    assert "did not start" in caplog.text and "forked again" in caplog.text
    assert mp.active_children() == []  # the stuck child was killed and reaped


@pytest.mark.skipif(not fork_available(), reason="needs fork")
def test_a_child_that_never_starts_leaves_the_call_in_this_process(
        lock_held_at_fork, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_fork, "FORK_ATTEMPTS", 2)
    with caplog.at_level(logging.WARNING, logger="vncoverage._fork"):
        call = ForkedCall(_work, np.ones(4), scale=3.0)
    assert not call.forked
    assert call.result() == (os.getpid(), 12.0)  # the same result, here
    assert caplog.text.count("did not start") == 2
    assert "runs in this process instead" in caplog.text
    assert mp.active_children() == []
    import gc

    assert gc.get_freeze_count() == 0  # every attempt released the freeze


@pytest.mark.skipif(not fork_available(), reason="needs fork")
def test_a_failing_kill_of_a_child_that_did_not_start_releases_the_freeze_once(
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Giving up on a child whose handshake timed out: when closing it raises, the
    error reaches the caller and the freeze count drops by one, not two (another
    call's child, still alive, keeps the heap frozen)."""
    live = ForkedCall(_work, np.ones(2), scale=1.0)  # holds the freeze meanwhile
    before = _fork._LIVE
    real_close = ForkedCall.close

    def failing_close(self, *, kill: bool = False) -> None:  # type: ignore[no-untyped-def]
        real_close(self, kill=kill)
        raise OSError("kill failed")

    monkeypatch.setattr(_fork, "_answered", lambda fd, timeout: False)
    monkeypatch.setattr(ForkedCall, "close", failing_close)
    with pytest.raises(OSError, match="kill failed"):
        ForkedCall(_work, np.ones(4), scale=2.0)
    monkeypatch.undo()
    assert before == _fork._LIVE
    assert live.result()[1] == 2.0
    assert before - 1 == _fork._LIVE and mp.active_children() == []


def test_gdal_writes_run_on_one_kept_thread(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two writers use the same GDAL thread and leave it running: no thread that used
    GDAL ends (and tears down its PROJ context) while a child may be forked."""
    from conftest import build_world

    from vncoverage.config import load_config
    from vncoverage.outputs import writer
    from vncoverage.pipeline import run

    world = build_world(tmp_path / "world")
    res = run(load_config(world.config), progress=False)
    writer.write_outputs(res, tmp_path / "a", map_html=False, fork=False)
    first = writer._gdal_thread()
    idents = {t.ident for t in threading.enumerate() if t.name.startswith("vnc-gdal")}
    writer.write_outputs(res, tmp_path / "b", map_html=False, fork=False)
    assert writer._gdal_thread() is first
    assert {t.ident for t in threading.enumerate()
            if t.name.startswith("vnc-gdal")} == idents and len(idents) == 1
