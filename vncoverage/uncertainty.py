"""Uncertainty of the mobile verdicts and KPIs: a Monte Carlo over a shared error model.

The verdicts (:mod:`vncoverage.villages`) and the KPIs (:mod:`vncoverage.kpi`) come from
*predicted* median levels. This module asks how sure they are: it draws the errors of those
predictions many times and, per draw, applies the same rules to the perturbed levels.

Error model
-----------
The error of the predicted median level of cell ``c`` (site ``s``) at point ``p`` of
village ``v``, in draw ``d``, is::

    e = G[d] + S[s, d] + V[v, d] + P[p, d]

* ``G`` - one province-wide bias per draw, N(0, ``global_sigma_db``): EIRP and cable-loss
  conventions, the model's median bias in this terrain (e.g. vegetation the bare-earth
  terrain model ignores). Shared by every village: it is what makes the KPI itself
  uncertain; villages drawn independently would give intervals several times too narrow.
* ``S`` - one error per site and draw, N(0, ``site_sigma_db``), shared by the site's cells:
  EIRP, tilt, antenna position and defaulted parameters. A site's error can hand a point to
  another server, so the best server is taken again in every draw, over every cell that
  reaches the point (:mod:`vncoverage.pointlevels`).
* ``V`` - one error per village and draw, N(0, ``village_sigma_db``), shared by its points:
  local shadowing (hills, forest, buildings) correlated over the few hundred metres of a
  village, which the DEM does not resolve.
* ``P`` - one error per point and draw, N(0, ``point_sigma_db``): the part of the local
  prediction error uncorrelated between a village's centre and its household clusters
  (DEM resolution and sampling, the sweep's geometry).

``V`` and ``P`` belong to the location, not to a link: they are added to the best server's
level after the best server is chosen (the same for every server at the point).

Uncalibrated defaults (``[uncertainty]``): 4, 5, 5 and 4 dB, 9.1 dB in total for one
point. Source and assumption: Phillips, Sicker and Grunwald, "Bounding the practical error
of path loss models", Int. J. Antennas Propag. 2012, article 754158 (abstract),
found over a large measurement corpus that a-priori path-loss models reach 12-15 dB RMSE
against single measurements at best, and 8-9 dB once tuned to measurements. A single
measurement also carries the location variability (σ_L = 8 dB here, see below); taking it
out in quadrature leaves about 9-13 dB for the error of the predicted *median* before
calibration, about 4 dB after. We take the lower end, 9 dB (cellular sites with known
positions and parameters, a terrain model), and split it between the four terms as an
assumption (the province-wide part 4 dB: EIRP and cable-loss conventions and the model's
bias over vegetated hills). The issue's own measurements on the sample (±2 dB of bias moves
the KPI by −0.5 / +0.3 points; 30 m instead of 90 m DEM by 1.5 points) are reported beside
the intervals, not added to them.

Location variability and the margin (no double counting)
-------------------------------------------------------
The verdict of a pixel is about a *location probability*: it is covered when its median
level less ``[radio] location_margin_db`` (``location_sigma_db`` x Q^-1(1 - p): the level
exceeded at a share ``location_probability`` of the locations around the pixel's median)
reaches the threshold. Location variability - the spread of the level over receiver
positions around a median - is therefore already in every verdict, once, through the
margin. The draws perturb the *medians* only (the terms above are errors of the predicted
median, not the spread of locations around it) and keep the margin in the rule. Drawing
location variability as well would count it twice; dropping the margin and drawing it would
turn the verdict into the coin toss of one receiver position. With the defaults the two
differ in kind: σ_L = 8 dB (DOMAIN.md) is the spread of locations around a *known* median,
the error model's 9.1 dB (total) is how wrong the median itself may be.

Per draw: perturbed levels, best server, the same verdict rule
(:func:`vncoverage.villages.summarise_villages`: a point is covered when its best level -
margin >= threshold; a village is ``covered`` when its centre is and at least
``covered_population_share`` of its clusters' population is (area share when it has no
clusters), ``lõm sóng`` when only the centre is, ``trắng sóng`` when the centre is not,
``unknown`` when the centre could not be computed), every computed mobile KPI.

Common random numbers
---------------------
Every error is drawn from a generator keyed by the seed and the id of what it belongs to
(the site id, the village id), never by its position in a table. Two runs that differ by a
site therefore see the same errors everywhere else: adding a site adds candidates to the
best-server maximum in every draw and never lowers any village's ``p_covered`` (whose
villages are judged by household clusters; an area share, which leaves unknown pixels out of
its denominator, can fall when a new site makes an unknown pixel known and not covered).

Speed
-----
Cells of one site at a point share its error: only the best of each site counts. Sites
more than ``PRUNE_SIGMAS`` x √2 x ``site_sigma_db`` below a point's best site cannot win in
any plausible draw and are dropped (P(N(0, 1) > 5) = 3e-7 per site pair and draw).
The draws of one village are computed together (numba, in parallel over villages).

Calibration
-----------
With ``[calibration] corrections`` (``vncoverage calibrate``) or ``[calibration]
measurements`` (the run calibrates itself, :func:`vncoverage.pipeline.run`), the residuals
of the fit replace the defaults (:func:`corrections_model`: the global bias σ is the fitted
offset's standard error, the site σ the residuals' site-shared part, the local σ their
remaining part less the location variability). Without them the model is labelled
*uncalibrated*. A run that calibrated itself also gives the KPI of the uncalibrated model
(:data:`UNCALIBRATED_COLUMN`): the matrix's levels less each cell's correction
(:func:`correction_entries`), through the same rule without error draws. The levels were
computed (float32) with the corrected EIRP, so the difference from a run of the
uncorrected cells is below 1e-4 dB per level: a village flips only if its margin is that
close to zero (the test finds the plain run's KPI).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from .clutter import ClutterGrid
from .config import Config, CoverageConfig, KpiConfig, RadioConfig, UncertaintyConfig
from .datatypes import Dem, Inputs
from .fileio.measurements import Corrections, cell_offsets, read_corrections
from .pointlevels import CLUSTER, PointLevels, VillagePoints, village_points

__all__ = [
    "BIAS_SENSITIVITY_DB",
    "KPI_COLUMNS",
    "RESOLUTION_EFFECT_PTS",
    "UNCALIBRATED_COLUMN",
    "ErrorModel",
    "Errors",
    "LayerMatrix",
    "Uncertainty",
    "calibrated_model",
    "clutter_entries",
    "correction_entries",
    "corrections_model",
    "draw_errors",
    "error_model",
    "kpi_values",
    "layer_matrix",
    "mbb_layer_keys",
    "run_error_model",
    "run_uncertainty",
    "uncertainty_points",
    "verdict_draws",
    "village_uncertainty",
]

#: Sites this many √2·σ_site below a point's best site are pruned (see the module docstring).
PRUNE_SIGMAS = 5.0
#: The global bias of the sensitivity table (dB, either sign).
BIAS_SENSITIVITY_DB = 2.0
#: The measured effect of the DEM resolution on ``mobile_broadband_villages`` (issue 15:
#: the same terrain at 30 m instead of 90 m moved it by 1.5 points), reported beside the
#: intervals: it is not in the error model.
RESOLUTION_EFFECT_PTS = 1.5

#: Verdict codes of :func:`verdict_draws`.
V_COVERED, V_LOM, V_TRANG, V_UNKNOWN = 0, 1, 2, 3
#: Point states inside the kernel.
_NOT, _COV, _UNK = 0, 1, 2

#: The KPI table's uncertainty columns (:attr:`Uncertainty.kpis`).
KPI_COLUMNS = ("uncertainty_basis", "mean", "interval_90_low", "interval_90_high",
               "p_target_met", "kpi_at_bias_minus_2db", "kpi_at_bias_plus_2db",
               "kpi_without_clutter")
#: The KPI of the uncalibrated model, a column of the KPI table only when the run calibrated
#: itself (``[calibration] measurements``): the run's levels less each cell's correction.
UNCALIBRATED_COLUMN = "kpi_uncalibrated"


@dataclass(frozen=True)
class ErrorModel:
    """Standard deviations (dB) of the four error terms and where they come from."""

    global_db: float
    site_db: float
    village_db: float
    point_db: float
    calibrated: bool = False
    source: str = "uncalibrated defaults ([uncertainty] *_sigma_db)"

    @property
    def total_db(self) -> float:
        """σ of one point's error (the four terms are independent)."""
        return math.sqrt(self.global_db ** 2 + self.site_db ** 2 + self.village_db ** 2
                         + self.point_db ** 2)

    @property
    def label(self) -> str:
        return "calibrated" if self.calibrated else "uncalibrated"


