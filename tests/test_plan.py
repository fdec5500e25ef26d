"""``vncoverage plan`` end to end on a small world: the closed loop (building the plan's
sites with ``add-sites`` and running again gives the plan's predicted verdicts and KPIs
exactly), existing sites kept, the sharing constraint, the files written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from plan_world import build_plan_world

from vncoverage.cli import main
from vncoverage.config import load_config
from vncoverage.pipeline import run
from vncoverage.plan.run import make_plan


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("plan")
    w = build_plan_world(root / "world")
    ws = root / "ws"
    res = CliRunner().invoke(main, ["plan", "--config", str(w.config), "--out", str(ws),
                                    "--lang", "en"])
    assert res.exit_code == 0, res.output
    return w.config, ws


def test_the_plan_files_are_written(planned) -> None:
    _, ws = planned
    for name in ("plan_sites.csv", "plan_cells.csv", "plan_villages.csv", "plan_kpi.csv",
                 "plan_candidates.csv", "plan.gpkg", "plan.kml", "plan_map.html",
                 "plan_report.md", "plan_fibre_routes.gpkg"):
        assert (ws / "plan" / name).is_file(), name
    sites = pd.read_csv(ws / "plan" / "plan_sites.csv")
    assert len(sites) > 0 and list(sites["rank"]) == list(range(1, len(sites) + 1))
    report = (ws / "plan" / "plan_report.md").read_text(encoding="utf-8")
    assert "To reach" in report and "Solver" in report


def test_closed_loop_add_sites_reproduces_the_plan(planned, tmp_path) -> None:
    """add-sites of plan_cells.csv, then the run's villages and KPIs are the plan's."""
    config, ws = planned
    plan_dir = ws / "plan"
    predicted = pd.read_csv(plan_dir / "plan_villages.csv", index_col="village_id")
    kpi = pd.read_csv(plan_dir / "plan_kpi.csv", index_col=0)
    before_cells = pd.read_parquet(ws / "state" / "cells.parquet")
    res = CliRunner().invoke(main, ["add-sites", str(plan_dir / "plan_cells.csv"), "--config",
                                    str(config), "--out", str(ws), "--no-progress"])
    assert res.exit_code == 0, res.output
    vil = pd.read_csv(ws / "villages.csv", index_col="village_id")
    got = vil["verdict_mbb_any"].reindex(predicted.index)
    assert (got == predicted["after"]).all(), pd.DataFrame({"got": got,
                                                            "want": predicted["after"]})
    assert (predicted["after"] != predicted["before"]).any()  # the plan changed something
    run_kpi = pd.read_csv(ws / "kpi.csv", index_col="kpi_id")
    for k in ("mobile_broadband_villages", "shared_new_bts"):
        assert run_kpi.at[k, "current"] == pytest.approx(kpi.at[k, "after"], abs=1e-9), k
    # existing sites never moved, changed or removed: the workspace's cells are the old ones
    # (same values) plus the plan's
    after_cells = pd.read_parquet(ws / "state" / "cells.parquet")
    planned = pd.read_csv(plan_dir / "plan_cells.csv")
    assert set(after_cells.index) == set(before_cells.index) | set(planned["cell_id"])
    assert not set(before_cells.index) & set(planned["cell_id"])
    cols = [c for c in before_cells.columns if c != "geometry"]
    pd.testing.assert_frame_equal(after_cells.loc[before_cells.index, cols],
                                  before_cells[cols])


def test_the_plan_reaches_its_target_and_shares_towers(planned) -> None:
    config, _ = planned
    cfg = load_config(config)
    results = run(cfg)
    plan = make_plan(cfg, results, fibre=False)
    mp = plan.mobile
    assert mp is not None
    sol = mp.solution
    assert sol.status == "optimal"  # a small world: HiGHS proves it
    ok = int((mp.villages["after"] == "covered").sum())
    # the target, or (beyond every candidate's reach, noted) the most villages reachable
    assert sol.max_reachable > 0 and ok >= min(mp.required, sol.max_reachable)
    assert ok > int((mp.villages["before"] == "covered").sum())
    sel = mp.candidates[mp.candidates["selected"]]
    new = sel["new_bts"].sum()
    assert new > 0
    assert sel.loc[sel["shared"], "new_bts"].sum() >= cfg.plan.sharing_share * new - 1e-9
    # existing cells are not among the plan's
    assert not set(mp.cells.index) & set(results.inputs.cells.index)
    # the MILP never costs more than the greedy baseline
    assert sol.greedy_cost is not None and sol.cost <= sol.greedy_cost + 1e-6
    # the verdicts before are the run's
    pd.testing.assert_series_equal(
        mp.villages["before"], results.villages["verdict_mbb_any"].reindex(mp.villages.index),
        check_names=False)


def test_closed_loop_fibre_nodes_reproduce_the_fibre_plan(planned, tmp_path) -> None:
    """A run with plan_ftth_nodes.csv as its FTTH nodes gives the plan's FTTH verdicts."""
    config, ws = planned
    nodes = ws / "plan" / "plan_ftth_nodes.csv"
    want = pd.read_csv(ws / "plan" / "plan_fibre_villages.csv", index_col="village_id")
    text = config.read_text(encoding="utf-8").replace('ftth_nodes = "ftth.csv"',
                                                      f'ftth_nodes = "{nodes.as_posix()}"')
    cfg_path = config.with_name("with_plan_nodes.toml")
    cfg_path.write_text(text, encoding="utf-8")
    res = run(load_config(cfg_path))
    got = res.villages["ftth_covered"].reindex(want.index)
    assert (want["after"].astype(bool) != want["before"].astype(bool)).any()
    assert (got.astype(bool) == want["after"].astype(bool)).all()


def test_a_commune_minimum_is_met_in_every_commune(planned) -> None:
    """[plan] commune_min_share = 1: every commune's villages that a candidate can reach
    are covered after the plan, even with a low province target."""
    import dataclasses

    config, _ = planned
    cfg = load_config(config)
    results = run(cfg)
    cfg1 = dataclasses.replace(cfg, plan=dataclasses.replace(
        cfg.plan, commune_min_share=1.0, target_mobile=0.5))
    mp = make_plan(cfg1, results, fibre=False).mobile
    assert mp is not None
    after = mp.villages
    reach = ~after.index.isin(mp.unreachable.index)
    for _, grp in after[reach].groupby("commune"):
        assert (grp["after"] == "covered").all(), grp
    assert (after["after"] == "covered").mean() > 0.5  # more than the province target asks
