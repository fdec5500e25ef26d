"""The Monte Carlo of the verdicts and KPIs (vncoverage.uncertainty)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from vncoverage.config import (
    ConfigError,
    KpiConfig,
    UncertaintyConfig,
    config_from_mapping,
    load_config,
)
from vncoverage.coverage import compute_layers
from vncoverage.fileio import load_inputs
from vncoverage.pointlevels import (
    CENTRE,
    CLUSTER,
    PointCollector,
    VillagePoints,
    village_points,
)
from vncoverage.uncertainty import (
    V_COVERED,
    V_LOM,
    V_TRANG,
    V_UNKNOWN,
    ErrorModel,
    Errors,
    LayerMatrix,
    calibrated_model,
    draw_errors,
    error_model,
    kpi_values,
    layer_matrix,
    verdict_draws,
    village_uncertainty,
)
from vncoverage.villages import COVERED, LOM_SONG, TRANG_SONG, UNKNOWN, summarise_villages

CODE = {V_COVERED: COVERED, V_LOM: LOM_SONG, V_TRANG: TRANG_SONG, V_UNKNOWN: UNKNOWN}


def _world(world, *, clusters: bool = True, extra_site: bool = False):
    """Inputs, village points, layers and the collected matrix of a tiny world."""
    cfg = load_config(world.config)
    inputs = load_inputs(cfg)
    cells, dem = inputs.cells, inputs.dem
    assert cells is not None and dem is not None
    if extra_site:  # a second Viettel site 3 km east of the centre, beyond the ridge
        row = cells.loc[["VT-S1-4G-1"]].copy()
        row.index = pd.Index(["VT-S9-4G-1"])
        row["site_id"] = "S9"
        row["azimuth_deg"] = 90.0
        p = row.geometry.iloc[0]
        cells = pd.concat([cells, gpd.GeoDataFrame(
            row, geometry=[Point(p.x + 3000, p.y - 500)], crs=cells.crs)])
    settlements = inputs.settlements if clusters else None
    vp = village_points(inputs.villages, inputs.centres, settlements, dem)
    col = PointCollector(dem, vp.x, vp.y)
    layers = compute_layers(cells, dem, cfg.radio, on_raster=col)
    return cfg, inputs, cells, settlements, vp, layers, col.levels(layers.cell_ids)


@pytest.mark.parametrize("clusters", [True, False])
def test_median_map_reproduces_the_verdicts(tiny_world, clusters) -> None:
    """Without errors, the matrix and the kernel give every village's verdict of
    summarise_villages, for the any-operator and the per-operator MBB layers (clusters:
    population share; without: area share over pixel points)."""
    cfg, inputs, cells, settlements, vp, layers, pl = _world(tiny_world, clusters=clusters)
    summary = summarise_villages(inputs.villages, inputs.centres, settlements, layers,
                                 cfg.radio, cfg.coverage)
    sites = sorted(set(cells["site_id"]))
    index = {s: k for k, s in enumerate(sites)}
    zero = Errors.fixed(len(sites), len(vp.village_ids), vp.n_points)
    kinds = set()
    for op in ("any", "viettel", "vnpt"):
        name = {"any": "any", "viettel": "Viettel", "vnpt": "VNPT"}[op]
        lm = layer_matrix(pl, cells, cfg.radio, vp, index, operator=name)
        codes = verdict_draws(vp, lm, zero, cfg.coverage.covered_population_share)[:, 0]
        got = [CODE[int(c)] for c in codes]
        assert got == summary[f"verdict_mbb_{op}"].tolist()
        kinds |= set(got)
    assert len(kinds) >= 2  # the world has covered and not covered villages


def test_adding_a_site_never_lowers_p_covered(tmp_path: Path) -> None:
    """A ridge hides the east of the world from the centre site; a site beyond it."""
    from conftest import build_world

    world = build_world(tmp_path / "ridge", ridge=True)
    cfg = config_from_mapping({"uncertainty": {"enabled": True, "draws": 400}})
    model = error_model(cfg.uncertainty)
    out = []
    for extra in (False, True):
        c, _inputs, cells, _, vp, _, pl = _world(world, extra_site=extra)
        res = village_uncertainty(vp, pl, cells, c.radio, c.coverage, c.kpi,
                                  cfg.uncertainty, model)
        out.append(res.p_covered)
    before, after = out
    for col in before.columns:
        assert (after[col].to_numpy() >= before[col].to_numpy()).all(), col
    gain = after["p_covered_mbb_any"] - before["p_covered_mbb_any"]
    assert gain.max() > 0.05  # the site does help somewhere (the test can fail)


def test_draws_are_keyed_by_id_not_by_order() -> None:
    vp = _synthetic_points(np.random.default_rng(1), 5)
    model = ErrorModel(1.0, 2.0, 3.0, 4.0)
    a = draw_errors(model, 7, 50, ["A", "B", "C"], vp)
    b = draw_errors(model, 7, 50, ["C", "A"], vp)
    np.testing.assert_array_equal(a.site[0], b.site[1])
    np.testing.assert_array_equal(a.site[2], b.site[0])
    np.testing.assert_array_equal(a.glob, b.glob)
    assert not np.array_equal(a.site[0], a.site[1])
    assert abs(a.village.std() - 3.0) < 0.6 and abs(a.point.std() - 4.0) < 0.6


def test_calibrated_model_splits_the_residual_sigma() -> None:
    m = calibrated_model(UncertaintyConfig(), residual_sigma_db=6.0, global_se_db=0.3,
                         source="test")
    assert m.calibrated and m.label == "calibrated"
    assert m.global_db == 0.3
    assert math.isclose(math.sqrt(m.site_db ** 2 + m.village_db ** 2 + m.point_db ** 2), 6.0)
    assert math.isclose(m.site_db, m.village_db) and m.point_db < m.site_db


def test_config_checks() -> None:
    with pytest.raises(ConfigError, match="draws"):
        config_from_mapping({"uncertainty": {"draws": 1}})
    with pytest.raises(ConfigError, match="sigmas"):
        config_from_mapping({"uncertainty": {"site_sigma_db": -1}})
    assert not config_from_mapping({}).uncertainty.enabled


# --- interval coverage on a small synthetic world ----------------------------------------

N_VILLAGES = 600
N_SITES = 40
SHARE = 0.9


def _synthetic_points(rng: np.random.Generator, n_villages: int) -> VillagePoints:
    """Villages of a centre and 1-3 household clusters (random populations)."""
    village, kind, weight = [], [], []
    for v in range(n_villages):
        n_cl = int(rng.integers(1, 4))
        village += [v] * (1 + n_cl)
        kind += [CENTRE] + [CLUSTER] * n_cl
        weight += [1.0, *rng.uniform(50, 400, n_cl)]
    village_a = np.array(village, np.int64)
    kind_a = np.array(kind, np.int8)
    centre = np.flatnonzero(kind_a == CENTRE)
    n = len(village_a)
    return VillagePoints(pd.Index([f"V{v}" for v in range(n_villages)]), np.zeros(n),
                         np.zeros(n), village_a, kind_a, np.array(weight), centre,
                         np.zeros(n_villages, bool), np.ones(n, bool))


def _synthetic_world(seed: int) -> tuple[VillagePoints, LayerMatrix]:
    """Every point reached by 1-3 of the sites, the best margin near the threshold."""
    rng = np.random.default_rng(seed)
    vp = _synthetic_points(rng, N_VILLAGES)
    ptr, site, margin = [0], [], []
    for v in range(N_VILLAGES):
        base = rng.normal(6.0, 6.0)  # a village's typical margin (dB)
        for _ in range(int((vp.village == v).sum())):
            k = int(rng.integers(1, 4))
            site += list(rng.choice(N_SITES, k, replace=False))
            margin += list(base + rng.normal(0.0, 4.0, k))
            ptr.append(ptr[-1] + k)
    lm = LayerMatrix(np.array(ptr, np.int64), np.array(site, np.int64),
                     np.array(margin, float), np.zeros(vp.n_points, bool))
    return vp, lm


def _truth(vp: VillagePoints, lm: LayerMatrix, model: ErrorModel, rng: np.random.Generator,
           n: int) -> np.ndarray:
    """``n`` true KPIs, simulated from the error model independently of the module: one
    bias, site errors, village errors and point errors; best server; the verdict rule."""
    g = rng.normal(0, model.global_db, (n, 1))
    s = rng.normal(0, model.site_db, (n, N_SITES))
    v = rng.normal(0, model.village_db, (n, N_VILLAGES))
    p = rng.normal(0, model.point_db, (n, vp.n_points))
    owner = np.repeat(np.arange(vp.n_points), np.diff(lm.ptr))
    level = np.full((n, vp.n_points), -np.inf)
    for e in range(len(lm.site)):  # plain loop over entries: independent of the kernel
        level[:, owner[e]] = np.maximum(level[:, owner[e]], lm.margin_db[e] + s[:, lm.site[e]])
    level += g + v[:, vp.village] + p
    cov = level >= 0
    is_c = vp.kind == CENTRE
    centre_cov = cov[:, is_c]
    w = np.where(is_c, 0.0, vp.weight)
    num = np.zeros((n, N_VILLAGES))
    den = np.zeros(N_VILLAGES)
    np.add.at(den, vp.village, w)
    for k in np.flatnonzero(~is_c):
        num[:, vp.village[k]] += w[k] * cov[:, k]
    covered = centre_cov & (num / den >= SHARE - 1e-9)
    return 100.0 * covered.mean(axis=1)


def test_90_percent_intervals_contain_the_truth_90_percent_of_the_time() -> None:
    """8 synthetic worlds x 200 truths = 1600 repetitions: the binomial standard deviation
    of the observed coverage is sqrt(0.9 x 0.1 / 1600) = 0.75 points, and the 2000 draws of
    each interval add about 0.7 / sqrt(8) = 0.25 points: 88-92 % is +-2.5 standard
    deviations. The same check with the shared terms left out (villages independent, on two
    of the worlds) must fail by far: the test can tell."""
    model = ErrorModel(3.0, 3.0, 3.0, 2.0)
    narrow = ErrorModel(0.0, 0.0, math.hypot(3.0, 3.0), 2.0)  # shared terms left out
    hits = {model: 0, narrow: 0}
    total = 0
    total_narrow = 0
    kpi = KpiConfig()
    for w in range(8):
        vp, lm = _synthetic_world(100 + w)
        truths = _truth(vp, lm, model, np.random.default_rng(900 + w), 200)
        total += len(truths)
        total_narrow += len(truths) if w < 2 else 0
        for m in (model, narrow) if w < 2 else (model,):
            errors = draw_errors(m, 5000 + w, 2000, [str(k) for k in range(N_SITES)], vp)
            values = kpi_values(verdict_draws(vp, lm, errors, SHARE), kpi)
            lo, hi = np.quantile(values, [0.05, 0.95])
            hits[m] += int(((truths >= lo) & (truths <= hi)).sum())
    coverage = hits[model] / total
    assert 0.88 <= coverage <= 0.92, coverage
    assert hits[narrow] / total_narrow < 0.6


def test_pipeline_writes_p_covered_and_kpi_intervals(tiny_world, tmp_path: Path) -> None:
    """The run with [uncertainty] enabled: villages.csv gains p_covered columns and keeps
    every other column as the run without; kpi.csv's mobile KPI has its interval, and the
    median-map value is kpi.csv's current value."""
    from vncoverage.outputs.writer import write_outputs
    from vncoverage.pipeline import run

    base = load_config(tiny_world.config)
    on = config_from_mapping({"uncertainty": {"enabled": True, "draws": 200}})
    cfg = base.__class__(**{**base.__dict__, "uncertainty": on.uncertainty})
    res_off = run(base, progress=False)
    res_on = run(cfg, progress=False)
    assert res_on.uncertainty is not None and res_off.uncertainty is None
    write_outputs(res_off, tmp_path / "off", map_html=False)
    write_outputs(res_on, tmp_path / "on", map_html=False)
    v_off = pd.read_csv(tmp_path / "off" / "villages.csv", dtype=str, keep_default_na=False)
    v_on = pd.read_csv(tmp_path / "on" / "villages.csv", dtype=str, keep_default_na=False)
    extra = [c for c in v_on.columns if c not in v_off.columns]
    assert extra == ["p_covered_mbb_any", "p_covered_mbb_viettel", "p_covered_mbb_vnpt"] or \
        set(extra) == {"p_covered_mbb_any", "p_covered_mbb_viettel", "p_covered_mbb_vnpt"}
    pd.testing.assert_frame_equal(v_on[v_off.columns], v_off)
    k = pd.read_csv(tmp_path / "on" / "kpi.csv", index_col="kpi_id")
    row = k.loc["mobile_broadband_villages"]
    assert row["current"] == res_on.uncertainty.kpis.loc["mobile_broadband_villages",
                                                         "median_map"]
    assert row["interval_90_low"] <= row["mean"] <= row["interval_90_high"]
    assert 0 <= row["p_target_met"] <= 1
    assert str(row["uncertainty_basis"]).startswith("uncalibrated")
    k_off = pd.read_csv(tmp_path / "off" / "kpi.csv", dtype=str, keep_default_na=False)
    k_on = pd.read_csv(tmp_path / "on" / "kpi.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(k_on[k_off.columns], k_off)
    report = (tmp_path / "on" / "report.md").read_text(encoding="utf-8")
    # the default language: Vietnamese, "uncalibrated" is "chưa hiệu chỉnh"
    assert "(90 %: " in report and "P(≥ 98 %) = " in report and "chưa hiệu chỉnh" in report
    assert "(90 %: " not in (tmp_path / "off" / "report.md").read_text(encoding="utf-8")


def test_corrections_model_takes_the_location_variability_out() -> None:
    """After a calibration: site σ from the residuals' site part; the rest less σ_L (the
    margin's) in quadrature; the global σ the offset's standard error; labelled."""
    from vncoverage.fileio.measurements import Corrections
    from vncoverage.uncertainty import corrections_model

    corr = Corrections(global_offset_db=-3.0, sigma_db=math.hypot(3.0, 10.0), site_sigma_db=3.0,
                       point_sigma_db=10.0, n=4000, n_sites=40, technologies=("4G",),
                       measurements_file="/x/drive.csv", measurements_sha256="ab" * 32)
    m = corrections_model(UncertaintyConfig(), corr, location_sigma_db=8.0)
    assert m.calibrated and "drive.csv" in m.source and "n = 4000" in m.source
    assert m.site_db == 3.0
    assert math.isclose(math.hypot(m.village_db, m.point_db), 6.0)  # sqrt(10² - 8²)
    assert math.isclose(m.global_db, math.sqrt(9 / 40 + 100 / 4000))
    small = corrections_model(UncertaintyConfig(), corr, location_sigma_db=12.0)
    assert small.village_db == small.point_db == 0.0


class _Store:
    """A stage store holding one earlier run (what a workspace keeps), with or without its
    matrix of levels."""

    def __init__(self, res, *, keep_levels: bool) -> None:
        import copy

        self.res, self.copy = res, copy.deepcopy
        if keep_levels:
            self.point_levels = lambda fingerprint: res.point_levels

    sweeps = None

    def cells(self):
        return self.res.inputs.cells

    def layers(self, fingerprint, dem):
        return self.copy(self.res.layers)

    def summary(self, fingerprint):
        return self.res.summary

    def ftth(self, fingerprint):
        return None

    def verdicts(self):
        return None

    def kpis(self):
        return None


@pytest.mark.parametrize("keep_levels", [True, False])
def test_update_run_matrix_equals_full_run(tmp_path: Path, keep_levels) -> None:
    """A run that updates an earlier run's layers (a site added, a cell removed) gives the
    same matrix and p_covered as a full run: from the kept matrix (stale entries dropped,
    fresh ones added) or, for a store without it, from a separate pass."""
    import dataclasses

    from conftest import build_world

    from vncoverage.pipeline import run

    world = build_world(tmp_path / "w", ridge=True)
    on = {"enabled": True, "draws": 100}
    base = load_config(world.config)
    cfg_a = dataclasses.replace(base, uncertainty=UncertaintyConfig(**on))
    res_a = run(cfg_a, progress=False)
    cells = pd.read_csv(world.cells)
    extra = cells.iloc[[0]].assign(site_id="S9", cell_id="VT-S9-4G-1", azimuth_deg=90,
                                   lon=cells["lon"].iloc[0] + 0.03)
    cells = pd.concat([cells[cells["cell_id"] != "VN-S2-4G-1"], extra])
    cells.to_csv(world.root / "cells_b.csv", index=False)
    text = world.config.read_text(encoding="utf-8").replace('"cells.csv"', '"cells_b.csv"')
    (world.root / "config_b.toml").write_text(text, encoding="utf-8")
    cfg_b = dataclasses.replace(load_config(world.root / "config_b.toml"),
                                uncertainty=UncertaintyConfig(**on))
    full = run(cfg_b, progress=False)
    upd = run(cfg_b, progress=False, store=_Store(res_a, keep_levels=keep_levels))
    assert upd.layer_update is not None and upd.layer_update.added == ("VT-S9-4G-1",)
    a, b = full.point_levels, upd.point_levels
    assert a is not None and b is not None and a.cell_ids == b.cell_ids
    np.testing.assert_array_equal(a.point, b.point)
    np.testing.assert_array_equal(a.cell, b.cell)
    np.testing.assert_array_equal(a.level_dbm, b.level_dbm)
    assert full.uncertainty is not None and upd.uncertainty is not None
    pd.testing.assert_frame_equal(full.uncertainty.p_covered, upd.uncertainty.p_covered)
    assert not res_a.uncertainty.p_covered.equals(full.uncertainty.p_covered)


def test_kpi_without_clutter_equals_a_run_without_clutter(tmp_path: Path) -> None:
    """With a land cover, the sensitivity row "without clutter" (the clutter loss added
    back to the matrix) is the KPI of a run without the land cover."""
    import dataclasses

    import rasterio
    from affine import Affine
    from conftest import X0, Y0, build_world

    from vncoverage.pipeline import run

    world = build_world(tmp_path / "w", ridge=True)
    classes = np.full((100, 100), 40, dtype=np.uint8)  # crops; forest in the west
    classes[:, :45] = 10
    with rasterio.open(world.root / "lc.tif", "w", driver="GTiff", height=100, width=100,
                       count=1, dtype="uint8", crs="EPSG:32648", nodata=0,
                       transform=Affine(100, 0, X0, 0, -100, Y0)) as dst:
        dst.write(classes, 1)
    plain = world.config.read_text(encoding="utf-8")
    (world.root / "clutter.toml").write_text(plain.replace(
        'targets = "targets.csv"\n', 'targets = "targets.csv"\nlandcover = "lc.tif"\n'),
        encoding="utf-8")
    on = UncertaintyConfig(enabled=True, draws=50)
    with_c = run(dataclasses.replace(load_config(world.root / "clutter.toml"), uncertainty=on),
                 progress=False)
    without = run(dataclasses.replace(load_config(world.config), uncertainty=on),
                  progress=False)
    assert with_c.inputs.landcover is not None and with_c.uncertainty is not None
    row = with_c.uncertainty.kpis.loc["mobile_broadband_villages"]
    ref = without.kpis.loc["mobile_broadband_villages", "current"]
    assert row["kpi_without_clutter"] == ref
    assert math.isnan(without.uncertainty.kpis.loc["mobile_broadband_villages",
                                                    "kpi_without_clutter"])
    # clutter matters here (the test can fail)
    assert with_c.kpis.loc["mobile_broadband_villages", "current"] != ref


@pytest.mark.parametrize("seed", range(6))
def test_best_sites_is_the_groupby_it_replaced(seed: int) -> None:
    """:func:`vncoverage.uncertainty._best_sites` (lexsort) against the pandas group-by it
    replaced: per (point, site) the best margin, kept within the cut of the point's best,
    sorted by point then site; with repeated pairs, ties and a site -1."""
    from vncoverage.uncertainty import _best_sites

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    p = rng.integers(0, 30, n).astype(np.int64)
    s = rng.integers(-1, 12, n).astype(np.int64)
    m = np.round(rng.normal(0, 8, n), 1)  # rounded: ties
    cut = float(rng.choice([0.0, 3.0, 9.5]))
    frame = pd.DataFrame({"p": p, "s": s, "m": m})
    best = frame.groupby(["p", "s"], sort=True)["m"].max().reset_index()
    top = best.groupby("p")["m"].transform("max")
    best = best[best["m"].to_numpy() >= top.to_numpy() - cut]
    got = _best_sites(p, s, m, cut)
    for a, col in zip(got, ("p", "s", "m"), strict=True):
        assert np.array_equal(a, best[col].to_numpy()), col
