"""Why is a village (not) covered: the run's numbers at its centre, tower by tower.

:func:`explain_village` takes one village of a run and recomputes, at the pixel that holds
its centre (the pixel the village summary reads, :meth:`vncoverage.datatypes.Dem.index`),
the level of every cell of a technology whose computation radius reaches it, with the
run's own functions: the path losses of the cell's sweep group
(:func:`vncoverage.coverage.group_window`, read from the workspace's sweep cache when it
holds them), the clutter loss when the run applied it
(:func:`vncoverage.coverage.with_clutter`) and the antenna pattern and link budget
(:func:`vncoverage.coverage.cell_raster`). The best of them is the run's
``best_dbm_centre_<tech>`` (the test checks it to 0.01 dB). For the towers that could
serve the village (the best server, and per operator the best cell and the nearest site)
it gives:

* the link budget: EIRP, the per-resource-element offset (:mod:`vncoverage.radio`), the
  antenna gain relative to boresight at the village's azimuth and depression angle
  (:mod:`vncoverage.antenna`), the path loss (and clutter loss), the level, and the margin
  to the threshold plus the location-variability margin (``radio.location_margin_db``). What the
  level holds beyond these terms (a correction the run adds to the levels) is shown as
  such, never hidden;
* the terrain profile from the antenna to the centre of that pixel: a straight line at the
  DEM spacing, bilinear heights, the earth bulge ``d1 d2 / (2 k a)`` with the run's
  k-factor (ITU-R P.526-15 §4.5.1, the modified heights of the Bullington construction),
  the first Fresnel zone radius ``r1 = sqrt(lambda d1 d2 / d)`` (P.526-15 §2.1, eq. (2),
  n = 1) and the obstacle: the point of greatest diffraction parameter
  ``nu = h sqrt(2 d / (lambda d1 d2)) = sqrt(2) h / r1`` (P.526-15 §4.1), ``h`` its height
  above the line of sight. The point-to-point model of the run
  (:func:`vncoverage.propagation.get_model`) over that profile is given beside the run's
  loss (:func:`~vncoverage.coverage.group_window`: the same straight profile when the run
  reads each pixel's own profile, ``[radio] paths = "profile"``; ITM's ray kernel, the
  default, differs from it by about ITM's own discretisation, under 1 dB at the 95th
  percentile; the radial sweep before version 15 by a few dB);
* what would change the verdict: the smallest antenna height increase (whole metres, up
  to ``max_raise_m``) at which the cell's level at the centre reaches the target, each
  height computed with the run's path-loss computation for the raised antenna; the
  increase that clears the obstacle (``nu`` at most the first zero of the knife-edge loss ``J``,
  :data:`vncoverage.propagation.NU_J_ZERO`, at every point: ``J = 0``, about 0.55 ``r1``
  of clearance); the EIRP increase that would do it. When no cell within the radius can
  reach the target, a new site is needed (the site plan).

The height search assumes the level grows with the antenna height between the heights
tried (bisection on whole metres); the height found is checked (reaches the target) and so
is the metre below (does not).

:func:`cell_level_raster` is one cell's level (or path loss) on the DEM grid, the same
values the run folded into its layers, for ``vncoverage cell``.

The pages (:func:`write_explanation`) are written to ``W/explain/<village_id>/``: Markdown,
HTML, JSON and one profile PNG per tower (matplotlib, Agg), every file atomically.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from scipy.ndimage import map_coordinates

from . import fileio
from .antenna import gain_db_scalar
from .clutter import ClutterGrid
from .config import RadioConfig
from .coverage import (
    CellRaster,
    GroupWindow,
    SweepCache,
    SweepGroup,
    cell_raster,
    clutter_window,
    dem_fingerprint,
    group_window,
    sweep_groups,
    with_clutter,
)
from .datatypes import Dem, Raster
from .errors import InputDataError, Problem
from .i18n import DEFAULT_LANG, check_lang, number, tr, verdict_label
from .names import clean_text, closest_names, fold
from .propagation import C_M_PER_S, EARTH_RADIUS_M, NU_J_ZERO, get_model
from .radio import per_re_offset_db

__all__ = [
    "DEFAULT_MAX_RAISE_M",
    "EXPLAIN_DIR",
    "QUANTITIES",
    "Candidate",
    "Explanation",
    "Profile",
    "ReadOnlyCache",
    "RunFiles",
    "cell_level_raster",
    "change_lines",
    "check_run",
    "explain_village",
    "explanation_folder",
    "explanation_href",
    "find_village",
    "read_run",
    "terrain_profile",
    "write_cell_raster",
    "write_explanation",
]

#: The folder of a workspace the explanations go to (``W/explain/<village_id>/``).
EXPLAIN_DIR = "explain"
#: The largest antenna height increase tried (m).
DEFAULT_MAX_RAISE_M = 30.0
#: What ``vncoverage cell`` writes: the received level or the path loss.
QUANTITIES = ("rsrp", "pathloss")
#: |explained - run| above which the page says the numbers differ from the run's (dB).
CONSISTENT_DB = 0.01


# --------------------------------------------------------------------------------------
# the run's files


class ReadOnlyCache:
    """A workspace's sweep cache read, never written (an explanation leaves the workspace's
    cache as the run left it)."""

    def __init__(self, cache: SweepCache) -> None:
        self._cache = cache

    def get(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        return self._cache.get(key)

    def put(self, key: str, losses: np.ndarray, flags: np.ndarray) -> None:
        return None


@dataclass(frozen=True)
class RunFiles:
    """What an output folder (workspace) of ``vncoverage run`` holds for an explanation:
    the village table (``villages.gpkg``, working CRS, indexed by ``village_id``), the cells
    the run used (``state/cells.parquet``) and its manifest."""

    path: Path
    villages: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    manifest: Mapping[str, Any]


def read_run(ws: str | Path) -> RunFiles:
    """Read the villages, cells and manifest of the workspace ``ws``.

    Raises
    ------
    InputDataError
        If ``ws`` is not the output folder of a run that computed mobile coverage.
    """
    import pyogrio

    ws = Path(ws)
    man_path, gpkg, cells_path = ws / "manifest.json", ws / "villages.gpkg", \
        ws / "state" / "cells.parquet"
    missing = [p for p in (man_path, gpkg) if not p.is_file()]
    if missing:
        raise InputDataError([Problem(str(ws), f"not an output folder of vncoverage run (no "
                                      f"{', '.join(p.name for p in missing)})",
                                      f"run `vncoverage run --out {ws}` first, or give --out "
                                      "the folder it wrote")])
    manifest = json.loads(man_path.read_text(encoding="utf-8"))
    if "mobile" not in manifest.get("analyses", ["mobile"]) or not cells_path.is_file():
        raise InputDataError([Problem(str(ws), "the run did not compute mobile coverage (no "
                                      "cells kept in state/)", "run it with the mobile "
                                      "analysis (a DEM and cells in [inputs])")])
    villages = pyogrio.read_dataframe(gpkg, layer="villages").set_index("village_id")
    cells = gpd.read_parquet(cells_path)
    cells.index = cells.index.astype(str)
    return RunFiles(ws, villages, cells, manifest)


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=list, sort_keys=True))


def check_run(run: RunFiles, radio_values: Mapping[str, Any],
              checksums: Mapping[str, str]) -> None:
    """Refuse an explanation that would not be the run's: the ``[radio]`` section of the
    configuration (``radio_values``, :func:`vncoverage.config.section_dict`'s form, the
    manifest's) or the sha256 of the DEM or the land cover (``checksums``, as
    :attr:`vncoverage.datatypes.Inputs.checksums` holds them) differ from those the
    manifest of ``run`` records.

    Raises
    ------
    InputDataError
        Naming what differs.
    """
    problems = []
    values = run.manifest.get("config", {}).get("values", {})
    ran = _as_json(values.get("radio", {}))
    mine = _as_json(radio_values)
    # a key the run's version did not have yet counts as its default
    defaults = _as_json({f.name: _plain(getattr(RadioConfig(), f.name))
                         for f in fields(RadioConfig)})
    diff = sorted(k for k in set(ran) | set(mine) if ran.get(k, defaults.get(k)) != mine.get(k))
    src = str(run.path / "manifest.json")
    if diff:
        shown = "; ".join(f"{k}: run {ran.get(k)!r}, config {mine.get(k)!r}" for k in diff[:4])
        problems.append(Problem(src, f"the configuration's [radio] differs from the run's "
                                f"({shown})", "give --config the configuration the run used "
                                f"({run.manifest.get('config', {}).get('source', '?')})"))
    ran_inputs = run.manifest.get("inputs", {})
    for key in ("dem", "landcover"):
        theirs = ran_inputs.get(key, {}).get("sha256")
        ours = checksums.get(key)
        if theirs != ours:
            problems.append(Problem(src, f"the configuration's {key} is not the one the run "
                                    f"used (sha256 {str(ours)[:12]}…, run {str(theirs)[:12]}…)",
                                    "give --config the configuration the run used"))
    if problems:
        raise InputDataError(problems)


def find_village(villages: pd.DataFrame, query: str, *, source: str = "villages") -> str:
    """The id of the village ``query`` names: its id (case and spaces ignored) or its name
    (diacritics, case and the thôn/bản prefix ignored).

    Raises
    ------
    InputDataError
        When the name matches several villages (listed with their commune and district:
        give the id) or none (the closest names listed).
    """
    ids = pd.Index(villages.index.astype(str))
    q = clean_text(query)
    exact = ids[ids.str.casefold() == q.casefold().replace(" ", "")]
    if len(exact) == 1:
        return str(exact[0])
    names = villages["name"].astype(str)
    key = _name_key(q)
    hits = [str(i) for i, n in zip(ids, names, strict=True) if _name_key(n) == key]
    if len(hits) == 1:
        return hits[0]
    if hits:
        listed = "; ".join(f"{i} {_place(_row(villages, i))}" for i in hits[:20])
        raise InputDataError([Problem(source, f"'{query}' names {len(hits)} villages: "
                                      f"{listed}", "give the village id")])
    close = closest_names(q, names, n=5, cutoff=0.5)
    close_ids = [f"{n} ({', '.join(ids[names == n][:3])})" for n in close]
    hint = f"closest names: {'; '.join(close_ids)}" if close else "no close name"
    raise InputDataError([Problem(source, f"no village has the id or name '{query}' ({hint})",
                                  "give a village id or name of villages.csv")])


_PREFIX = re.compile(r"^(thon|ban|lang|xom|khu|khoi|to|ap)\s+")


def _name_key(name: str) -> str:
    """A village name without case, diacritics, the thôn/bản prefix or extra spaces."""
    return _PREFIX.sub("", " ".join(fold(clean_text(name)).split()))


def _row(table: pd.DataFrame, key: str) -> pd.Series:
    """The row ``key`` of ``table`` (a unique index)."""
    row = table.loc[key]
    if not isinstance(row, pd.Series):
        raise InputDataError([Problem("villages", f"the id {key} is not unique",
                                      "rerun `vncoverage run`")])
    return row


def _place(row: pd.Series) -> str:
    """``name (commune, district)`` of a village row."""
    parts = [str(row[k]) for k in ("commune", "district") if k in row and pd.notna(row[k])]
    return f"{row.get('name', '')} ({', '.join(parts)})"


# --------------------------------------------------------------------------------------
# the explanation


@dataclass(frozen=True)
class Profile:
    """The terrain between an antenna and a receiver pixel (straight line, DEM spacing).

    ``distance_m`` from the antenna; ``ground_m`` the DEM heights (bilinear; the receiver
    pixel's own height last); ``bulge_m`` the earth bulge ``d1 d2 / (2 k a)``; ``los_m`` the
    line of sight from the antenna top to the receiver (over the bulged terrain);
    ``fresnel_m`` the first Fresnel zone radius; ``nu`` the diffraction parameter of each
    point (NaN at the ends). ``obstacle`` is the index of the greatest ``nu`` (None on a
    path of two points); ``loss_db`` the run's model over this profile; ``clear_raise_m``
    the antenna height increase that makes every ``nu`` at most :data:`NU_J_ZERO`.
    """

    distance_m: np.ndarray
    ground_m: np.ndarray
    bulge_m: np.ndarray
    los_m: np.ndarray
    fresnel_m: np.ndarray
    nu: np.ndarray
    tx_m: float
    rx_m: float
    k_factor: float
    frequency_mhz: float
    obstacle: int | None
    loss_db: float
    clear_raise_m: float

    @property
    def blocked(self) -> bool:
        """The terrain rises above the line of sight."""
        return self.obstacle is not None and bool(self.nu[self.obstacle] > 0)

    @property
    def fresnel_obstructed(self) -> bool:
        """The terrain enters the first Fresnel zone far enough to cause a knife-edge loss
        (``nu`` above the first zero of ``J``)."""
        return self.obstacle is not None and bool(self.nu[self.obstacle] > NU_J_ZERO)

    def to_json(self) -> dict[str, Any]:
        k = self.obstacle
        return {
            "distance_m": _r(self.distance_m, 1), "ground_m": _r(self.ground_m, 1),
            "bulge_m": _r(self.bulge_m, 2), "los_m": _r(self.los_m, 1),
            "fresnel_m": _r(self.fresnel_m, 2), "tx_m": round(self.tx_m, 2),
            "rx_m": round(self.rx_m, 2), "k_factor": self.k_factor,
            "frequency_mhz": self.frequency_mhz,
            "obstacle": None if k is None else {
                "index": k, "distance_m": round(float(self.distance_m[k]), 1),
                "ground_m": round(float(self.ground_m[k]), 1),
                "above_los_m": round(float(self.ground_m[k] + self.bulge_m[k]
                                           - self.los_m[k]), 2),
                "fresnel_m": round(float(self.fresnel_m[k]), 2),
                "nu": round(float(self.nu[k]), 3)},
            "blocked": self.blocked, "fresnel_obstructed": self.fresnel_obstructed,
            "model_loss_db": round(self.loss_db, 2) if math.isfinite(self.loss_db) else None,
            "clear_raise_m": round(self.clear_raise_m, 1),
        }


def _r(a: np.ndarray, digits: int) -> list[float | None]:
    return [round(float(v), digits) if np.isfinite(v) else None for v in a]


def terrain_profile(dem: Dem, x: float, y: float, height_m: float, row: int, col: int,
                    frequency_mhz: float, radio: RadioConfig) -> Profile | None:
    """The :class:`Profile` from an antenna at ``(x, y)``, ``height_m`` above the ground,
    to the centre of pixel ``(row, col)`` (receiver ``radio.rx_height_m`` above it), or None
    when it crosses DEM nodata. Samples ``ceil(d / pixel)`` equal steps apart (at least
    one), bilinear heights, the pixel's own height last: the reference profile of
    :func:`vncoverage.coverage.cell_raster_naive`."""
    t = dem.transform
    pixel = dem.pixel_m
    r0 = (y - t.f) / t.e - 0.5
    c0 = (x - t.c) / t.a - 0.5
    d = max(math.hypot((row - r0) * pixel, (col - c0) * pixel), 0.5 * pixel)
    m = max(int(math.ceil(d / pixel)), 1)
    s = np.linspace(0.0, 1.0, m + 1)
    elev = np.where(np.isfinite(dem.elevation), dem.elevation, np.nan).astype(float)
    ground = map_coordinates(elev, [r0 + s * (row - r0), c0 + s * (col - c0)], order=1,
                             mode="constant", cval=np.nan)
    if not (0 <= row < elev.shape[0] and 0 <= col < elev.shape[1]):
        return None
    ground[-1] = elev[row, col]
    if not np.all(np.isfinite(ground)):
        return None
    step = d / m
    dist = np.arange(m + 1) * step
    ae = radio.k_factor * EARTH_RADIUS_M
    bulge = dist * (d - dist) / (2.0 * ae)
    tx, rx = float(ground[0]) + height_m, float(ground[-1]) + radio.rx_height_m
    los = tx + (rx - tx) * dist / d
    lam = C_M_PER_S / (frequency_mhz * 1e6)
    inner = (dist > 0) & (dist < d)
    fres = np.zeros(m + 1)
    fres[inner] = np.sqrt(lam * dist[inner] * (d - dist[inner]) / d)
    nu = np.full(m + 1, np.nan)
    nu[inner] = math.sqrt(2.0) * (ground[inner] + bulge[inner] - los[inner]) / fres[inner]
    obstacle = int(np.nanargmax(nu)) if inner.any() else None
    clear = 0.0
    if inner.any():
        # tx' (1 - d_i/d) + rx d_i/d >= h_i - NU_J_ZERO r1_i / sqrt(2) at every inner point
        di, hi, ri = dist[inner], ground[inner] + bulge[inner], fres[inner]
        need = (hi - NU_J_ZERO * ri / math.sqrt(2.0) - rx * di / d) / (1.0 - di / d)
        clear = max(0.0, float(need.max()) - tx)
    return Profile(dist, ground, bulge, los, fres, nu, tx, rx, radio.k_factor,
                   float(frequency_mhz), obstacle, _model_loss(ground, step, d, frequency_mhz,
                                                               height_m, radio), clear)


def _model_loss(ground: np.ndarray, step: float, d: float, f_mhz: float, h_tx: float,
                radio: RadioConfig) -> float:
    """The run's model over one profile (its reference implementation)."""
    model = get_model(radio.model)
    try:
        if model.uses_terrain:
            extra = radio.itm_params if model.name == "itm" else {}
            return float(model.formula(ground, step, f_mhz, h_tx, radio.rx_height_m,
                                       radio.k_factor, **extra))
        return float(model.formula(np.asarray(d), f_mhz, h_tx, radio.rx_height_m))
    except (ValueError, ArithmeticError):
        return math.nan


@dataclass(frozen=True)
class Candidate:
    """One cell that could serve the village, and its link budget at the centre pixel.

    ``roles``: ``best`` (the best server), ``best_of_operator``, ``nearest_of_operator``
    (a cell of its operator's nearest site). ``rsrp_dbm = eirp_dbm + per_re_db + gain_db -
    path_loss_db - clutter_db + correction_db`` (``clutter_db``: the clutter loss at the
    receiver when the run applied it; ``correction_db``: what the run's level holds beyond
    these terms, 0 without other corrections). ``margin_db = rsrp_dbm - target``.
    ``raise_m``: the antenna height increase that reaches the target (0 when reached, None
    when not within the search); ``raised_dbm`` the level then.
    """

    cell_id: str
    site_id: str
    operator: str
    technology: str
    roles: tuple[str, ...]
    distance_m: float
    bearing_deg: float
    height_m: float
    frequency_mhz: float
    bandwidth_mhz: float
    eirp_dbm: float
    per_re_db: float
    azimuth_deg: float | None
    tilt_deg: float
    mechanical_tilt_deg: float
    off_boresight_deg: float | None
    depression_deg: float
    gain_db: float
    path_loss_db: float
    clutter_db: float
    correction_db: float
    rsrp_dbm: float
    margin_db: float
    flags: int
    raise_m: float | None = None
    raised_dbm: float | None = None
    profile: Profile | None = None

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "profile"}
        out["roles"] = list(self.roles)
        for k, v in out.items():
            if isinstance(v, float):
                out[k] = round(v, 3) if math.isfinite(v) else None
        out["profile"] = self.profile.to_json() if self.profile is not None else None
        return out


