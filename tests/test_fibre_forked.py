"""The FTTH stage of a run with the mobile analysis is computed in a forked child while the
village summary runs (:func:`vncoverage.pipeline.run`): the same result as in the run's own
process, its failure raised by the run as it is, and the child stopped when a mobile stage
fails first."""

from __future__ import annotations

import multiprocessing as mp

import pandas as pd
import pytest
from conftest import World

from vncoverage import pipeline
from vncoverage._fork import fork_available
from vncoverage.config import load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs

pytestmark = pytest.mark.skipif(not fork_available(), reason="no fork on this platform")


def test_the_forked_fibre_stage_gives_the_stage_in_process(tiny_world: World) -> None:
    cfg = load_config(tiny_world.config)
    inputs = load_inputs(cfg)
    res = pipeline.run(cfg, inputs=inputs)
    assert res.ftth is not None and res.computed["fibre"] == "computed"
    direct = pipeline._fibre(cfg, inputs, None, None, {})
    assert direct is not None
    pd.testing.assert_frame_equal(res.ftth.per_village, direct.per_village)
    assert not mp.active_children()


def test_a_failure_of_the_forked_fibre_stage_is_the_run_s(tiny_world: World,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    problem = Problem(file="ftth.csv", row=3, message="no road within reach",
                      fix="check the node's coordinates")

    def broken(*args: object, **kwargs: object) -> None:
        raise InputDataError([problem])

    monkeypatch.setattr(pipeline, "ftth_reach", broken)
    cfg = load_config(tiny_world.config)
    with pytest.raises(InputDataError, match=r"ftth\.csv, row 3") as err:
        pipeline.run(cfg)
    assert err.value.problems == (problem,)  # rebuilt whole from the child's pickle
    assert not mp.active_children()


def test_a_mobile_stage_failing_stops_the_fibre_child(tiny_world: World,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    started = []
    real = pipeline._fibre_call

    def spy(*args: object, **kwargs: object) -> object:
        call = real(*args, **kwargs)  # type: ignore[arg-type]
        started.append(call)
        return call

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the village summary failed")

    monkeypatch.setattr(pipeline, "_fibre_call", spy)
    monkeypatch.setattr(pipeline, "village_summary", broken)
    cfg = load_config(tiny_world.config)
    with pytest.raises(RuntimeError, match="village summary failed"):
        pipeline.run(cfg)
    assert len(started) == 1 and started[0].forked
    assert not mp.active_children()
