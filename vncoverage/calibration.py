"""Calibration of the mobile model to measured levels (``vncoverage calibrate``).

For every measurement (:func:`vncoverage.fileio.measurements.read_measurements`) the model's
predicted level of the measured cell at the point, or of the best server of the measured
operator and technology (in the band given), is read from the point × cell matrix of
:func:`vncoverage.pointlevels.levels_at_points`: the run's sweep, antenna pattern, clutter
and pixel rule. The residual is ``measured - predicted`` (dB; positive: the model is
pessimistic). Levels are per resource element for 4G/5G (RSRP), RSCP for 3G, RxLev for 2G.

**Always against the uncorrected model.** :func:`calibrate` loads the cells without the
``[calibration] corrections`` of the configuration (noted), so that a second calibration
measures the model itself and corrections never compound.

What is fitted (:func:`fit_corrections`):

* a global offset ``g``: the mean residual;
* per operator / technology / band offsets, shrunk toward ``g`` (empirical Bayes, method of
  moments, as in the James-Stein / random-effects estimators; e.g. Searle, Casella &
  McCulloch, *Variance Components*, 1992, §3.5): a group's raw offset ``d`` (its mean
  residual) has a sampling variance ``v = σ_site² / n_sites + σ_point² / n`` (points of one
  site are not independent); the spread of the true group offsets is
  ``τ² = max(0, var(d) - mean(v))`` over the groups; the offset used is
  ``g + w (d - g)`` with ``w = τ² / (τ² + v)``. A group of few points or sites (large
  ``v``) stays near ``g``; with one group, or groups that do not differ by more than
  their noise (``τ² = 0``), every group gets ``g``;
* the residual σ after the corrections, split into a site part and a point part by the
  one-way random-effects ANOVA estimator (Searle et al. 1992, §3.5, eq. 3.5.8 ff.):
  ``σ_point² = MSW``, ``σ_site² = (MSB - MSW) / n0``, ``n0 = (N - Σ nᵢ² / N) / (k - 1)``.

Cross-validation is grouped by site (:func:`cross_validate`): the sites (of the measured or
serving cells) are dealt at random (seeded) into ``k`` folds; each fold's points are
predicted with the corrections fitted on the other folds only, so that the neighbouring
points of one site never sit on both sides. The held-out RMSE before (uncorrected model)
and after is the test a correction must pass.

**Inside the run** (``[calibration] measurements``): :func:`vncoverage.pipeline.run`
calls :func:`calibrate` on the uncorrected cells after the load, adds the corrections to
the cells' EIRP and writes :func:`write_calibration`'s folder with the outputs. Its
predictions compute the paths to the measured pixels only (the values the whole windows
give: every pixel has its own path), kept in a workspace's sweep cache when there is one.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__
from .clutter import ClutterGrid
from .config import Config, RadioConfig
from .coverage import SweepCache
from .datatypes import Dem, Inputs
from .errors import InputDataError, Problem
from .fileio import file_sha256, load_inputs, write_bytes, write_text
from .fileio.load import ReadCache
from .fileio.measurements import (
    Corrections,
    GroupOffset,
    band_of,
    corrections_json,
    read_measurements,
)
from .i18n import Message
from .pointlevels import levels_at_points

__all__ = ["CALIBRATION_FILES", "DISTANCE_BANDS_KM", "Calibration",
           "before_after", "calibrate", "cross_validate", "fit_corrections",
           "match_measurements", "residual_stats", "write_calibration"]

#: Edges of the distance bands of the statistics, km.
DISTANCE_BANDS_KM = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, math.inf)

#: Folds of the site-grouped cross-validation (fewer when there are fewer sites).
CV_FOLDS = 5

#: Earth radius for the line-of-sight test, m.
EARTH_RADIUS_M = 6_371_000.0

#: The columns of :attr:`Calibration.points`.
POINT_COLUMNS = ("row", "x", "y", "measured_dbm", "predicted_dbm", "residual_db",
                 "corrected_db", "cell_id", "site_id", "operator", "technology", "band",
                 "distance_m", "los", "landcover", "fold")


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` found.

    ``points``: one row per measurement used (:data:`POINT_COLUMNS`; ``residual_db`` =
    measured - predicted by the uncorrected model, ``corrected_db`` the residual after
    the corrections fitted on all points, ``fold`` the cross-validation fold of its site);
    ``corrections``: the fit; ``cv_folds``: per fold, the held-out sites, n, RMSE before
    and after; ``notes``: the measurements left out and how the inputs were read."""

    points: pd.DataFrame
    corrections: Corrections
    cv_folds: pd.DataFrame
    notes: tuple[Message, ...] = ()
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)

    def stats(self, by: str, column: str = "residual_db") -> pd.DataFrame:
        """:func:`residual_stats` of ``column`` by ``by``."""
        return residual_stats(self.points, by, column)