def error_model(cfg: UncertaintyConfig) -> ErrorModel:
    """The uncalibrated error model of the configuration."""
    return ErrorModel(cfg.global_sigma_db, cfg.site_sigma_db, cfg.village_sigma_db,
                      cfg.point_sigma_db)


def calibrated_model(cfg: UncertaintyConfig, residual_sigma_db: float,
                     global_se_db: float, source: str) -> ErrorModel:
    """An error model from a residual σ alone: split between site, village and point in
    the proportions of the configured defaults; the global term is what remains uncertain
    of the fitted global offset (its standard error)."""
    parts = np.array([cfg.site_sigma_db, cfg.village_sigma_db, cfg.point_sigma_db]) ** 2
    share = parts / parts.sum() if parts.sum() > 0 else np.array([0.0, 0.0, 1.0])
    site, village, point = np.sqrt(share) * residual_sigma_db
    return ErrorModel(float(global_se_db), float(site), float(village), float(point),
                      calibrated=True, source=source)


def corrections_model(cfg: UncertaintyConfig, corrections: Corrections,
                      location_sigma_db: float) -> ErrorModel:
    """The error model after ``vncoverage calibrate`` (:class:`Corrections`).

    * global: the standard error of the fitted global offset, with the site-grouped
      structure of the residuals: ``sqrt(site² / n_sites + point² / n)``;
    * site: the residuals' part shared by a site's points (``site_sigma_db``);
    * village and point: the residuals' remaining part (``point_sigma_db``) is the error of
      the predicted median at a place *plus* the location variability of a single
      measurement, which the verdict's margin already covers (module docstring); the
      latter is taken out in quadrature, ``sqrt(max(point² - σ_L², 0))``, and the rest
      split between village and point in the proportions of the configured defaults.
    """
    site = float(corrections.site_sigma_db)
    rest = float(corrections.point_sigma_db)
    local = math.sqrt(max(rest ** 2 - location_sigma_db ** 2, 0.0))
    v2, p2 = cfg.village_sigma_db ** 2, cfg.point_sigma_db ** 2
    share_v = v2 / (v2 + p2) if v2 + p2 > 0 else 0.0
    se = math.sqrt(site ** 2 / max(corrections.n_sites, 1) + rest ** 2 / max(corrections.n, 1))
    sha = corrections.measurements_sha256[:12]
    source = (f"calibrated on {Path(corrections.measurements_file).name or 'measurements'}"
              f"{f' (sha256 {sha}…)' if sha else ''}: n = {corrections.n}, "
              f"{corrections.n_sites} sites, residual σ {corrections.sigma_db:.1f} dB")
    return ErrorModel(se, site, local * math.sqrt(share_v), local * math.sqrt(1 - share_v),
                      calibrated=True, source=source)


