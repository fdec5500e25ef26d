"""The calibration inside the run (``[calibration] measurements``): the run fits the
corrections on the uncorrected model, continues with the corrected cells, computes each
sweep once, writes ``calibration/`` and shows the calibration in the report; a workspace
update after ``add-sites`` fits again and equals a full run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from test_calibration import _world, drive

from vncoverage import coverage, pipeline
from vncoverage.calibration import calibrate, write_calibration
from vncoverage.config import load_config
from vncoverage.errors import ConfigError, InputDataError
from vncoverage.fileio import load_inputs
from vncoverage.fileio.measurements import (
    UNCORRECTED_EIRP,
    read_measurements,
    uncorrected_cells,
)
from vncoverage.outputs.report import ReportContext, calibration_tables, render_markdown
from vncoverage.outputs.writer import write_outputs
from vncoverage.uncertainty import UNCALIBRATED_COLUMN
from vncoverage.workspace import run_workspace

BIAS = 4.0
SECTIONS = ("\n[uncertainty]\nenabled = true\ndraws = 100\n\n"
            "[calibration]\nmeasurements = \"drive_test.csv\"\nseed = 3\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The calibration tests' world (nine sites, two operators, hills), its drive test
    (bias +4 dB, site σ 2.5 dB, shadowing 5 dB) and three configurations: plain (with
    the uncertainty), calibrated inside the run, and with the corrections of a separate
    ``calibrate``."""
    config, roads = _world(tmp_path_factory.mktemp("calrun") / "world")
    cfg = load_config(config)
    inputs = load_inputs(cfg)
    frame, _ = drive.drive_test(inputs.cells, inputs.dem, cfg.radio, roads, bias_db=BIAS,
                                site_sigma_db=2.5, shadow_sigma_db=5.0, corr_m=50.0,
                                spacing_m=60.0, floor_dbm=-150.0, seed=7)
    drive.write_csv(frame, inputs.cells.crs, config.parent / "drive_test.csv")
    text = config.read_text(encoding="utf-8")
    plain = config.parent / "plain.toml"
    plain.write_text(text + "\n[uncertainty]\nenabled = true\ndraws = 100\n", encoding="utf-8")
    calibrated = config.parent / "calibrated.toml"
    calibrated.write_text(text + SECTIONS, encoding="utf-8")
    cal = calibrate(load_config(plain), config.parent / "drive_test.csv", seed=3)
    path = write_calibration(cal, config.parent / "separate" / "calibration")
    two_step = config.parent / "two_step.toml"
    two_step.write_text(text + "\n[uncertainty]\nenabled = true\ndraws = 100\n\n"
                        f"[calibration]\ncorrections = \"{path.as_posix()}\"\n",
                        encoding="utf-8")
    return {"plain": plain, "calibrated": calibrated, "two_step": two_step,
            "root": config.parent}


@pytest.fixture(scope="module")
def runs(world: dict[str, Path]) -> dict[str, pipeline.Results]:
    """The three runs; :data:`PATHS`: per run, how many paths it computed."""
    out: dict[str, pipeline.Results] = {}
    calls: list[int] = []
    exact = coverage.exact_window

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        got = exact(*args, **kwargs)
        calls.append(int((~np.isposinf(got.loss_db)).sum()))  # +inf: not computed
        return got

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(coverage, "exact_window", counted)
        for key in ("plain", "calibrated", "two_step"):
            calls.clear()
            out[key] = pipeline.run(load_config(world[key]), progress=False)
            PATHS[key] = sum(calls)
    return out


#: Paths (pixel-group pairs) computed per run of :func:`runs`.
PATHS: dict[str, int] = {}


def test_both_keys_and_bad_settings_are_config_problems(world):
    text = world["calibrated"].read_text(encoding="utf-8")
    for extra, words in (('corrections = "c.json"\n', ("measurements", "corrections")),
                         ("folds = 1\n", ("folds",))):
        bad = world["root"] / "bad.toml"
        bad.write_text(text + extra, encoding="utf-8")
        with pytest.raises(ConfigError) as exc:
            load_config(bad)
        message = str(exc.value)
        assert all(w in message for w in words), message
    missing = world["root"] / "missing.toml"
    missing.write_text(text.replace("drive_test.csv", "nowhere.csv"), encoding="utf-8")
    with pytest.raises(InputDataError, match=r"nowhere\.csv"):
        load_inputs(load_config(missing))