# --------------------------------------------------------------------------------------
# matching measurements to the model


#: Why a measurement is left out: the note's key per reason.
_REASONS = {"outside": "calibration.drop_outside",
            "unknown_cell": "calibration.drop_unknown_cell",
            "not_computed": "calibration.drop_not_computed",
            "no_server": "calibration.drop_no_server",
            "unknown_level": "calibration.drop_unknown_level"}


def _drop(keep: np.ndarray, mask: np.ndarray, reason: str, rows: np.ndarray,
          notes: list[Message], file: str) -> None:
    """Leave the rows ``mask & keep`` out (in place), noted with ``reason``."""
    gone = mask & keep
    if gone.any():
        listed = [int(r) for r in rows[gone][:20]]
        text = ", ".join(map(str, listed)) + (" …" if gone.sum() > 20 else "")
        notes.append(Message("calibration.dropped", source=file, n=int(gone.sum()),
                             reason=Message(_REASONS[reason]), rows=text))
        keep &= ~gone


def match_measurements(meas: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, dem: Dem,
                       radio: RadioConfig, *, file: str = "",
                       cache: SweepCache | None = None, clutter: ClutterGrid | None = None,
                       notes: list[Message] | None = None) -> pd.DataFrame:
    """Per measurement, the model's predicted level (of its cell, or of the best server of
    its operator and technology in its band) and the cell: a frame of
    ``row, x, y, measured_dbm, predicted_dbm, residual_db, cell_id, site_id, operator,
    technology, band, distance_m``. Rows outside the DEM, of a cell not in the cell table,
    of a technology not computed, out of every cell's reach or whose predicted level is
    unknown are left out, noted (as the other readers drop what lies outside the study
    area)."""
    notes = notes if notes is not None else []
    x = meas.geometry.x.to_numpy(float)
    y = meas.geometry.y.to_numpy(float)
    rows = meas.index.to_numpy()
    r, c = dem.index(x, y)
    keep = np.ones(len(meas), bool)
    inside = (r >= 0) & (r < dem.shape[0]) & (c >= 0) & (c < dem.shape[1])
    inside[inside] = np.isfinite(dem.elevation[r[inside], c[inside]])
    _drop(keep, ~inside, "outside", rows, notes, file)
    cid = meas["cell_id"].to_numpy(str)
    named = cid != ""
    known_cell = pd.Index(cid).isin(cells.index.astype(str))  # hashed: np.isin sorts strings
    _drop(keep, named & ~known_cell, "unknown_cell", rows, notes, file)
    tech = meas["technology"].to_numpy(str).copy()
    known = named & keep
    tech[known] = cells["technology"].reindex(cid[known]).astype(str).to_numpy()
    _drop(keep, ~np.isin(tech, list(radio.technologies)), "not_computed", rows, notes, file)
    idx = np.flatnonzero(keep)
    pl = levels_at_points(cells, dem, radio, x[idx], y[idx], cache=cache, clutter=clutter,
                          only_points=True)
    pred = np.full(len(idx), -np.inf)
    server = np.full(len(idx), -1, dtype=np.int64)
    position = {k: i for i, k in enumerate(pl.cell_ids)}
    # the named cells: their entry of the matrix (entries sorted by point, then cell)
    nc = len(pl.cell_ids)
    key = pl.point * nc + pl.cell
    mine = np.flatnonzero(named[idx])
    server[mine] = [position[k] for k in cid[idx[mine]]]
    want = mine * nc + server[mine]
    at = np.minimum(np.searchsorted(key, want), max(len(key) - 1, 0))
    found = (key[at] == want) if len(key) else np.zeros(len(want), bool)
    pred[mine[found]] = pl.level_dbm[at[found]]
    # the others: best server of their operator / technology (/ band)
    bands = np.array([band_of(str(t), float(f)) for t, f in
                      zip(cells["technology"], cells["frequency_mhz"], strict=True)])
    cell_band = pd.Series(bands, index=cells.index.astype(str)).reindex(pl.cell_ids)
    free = meas.iloc[idx][~named[idx]]
    for (op, t, b), grp in free.groupby(["operator", "technology", "band"]):
        mask = pl.select(cells, technology=str(t), operator=str(op))
        if b:
            mask &= cell_band.to_numpy(str) == b
        best, srv = pl.best(mask)
        at = np.flatnonzero(np.isin(idx, np.flatnonzero(np.isin(rows, grp.index))))
        pred[at], server[at] = best[at], srv[at]
    lost = np.zeros(len(meas), bool)
    lost[idx[np.isneginf(pred)]] = True
    _drop(keep, lost, "no_server", rows, notes, file)
    lost[:] = False
    lost[idx[np.isnan(pred)]] = True
    _drop(keep, lost, "unknown_level", rows, notes, file)
    ok = np.isfinite(pred)
    idx, pred, server = idx[ok], pred[ok], server[ok]
    ids = np.asarray(pl.cell_ids, dtype=object)[server]
    cl = cells.reindex(ids)
    out = pd.DataFrame({
        "row": rows[idx], "x": x[idx], "y": y[idx],
        "measured_dbm": meas["rsrp_dbm"].to_numpy(float)[idx], "predicted_dbm": pred,
        "cell_id": ids.astype(str), "site_id": cl["site_id"].astype(str).to_numpy(),
        "operator": cl["operator"].astype(str).to_numpy(),
        "technology": cl["technology"].astype(str).to_numpy(),
        "band": cell_band.reindex(ids).to_numpy(str),
        "distance_m": np.hypot(x[idx] - cl.geometry.x.to_numpy(),
                               y[idx] - cl.geometry.y.to_numpy()),
    })
    out["residual_db"] = out["measured_dbm"] - out["predicted_dbm"]
    return out