@dataclass(frozen=True)
class LayerMatrix:
    """One layer's candidates per point (CSR over the points of :class:`VillagePoints`):
    entries ``ptr[p]:ptr[p + 1]`` are the sites that can serve point ``p``, with
    ``margin_db``, the best level of the site's cells less the level a covered pixel needs
    (threshold + location margin, as float32 like the layers: ``margin_db >= 0`` is
    exactly the run's verdict); ``unknown[p]``: the point is unknown when not covered (DEM
    nodata on every path of a technology, or off the grid)."""

    ptr: np.ndarray
    site: np.ndarray
    margin_db: np.ndarray
    unknown: np.ndarray


def mbb_layer_keys(levels: PointLevels, cells: pd.DataFrame) -> list[str]:
    """The operators of the mobile-broadband layers: ``"any"`` then the operators with a
    4G or 5G cell in the matrix."""
    ids = pd.Index(levels.cell_ids)
    sel = cells.reindex(ids)
    ops = sorted(set(sel.loc[sel["technology"].isin(("4G", "5G")), "operator"].astype(str)))
    return ["any", *ops]


def required_dbm(radio: RadioConfig, tech: str) -> float:
    """The level a covered pixel needs, rounded to float32 as the layers compare it."""
    return float(np.float32(radio.rsrp_threshold_dbm[tech] + radio.location_margin_db))