@dataclass(frozen=True)
class Explanation:
    """Why a village is (not) covered by one technology (see the module docstring)."""

    village_id: str
    name: str
    commune: str
    district: str
    technology: str
    verdict: str
    centre_covered: bool
    pop_share: float
    run_best_dbm: float
    run_best_server: str
    pixel: tuple[int, int]
    pixel_xy: tuple[float, float]
    centre_xy: tuple[float, float]
    threshold_dbm: float
    location_margin_db: float
    model: str
    k_factor: float
    radius_m: float
    max_raise_m: float
    candidates: tuple[Candidate, ...]
    n_reaching: int
    change: dict[str, Any] = field(default_factory=dict)

    @property
    def target_dbm(self) -> float:
        """The level the centre pixel needs: threshold plus location margin."""
        return self.threshold_dbm + self.location_margin_db

    @property
    def best(self) -> Candidate | None:
        return next((c for c in self.candidates if "best" in c.roles), None)

    @property
    def consistent(self) -> bool:
        """The explained best level is the run's (both absent counts as equal)."""
        b = self.best
        if b is None or not math.isfinite(b.rsrp_dbm):
            return not math.isfinite(self.run_best_dbm)
        return (abs(b.rsrp_dbm - self.run_best_dbm) <= CONSISTENT_DB
                and b.cell_id == self.run_best_server)

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "candidates"}
        out.update(target_dbm=self.target_dbm, consistent=self.consistent,
                   candidates=[c.to_json() for c in self.candidates],
                   pixel=list(self.pixel), pixel_xy=list(self.pixel_xy),
                   centre_xy=list(self.centre_xy))
        for k, v in out.items():
            if isinstance(v, float) and not math.isfinite(v):
                out[k] = None
        return out