def line_of_sight(points: pd.DataFrame, cells: gpd.GeoDataFrame, dem: Dem,
                  radio: RadioConfig) -> np.ndarray:
    """Per point, whether the straight line from its cell's antenna (ground + height) to
    the receiver (ground + ``rx_height_m``) clears the terrain sampled every half pixel
    (nearest pixel), with the earth's bulge ``d1 d2 / (2 k R)`` (effective radius ``k R``,
    ``k`` = ``[radio] k_factor``; ITU-R P.526-16 §4.1 eq. 7/8 geometry, the Fresnel zone
    not required clear): "LOS" or "NLOS" ("" where the DEM has no height)."""
    out = np.full(len(points), "", dtype=object)
    cl = cells.reindex(points["cell_id"].to_numpy())
    x0, y0 = cl.geometry.x.to_numpy(), cl.geometry.y.to_numpy()
    h0 = cl["height_m"].to_numpy(float)
    x1, y1 = points["x"].to_numpy(float), points["y"].to_numpy(float)
    elev = dem.elevation
    ke = radio.k_factor * EARTH_RADIUS_M

    def ground(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        r, c = dem.index(xs, ys)
        r = np.clip(r, 0, elev.shape[0] - 1)
        c = np.clip(c, 0, elev.shape[1] - 1)
        return elev[r, c].astype(float)

    for i in range(len(points)):
        d = math.hypot(x1[i] - x0[i], y1[i] - y0[i])
        n = max(int(d / (dem.pixel_m / 2)), 2)
        t = np.linspace(0.0, 1.0, n + 1)
        z = ground(x0[i] + t * (x1[i] - x0[i]), y0[i] + t * (y1[i] - y0[i]))
        if not np.isfinite(z).all():
            continue
        za, zb = z[0] + h0[i], z[-1] + radio.rx_height_m
        line = za + t * (zb - za)
        bulge = (t * d) * ((1 - t) * d) / (2 * ke)
        out[i] = "LOS" if bool(np.all(z[1:-1] + bulge[1:-1] <= line[1:-1])) else "NLOS"
    return out


# --------------------------------------------------------------------------------------
# statistics and fit


def residual_stats(points: pd.DataFrame, by: str | None = None,
                   column: str = "residual_db") -> pd.DataFrame:
    """``n``, ``bias`` (mean), ``rmse`` and ``sigma`` (standard deviation, n - 1) of
    ``column`` for all points (``by`` None) or per value of the column ``by``."""
    def one(v: pd.Series) -> pd.Series:
        a = v.to_numpy(float)
        return pd.Series({"n": len(a), "bias": a.mean() if len(a) else math.nan,
                          "rmse": math.sqrt(float(np.mean(a ** 2))) if len(a) else math.nan,
                          "sigma": float(a.std(ddof=1)) if len(a) > 1 else math.nan})
    if by is None:
        return one(points[column]).to_frame("all").T
    return points.groupby(by, sort=True, observed=True)[column].apply(one).unstack()


def variance_components(residual: np.ndarray, site: np.ndarray) -> tuple[float, float]:
    """``(σ_site, σ_point)`` of ``residual`` grouped by ``site``: the one-way
    random-effects ANOVA (method of moments) estimator, Searle, Casella & McCulloch
    (1992) §3.5: ``σ_point² = MSW``, ``σ_site² = max(0, (MSB - MSW) / n0)`` with
    ``n0 = (N - Σ nᵢ² / N) / (k - 1)``."""
    df = pd.DataFrame({"r": residual, "s": site})
    g = df.groupby("s")["r"]
    n_i, m_i = g.size().to_numpy(float), g.mean().to_numpy(float)
    n, k = float(len(df)), len(n_i)
    if n < 2:
        return math.nan, math.nan
    ssw = float(((df["r"] - g.transform("mean")) ** 2).sum())
    msw = ssw / (n - k) if n > k else math.nan
    if k < 2 or not math.isfinite(msw):
        return 0.0 if k < 2 else math.nan, float(np.std(residual, ddof=1))
    msb = float((n_i * (m_i - df["r"].mean()) ** 2).sum()) / (k - 1)
    n0 = (n - float((n_i ** 2).sum()) / n) / (k - 1)
    return math.sqrt(max(0.0, (msb - msw) / n0)), math.sqrt(msw)


#: The columns that name an offset group.
GROUP = ["operator", "technology", "band"]


def fit_corrections(points: pd.DataFrame) -> tuple[float, list[GroupOffset], dict[str, Any]]:
    """The global offset, the shrunk group offsets and the shrinkage's parameters fitted
    to ``points`` (``residual_db``, ``site_id`` and the :data:`GROUP` columns).

    The points of one site share its error (EIRP, tilt, position), so the unit of
    information is a site's mean residual in a group, ``m`` over ``n`` points, with
    variance ``σ_site² + σ_point² / n`` (:func:`variance_components` of the residuals
    about their group's mean). Means are weighted by the inverse of that variance
    (generalised least squares under the random-effects model; Searle et al. 1992, §3.5):
    the global offset is the weighted mean over every site and group, a group's raw offset
    ``d`` the weighted mean over its sites, with variance ``v`` = 1 / (sum of its
    weights); then the shrinkage of the module docstring."""
    r = points["residual_db"].to_numpy(float)
    gkey = (points["operator"].astype(str) + "\x1f" + points["technology"].astype(str)
            + "\x1f" + points["band"].astype(str)).to_numpy(str)
    within = r - pd.Series(r).groupby(gkey).transform("mean").to_numpy()
    s_site, s_point = variance_components(within, points["site_id"].to_numpy(str))
    s_site = 0.0 if not math.isfinite(s_site) else s_site
    if not math.isfinite(s_point) or s_point <= 0:
        s_point = float(np.std(r, ddof=1)) if len(r) > 1 else 1.0
    units = pd.DataFrame({"g": gkey, "s": points["site_id"].to_numpy(str), "r": r}) \
        .groupby(["g", "s"])["r"].agg(["mean", "size"]).reset_index()
    units["w"] = 1.0 / (s_site ** 2 + s_point ** 2 / units["size"])
    units["wm"] = units["w"] * units["mean"]
    g = float(units["wm"].sum() / units["w"].sum())
    per = units.groupby("g").agg(wm=("wm", "sum"), w=("w", "sum"), n=("size", "sum"),
                                 sites=("s", "nunique"))
    raw = per["wm"] / per["w"]
    v = 1.0 / per["w"]
    tau2 = max(0.0, float(raw.var(ddof=1)) - float(v.mean())) if len(raw) > 1 else 0.0
    w = tau2 / (tau2 + v) if tau2 > 0 else v * 0.0
    groups = []
    for key in raw.index:
        op, tech, band = str(key).split("\x1f")
        groups.append(GroupOffset(op, tech, band,
                                  g + float(w[key]) * (float(raw[key]) - g), float(raw[key]),
                                  float(w[key]), int(per["n"][key]), int(per["sites"][key])))
    return g, groups, {"method": "empirical Bayes (method of moments): offset = global + w "
                                 "(group mean - global), w = tau² / (tau² + v), v the "
                                 "variance of the group mean (site means weighted by 1 / "
                                 "(σ_site² + σ_point²/n))",
                       "tau_db": math.sqrt(tau2), "sigma_site_db": s_site,
                       "sigma_point_db": s_point,
                       "global_se_db": math.sqrt(1.0 / float(units["w"].sum()))}


def _offsets(points: pd.DataFrame, g: float, groups: Sequence[GroupOffset]) -> np.ndarray:
    """Per point, the offset of its group (``g`` for a group not fitted)."""
    table = {(x.operator, x.technology, x.band): x.offset_db for x in groups}
    keys = zip(points["operator"], points["technology"], points["band"], strict=True)
    return np.array([table.get((str(o), str(t), str(b)), g) for o, t, b in keys], dtype=float)


def site_folds(sites: np.ndarray, k: int, seed: int) -> dict[str, int]:
    """The fold (0 … ``k``-1) of each site: the sorted distinct sites in a seeded random
    order, dealt round-robin (every fold gets ⌊n/k⌋ or ⌈n/k⌉ whole sites)."""
    uniq = np.unique(sites.astype(str))
    order = np.random.default_rng(seed).permutation(len(uniq))
    return {str(uniq[j]): int(pos % k) for pos, j in enumerate(order)}


def cross_validate(points: pd.DataFrame, *, folds: int = CV_FOLDS,
                   seed: int = 0) -> tuple[dict[str, float], pd.DataFrame, np.ndarray]:
    """Site-grouped ``folds``-fold cross-validation of :func:`fit_corrections`: the
    pooled held-out ``rmse_before_db`` / ``rmse_after_db`` and ``bias_before_db`` /
    ``bias_after_db`` (with ``folds`` and ``n``), the per-fold table and each point's fold.
    Fewer than two sites: no cross-validation (empty results, NaN)."""
    site = points["site_id"].to_numpy(str)
    k = min(folds, len(np.unique(site)))
    fold = np.full(len(points), -1, dtype=np.int64)
    if k < 2:
        return ({"folds": 0, "n": 0, "rmse_before_db": math.nan, "rmse_after_db": math.nan,
                 "bias_before_db": math.nan, "bias_after_db": math.nan},
                pd.DataFrame(), fold)
    of = site_folds(site, k, seed)
    fold = np.array([of[s] for s in site], dtype=np.int64)
    after = np.empty(len(points))
    rows = []
    r = points["residual_db"].to_numpy(float)
    for f in range(k):
        test = fold == f
        g, groups, _ = fit_corrections(points[~test])
        after[test] = r[test] - _offsets(points[test], g, groups)
        rows.append({"fold": f, "sites": int(len(np.unique(site[test]))),
                     "n": int(test.sum()),
                     "rmse_before_db": float(np.sqrt(np.mean(r[test] ** 2))),
                     "rmse_after_db": float(np.sqrt(np.mean(after[test] ** 2))),
                     "global_offset_db": g})
    return ({"folds": k, "n": len(points), "seed": seed,
             "rmse_before_db": float(np.sqrt(np.mean(r ** 2))),
             "rmse_after_db": float(np.sqrt(np.mean(after ** 2))),
             "bias_before_db": float(r.mean()), "bias_after_db": float(after.mean()),
             "sigma_before_db": float(np.std(r, ddof=1)),
             "sigma_after_db": float(np.std(after, ddof=1))},
            pd.DataFrame(rows), fold)


def before_after(cal: Calibration) -> pd.DataFrame:
    """The before / after table: per row (``all`` the points in-sample, ``held_out`` the
    site-grouped cross-validation), ``n`` and the ``bias``, ``rmse`` and ``sigma`` (dB) of
    the residuals of the uncorrected model (``*_before``) and after the corrections
    (``*_after``; held out: fitted without the point's fold)."""
    p, cv = cal.points, cal.corrections.cv
    before = residual_stats(p).iloc[0]
    after = residual_stats(p, column="corrected_db").iloc[0]
    nan = math.nan
    rows = {
        "all": {"n": int(before["n"]), "bias_before": before["bias"],
                "bias_after": after["bias"], "rmse_before": before["rmse"],
                "rmse_after": after["rmse"], "sigma_before": before["sigma"],
                "sigma_after": after["sigma"]},
        "held_out": {"n": int(cv.get("n", 0)),
                     "bias_before": float(cv.get("bias_before_db", nan)),
                     "bias_after": float(cv.get("bias_after_db", nan)),
                     "rmse_before": float(cv.get("rmse_before_db", nan)),
                     "rmse_after": float(cv.get("rmse_after_db", nan)),
                     "sigma_before": float(cv.get("sigma_before_db", nan)),
                     "sigma_after": float(cv.get("sigma_after_db", nan))}}
    return pd.DataFrame.from_dict(rows, orient="index")


# --------------------------------------------------------------------------------------
# the command


def _uncorrected(cfg: Config, notes: list[Message]) -> Config:
    """``cfg`` without its ``[calibration] corrections`` (noted when it had some)."""
    path = cfg.calibration.corrections
    if path is None:
        return cfg
    notes.append(Message("calibration.uncorrected", file=str(path)))
    return replace(cfg, calibration=replace(cfg.calibration, corrections=None))


def calibrate(cfg: Config, measurements: str | Path, *, inputs: Inputs | None = None,
              cache: SweepCache | None = None, read_cache: ReadCache | None = None,
              layer: str | None = None, seed: int = 0, folds: int = CV_FOLDS) -> Calibration:
    """Compare the measurements with the uncorrected model of ``cfg`` and fit the
    corrections (module docstring). ``inputs``: already loaded without corrections
    (else loaded here); ``cache``: a workspace's sweep cache; ``layer``: the layer of a
    vector measurement file.

    Raises
    ------
    InputDataError
        Problems in the measurement file (all of them), or no measurement left to compare.
    """
    notes: list[Message] = []
    cfg = _uncorrected(cfg, notes)
    if inputs is None:
        inputs = load_inputs(cfg, read_cache=read_cache)
    if inputs.cells is None or inputs.dem is None:
        raise InputDataError([Problem("config", "calibration needs the mobile inputs (a DEM "
                                      "and cells)", "set [inputs] dem and cells")])
    path = Path(measurements)
    file = str(path)
    problems: list[Problem] = []
    meas = read_measurements(path, working_crs=inputs.cells.crs, problems=problems,
                             notes=notes, operators=tuple(cfg.kpi.operators), layer=layer)
    if meas is None or problems:
        raise InputDataError(problems)
    clutter = (ClutterGrid.from_landcover(inputs.landcover, cfg.radio.rx_height_m)
               if inputs.landcover is not None else None)
    pts = match_measurements(meas, inputs.cells, inputs.dem, cfg.radio, file=file,
                             cache=cache, clutter=clutter, notes=notes)
    if len(pts) < 2:
        raise InputDataError([Problem(file, f"{len(pts)} measurement(s) left to compare "
                                      "with the model (see the notes)", "give measurements "
                                      "inside the study area, of cells in the cell table and "
                                      "of the technologies computed")])
    pts["los"] = line_of_sight(pts, inputs.cells, inputs.dem, cfg.radio)
    pts["landcover"] = _landcover(pts, inputs)
    cv, cv_folds, fold = cross_validate(pts, folds=folds, seed=seed)
    pts["fold"] = fold
    g, groups, shrink = fit_corrections(pts)
    pts["corrected_db"] = pts["residual_db"] - _offsets(pts, g, groups)
    corrected = pts["corrected_db"].to_numpy(float)
    s_site, s_point = variance_components(corrected, pts["site_id"].to_numpy(str))
    corr = Corrections(
        global_offset_db=g, sigma_db=float(np.std(corrected, ddof=1)),
        site_sigma_db=float(np.nan_to_num(s_site)), point_sigma_db=float(np.nan_to_num(s_point)),
        n=len(pts), n_sites=int(pts["site_id"].nunique()),
        technologies=tuple(sorted(pts["technology"].unique())), groups=tuple(groups),
        measurements_file=file, measurements_sha256=file_sha256(path), cv=cv,
        shrinkage=shrink, created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        version=__version__, global_offset_se_db=float(shrink["global_se_db"]))
    sites = inputs.cells.drop_duplicates("site_id")
    return Calibration(pts[list(POINT_COLUMNS)], corr, cv_folds, tuple(notes),
                       pd.DataFrame({"site_id": sites["site_id"].to_numpy(),
                                     "x": sites.geometry.x.to_numpy(),
                                     "y": sites.geometry.y.to_numpy()}))


def _landcover(points: pd.DataFrame, inputs: Inputs) -> np.ndarray:
    """Per point, the land-cover class name at its pixel ("" without a land cover)."""
    lc = inputs.landcover
    if lc is None or inputs.dem is None:
        return np.full(len(points), "", dtype=object)
    r, c = inputs.dem.index(points["x"].to_numpy(), points["y"].to_numpy())
    cls = lc.classes[r, c]
    names = lc.table["name"] if "name" in lc.table.columns else pd.Series(dtype=str)
    return np.array([str(names.get(int(v), v)) if v else "" for v in cls], dtype=object)


# --------------------------------------------------------------------------------------
# report and figures


def _distance_band(d_m: pd.Series) -> pd.Series:
    edges = DISTANCE_BANDS_KM
    labels = [f"{a:g}–{b:g} km" if math.isfinite(b) else f"> {a:g} km"
              for a, b in itertools.pairwise(edges)]
    return pd.Series(pd.cut(d_m / 1000.0, list(edges), labels=labels, right=False),
                     index=d_m.index)


def _md_table(df: pd.DataFrame, first: str) -> list[str]:
    cols = [first, *map(str, df.columns)]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for key, row in df.iterrows():
        cells = [str(key)]
        for col, v in row.items():
            if col in ("n", "sites") and isinstance(v, (float, np.floating)) and v == v:
                cells.append(str(int(v)))
            elif isinstance(v, float):
                cells.append("" if math.isnan(v) else f"{v:.2f}")
            else:
                cells.append(str(int(v)) if isinstance(v, (int, np.integer)) else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return [*out, ""]


def _by_tables(cal: Calibration) -> list[tuple[str, pd.DataFrame]]:
    """(title, table) of the residual statistics by each grouping that the data has."""
    p = cal.points.assign(distance_band=_distance_band(cal.points["distance_m"]),
                          group=(cal.points["operator"] + " " + cal.points["technology"]
                                 + " " + cal.points["band"]))
    out = []
    for title, by in (("operator", "operator"), ("operator / technology / band", "group"),
                      ("distance band", "distance_band"), ("LOS / NLOS", "los"),
                      ("land-cover class", "landcover")):
        if (p[by].astype(str) != "").any():
            before = residual_stats(p, by)
            after = residual_stats(p, by, "corrected_db")[["bias", "rmse"]]
            after.columns = ["bias after", "RMSE after"]
            out.append((title, before.join(after).rename(columns={"rmse": "RMSE",
                                                                   "sigma": "σ"})))
    return out


def calibration_report(cal: Calibration, *, config: str = "", lang: str = "en") -> str:
    """The report (Markdown, English): provenance, the before/after table, the fitted
    offsets, the statistics by operator, band, distance, LOS/NLOS and land cover, the
    cross-validation and the notes."""
    c, p = cal.corrections, cal.points
    cv = c.cv
    before = residual_stats(p)
    after = residual_stats(p, column="corrected_db")
    ba = pd.DataFrame({
        "n": [int(before["n"].iloc[0]), int(after["n"].iloc[0]), int(cv.get("n", 0)),
              int(cv.get("n", 0))],
        "bias (dB)": [before["bias"].iloc[0], after["bias"].iloc[0],
                      cv.get("bias_before_db", math.nan), cv.get("bias_after_db", math.nan)],
        "RMSE (dB)": [before["rmse"].iloc[0], after["rmse"].iloc[0],
                      cv.get("rmse_before_db", math.nan), cv.get("rmse_after_db", math.nan)],
    }, index=["all points, uncorrected model", "all points, corrected (in-sample)",
              "held-out sites, uncorrected model", "held-out sites, corrected (cross-validated)"])
    groups = pd.DataFrame([{"offset (dB)": g.offset_db, "group mean (dB)": g.raw_offset_db,
                            "weight": g.weight, "n": g.n, "sites": g.n_sites}
                           for g in c.groups],
                          index=[f"{g.operator} {g.technology} {g.band}" for g in c.groups])
    lines = [
        "# Calibration to measurements", "",
        f"Measurements: `{c.measurements_file}` (sha256 `{c.measurements_sha256}`), "
        f"{c.n} compared, {c.n_sites} sites" + (f"; configuration `{config}`" if config
                                               else "") + f"; vncoverage {c.version}, "
        f"{c.created}.", "",
        "The model is always the **uncorrected** one (the configuration's [calibration] "
        "corrections are not applied here), so corrections never compound. Residual = "
        "measured − predicted (dB; positive: the model is pessimistic). Levels: RSRP per "
        "resource element for 4G/5G, RSCP for 3G, RxLev for 2G.", "",
        "## Before / after", "", *_md_table(ba, ""),
        f"Cross-validation: {int(cv.get('folds', 0))} folds grouped by site (whole sites "
        "held out; sites dealt at random, seed "
        f"{cv.get('seed', '')}): each fold predicted with the corrections fitted on the "
        "others.", "",
        "## Fitted corrections", "",
        f"- global offset: **{c.global_offset_db:+.2f} dB** (mean residual, sites "
        f"weighted; standard error {c.global_offset_se_db:.2f} dB)",
        f"- residual σ after correction: **{c.sigma_db:.2f} dB** (site part "
        f"{c.site_sigma_db:.2f} dB, point part {c.point_sigma_db:.2f} dB: one-way "
        "random-effects ANOVA)",
        f"- group offsets shrunk toward the global one: {c.shrinkage.get('method', '')}; "
        f"τ = {float(c.shrinkage.get('tau_db', math.nan)):.2f} dB", "",
        *_md_table(groups, "operator technology band"),
        "Use them in a run: `[calibration] corrections = \"<this folder>/corrections.json\"` "
        "(added to the cells' EIRP per operator / technology / band; the global offset for "
        "the other cells of " + ", ".join(c.technologies) + ").", "",
        "## Residuals of the uncorrected model", "",
        "![residual vs distance](residual_vs_distance.png)", "",
        "![histogram](residual_histogram.png)", "", "![map](residual_map.png)", ""]
    for title, table in _by_tables(cal):
        lines += [f"### By {title}", "", *_md_table(table, title)]
    if len(cal.cv_folds):
        lines += ["## Cross-validation folds", "",
                  *_md_table(cal.cv_folds.set_index("fold"), "fold")]
    if cal.notes:
        lines += ["## Notes", "", *(f"- {n.render(lang)}" for n in cal.notes), ""]
    return "\n".join(lines)


def calibration_figures(cal: Calibration) -> dict[str, bytes]:
    """The PNGs: residual vs distance (points and the mean per distance band, before and
    after), the histogram before / after and the map of residuals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    p = cal.points
    out: dict[str, bytes] = {}

    def png(fig: Figure) -> bytes:
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, metadata={"Software": None},
                    bbox_inches="tight")
        return buf.getvalue()

    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot()
    d = p["distance_m"] / 1000.0
    ax.scatter(d, p["residual_db"], s=4, alpha=0.35, color="tab:grey", label="residual")
    binned = p.assign(band=_distance_band(p["distance_m"]), d=d).groupby("band",
                                                                       observed=True)
    for col, colour, lab in (("residual_db", "tab:red", "mean, uncorrected"),
                             ("corrected_db", "tab:blue", "mean, corrected")):
        m = binned.agg(d=("d", "median"), v=(col, "mean")).sort_values("d")
        ax.plot(m["d"], m["v"], "o-", color=colour, label=lab)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("distance to the cell's site (km)")
    ax.set_ylabel("measured − predicted (dB)")
    ax.legend(loc="best", fontsize=8)
    out["residual_vs_distance.png"] = png(fig)

    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot()
    lo = float(np.floor(min(p["residual_db"].min(), p["corrected_db"].min())))
    hi = float(np.ceil(max(p["residual_db"].max(), p["corrected_db"].max())))
    bins = np.linspace(lo, hi, 41).tolist() if hi > lo else 10
    ax.hist(p["residual_db"], bins=bins, alpha=0.55, color="tab:red",
            label=f"uncorrected (bias {p['residual_db'].mean():+.1f} dB)")
    ax.hist(p["corrected_db"], bins=bins, alpha=0.55, color="tab:blue",
            label=f"corrected (σ {cal.corrections.sigma_db:.1f} dB)")
    ax.set_xlabel("measured − predicted (dB)")
    ax.set_ylabel("measurements")
    ax.legend(fontsize=8)
    out["residual_histogram.png"] = png(fig)

    fig = Figure(figsize=(6.5, 6))
    ax = fig.add_subplot()
    lim = float(np.nanpercentile(np.abs(p["residual_db"]), 98)) or 1.0
    sc = ax.scatter(p["x"] / 1000, p["y"] / 1000, c=p["residual_db"], s=6, cmap="RdBu",
                    vmin=-lim, vmax=lim)
    used = cal.sites[cal.sites["site_id"].isin(p["site_id"])] if len(cal.sites) else None
    if used is not None and len(used):
        ax.scatter(used["x"] / 1000, used["y"] / 1000, marker="^", color="black", s=25,
                   label="sites serving the measurements")
        ax.legend(fontsize=8, loc="best")
    fig.colorbar(sc, ax=ax, label="measured − predicted, uncorrected (dB)", shrink=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("x (km, working CRS)")
    ax.set_ylabel("y (km)")
    ax.ticklabel_format(style="plain", useOffset=False)
    out["residual_map.png"] = png(fig)
    return out


#: The files :func:`write_calibration` writes into its folder.
CALIBRATION_FILES = ("residual_vs_distance.png", "residual_histogram.png", "residual_map.png",
                     "points.csv", "report.md", "corrections.json")


def write_calibration(cal: Calibration, folder: str | Path, *, config: str = "") -> Path:
    """Write ``folder`` (``W/calibration/``): ``corrections.json``, ``report.md``,
    ``points.csv`` (one row per measurement compared) and the PNGs, each atomically
    (the JSON last: a corrections file is always next to its report). Returns the path of
    the corrections file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in calibration_figures(cal).items():
        write_bytes(folder / name, data)
    write_text(folder / "points.csv", cal.points.to_csv(index=False, float_format="%.3f"))
    write_text(folder / "report.md", calibration_report(cal, config=config))
    path = folder / "corrections.json"
    write_text(path, corrections_json(cal.corrections))
    return path


def summary_lines(cal: Calibration) -> list[str]:
    """A few lines for the terminal."""
    c, cv = cal.corrections, cal.corrections.cv
    return [f"{c.n} measurements compared ({c.n_sites} sites); global offset "
            f"{c.global_offset_db:+.2f} dB; residual σ {c.sigma_db:.2f} dB",
            f"held-out sites RMSE: {cv.get('rmse_before_db', math.nan):.2f} dB uncorrected "
            f"-> {cv.get('rmse_after_db', math.nan):.2f} dB corrected "
            f"({int(cv.get('folds', 0))} folds grouped by site)"]


def as_mapping(c: Corrections) -> Mapping[str, Any]:
    """The corrections as the JSON's mapping (for tests and other tools)."""
    import json

    out: Mapping[str, Any] = json.loads(corrections_json(c))
    return out