def layer_matrix(levels: PointLevels, cells: pd.DataFrame, radio: RadioConfig,
                 points: VillagePoints, site_index: Mapping[str, int], *,
                 operator: str = "any", site_sigma_db: float = 0.0,
                 extra_db: np.ndarray | None = None) -> LayerMatrix:
    """The candidates of the ``MBB`` layer of ``operator`` (``"any"``: every operator) at
    every point: 4G and 5G cells (those computed), per site the best margin, pruned (see the
    module docstring). ``site_index`` numbers the site ids; ``extra_db`` (one value per
    entry of ``levels``) is added to the levels first (e.g. the clutter loss back)."""
    ids = pd.Index(levels.cell_ids)
    tab = cells.reindex(ids)
    tech = tab["technology"].astype(str).to_numpy()
    ops = tab["operator"].astype(str).to_numpy()
    keep_cell = np.isin(tech, ("4G", "5G")) & np.array(
        [t in radio.technologies for t in tech], bool)
    if operator != "any":
        keep_cell &= ops == operator
    req = np.array([required_dbm(radio, t) if k else np.nan
                    for t, k in zip(tech, keep_cell, strict=True)])
    site_of = np.array([site_index.get(str(s), -1) for s in tab["site_id"]], np.int64)
    keep = keep_cell[levels.cell]
    p, c = levels.point[keep], levels.cell[keep]
    lev = levels.level_dbm[keep]
    if extra_db is not None:
        lev = lev + extra_db[keep]
    n = points.n_points
    # unknown: per technology, no known level and at least one unknown one
    unknown = ~_on_grid(points)
    for t in ("4G", "5G"):
        in_t = tech[c] == t
        known = np.zeros(n, bool)
        nan = np.zeros(n, bool)
        known[p[in_t & np.isfinite(lev)]] = True
        nan[p[in_t & np.isnan(lev)]] = True
        unknown |= nan & ~known
    fin = np.isfinite(lev)
    pts, sites, margins = _best_sites(p[fin].astype(np.int64), site_of[c[fin]],
                                      (lev[fin] - req[c[fin]]).astype(np.float64),
                                      PRUNE_SIGMAS * math.sqrt(2.0) * site_sigma_db)
    ptr = np.searchsorted(pts, np.arange(n + 1)).astype(np.int64)
    return LayerMatrix(ptr, sites, margins, unknown)