def test_the_run_fits_and_uses_the_corrections_as_calibrate_then_run_does(runs):
    a, b, plain = runs["calibrated"], runs["two_step"], runs["plain"]
    assert a.calibration is not None and plain.calibration is None and b.calibration is None
    c = a.calibration.corrections
    assert abs(c.global_offset_db - BIAS) < 0.6 and c.n > 500
    # the cells' EIRP: the uncorrected one plus the fitted offsets (kept beside it)
    got, raw = a.inputs.cells, plain.inputs.cells
    assert got[UNCORRECTED_EIRP].to_numpy() == pytest.approx(raw["eirp_dbm"].to_numpy())
    assert (got["eirp_dbm"] - raw["eirp_dbm"]).to_numpy() == pytest.approx(
        np.full(len(raw), c.global_offset_db), abs=1.0)
    assert b.inputs.cells["eirp_dbm"].to_numpy() == pytest.approx(
        got["eirp_dbm"].to_numpy(), abs=1e-3)
    pd.testing.assert_frame_equal(uncorrected_cells(got), raw, check_dtype=False)
    # the same verdicts and KPI as a separate calibrate and a run with its corrections
    assert a.villages["verdict_mbb_any"].equals(b.villages["verdict_mbb_any"])
    kid = "mobile_broadband_villages"
    assert a.kpis.at[kid, "current"] == b.kpis.at[kid, "current"]
    for r in (a, b):
        assert str(r.kpis.at[kid, "uncertainty_basis"]).startswith("calibrated")
    assert str(plain.kpis.at[kid, "uncertainty_basis"]).startswith("uncalibrated")
    assert a.uncertainty is not None and a.uncertainty.model.calibrated
    # the uncalibrated model's KPI: the run's levels less the corrections give the plain
    # run's verdicts (the same rule)
    assert a.kpis.at[kid, UNCALIBRATED_COLUMN] == pytest.approx(plain.kpis.at[kid, "current"])
    assert UNCALIBRATED_COLUMN not in plain.kpis.columns
    assert UNCALIBRATED_COLUMN not in b.kpis.columns
    assert "calibration" in a.timings and "fitted on" in a.computed["calibration"]


def test_the_calibration_computes_the_measured_pixels_only(world, runs):
    """The calibration computes the paths to the measured pixels only (the values the
    whole windows give), not whole windows: the calibrated run computes at most one more
    path per measured pixel and sweep group reaching it than the plain run, and some."""
    cfg = load_config(world["plain"])
    inputs = load_inputs(cfg)
    dem = inputs.dem
    problems: list = []
    meas = read_measurements(world["root"] / "drive_test.csv", working_crs=dem.crs,
                             problems=problems)
    assert meas is not None and not problems
    rows, cols = dem.index(meas.geometry.x.to_numpy(), meas.geometry.y.to_numpy())
    pixels = {(int(r), int(c)) for r, c in zip(rows, cols, strict=True)}
    t = dem.transform
    px = np.array([t.c + (c + 0.5) * t.a for _, c in pixels])
    py = np.array([t.f + (r + 0.5) * t.e for r, _ in pixels])
    groups = coverage.sweep_groups(inputs.cells, cfg.radio)
    pairs = sum(int(((px - g.x) ** 2 + (py - g.y) ** 2 <= (g.radius_m + 2 * dem.pixel_m) ** 2)
                    .sum()) for g in groups)
    extra = PATHS["calibrated"] - PATHS["plain"]
    assert 0 < extra <= pairs
    # whole windows of the groups near a measurement would be many times more
    assert pairs < 0.2 * PATHS["plain"]


def test_fingerprints_hold_the_measurements_only_when_set(world):
    def results_fp(path: Path) -> str:
        cfg = load_config(path)
        return pipeline.stage_fingerprints(cfg, load_inputs(cfg)).results

    plain, calibrated = results_fp(world["plain"]), results_fp(world["calibrated"])
    assert plain != calibrated
    # another seed, or another measurement file: another fingerprint
    text = world["calibrated"].read_text(encoding="utf-8")
    seeded = world["root"] / "seeded.toml"
    seeded.write_text(text.replace("seed = 3", "seed = 4"), encoding="utf-8")
    assert results_fp(seeded) != calibrated
    cfg = load_config(world["calibrated"])
    inputs = load_inputs(cfg)
    changed = dataclasses.replace(inputs, checksums={**inputs.checksums, "measurements": "x"})
    assert pipeline.stage_fingerprints(cfg, changed).results != calibrated


def test_outputs_and_report(runs, tmp_path):
    res = runs["calibrated"]
    for lang, words in (("en", ("Calibration to measurements", "held-out sites",
                                "uncalibrated model", "σ before", "global offset")),
                        ("vi", ("Hiệu chỉnh mô hình theo đo kiểm", "Trạm giữ lại",
                                "Mô hình chưa hiệu chỉnh"))):
        out = tmp_path / lang
        written = write_outputs(res, out, map_html=False, lang=lang, fork=False)
        for name in ("report.md", "corrections.json", "points.csv", "residual_map.png"):
            assert (out / "calibration" / name).stat().st_size > 0
            assert out / "calibration" / name in written
        for report in ("report.md", "report.html"):
            text = (out / report).read_text(encoding="utf-8")
            assert all(w in text for w in words), (lang, report)
            assert res.calibration is not None
            assert res.calibration.corrections.measurements_sha256 in text
    r = runs["plain"]
    ctx = ReportContext(cfg=r.cfg, kpis=r.kpis, villages=r.villages, by_district=r.by_district,
                        by_commune_2025=r.by_commune_2025, checksums=r.inputs.checksums,
                        notes=r.notes, timings={}, n_cells=r.n_cells, lang="en",
                        calibration=r.calibration)
    assert not calibration_tables(ctx)
    assert "Calibration to measurements" not in render_markdown(ctx)


