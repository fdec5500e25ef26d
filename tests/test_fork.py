"""ForkedCall: the same result in a child as in-process, failures raised in the parent."""

from __future__ import annotations

import os

import numpy as np
import pytest

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