def _best_sites(p: np.ndarray, s: np.ndarray, m: np.ndarray, cut: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (point ``p``, site ``s``) the best margin ``m``, kept where it is within ``cut``
    of the point's best; sorted by point, then site."""
    if not len(p):
        return p, s, m
    n_s = int(s.max()) + 2  # sites are >= -1
    key = p * n_s + (s + 1)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    m = np.maximum.reduceat(m[order], starts)
    key = key[starts]
    p, s = key // n_s, key % n_s - 1
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    best = np.repeat(np.maximum.reduceat(m, starts), np.diff(np.r_[starts, len(m)]))
    kept = m >= best - cut
    return p[kept], s[kept], m[kept]


def _on_grid(points: VillagePoints) -> np.ndarray:
    return points.on_grid if points.on_grid is not None else np.ones(points.n_points, bool)


@dataclass(frozen=True)
class Errors:
    """The draws of the error terms (dB): ``glob`` (draws), ``site`` (sites x draws),
    ``village`` (villages x draws), ``point`` (points x draws)."""

    glob: np.ndarray
    site: np.ndarray
    village: np.ndarray
    point: np.ndarray

    @property
    def n_draws(self) -> int:
        return len(self.glob)

    @classmethod
    def fixed(cls, n_sites: int, n_villages: int, n_points: int,
              bias_db: Sequence[float] = (0.0,)) -> Errors:
        """No error but a global ``bias_db`` per draw: the median map (0) and the
        sensitivity to a province-wide bias."""
        d = len(bias_db)
        return cls(np.asarray(bias_db, float), np.zeros((n_sites, d), np.float32),
                   np.zeros((n_villages, d), np.float32), np.zeros((n_points, d), np.float32))


def _key(text: str) -> int:
    """A stable 64-bit integer of a text (an id), for the generators' seeds."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def draw_errors(model: ErrorModel, seed: int, n_draws: int, site_ids: Sequence[str],
                points: VillagePoints) -> Errors:
    """``n_draws`` draws of the error model with common random numbers: each site's and
    each village's (and its points') draws come from a generator keyed by the seed and the
    id (see the module docstring)."""
    g = np.random.default_rng([seed, 0]).standard_normal(n_draws) * model.global_db
    site = np.empty((len(site_ids), n_draws), np.float32)
    for k, sid in enumerate(site_ids):
        rng = np.random.default_rng([seed, 1, _key(str(sid))])
        site[k] = rng.standard_normal(n_draws, dtype=np.float32) * np.float32(model.site_db)
    n_v = len(points.village_ids)
    village = np.empty((n_v, n_draws), np.float32)
    point = np.empty((points.n_points, n_draws), np.float32)
    ptr = points.ptr
    for v, vid in enumerate(points.village_ids):
        rng = np.random.default_rng([seed, 2, _key(str(vid))])
        z = rng.standard_normal((1 + ptr[v + 1] - ptr[v], n_draws), dtype=np.float32)
        village[v] = z[0] * np.float32(model.village_db)
        point[ptr[v]:ptr[v + 1]] = z[1:] * np.float32(model.point_db)
    return Errors(g, site, village, point)


@numba.njit(cache=True)
def _best_of_sites(best: np.ndarray, lptr: np.ndarray, lsite: np.ndarray, lmargin: np.ndarray,
                   e_site: np.ndarray, p: int) -> None:  # pragma: no cover - numba
    """Per draw, the best margin + site error over the point's candidate sites."""
    best[:] = -np.inf
    for e in range(lptr[p], lptr[p + 1]):
        m = lmargin[e]
        s = lsite[e]
        for d in range(len(best)):
            x = m + e_site[s, d]
            if x > best[d]:
                best[d] = x


@numba.njit(cache=True)
def _codes(cstate: np.ndarray, num: np.ndarray, den: np.ndarray, share: float, out: np.ndarray,
           v: int) -> None:  # pragma: no cover - numba
    """The verdicts of village ``v`` in every draw from its centre's state and its
    covered share ``num / den``."""
    for d in range(len(cstate)):
        if cstate[d] == _UNK:
            out[v, d] = V_UNKNOWN
        elif cstate[d] == _NOT:
            out[v, d] = V_TRANG
        else:
            sh = num[d] / den[d] if den[d] > 0 else 0.0
            out[v, d] = V_COVERED if sh >= share - 1e-9 else V_LOM