def _reaching(dem: Dem, radio: RadioConfig, cells: gpd.GeoDataFrame, technology: str,
              row: int, col: int, cache: SweepCache | None, clutter: ClutterGrid | None
              ) -> list[tuple[SweepGroup, GroupWindow, GroupWindow, str, CellRaster]]:
    """Every cell of ``technology`` whose computation reaches pixel ``(row, col)``: its
    sweep group, the group's window on that pixel (bare terrain, and with the clutter loss
    as the run adds it) and its raster there."""
    sel = cells[cells["technology"].astype(str) == technology]
    t = dem.transform
    px, py = t.c + (col + 0.5) * t.a, t.f + (row + 0.5) * t.e
    dem_fp = dem_fingerprint(dem) if cache is not None else None
    out = []
    for g in sweep_groups(sel, radio):
        if math.hypot(px - g.x, py - g.y) > g.radius_m + 2 * dem.pixel_m:
            continue
        # the path loss (to the clutter top where it is above the handset), then the
        # clutter correction
        bare = group_window(g, dem, radio, cache=cache, dem_fp=dem_fp,
                            within=(row, col, row + 1, col + 1), clutter=clutter)
        if bare.loss_db.shape != (1, 1):
            continue
        win = with_clutter(bare, clutter, g.frequency_mhz)
        for cid in g.cell_ids:
            ras = cell_raster(cid, sel.loc[cid], win, radio)
            if not np.isneginf(ras.level_dbm[0, 0]):
                out.append((g, bare, win, cid, ras))
    return out


