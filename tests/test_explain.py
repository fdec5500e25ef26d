"""``vncoverage explain`` and ``vncoverage cell``: the run's numbers, village by village.

Small worlds (tests/conftest.py): a ridge of 400 m east of the site (nothing behind it can
be reached) and a low ridge of 25 m, which a higher antenna clears. Every explained level
must be the run's ``best_dbm_centre_4g`` (villages.csv) to 0.01 dB, and the antenna raise
it proposes must make a full recomputation (compute_layers) cover the centre.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner
from conftest import N, build_world, write_dem

from vncoverage.cli import main
from vncoverage.config import load_config, section_dict
from vncoverage.coverage import ANY, compute_layers
from vncoverage.errors import InputDataError
from vncoverage.explain import (
    ReadOnlyCache,
    cell_level_raster,
    check_run,
    explain_village,
    explanation_href,
    find_village,
    read_run,
    terrain_profile,
    write_explanation,
)
from vncoverage.fileio import load_inputs
from vncoverage.propagation import C_M_PER_S, EARTH_RADIUS_M, NU_J_ZERO
from vncoverage.workspace import run_workspace
from vncoverage.workspace.caches import DirSweepCache


def _run(root: Path, elev: np.ndarray | None = None, **kw):
    w = build_world(root / "world", **kw)
    if elev is not None:
        write_dem(w.dem, elev)
    cfg = load_config(w.config)
    ws = root / "ws"
    wr = run_workspace(cfg, ws, progress=False, map_html=False)
    return w, cfg, ws, wr.results


@pytest.fixture(scope="module")
def ridge(tmp_path_factory):
    """The 400 m ridge world, run into a workspace."""
    return _run(tmp_path_factory.mktemp("explain_ridge"), ridge=True)


@pytest.fixture(scope="module")
def low_ridge(tmp_path_factory):
    """A 25 m ridge 1 km east of the site: a few metres more antenna clear it."""
    elev = np.full((N, N), 100.0)
    elev[:, 120:122] = 125.0
    return _run(tmp_path_factory.mktemp("explain_low"), elev)


def _csv(ws: Path) -> pd.DataFrame:
    return pd.read_csv(ws / "villages.csv", index_col=0, encoding="utf-8-sig")


def _explain(world, vid: str, **kw):
    _w, cfg, ws, _res = world
    run = read_run(ws)
    inputs = load_inputs(cfg)
    return explain_village(vid, run.villages, run.cells, inputs.dem, cfg.radio,
                           cache=ReadOnlyCache(DirSweepCache(ws / "cache" / "sweeps")), **kw)


def test_explained_level_is_the_runs_for_every_village(ridge):
    """The test the brief asks for: the explained RSRP at the centre equals the run's
    best_dbm_centre_4g (villages.csv) for the best server, to 0.01 dB, and the link budget
    adds up to it."""
    _w, cfg, ws, _res = ridge
    table = _csv(ws)
    run = read_run(ws)
    dem = load_inputs(cfg).dem
    n = 0
    for vid, row in table.iterrows():
        exp = explain_village(str(vid), run.villages, run.cells, dem, cfg.radio,
                              max_raise_m=2.0)
        best = exp.best
        if not np.isfinite(row["best_dbm_centre_4g"]):
            assert best is None
            continue
        n += 1
        assert best is not None and best.cell_id == row["best_server_centre_4g"]
        assert abs(best.rsrp_dbm - row["best_dbm_centre_4g"]) <= 0.01
        assert exp.consistent
        for c in exp.candidates:  # EIRP + per RE + gain - loss = level, nothing hidden
            assert c.correction_db == 0.0 and c.clutter_db == 0.0
            assert math.isclose(c.eirp_dbm + c.per_re_db + c.gain_db - c.path_loss_db,
                                c.rsrp_dbm, abs_tol=1e-3)
            assert c.per_re_db == pytest.approx(-10 * math.log10(12 * (100 if c.cell_id
                                                                       .startswith("VT")
                                                                       else 50)))
            assert c.margin_db == pytest.approx(c.rsrp_dbm - exp.target_dbm)
        assert exp.target_dbm == pytest.approx(-110 + cfg.radio.location_margin_db)
    assert n == 16


def test_village_behind_the_ridge_is_blocked_and_needs_a_new_site(ridge):
    exp = _explain(ridge, "V07")  # centre 1.25 km east of the site, just behind the ridge
    assert exp.verdict == "trắng sóng" and not exp.centre_covered
    best = exp.best
    assert best is not None and best.profile is not None
    p = best.profile
    assert p.blocked and p.fresnel_obstructed
    # the ridge (columns 120-123: 1000-1200 m east of the site, 400 m high)
    ob = p.obstacle
    assert ob is not None and p.ground_m[ob] == pytest.approx(400.0, abs=1.0)
    assert 1000 <= p.distance_m[ob] * (1250 / p.distance_m[-1]) <= 1260
    assert p.clear_raise_m > 300  # far beyond any mast
    assert exp.change["kind"] == "none" and best.raise_m is None
    assert exp.change["eirp_db"] == pytest.approx(-best.margin_db, abs=0.01)


def test_a_raise_that_the_full_computation_confirms(low_ridge, tmp_path):
    """The antenna raise proposed for a village behind the low ridge makes a full
    recomputation (compute_layers over the whole grid) cover its centre; one metre less
    does not."""
    _w, cfg, ws, _res = low_ridge
    table = _csv(ws)
    # V04: 5.3 km north-east of the site, the low ridge in the way
    assert not table.loc["V04", "centre_4g_any"]
    exp = _explain(low_ridge, "V04")
    ch = exp.change
    assert ch["kind"] == "raise"
    assert 1 <= ch["raise_m"] <= 30 and ch["site_id"] == "S1"
    inputs = load_inputs(cfg)
    row, col = exp.pixel
    for dh, covered in ((ch["raise_m"], True), (ch["raise_m"] - 1, False)):
        cells = inputs.cells.copy()
        cells.loc[cells["site_id"] == "S1", "height_m"] += dh
        lay = compute_layers(cells, inputs.dem, cfg.radio).get("4G", ANY)
        assert bool(lay.best_dbm[row, col] >= exp.target_dbm) == covered, dh
    assert ch["level_dbm"] >= exp.target_dbm
    # and the page says it
    folder = tmp_path / "page"
    write_explanation(exp, folder, lang="en")
    md = (folder / "explain.md").read_text(encoding="utf-8")
    assert f"+{ch['raise_m']:.0f} m antenna height at S1" in md


def test_profile_geometry_against_p526():
    """First Fresnel radius: ITU-R P.526-15 §2.1 eq. (3), R1 = 550 sqrt(d1 d2 / ((d1 + d2)
    f)) (d in km, f in MHz): 28.98 m at the middle of a 10 km path at 900 MHz (the
    constant 550 is rounded: 0.5 % tolerance). Earth bulge d1 d2 / (2 k a). A knife edge
    raised until nu = 0 sits on the line of sight; the clearing raise brings every nu to
    the first zero of J."""
    from vncoverage.config import RadioConfig
    from vncoverage.datatypes import Dem

    pixel, n = 100.0, 120
    elev = np.full((1, n), 0.0, dtype=np.float32)
    from affine import Affine
    from pyproj import CRS

    dem = Dem(elev, Affine(pixel, 0, 0.0, 0, -pixel, 100.0), CRS.from_epsg(32648))
    radio = RadioConfig(model="p526")
    x0, y0 = 50.0, 50.0  # centre of pixel (0, 0)
    p = terrain_profile(dem, x0, y0, 30.0, 0, 100, 900.0, radio)
    assert p is not None and p.distance_m[-1] == pytest.approx(10_000.0)
    mid = 50
    assert p.fresnel_m[mid] == pytest.approx(550 * math.sqrt(25 / (10 * 900)), rel=5e-3)
    lam = C_M_PER_S / 900e6
    assert p.fresnel_m[mid] == pytest.approx(math.sqrt(lam * 5000 * 5000 / 10_000))
    ae = radio.k_factor * EARTH_RADIUS_M
    assert p.bulge_m[mid] == pytest.approx(5000 * 5000 / (2 * ae))
    assert not p.blocked and p.clear_raise_m >= 0
    # a 40 m wall at 3 km: blocks; the clearing raise gives nu = NU_J_ZERO at its top
    elev[0, 30] = 40.0
    p = terrain_profile(dem, x0, y0, 30.0, 0, 100, 900.0, radio)
    assert p is not None and p.blocked and p.distance_m[p.obstacle] == pytest.approx(3000.0)
    k = p.obstacle
    assert p.nu[k] == pytest.approx(math.sqrt(2) * (40 + p.bulge_m[k] - p.los_m[k])
                                    / p.fresnel_m[k])
    q = terrain_profile(dem, x0, y0, 30.0 + p.clear_raise_m, 0, 100, 900.0, radio)
    assert q is not None and np.nanmax(q.nu) == pytest.approx(NU_J_ZERO, abs=1e-9)
    assert not q.fresnel_obstructed


def test_find_village_by_id_or_tolerant_name(tmp_path):
    names = [f"Thôn Nà {k}" for k in range(16)]
    names[5] = names[9] = "Thôn Khuổi Mười"
    w = build_world(tmp_path / "w", village_names=names)
    import geopandas as gpd

    vil = gpd.read_file(w.boundaries, layer="villages").set_index("village_id")
    assert find_village(vil, "v03") == "V03"
    assert find_village(vil, "na 4") == "V05"  # no diacritics, no prefix
    with pytest.raises(InputDataError) as e:
        find_village(vil, "khuoi muoi")
    msg = str(e.value)
    assert "V06" in msg and "V10" in msg and "Xã 1" in msg and "Xã 2" in msg
    assert "give the village id" in msg
    with pytest.raises(InputDataError, match="closest names: Thôn Khuổi Mười"):
        find_village(vil, "Khuổi Mươn")


def test_cell_raster_equals_the_layers_and_is_a_geotiff(ridge, tmp_path):
    _w, cfg, _ws, _res = ridge
    inputs = load_inputs(cfg)
    layers = compute_layers(inputs.cells, inputs.dem, cfg.radio)
    lay = layers.get("4G", ANY)
    cid = "VT-S1-4G-2"
    idx = layers.cell_ids.index(cid)
    served = lay.server == idx
    assert served.sum() > 100
    ras = cell_level_raster(cid, inputs.cells, inputs.dem, cfg.radio)
    path = tmp_path / "cell.tif"
    from vncoverage.explain import write_cell_raster

    write_cell_raster(ras, path, tags={"cell_id": cid})
    with rasterio.open(path) as src:
        band = src.read(1)
        assert src.dtypes[0] == "float32" and np.isnan(src.nodata)
        assert src.crs.to_epsg() == 32648 and src.tags()["cell_id"] == cid
        t = inputs.dem.transform
        col0, row0 = (src.transform.c - t.c) / t.a, (src.transform.f - t.f) / t.e
        assert col0 == int(col0) and row0 == int(row0)  # on the DEM grid
    full = np.full(inputs.dem.shape, np.nan, dtype=np.float32)
    r0, c0 = int(round(row0)), int(round(col0))
    h, wd = band.shape
    full[max(r0, 0):r0 + h, max(c0, 0):c0 + wd] = band[max(-r0, 0):, max(-c0, 0):]
    np.testing.assert_array_equal(full[served], lay.best_dbm[served])
    # the path loss: level = EIRP + per RE + gain (<= 0) - loss
    loss = cell_level_raster(cid, inputs.cells, inputs.dem, cfg.radio, quantity="pathloss")
    ok = np.isfinite(ras.values)
    assert np.array_equal(ok, np.isfinite(loss.values))
    top = 60.0 - 10 * math.log10(1200)
    assert np.all(ras.values[ok] <= top - loss.values[ok] + 1e-3)
    with pytest.raises(InputDataError, match="closest: VT-S1-4G-"):
        cell_level_raster("VT-S1-4G-9", inputs.cells, inputs.dem, cfg.radio)


def test_cli_explain_writes_the_pages_and_leaves_the_workspace_alone(ridge):
    w, _cfg, ws, _res = ridge
    before = sorted(p.relative_to(ws) for p in (ws / "cache").rglob("*"))
    r = CliRunner().invoke(main, ["explain", "Thôn Nà 8", "--config", str(w.config),
                                  "--out", str(ws), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "V08" in r.output and "new 4G site" in r.output
    folder = ws / "explain" / "V08"
    data = json.loads((folder / "explain.json").read_text(encoding="utf-8"))
    table = _csv(ws)
    assert data["village_id"] == "V08" and data["consistent"] is True
    best = next(c for c in data["candidates"] if "best" in c["roles"])
    assert best["rsrp_dbm"] == pytest.approx(table.loc["V08", "best_dbm_centre_4g"], abs=0.01)
    assert best["profile"]["obstacle"]["ground_m"] == pytest.approx(400.0, abs=1)
    assert data["provenance"]["run_id"] == 1
    page = (folder / "explain.html").read_text(encoding="utf-8")
    assert f'src="profile_{best["cell_id"]}.png"' in page
    assert (folder / f"profile_{best['cell_id']}.png").read_bytes()[:4] == b"\x89PNG"
    assert (ws / explanation_href("V08")).is_file()
    assert sorted(p.relative_to(ws) for p in (ws / "cache").rglob("*")) == before
    # one cell's raster through the CLI, with the workspace's cells and sweeps
    tif = ws.parent / "c.tif"
    r = CliRunner().invoke(main, ["cell", "VT-S1-4G-1", "--config", str(w.config), "--out",
                                  str(tif), "--workspace", str(ws), "--quantity", "pathloss"])
    assert r.exit_code == 0, r.output
    with rasterio.open(tif) as src:
        assert src.tags()["quantity"] == "pathloss" and src.count == 1


def test_cli_explain_refuses_another_configuration(ridge, tmp_path):
    w, cfg, ws, _res = ridge
    other = tmp_path / "w"
    shutil.copytree(w.root, other, ignore=shutil.ignore_patterns("ws"))
    text = (other / "config.toml").read_text(encoding="utf-8")
    (other / "config.toml").write_text(text.replace("[radio]\n", "[radio]\nrx_height_m = 3.0\n"),
                                       encoding="utf-8")
    r = CliRunner().invoke(main, ["explain", "V08", "--config", str(other / "config.toml"),
                                  "--out", str(ws)])
    assert r.exit_code == 2 and "rx_height_m" in r.output
    r = CliRunner().invoke(main, ["explain", "Nowhere", "--config", str(w.config), "--out",
                                  str(ws)])
    assert r.exit_code == 2 and "no village has the id or name 'Nowhere'" in r.output
    # a run in progress holds the workspace: explain waits for it to finish
    lock = ws / ".lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                "command": "run", "started": "now"}))
    try:
        r = CliRunner().invoke(main, ["explain", "V08", "--config", str(w.config), "--out",
                                      str(ws)])
    finally:
        lock.unlink()
    assert r.exit_code == 2 and "is in use by process" in r.output
    run = read_run(ws)
    with pytest.raises(InputDataError, match="dem is not the one"):
        check_run(run, section_dict(cfg, "radio"), {"dem": "0" * 64})


def test_map_popup_and_report_row_point_to_the_explanation(ridge):
    from vncoverage.outputs.report import ReportContext, report_tables
    from vncoverage.outputs.report_html import html_report
    from vncoverage.outputs.webmap import _popup_html
    _w, _cfg, _ws, res = ridge
    v = res.villages
    bad = str(v.index[v["verdict_mbb_any"] != "covered"][0])
    good = str(v.index[v["verdict_mbb_any"] == "covered"][0])
    popup = _popup_html(bad, v.loc[bad].to_dict(), [], "en")
    assert f'href="explain/{bad}/explain.html"' in popup
    assert f"vncoverage explain {bad} --out &lt;this folder&gt;" in popup
    assert "explain" not in _popup_html(good, v.loc[good].to_dict(), [], "en")
    ctx = ReportContext(cfg=res.cfg, kpis=res.kpis, villages=v, by_district=res.by_district,
                        by_commune_2025=res.by_commune_2025, checksums=res.inputs.checksums,
                        notes=res.notes, timings=res.timings, n_cells=res.n_cells, lang="en")
    unc = report_tables(ctx)["uncovered"]
    assert unc.rows[0][0] in set(v.index) and "vncoverage explain" in unc.note
    page = html_report(ctx)
    first = unc.rows[0][0]
    assert f'<a href="explain/{first}/explain.html">{first}</a>' in page


def test_no_tower_within_the_radius(ridge, tmp_path):
    import dataclasses

    _w, cfg, ws, _res = ridge
    radio = dataclasses.replace(cfg.radio, max_radius_m={"4G": 800.0, "5G": 800.0})
    run = read_run(ws)
    exp = explain_village("V01", run.villages, run.cells, load_inputs(cfg).dem, radio)
    assert exp.candidates == () and exp.best is None and exp.n_reaching == 0
    assert exp.change == {"kind": "none", "max_raise_m": 30.0}
    assert not exp.consistent  # the run (6 km) reached it
    write_explanation(exp, tmp_path / "p", lang="en")
    data = json.loads((tmp_path / "p" / "explain.json").read_text(encoding="utf-8"))
    assert data["candidates"] == [] and data["consistent"] is False
    md = (tmp_path / "p" / "explain.md").read_text(encoding="utf-8")
    assert "No 4G cell reaches the village (computation radius 0.8 km)" in md
    assert "Recomputed here: – dBm, cell –: DIFFERS from the run's" in md