@numba.njit(parallel=True, cache=True)
def _verdict_kernel(vptr: np.ndarray, kind: np.ndarray, weight: np.ndarray,
                    centre: np.ndarray, lptr: np.ndarray, lsite: np.ndarray,
                    lmargin: np.ndarray, lunknown: np.ndarray, e_glob: np.ndarray,
                    e_site: np.ndarray, e_vil: np.ndarray, e_pt: np.ndarray, share: float,
                    out: np.ndarray) -> None:  # pragma: no cover - numba
    n_d = len(e_glob)
    for v in numba.prange(len(vptr) - 1):
        best = np.empty(n_d)
        num = np.zeros(n_d)
        den = np.zeros(n_d)
        cstate = np.full(n_d, _UNK, np.int8)
        for p in range(vptr[v], vptr[v + 1]):
            _best_of_sites(best, lptr, lsite, lmargin, e_site, p)
            w = weight[p]
            for d in range(n_d):
                cov = best[d] + e_glob[d] + e_vil[v, d] + e_pt[p, d] >= 0.0
                state = _COV if cov else (_UNK if lunknown[p] else _NOT)
                if p == centre[v]:
                    cstate[d] = state
                elif kind[p] == CLUSTER or state != _UNK:
                    # a cluster counts in its village's population even when unknown (as
                    # not covered); an unknown pixel leaves the area share's denominator
                    den[d] += w
                    if cov:
                        num[d] += w
        _codes(cstate, num, den, share, out, v)


def verdict_draws(points: VillagePoints, layer: LayerMatrix, errors: Errors,
                  share: float) -> np.ndarray:
    """The verdict code (:data:`V_COVERED`, :data:`V_LOM`, :data:`V_TRANG`,
    :data:`V_UNKNOWN`) of every village (rows) in every draw (columns)."""
    out = np.empty((len(points.village_ids), errors.n_draws), np.int8)
    _verdict_kernel(points.ptr.astype(np.int64), points.kind.astype(np.int8),
                    points.weight.astype(np.float64), points.centre.astype(np.int64),
                    layer.ptr, layer.site, layer.margin_db, layer.unknown,
                    np.ascontiguousarray(errors.glob, np.float64),
                    np.ascontiguousarray(errors.site), np.ascontiguousarray(errors.village),
                    np.ascontiguousarray(errors.point), float(share), out)
    return out


def ok_codes(kpi: KpiConfig) -> tuple[int, ...]:
    """The verdict codes the mobile-broadband KPI counts as covered."""
    return (V_COVERED, V_LOM) if kpi.count_weak_as_covered else (V_COVERED,)


def kpi_values(codes: np.ndarray, kpi: KpiConfig) -> np.ndarray:
    """``mobile_broadband_villages`` (%) per draw from the any-operator MBB verdicts."""
    n = codes.shape[0]
    ok = np.isin(codes, ok_codes(kpi))
    return 100.0 * ok.sum(axis=0) / n if n else np.full(codes.shape[1], np.nan)


@dataclass(frozen=True)
class Uncertainty:
    """What the Monte Carlo found.

    ``p_covered``: per village (index ``village_id``) and MBB layer, the share of draws
    whose verdict counts as covered for the KPI (``covered``, and ``lõm sóng`` with
    ``[kpi] count_weak_as_covered``), columns ``p_covered_mbb_<operator>``.
    ``kpis``: per computed mobile KPI the columns :data:`KPI_COLUMNS` (``median_map``
    also: the KPI of the draw without error, which is the run's ``current``).
    ``draws``: per KPI the value of every draw.
    """

    model: ErrorModel
    n_draws: int
    seed: int
    p_covered: pd.DataFrame
    kpis: pd.DataFrame
    draws: Mapping[str, np.ndarray] = field(default_factory=dict)


def basis(model: ErrorModel, n_draws: int) -> str:
    """What the intervals rest on, for ``kpi.csv``: ``uncalibrated`` or ``calibrated``
    first, the draws, the four σ and, calibrated, the measurements."""
    text = (f"{model.label}; {n_draws} draws; sigma global {model.global_db:.1f}, site "
            f"{model.site_db:.1f}, village {model.village_db:.1f}, point {model.point_db:.1f} dB")
    return f"{text}; {model.source}" if model.calibrated else text


def summarise_draws(values: np.ndarray, target: float | None) -> dict[str, float]:
    """Mean, 90 % interval (5 % and 95 % quantiles) and P(value >= target)."""
    lo, hi = np.quantile(values, [0.05, 0.95])
    p = float(np.mean(values >= target - 1e-9)) if target is not None else math.nan
    return {"mean": float(values.mean()), "interval_90_low": float(lo),
            "interval_90_high": float(hi), "p_target_met": p}