def _budget(cid: str, cell: Mapping[str, Any], bare: GroupWindow, win: GroupWindow,
            ras: CellRaster, radio: RadioConfig, target: float,
            xy: tuple[float, float]) -> Candidate:
    """The link budget of one cell at the (1 x 1) window ``bare`` (``win``: with the
    clutter loss)."""
    tech = str(cell["technology"])
    per_re = per_re_offset_db(tech, float(cell["bandwidth_mhz"]), radio.cpich_fraction_db)
    az_cell = cell["azimuth_deg"]
    omni = bool(pd.isna(az_cell))
    az, theta = float(win.az_deg[0, 0]), float(win.theta_deg[0, 0])
    phi = None if omni else (az - float(az_cell) + 180.0) % 360.0 - 180.0
    gain = float(gain_db_scalar(0.0 if phi is None else phi, theta, omni,
                                float(cell["tilt_deg"]), float(cell["mechanical_tilt_deg"]),
                                radio.h_beamwidth_deg, radio.v_beamwidth_deg,
                                radio.front_to_back_db, radio.vertical_sidelobe_db))
    loss = float(bare.loss_db[0, 0])
    clutter = float(win.loss_db[0, 0]) - loss if math.isfinite(loss) else 0.0
    level = float(ras.level_dbm[0, 0])
    eirp = float(cell["eirp_dbm"])
    corr = level - (eirp + per_re + gain - loss - clutter) if math.isfinite(level) else 0.0
    if abs(corr) < 1e-4:  # float32 rounding of the level
        corr = 0.0
    geom = cell["geometry"]
    return Candidate(
        cell_id=cid, site_id=str(cell.get("site_id", "")), operator=str(cell["operator"]),
        technology=tech, roles=(), distance_m=math.hypot(xy[0] - geom.x, xy[1] - geom.y),
        bearing_deg=az, height_m=float(cell["height_m"]),
        frequency_mhz=float(cell["frequency_mhz"]), bandwidth_mhz=float(cell["bandwidth_mhz"]),
        eirp_dbm=eirp, per_re_db=per_re, azimuth_deg=None if omni else float(az_cell),
        tilt_deg=float(cell["tilt_deg"]), mechanical_tilt_deg=float(cell["mechanical_tilt_deg"]),
        off_boresight_deg=phi, depression_deg=theta, gain_db=gain, path_loss_db=loss,
        clutter_db=clutter, correction_db=corr, rsrp_dbm=level, margin_db=level - target,
        flags=int(win.flags[0, 0]))