def _split_cells(root: Path) -> tuple[Path, Path]:
    """The world's cells without the sites S7-S9, and those sites' cells."""
    cells = pd.read_csv(root / "cells.csv")
    new = cells["site_id"].isin(["S7", "S8", "S9"])
    first, added = root / "cells_first.csv", root / "cells_added.csv"
    cells[~new].to_csv(first, index=False)
    cells[new].to_csv(added, index=False)
    return first, added


def test_an_update_with_new_sites_fits_again_and_equals_a_full_run(world, runs, tmp_path):
    first, added = _split_cells(world["root"])
    text = world["calibrated"].read_text(encoding="utf-8")
    part = world["root"] / "part.toml"
    part.write_text(text.replace('cells = "cells.csv"', f'cells = "{first.name}"'),
                    encoding="utf-8")

    def ws_run(cfg_path: Path, ws: Path, **kw):  # type: ignore[no-untyped-def]
        return run_workspace(load_config(cfg_path), ws, progress=False, map_html=False, **kw)

    before = ws_run(part, tmp_path / "ws")
    after = ws_run(part, tmp_path / "ws", mode="add-sites", sites=added)
    assert before.results is not None and after.results is not None
    cb, ca = before.results.calibration, after.results.calibration
    assert cb is not None and ca is not None
    # the new sites serve measurements the first run left out: more of them now
    assert ca.corrections.n > cb.corrections.n
    full = runs["calibrated"]  # a full run with every cell (the files come from these)
    assert full.calibration is not None
    assert ca.corrections.n == full.calibration.corrections.n
    assert ca.corrections.global_offset_db == pytest.approx(
        full.calibration.corrections.global_offset_db)
    # the workspace's cells came back corrected: calibrated again from their EIRP as given
    got = after.results.inputs.cells.sort_index()
    want = full.inputs.cells.sort_index()
    assert got["eirp_dbm"].to_numpy() == pytest.approx(want["eirp_dbm"].to_numpy())
    pd.testing.assert_frame_equal(after.results.villages.sort_index(),
                                  full.villages.sort_index(), check_like=True)
    pd.testing.assert_frame_equal(after.results.kpis, full.kpis, check_like=True)
    for name in ("villages.csv", "kpi.csv", "calibration/corrections.json",
                 "calibration/report.md"):
        assert (tmp_path / "ws" / name).exists()


# ------------------------------------------------------------------ the bundled sample
SAMPLE = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.skipif(not (SAMPLE / "measurements" / "drive_test.csv").exists(),
                    reason="sample not generated")
def test_the_sample_calibrates_on_its_drive_test() -> None:
    cfg = load_config(SAMPLE / "config.toml")
    path = SAMPLE / "measurements" / "drive_test.csv"
    assert cfg.calibration.measurements == path.resolve()
    assert cfg.calibration.corrections is None and cfg.uncertainty.enabled
    assert path.stat().st_size < 1024 * 1024
    truth = json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8"))
    df = pd.read_csv(path)
    assert truth["bias_db"] == 3.0 and truth["n"] == len(df) > 5000
    assert set(df["Network"]) == {"Viettel", "VNPT", "MobiFone"}


@pytest.mark.skipif(not (SAMPLE / "landcover" / "lang_son_landcover.tif").exists(),
                    reason="sample not generated")
def test_the_sample_hamlets_sit_on_settled_land() -> None:
    """Every household cluster and village centre is on cropland or built-up (the settled
    patches of scripts/make_sample_data.py), none under trees."""
    with rasterio.open(SAMPLE / "landcover" / "lang_son_landcover.tif") as src:
        classes, transform = src.read(1), src.transform
    for path, layer in ((SAMPLE / "settlements" / "settlements.gpkg", "clusters"),
                        (SAMPLE / "boundaries" / "lang_son_sample.gpkg", "village_centres")):
        pts = gpd.read_file(path, layer=layer).to_crs(32648)
        rows, cols = rasterio.transform.rowcol(transform, pts.geometry.x, pts.geometry.y)
        got = classes[np.asarray(rows), np.asarray(cols)]
        assert set(np.unique(got).tolist()) == {40, 50}, layer
        assert 0.2 < (got == 50).mean() < 0.8, layer