def site_table(levels: PointLevels, cells: pd.DataFrame) -> list[str]:
    """The site ids of the cells of the matrix, sorted."""
    return sorted(set(map(str, cells.reindex(pd.Index(levels.cell_ids))["site_id"])))


def village_uncertainty(points: VillagePoints, levels: PointLevels, cells: pd.DataFrame,
                        radio: RadioConfig, coverage: CoverageConfig, kpi: KpiConfig,
                        cfg: UncertaintyConfig, model: ErrorModel, *,
                        targets: Mapping[str, float] | None = None,
                        clutter_db: np.ndarray | None = None,
                        correction_db: np.ndarray | None = None) -> Uncertainty:
    """The Monte Carlo of the module docstring on the village points' matrix.

    ``targets``: per KPI id its target (%), for P(KPI >= target); ``clutter_db``: per entry
    of ``levels`` the clutter loss the run added, to give the KPI without clutter;
    ``correction_db``: per entry the calibration correction the run added to the cell's
    EIRP, to give the KPI of the uncalibrated model (:data:`UNCALIBRATED_COLUMN`: the same
    rule on the levels less their corrections, as the ±2 dB rows shift them all).
    """
    sites = site_table(levels, cells)
    site_index = {s: k for k, s in enumerate(sites)}
    errors = draw_errors(model, cfg.seed, cfg.draws, sites, points)
    median = Errors.fixed(len(sites), len(points.village_ids), points.n_points,
                          (0.0, -BIAS_SENSITIVITY_DB, BIAS_SENSITIVITY_DB))
    share = coverage.covered_population_share
    ok = ok_codes(kpi)
    p_cov = pd.DataFrame(index=points.village_ids)
    row: dict[str, object] = {}
    draws: dict[str, np.ndarray] = {}
    for op in mbb_layer_keys(levels, cells):
        lm = layer_matrix(levels, cells, radio, points, site_index, operator=op,
                          site_sigma_db=model.site_db)
        codes = verdict_draws(points, lm, errors, share)
        p_cov[f"p_covered_mbb_{op.lower()}"] = np.isin(codes, ok).mean(axis=1)
        if op != "any":
            continue
        values = kpi_values(codes, kpi)
        fixed = kpi_values(verdict_draws(points, lm, median, share), kpi)
        tgt = (targets or {}).get("mobile_broadband_villages")
        row = {"uncertainty_basis": basis(model, cfg.draws),
               "median_map": float(fixed[0]),
               **summarise_draws(values, tgt),
               "kpi_at_bias_minus_2db": float(fixed[1]), "kpi_at_bias_plus_2db": float(fixed[2]),
               "kpi_without_clutter": math.nan}
        for column, extra in (("kpi_without_clutter", clutter_db),
                              (UNCALIBRATED_COLUMN, None if correction_db is None
                               else -correction_db)):
            if extra is not None:
                row[column] = _fixed_kpi(levels, cells, radio, points, site_index, op, extra,
                                         share, kpi)
        draws["mobile_broadband_villages"] = values
    kpis = pd.DataFrame.from_dict({"mobile_broadband_villages": row}, orient="index") if row \
        else pd.DataFrame(columns=["median_map", *KPI_COLUMNS])
    kpis.index.name = "kpi_id"
    return Uncertainty(model, cfg.draws, cfg.seed, p_cov, kpis, draws)


def _fixed_kpi(levels: PointLevels, cells: pd.DataFrame, radio: RadioConfig,
               points: VillagePoints, site_index: Mapping[str, int], operator: str,
               extra_db: np.ndarray, share: float, kpi: KpiConfig) -> float:
    """The KPI of the levels plus ``extra_db`` (per entry), without error draws."""
    lm = layer_matrix(levels, cells, radio, points, site_index, operator=operator,
                      extra_db=extra_db)
    return float(kpi_values(verdict_draws(points, lm, Errors.fixed(
        len(site_index), len(points.village_ids), points.n_points), share), kpi)[0])