def _roles(found: Sequence[Candidate]) -> list[Candidate]:
    """The candidates with their roles (the others dropped), best level first: the best
    server; per operator its best cell and the best cell of its nearest site. Ties go to
    the lowest cell id, as in the layers' fold."""
    order = sorted(found, key=lambda c: (-_level_key(c.rsrp_dbm), c.cell_id))
    roles: dict[str, list[str]] = {}
    if order and math.isfinite(order[0].rsrp_dbm):
        roles.setdefault(order[0].cell_id, []).append("best")
    for op in sorted({c.operator for c in order}):
        mine = [c for c in order if c.operator == op]
        roles.setdefault(mine[0].cell_id, []).append("best_of_operator")
        near = min(mine, key=lambda c: (c.distance_m, c.site_id)).site_id
        first = next(c for c in mine if c.site_id == near)
        roles.setdefault(first.cell_id, []).append("nearest_of_operator")
    return [replace(c, roles=tuple(roles[c.cell_id])) for c in order if c.cell_id in roles]


def _level_key(v: float) -> float:
    return v if math.isfinite(v) else -1e9


def _raise_needed(g: SweepGroup, cid: str, cell: Mapping[str, Any], dem: Dem,
                  radio: RadioConfig, pix: tuple[int, int], target: float,
                  max_raise_m: float, clutter: ClutterGrid | None
                  ) -> tuple[float | None, float | None]:
    """The smallest whole-metre antenna height increase (1 … ``max_raise_m``) at which the
    cell's level at pixel ``pix`` reaches ``target``, with the level then; (None, level at
    the largest increase) when it does not."""
    row, col = pix

    def level(dh: int) -> float:
        raised = replace(g, height_m=g.height_m + dh, cell_ids=(cid,))
        win = clutter_window(raised, dem, radio, clutter,
                             within=(row, col, row + 1, col + 1))
        v = float(cell_raster(cid, cell, win, radio).level_dbm[0, 0])
        return v if math.isfinite(v) else -math.inf

    hi = int(math.floor(max_raise_m))
    top = level(hi) if hi >= 1 else -math.inf
    if top < target:
        return None, top if math.isfinite(top) else None
    lo, best = 0, (hi, top)  # level(lo) < target (the caller checked dh = 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        v = level(mid)
        if v >= target:
            hi, best = mid, (mid, v)
        else:
            lo = mid
    return float(best[0]), best[1]


def explain_village(village_id: str, villages: pd.DataFrame, cells: gpd.GeoDataFrame,
                    dem: Dem, radio: RadioConfig, *, technology: str = "4G",
                    cache: SweepCache | None = None, clutter: ClutterGrid | None = None,
                    max_raise_m: float = DEFAULT_MAX_RAISE_M) -> Explanation:
    """Explain the verdict of one village of a run for ``technology`` (see the module
    docstring). ``villages``: the run's village table (``villages.gpkg``, indexed by
    ``village_id``); ``cells``: the cells the run used (working CRS, indexed by cell id);
    ``dem`` and ``radio``: the run's; ``cache``: the workspace's sweep cache (wrap it in
    :class:`ReadOnlyCache` to leave it unchanged); ``clutter``: the run's clutter grid
    (:meth:`vncoverage.clutter.ClutterGrid.from_landcover`), None when it applied none.

    Raises
    ------
    InputDataError
        If the technology was not computed or the centre lies off the DEM.
    """
    if technology not in radio.technologies:
        raise InputDataError([Problem("config", f"{technology} was not computed by the run "
                                      f"(technologies {', '.join(radio.technologies)})",
                                      "choose one of those with --technology")])
    v = _row(villages, village_id)
    cx, cy = float(v["centre_x"]), float(v["centre_y"])
    rows, cols = dem.index(np.array([cx]), np.array([cy]))
    row, col = int(rows[0]), int(cols[0])
    if not (0 <= row < dem.shape[0] and 0 <= col < dem.shape[1]):
        raise InputDataError([Problem("villages.gpkg", f"the centre of {village_id} lies off "
                                      "the DEM", "check the village centre")])
    t = dem.transform
    pxy = (t.c + (col + 0.5) * t.a, t.f + (row + 0.5) * t.e)
    target = radio.rsrp_threshold_dbm[technology] + radio.location_margin_db
    reach = _reaching(dem, radio, cells, technology, row, col, cache, clutter)
    group_of = {cid: g for g, _b, _w, cid, _r in reach}
    found = [_budget(cid, cells.loc[cid], bare, win, ras, radio, target, (cx, cy))
             for _g, bare, win, cid, ras in reach]
    chosen = []
    for c in _roles(found):
        g = group_of[c.cell_id]
        prof = terrain_profile(dem, g.x, g.y, g.height_m, row, col, c.frequency_mhz, radio)
        raise_m, raised = (0.0, c.rsrp_dbm) if c.margin_db >= 0 else _raise_needed(
            g, c.cell_id, cells.loc[c.cell_id], dem, radio, (row, col), target, max_raise_m,
            clutter)
        chosen.append(replace(c, profile=prof, raise_m=raise_m, raised_dbm=raised))
    tk = technology.lower()
    exp = Explanation(
        village_id=str(village_id), name=str(v.get("name", "")),
        commune=str(v.get("commune", "")), district=str(v.get("district", "")),
        technology=technology, verdict=str(v.get(f"verdict_{tk}_any", "")),
        centre_covered=bool(v.get(f"centre_{tk}_any", False)),
        pop_share=_float(v.get(f"pop_share_{tk}_any")),
        run_best_dbm=_float(v.get(f"best_dbm_centre_{tk}")),
        run_best_server=str(v.get(f"best_server_centre_{tk}") or ""),
        pixel=(row, col), pixel_xy=pxy, centre_xy=(cx, cy),
        threshold_dbm=radio.rsrp_threshold_dbm[technology],
        location_margin_db=radio.location_margin_db, model=radio.model,
        k_factor=radio.k_factor, radius_m=float(radio.max_radius_m[technology]),
        max_raise_m=max_raise_m, candidates=tuple(chosen), n_reaching=len(found))
    return replace(exp, change=_change(exp))


