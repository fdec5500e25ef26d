"""Calibration to measurements: a synthetic drive test drawn from the model with a KNOWN
global bias, per-site offsets and correlated shadowing (scripts/make_drive_test.py) on a
small world; the calibration recovers the bias within 0.5 dB and σ within 1 dB, and the
held-out-site RMSE improves. Also: the site-grouped folds, the shrinkage, the corrections
file and the next run using it."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import PIXEL, X0, Y0, build_world, write_dem
from pyproj import Transformer
from shapely.geometry import LineString

from vncoverage.calibration import (
    calibrate,
    calibration_report,
    cross_validate,
    fit_corrections,
    site_folds,
    variance_components,
    write_calibration,
)
from vncoverage.config import load_config
from vncoverage.errors import InputDataError
from vncoverage.fileio import load_inputs
from vncoverage.fileio.measurements import read_corrections
from vncoverage.pipeline import stage_fingerprints

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_drive_test.py"
_spec = importlib.util.spec_from_file_location("make_drive_test", SCRIPT)
assert _spec is not None and _spec.loader is not None
drive = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(drive)

TO_LL = Transformer.from_crs(32648, 4326, always_xy=True)


def _world(root: Path) -> tuple[Path, gpd.GeoDataFrame]:
    """A 10 km square with hills, nine 3-sector Viettel 4G (1800) sites on a 3 km grid,
    VNPT omni 4G (2100) cells on five of them, and a grid of roads every 1 km."""
    rows = []
    for i, yy in enumerate((2000.0, 5000.0, 8000.0)):
        for j, xx in enumerate((2000.0, 5000.0, 8000.0)):
            site = f"S{3 * i + j + 1}"
            lon, lat = TO_LL.transform(X0 + xx, Y0 - yy)
            for s, az in enumerate((0, 120, 240)):
                rows.append(dict(site_id=site, cell_id=f"VT-{site}-{s + 1}", operator="Viettel",
                                 technology="4G", lon=lon, lat=lat, height_m=30,
                                 azimuth_deg=az, tilt_deg=3, frequency_mhz=1800,
                                 bandwidth_mhz=20, eirp_dbm=60, commissioned="2024-03-01",
                                 tower_owner="Viettel"))
            if (i + j) % 2 == 0:
                rows.append(dict(site_id=site, cell_id=f"VN-{site}", operator="VNPT",
                                 technology="4G", lon=lon, lat=lat, height_m=30,
                                 azimuth_deg="", tilt_deg=2, frequency_mhz=2100,
                                 bandwidth_mhz=10, eirp_dbm=58, commissioned="2020-01-01",
                                 tower_owner="Viettel"))
    w = build_world(root, cells_rows=rows)
    yy, xx = np.mgrid[0:200, 0:200] * PIXEL
    hills = 100 + 60 * np.sin(xx / 900.0) * np.cos(yy / 1300.0) + 0.004 * xx
    write_dem(w.dem, hills)
    text = w.config.read_text(encoding="utf-8").replace('"4G" = 6000.0', '"4G" = 3000.0')
    w.config.write_text(text, encoding="utf-8")
    # roads off the pixel edges (a point on an edge could round into the next pixel)
    lines = [LineString([(X0 + 260, Y0 - k), (X0 + 9740, Y0 - k)])
             for k in range(1025, 10000, 2000)]
    lines += [LineString([(X0 + k, Y0 - 260), (X0 + k, Y0 - 9740)])
              for k in range(525, 10000, 3000)]
    return w.config, gpd.GeoDataFrame(geometry=lines, crs=32648)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, gpd.GeoDataFrame]:
    return _world(tmp_path_factory.mktemp("cal") / "world")


BIAS, SITE, SHADOW = 4.0, 2.5, 5.0


@pytest.fixture(scope="module")
def drive_csv(world: tuple[Path, gpd.GeoDataFrame]) -> tuple[Path, dict]:
    config, roads = world
    cfg = load_config(config)
    inputs = load_inputs(cfg)
    frame, truth = drive.drive_test(inputs.cells, inputs.dem, cfg.radio, roads, bias_db=BIAS,
                                    site_sigma_db=SITE, shadow_sigma_db=SHADOW, corr_m=50.0,
                                    spacing_m=40.0, floor_dbm=-150.0, seed=7)
    path = config.parent / "drive_test.csv"
    drive.write_csv(frame, inputs.cells.crs, path)
    return path, truth


@pytest.fixture(scope="module")
def calibrated(world, drive_csv, tmp_path_factory):
    config, _ = world
    cal = calibrate(load_config(config), drive_csv[0], seed=3)
    out = tmp_path_factory.mktemp("cal_out")
    path = write_calibration(cal, out / "calibration", config=str(config))
    return cal, path


def test_the_drive_test_is_a_known_truth(drive_csv):
    path, truth = drive_csv
    df = pd.read_csv(path)
    assert list(df.columns) == ["Time", "Longitude", "Latitude", "RSRP (dBm)", "Cell ID",
                                "Network", "RAT", "Band", "Device"]
    assert len(df) > 1000 and set(df["Network"]) == {"Viettel", "VNPT"}
    assert truth["bias_db"] == BIAS and truth["n"] == len(df)
    offsets = list(truth["site_offsets_db"].values())
    assert len(offsets) == 9


def test_calibration_recovers_the_bias_and_sigma(calibrated, drive_csv):
    cal, _ = calibrated
    c = cal.corrections
    assert c.n == drive_csv[1]["n"]  # every measurement was matched
    assert abs(c.global_offset_db - BIAS) < 0.5, c.global_offset_db
    assert abs(c.sigma_db - math.hypot(SITE, SHADOW)) < 1.0, c.sigma_db
    # the point part is found as such (the site part rests on nine sites only)
    assert abs(c.point_sigma_db - SHADOW) < 1.0
    # the shrunk group offsets stay close to the global one: no group effect was drawn
    assert all(abs(g.offset_db - BIAS) < 1.0 for g in c.groups)


def test_held_out_site_rmse_improves(calibrated):
    cal, _ = calibrated
    cv = cal.corrections.cv
    assert cv["folds"] == 5 and cv["n"] == cal.corrections.n
    assert cv["rmse_after_db"] < cv["rmse_before_db"] - 1.0, cv
    assert abs(cv["bias_after_db"]) < 1.0 and abs(cv["bias_before_db"] - BIAS) < 0.5
    # whole sites are held out: no site in two folds
    per_site = cal.points.groupby("site_id")["fold"].nunique()
    assert (per_site == 1).all()


def test_the_workspace_files(calibrated):
    cal, path = calibrated
    folder = path.parent
    for name in ("report.md", "corrections.json", "points.csv", "residual_vs_distance.png",
                 "residual_histogram.png", "residual_map.png"):
        assert (folder / name).stat().st_size > 0, name
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "Before / after" in report and "held-out sites" in report
    assert "By LOS / NLOS" in report and "By distance band" in report
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "vncoverage-calibration-corrections" and doc["version"] == 1
    assert doc["measurements"]["n"] == cal.corrections.n
    assert len(doc["measurements"]["sha256"]) == 64
    back = read_corrections(path)
    assert back.global_offset_db == pytest.approx(cal.corrections.global_offset_db, abs=1e-3)
    assert back.sigma_db == pytest.approx(cal.corrections.sigma_db, abs=1e-3)
    assert len(back.groups) == 2 and back.technologies == ("4G",)
    # the global offset's standard error: the site errors average over nine sites only
    assert 0.3 < doc["global_offset_se_db"] < 2.0
    assert back.global_offset_se_db == pytest.approx(doc["global_offset_se_db"])


def test_the_next_run_uses_the_corrections(world, calibrated):
    config, _ = world
    _, path = calibrated
    cfg = load_config(config)
    plain = load_inputs(cfg)
    corrected_cfg = dataclasses.replace(
        cfg, calibration=dataclasses.replace(cfg.calibration, corrections=path))
    corrected = load_inputs(corrected_cfg)
    back = read_corrections(path)
    want = {(g.operator, g.band): g.offset_db for g in back.groups}
    bands = {"Viettel": "B3", "VNPT": "B1"}
    for cid, row in corrected.cells.iterrows():
        delta = row["eirp_dbm"] - plain.cells.at[cid, "eirp_dbm"]
        assert delta == pytest.approx(want[(row["operator"], bands[row["operator"]])])
    assert any(n.key == "calibration.applied" for n in corrected.notes)
    assert "corrections" in corrected.checksums and "corrections" not in plain.checksums
    assert (stage_fingerprints(corrected_cfg, corrected).results
            != stage_fingerprints(cfg, plain).results)
    # calibrating again with the corrections set compares with the UNcorrected model
    again = calibrate(corrected_cfg, back.measurements_file, seed=3)
    assert again.corrections.global_offset_db == pytest.approx(back.global_offset_db,
                                                               abs=1e-3)
    assert any(n.key == "calibration.uncorrected" for n in again.notes)


def test_site_folds_hold_out_whole_sites_and_are_seeded():
    sites = np.array([f"S{k % 13}" for k in range(200)])
    a = site_folds(sites, 5, 0)
    assert sorted(set(a.values())) == [0, 1, 2, 3, 4] and len(a) == 13
    counts = np.bincount(list(a.values()))
    assert counts.max() - counts.min() <= 1
    assert a == site_folds(sites, 5, 0) and a != site_folds(sites, 5, 1)


def _points(offsets: dict[str, float], n: int, rng: np.random.Generator,
            sites: int = 10) -> pd.DataFrame:
    rows = []
    for op, off in offsets.items():
        for s in range(sites):
            e = rng.normal(0, 2.0)
            for _ in range(n):
                rows.append({"operator": op, "technology": "4G", "band": "B3",
                             "site_id": f"{op}{s}", "residual_db": off + e + rng.normal(0, 4)})
    return pd.DataFrame(rows)


def test_group_offsets_are_shrunk_toward_the_global_one():
    rng = np.random.default_rng(5)
    # two real group effects (+6, -6 dB) on many sites: kept (weight near 1)
    pts = _points({"A": 6.0, "B": -6.0}, 30, rng)
    _, groups, shrink = fit_corrections(pts)
    by = {x.operator: x for x in groups}
    assert abs(by["A"].offset_db - 6) < 1.5 and abs(by["B"].offset_db + 6) < 1.5
    assert by["A"].weight > 0.9 and shrink["tau_db"] > 3
    # a group with two points of one site: pulled toward the global offset
    c_rows = pd.DataFrame({"operator": "C", "technology": "4G", "band": "B3",
                           "site_id": "C0", "residual_db": [5.0, 5.0]})
    small = pd.concat([_points({"A": 2.0, "B": -2.0}, 30, rng), c_rows], ignore_index=True)
    g2, groups2, _ = fit_corrections(small)
    by2 = {x.operator: x for x in groups2}
    c = by2["C"]
    assert c.raw_offset_db == pytest.approx(5.0)
    assert c.weight < 0.6 and by2["A"].weight > 0.8
    assert g2 < c.offset_db < c.raw_offset_db
    # no group effect at all: every group at (about) the global offset
    flat = _points({"A": 1.0, "B": 1.0, "D": 1.0}, 20, rng)
    g3, groups3, _ = fit_corrections(flat)
    assert all(abs(x.offset_db - g3) < 0.5 for x in groups3)


def test_variance_components_against_a_hand_computed_case():
    # two sites: {1, 3} and {5, 7, 9}: MSW = (2 + 8) / 3, grand mean 5
    # MSB = (2 (2 - 5)² + 3 (7 - 5)²) / 1 = 30, n0 = (5 - 13/5) / 1 = 2.4
    r = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    s = np.array(["a", "a", "b", "b", "b"])
    site, point = variance_components(r, s)
    assert point == pytest.approx(math.sqrt(10 / 3))
    assert site == pytest.approx(math.sqrt((30 - 10 / 3) / 2.4))


def test_cross_validation_with_one_site_is_refused_quietly():
    pts = _points({"A": 1.0}, 10, np.random.default_rng(1), sites=1)
    cv, _, fold = cross_validate(pts)
    assert cv["folds"] == 0 and math.isnan(cv["rmse_after_db"]) and (fold == -1).all()


def test_no_measurement_in_the_area_is_a_problem(world, tmp_path):
    config, _ = world
    path = tmp_path / "far.csv"
    path.write_text("lon,lat,rsrp_dbm,cell_id\n105.0,20.0,-90,VT-S1-1\n"
                    "105.1,20.1,-95,VT-S1-2\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="0 measurement"):
        calibrate(load_config(config), path)


def test_unknown_cells_and_points_outside_are_left_out_with_a_note(world, drive_csv,
                                                                   tmp_path):
    config, _ = world
    df = pd.read_csv(drive_csv[0]).iloc[:40].copy()
    df.loc[0, "Cell ID"] = "NOT-A-CELL"            # a neighbouring province's cell
    df.loc[1, ["Longitude", "Latitude"]] = [105.0, 20.0]  # off the DEM
    df.loc[2, "Cell ID"] = np.nan                  # best server of Viettel LTE instead
    path = tmp_path / "few.csv"
    df.to_csv(path, index=False)
    cal = calibrate(load_config(config), path)
    assert cal.corrections.n == 38
    dropped = {n.params["reason"].key: n.params["rows"] for n in cal.notes
               if n.key == "calibration.dropped"}
    assert dropped == {"calibration.drop_unknown_cell": "2",
                       "calibration.drop_outside": "3"}, dropped
    row4 = cal.points.set_index("row").loc[4]
    assert row4["operator"] == df.loc[2, "Network"] and row4["cell_id"].startswith(
        "VT-" if df.loc[2, "Network"] == "Viettel" else "VN-")


def test_the_command(world, drive_csv, tmp_path):
    from click.testing import CliRunner

    from vncoverage.cli import main

    config, _ = world
    out = tmp_path / "ws"
    res = CliRunner().invoke(main, ["calibrate", "--measurements", str(drive_csv[0]),
                                    "--config", str(config), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "held-out sites RMSE" in res.output
    assert read_corrections(out / "calibration" / "corrections.json").n == drive_csv[1]["n"]
    assert any((out / "cache" / "sweeps").rglob("*.vnca"))  # the sweeps are kept
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat,rsrp_dbm,cell_id\n106.76,21.84,35,VT-S1-1\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["calibrate", "--measurements", str(bad), "--config",
                                    str(config), "--out", str(out)])
    assert res.exit_code == 2 and "row 2" in res.output and "rsrp_dbm" in res.output


def test_residuals_by_land_cover_class_when_the_run_has_one(world, drive_csv):
    from vncoverage.datatypes import LandCover
    from vncoverage.fileio.landcover import read_class_table

    config, _ = world
    cfg = load_config(config)
    inputs = load_inputs(cfg)
    classes = np.full(inputs.dem.shape, 40, dtype=np.uint8)  # cropland ...
    classes[:, :100] = 50                                     # ... built-up in the west
    table = read_class_table(Path(__file__).resolve().parents[1] / "vncoverage"
                             / "landcover_classes.csv", [])
    lc = LandCover(classes, table)
    cal = calibrate(cfg, drive_csv[0], inputs=dataclasses.replace(inputs, landcover=lc))
    assert set(cal.points["landcover"]) == {str(table.at[40, "name"]),
                                            str(table.at[50, "name"])}
    west = cal.points["x"] < X0 + 100 * PIXEL
    assert (cal.points.loc[west, "landcover"] == table.at[50, "name"]).all()
    assert "By land-cover class" in calibration_report(cal)