def correction_entries(levels: PointLevels, cells: pd.DataFrame,
                       corrections: Corrections) -> np.ndarray:
    """Per entry of ``levels``, the correction (dB) the calibration added to that cell's
    EIRP (:func:`vncoverage.fileio.measurements.cell_offsets`; 0 for a cell left as it
    was): taken off, it gives the levels of the uncalibrated model."""
    per_cell = cell_offsets(cells.reindex(pd.Index(levels.cell_ids)), corrections)
    return np.nan_to_num(per_cell, nan=0.0)[levels.cell]


def clutter_entries(levels: PointLevels, cells: pd.DataFrame, points: VillagePoints, dem: Dem,
                    clutter: ClutterGrid) -> np.ndarray:
    """Per entry of ``levels``, the clutter loss (dB) the run added to that cell's level
    at that point (:func:`vncoverage.coverage.with_clutter`): added back, it gives the
    levels without clutter (the sensitivity table's row)."""
    out = np.zeros(len(levels.point))
    if not len(out):
        return out
    rows, cols = dem.index(points.x[levels.point], points.y[levels.point])
    freq = cells.reindex(pd.Index(levels.cell_ids))["frequency_mhz"].to_numpy(float)
    f_entry = freq[levels.cell]
    for f in np.unique(f_entry[np.isfinite(f_entry)]):
        sel = f_entry == f
        # the class table's loss of each point's class (the whole-grid loss_db read at
        # the points, without making it)
        out[sel] = clutter.class_losses_db(float(f))[clutter.classes[rows[sel], cols[sel]]]
    return out


def uncertainty_points(inputs: Inputs) -> VillagePoints:
    """The village points of a run's inputs (:func:`vncoverage.pointlevels.village_points`)."""
    assert inputs.dem is not None
    return village_points(inputs.villages, inputs.centres, inputs.settlements, inputs.dem)


def run_error_model(cfg: Config, corrections: Corrections | None = None) -> ErrorModel:
    """The error model of a run: with ``corrections`` (fitted inside the run,
    ``[calibration] measurements``) or ``[calibration] corrections`` (the run's levels are
    corrected), the residuals of the calibration (:func:`corrections_model`), labelled
    *calibrated* with the measurements' provenance; otherwise the configured defaults
    (:func:`error_model`), labelled *uncalibrated*."""
    if corrections is None and cfg.calibration.corrections is not None:
        corrections = read_corrections(cfg.calibration.corrections)
    if corrections is None:
        return error_model(cfg.uncertainty)
    return corrections_model(cfg.uncertainty, corrections, cfg.radio.location_sigma_db)


def run_uncertainty(cfg: Config, inputs: Inputs, points: VillagePoints, levels: PointLevels,
                    kpis: pd.DataFrame, *, corrections: Corrections | None = None
                    ) -> Uncertainty:
    """The Monte Carlo of a run: its error model (:func:`run_error_model`), the targets of
    its KPI table, the KPI without clutter when the run applied clutter and, with the
    ``corrections`` the run fitted itself, the KPI of the uncalibrated model."""
    assert inputs.cells is not None and inputs.dem is not None
    targets = {}
    if "target_2025" in kpis:
        targets = {str(k): float(v) for k, v in kpis["target_2025"].items() if pd.notna(v)}
    clutter_db = None
    if inputs.landcover is not None:
        grid = ClutterGrid.from_landcover(inputs.landcover, cfg.radio.rx_height_m)
        clutter_db = clutter_entries(levels, inputs.cells, points, inputs.dem, grid)
    return village_uncertainty(points, levels, inputs.cells, cfg.radio, cfg.coverage, cfg.kpi,
                               cfg.uncertainty, run_error_model(cfg, corrections),
                               targets=targets, clutter_db=clutter_db,
                               correction_db=None if corrections is None else
                               correction_entries(levels, inputs.cells, corrections))