def _float(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _change(exp: Explanation) -> dict[str, Any]:
    """What would change the verdict at the centre: ``kind`` ``covered`` (it is covered),
    ``raise`` (the smallest antenna height increase among the candidates), ``none`` (no
    existing site within the radius can: a new site, see the site plan)."""
    best = exp.best
    if best is not None and best.margin_db >= 0:
        return {"kind": "covered", "cell_id": best.cell_id, "site_id": best.site_id,
                "margin_db": round(best.margin_db, 2)}
    able = [c for c in exp.candidates if c.raise_m is not None]
    out: dict[str, Any] = {"kind": "none", "max_raise_m": exp.max_raise_m}
    if best is not None and math.isfinite(best.margin_db):
        out["eirp_db"] = round(-best.margin_db, 2)
        out["eirp_cell_id"] = best.cell_id
    if able:
        c = min(able, key=lambda c: (c.raise_m, -_level_key(c.raised_dbm or -math.inf),
                                     c.cell_id))
        out.update(kind="raise", cell_id=c.cell_id, site_id=c.site_id, operator=c.operator,
                   raise_m=c.raise_m, level_dbm=round(float(c.raised_dbm or math.nan), 2),
                   height_m=c.height_m,
                   clear_raise_m=(round(c.profile.clear_raise_m, 1)
                                  if c.profile is not None else None))
    return out


# --------------------------------------------------------------------------------------
# one cell's raster


def cell_level_raster(cell_id: str, cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig,
                      *, quantity: str = "rsrp", cache: SweepCache | None = None,
                      clutter: ClutterGrid | None = None) -> Raster:
    """One cell's received level (``quantity="rsrp"``: dBm per resource element for 4G/5G,
    RSCP for 3G, RxLev for 2G, as the layers hold it) or path loss (``"pathloss"``, dB) on
    the part of the DEM grid its computation radius covers, float32, NaN outside the radius
    and where unknown: the values the run folds into its layers
    (:func:`vncoverage.coverage.group_window`, :func:`vncoverage.coverage.with_clutter`
    with the run's ``clutter``, :func:`vncoverage.coverage.cell_raster`). The path loss
    includes the clutter loss at the receiver when ``clutter`` is given.

    Raises
    ------
    InputDataError
        If the cell is not in ``cells``, its technology is not computed or its radius does
        not reach the DEM.
    """
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity {quantity!r}: use one of {', '.join(QUANTITIES)}")
    ids = pd.Index(cells.index.astype(str))
    if cell_id not in ids:
        close = closest_names(cell_id, ids, n=5, cutoff=0.5)
        raise InputDataError([Problem("cells", f"no cell '{cell_id}'"
                                      + (f" (closest: {', '.join(close)})" if close else ""),
                                      "give a cell_id of the cell table")])
    cell = cells.loc[cell_id]
    tech = str(cell["technology"])
    if tech not in radio.technologies:
        raise InputDataError([Problem("cells", f"{cell_id} is a {tech} cell; the run computes "
                                      f"{', '.join(radio.technologies)}",
                                      "add its technology to [radio] technologies")])
    (g,) = sweep_groups(cells.loc[[cell_id]], radio)
    win = clutter_window(g, dem, radio, clutter, cache=cache,
                         dem_fp=dem_fingerprint(dem) if cache is not None else None,
                         within=(0, 0, *dem.shape))
    if win.loss_db.size == 0:
        raise InputDataError([Problem("cells", f"the radius of {cell_id} does not reach the "
                                      "DEM", "check the cell's position")])
    if quantity == "rsrp":
        values = cell_raster(cell_id, cell, win, radio).level_dbm
        what = ("RSRP per resource element (dBm)" if tech in ("4G", "5G")
                else "RSCP (dBm)" if tech == "3G" else "RxLev (dBm)")
    else:
        values = win.loss_db
        what = f"path loss (dB), model {radio.model}"
    out = np.asarray(values, dtype=np.float32).copy()
    out[~np.isfinite(out)] = np.nan
    return Raster(out, dem.transform @ Affine.translation(win.col, win.row), dem.crs,
                  float("nan"), f"{what}, cell {cell_id}")


def write_cell_raster(raster: Raster, path: str | Path, *,
                      tags: Mapping[str, str] | None = None) -> None:
    """Write :func:`cell_level_raster`'s band to a GeoTIFF, atomically."""
    fileio.write_raster(path, [raster], tags=dict(tags or {}))


# --------------------------------------------------------------------------------------
# the pages


def _safe(name: str) -> str:
    """A file name from an id (letters, digits, ``-`` and ``_`` kept)."""
    return re.sub(r"[^0-9A-Za-z_.-]+", "_", name).strip("._") or "x"


def profile_png(c: Candidate, exp: Explanation, lang: str) -> bytes | None:
    """The terrain profile of one candidate as PNG bytes (matplotlib, Agg), or None
    without a profile."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    p = c.profile
    if p is None:
        return None
    km = p.distance_m / 1000.0
    terrain = p.ground_m + p.bulge_m
    fig = Figure(figsize=(8.0, 3.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    base = float(np.nanmin(terrain)) - 20.0
    ax.fill_between(km, base, terrain, color="#b5a48b", label=tr("ex_fig_terrain", lang,
                                                                   k=p.k_factor))
    ax.plot(km, p.ground_m, color="#7a6a52", lw=0.8, ls=":",
            label=tr("ex_fig_bulge", lang))
    ax.fill_between(km, p.los_m - p.fresnel_m, p.los_m + p.fresnel_m, color="#4a90d9",
                    alpha=0.18, label=tr("ex_fig_fresnel", lang))
    ax.plot(km, p.los_m, color="#1f5fa8", lw=1.2, label=tr("ex_fig_los", lang))
    ax.plot([0, 0], [p.ground_m[0], p.tx_m], color="black", lw=2)
    ax.plot([km[-1]] * 2, [p.ground_m[-1], p.rx_m], color="black", lw=2)
    if p.obstacle is not None and p.fresnel_obstructed:
        k = p.obstacle
        ax.plot([km[k]], [terrain[k]], marker="v", color="#c0392b", ms=9,
                label=tr("ex_fig_obstacle", lang, nu=float(p.nu[k])))
    ax.set_xlabel(tr("ex_fig_x", lang))
    ax.set_ylabel(tr("ex_fig_y", lang))
    ax.set_ylim(bottom=base)
    ax.set_xlim(0, float(km[-1]))
    ax.set_title(tr("ex_fig_title", lang, cell=c.cell_id, site=c.site_id,
                    village=exp.village_id, km=float(km[-1]), loss=c.path_loss_db), fontsize=9)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight",
                metadata={"Software": "vncoverage"})
    return buf.getvalue()


def _role_label(roles: Iterable[str], operator: str, lang: str) -> str:
    return ", ".join(tr(f"ex_role_{r}", lang, operator=operator) for r in roles)


def _n(v: float | None, lang: str, digits: int = 1) -> str:
    return "–" if v is None or not math.isfinite(v) else number(v, lang, digits)


def change_lines(exp: Explanation, lang: str) -> list[str]:
    """What would change the verdict, in words."""
    ch = exp.change
    km = exp.radius_m / 1000.0
    if ch["kind"] == "covered":
        lines = [tr("ex_change_covered", lang, cell=ch["cell_id"], margin=ch["margin_db"])]
        if exp.verdict != "covered" and math.isfinite(exp.pop_share):
            lines.append(tr("ex_change_weak", lang, share=100 * exp.pop_share))
        return lines
    if ch["kind"] == "raise":
        lines = [tr("ex_change_raise", lang, m=ch["raise_m"], site=ch["site_id"],
                    cell=ch["cell_id"], operator=ch["operator"], level=ch["level_dbm"],
                    target=exp.target_dbm, model=exp.model)]
        if ch.get("clear_raise_m") is not None:
            lines.append(tr("ex_change_clear", lang, m=ch["clear_raise_m"],
                            site=ch["site_id"]))
    else:
        lines = [tr("ex_change_none", lang, km=km, m=exp.max_raise_m,
                    tech=exp.technology)]
    if "eirp_db" in ch:
        lines.append(tr("ex_change_eirp", lang, db=ch["eirp_db"], cell=ch["eirp_cell_id"]))
    return lines


def _head_lines(exp: Explanation, lang: str) -> list[str]:
    tech = exp.technology
    lines = [tr("ex_place", lang, commune=exp.commune, district=exp.district,
                id=exp.village_id),
             tr("ex_verdict", lang, tech=tech, verdict=verdict_label(exp.verdict, lang),
                centre=tr("yes" if exp.centre_covered else "no", lang),
                share=_n(100 * exp.pop_share, lang, 0)),
             tr("ex_rule", lang, thr=exp.threshold_dbm, margin=exp.location_margin_db,
                target=exp.target_dbm)]
    b = exp.best
    lines.append(tr("ex_run_best", lang, tech=tech, level=_n(exp.run_best_dbm, lang, 2),
                    cell=exp.run_best_server or "–"))
    if b is not None or not exp.consistent:
        key = "ex_same" if exp.consistent else "ex_differs"
        lines.append(tr(key, lang, level=_n(b.rsrp_dbm if b else None, lang, 2),
                        cell=b.cell_id if b else "–"))
    lines.append(tr("ex_reaching", lang, n=exp.n_reaching, tech=tech,
                    km=exp.radius_m / 1000.0))
    return lines


_BUDGET_COLS = ("ex_col_cell", "ex_col_role", "ex_col_km", "ex_col_eirp", "ex_col_perre",
                "ex_col_gain", "ex_col_angles", "ex_col_loss", "ex_col_rsrp", "ex_col_margin",
                "ex_col_raise")


def _budget_rows(exp: Explanation, lang: str) -> list[list[str]]:
    rows = []
    for c in exp.candidates:
        angles = (f"{_n(c.off_boresight_deg, lang, 0)}° / {_n(c.depression_deg, lang, 1)}°"
                  if c.off_boresight_deg is not None
                  else f"omni / {_n(c.depression_deg, lang, 1)}°")
        loss = _n(c.path_loss_db, lang, 1)
        if c.clutter_db:
            loss += f" + {tr('ex_clutter', lang)} {_n(c.clutter_db, lang, 1)}"
        if c.correction_db:
            loss += f" ({tr('ex_correction', lang)} {_n(c.correction_db, lang, 2)})"
        rows.append([f"{c.cell_id} ({c.site_id}, {c.operator})",
                     _role_label(c.roles, c.operator, lang),
                     _n(c.distance_m / 1000.0, lang, 2), _n(c.eirp_dbm, lang, 1),
                     _n(c.per_re_db, lang, 1), _n(c.gain_db, lang, 1), angles, loss,
                     _n(c.rsrp_dbm, lang, 2), _n(c.margin_db, lang, 1),
                     _raise_text(c, exp, lang)])
    return rows


def _raise_text(c: Candidate, exp: Explanation, lang: str) -> str:
    if c.raise_m is None:
        return tr("ex_raise_no", lang, m=exp.max_raise_m)
    if c.raise_m == 0:
        return "0"
    return f"+{number(c.raise_m, lang, 0)} m"


def _profile_text(c: Candidate, lang: str) -> str:
    p = c.profile
    if p is None:
        return tr("ex_profile_none", lang)
    parts = []
    if p.obstacle is not None and p.fresnel_obstructed:
        k = p.obstacle
        key = "ex_profile_blocked" if p.blocked else "ex_profile_fresnel"
        parts.append(tr(key, lang, km=float(p.distance_m[k]) / 1000.0,
                        h=float(p.ground_m[k] + p.bulge_m[k] - p.los_m[k]),
                        r1=float(p.fresnel_m[k]), nu=float(p.nu[k]),
                        clear=p.clear_raise_m))
    else:
        parts.append(tr("ex_profile_clear", lang))
    parts.append(tr("ex_profile_loss", lang, exact=p.loss_db, run=c.path_loss_db))
    return " ".join(parts)


def _blocks(exp: Explanation, lang: str, images: Mapping[str, str]) -> list[tuple[str, Any]]:
    """The page as blocks (``h1``, ``h2``, ``p``, ``ul``, ``table``, ``img``) for both
    renderings."""
    b: list[tuple[str, Any]] = [
        ("h1", tr("ex_title", lang, name=exp.name, tech=exp.technology)),
        ("ul", _head_lines(exp, lang)),
        ("h2", tr("ex_sec_change", lang)), ("ul", change_lines(exp, lang)),
        ("h2", tr("ex_sec_towers", lang)),
    ]
    if exp.candidates:
        b.append(("table", ([tr(k, lang) for k in _BUDGET_COLS], _budget_rows(exp, lang))))
        b.append(("p", tr("ex_budget_note", lang)))
    else:
        b.append(("p", tr("ex_no_tower", lang, tech=exp.technology,
                          km=exp.radius_m / 1000.0)))
    if exp.candidates:
        b.append(("h2", tr("ex_sec_profiles", lang)))
    for c in exp.candidates:
        b.append(("h3", f"{c.cell_id} ({c.site_id}, {c.operator})"))
        b.append(("p", _profile_text(c, lang)))
        if c.cell_id in images:
            b.append(("img", (images[c.cell_id], c.cell_id)))
    method = tr("ex_method", lang, model=exp.model, k=exp.k_factor, m=exp.max_raise_m)
    if exp.model == "itm":
        method += " " + tr("ex_method_itm", lang)
    b += [("h2", tr("ex_sec_method", lang)), ("p", method)]
    return b


def _markdown(blocks: Sequence[tuple[str, Any]]) -> str:
    out: list[str] = []
    for kind, val in blocks:
        if kind in ("h1", "h2", "h3"):
            out += ["#" * int(kind[1]) + " " + val, ""]
        elif kind == "p":
            out += [val, ""]
        elif kind == "ul":
            out += [f"- {x}" for x in val] + [""]
        elif kind == "img":
            out += [f"![{val[1]}]({val[0]})", ""]
        else:
            head, rows = val
            cell = lambda s: str(s).replace("|", "\\|")  # noqa: E731
            out += ["| " + " | ".join(cell(h) for h in head) + " |",
                    "|" + "|".join("---" for _ in head) + "|",
                    *("| " + " | ".join(cell(c) for c in r) + " |" for r in rows), ""]
    return "\n".join(out)


def _html(blocks: Sequence[tuple[str, Any]], lang: str, title: str) -> str:
    e = html.escape
    out = [f"<!DOCTYPE html>\n<html lang=\"{e(lang)}\"><head><meta charset=\"utf-8\">"
           f"<title>{e(title)}</title><style>body{{font:14px/1.45 sans-serif;max-width:72em;"
           "margin:1em auto;padding:0 1em}table{border-collapse:collapse;font-size:12px}"
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
           "img{max-width:100%}</style></head><body>"]
    for kind, val in blocks:
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{e(val)}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{e(val)}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in val) + "</ul>")
        elif kind == "img":
            out.append(f"<p><img src=\"{e(val[0])}\" alt=\"{e(val[1])}\"></p>")
        else:
            head, rows = val
            out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head)
                       + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                                 for r in rows) + "</tbody></table>")
    return "\n".join([*out, "</body></html>\n"])


def explanation_folder(ws: str | Path, village_id: str) -> Path:
    """``W/explain/<village_id>/`` (the id made safe for a file name)."""
    return Path(ws) / EXPLAIN_DIR / _safe(village_id)


def explanation_href(village_id: str) -> str:
    """The explanation page of a village relative to the workspace (the folder of
    ``map.html`` and ``report.html``): ``explain/<village_id>/explain.html``."""
    return f"{EXPLAIN_DIR}/{_safe(village_id)}/explain.html"


def write_explanation(exp: Explanation, folder: str | Path, *, lang: str = DEFAULT_LANG,
                      provenance: Mapping[str, Any] | None = None) -> list[Path]:
    """Write ``explain.md``, ``explain.html``, ``explain.json`` and one profile PNG per
    candidate (``profile_<cell_id>.png``) into ``folder``, each atomically; the paths
    written. ``provenance`` (e.g. the run's id and fingerprints) goes into the JSON."""
    check_lang(lang)
    folder = Path(folder)
    written: list[Path] = []
    images: dict[str, str] = {}
    for c in exp.candidates:
        png = profile_png(c, exp, lang)
        if png is not None:
            name = f"profile_{_safe(c.cell_id)}.png"
            fileio.write_bytes(folder / name, png)
            written.append(folder / name)
            images[c.cell_id] = name
    blocks = _blocks(exp, lang, images)
    title = tr("ex_title", lang, name=exp.name, tech=exp.technology)
    data = {**exp.to_json(), "provenance": dict(provenance or {}),
            "profiles_png": images, "lang": lang}
    for name, text in (("explain.md", _markdown(blocks)),
                       ("explain.html", _html(blocks, lang, title)),
                       ("explain.json", json.dumps(data, ensure_ascii=False, indent=1,
                                                   allow_nan=False) + "\n")):
        fileio.write_text(folder / name, text)
        written.append(folder / name)
    return written

