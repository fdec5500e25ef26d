"""Load and validate every input of a configuration at once (:func:`load_inputs`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from .. import __version__
from ..config import Config, InputsConfig
from ..datatypes import Dem, Inputs
from ..errors import CRSError, InputDataError, Problem
from ..names import describe_matches, match_names
from ._shared import GDAL_ERRORS, log, read_layer, report_rows, to_working_crs
from .atomic import file_sha256
from .dem import read_dem
from .inventories import read_cells, read_ftth_nodes
from .targets import read_targets
from .vectors import read_roads, read_settlements, read_villages

__all__ = ["ReadCache", "load_inputs", "sample_data_dir"]


def sample_data_dir() -> Path:
    """Folder of the bundled Lạng Sơn sample: inside the installed package (wheel) or at the
    root of a source checkout (editable install)."""
    here = Path(__file__).resolve().parents[1]  # the vncoverage package
    for cand in (here / "data", here.parent / "data"):
        if (cand / "config.toml").is_file():
            return cand
    raise FileNotFoundError(
        "the bundled sample data was not found (looked in "
        f"{here / 'data'} and {here.parent / 'data'}); reinstall vncoverage or pass --config"
    )


#: Inputs whose sha256 is recorded (provenance, workspace fingerprints).
_CHECKSUMMED = ("boundaries", "settlements", "cells", "ftth_nodes", "roads", "dem", "targets")


class ReadCache(Protocol):
    """Where parsed, validated inputs are kept between runs, keyed by a hash of the file's
    sha256 and every reading option (a workspace keeps one: :mod:`vncoverage.workspace`)."""

    def get(self, key: str) -> tuple[Any, list[str], dict[str, str]] | None:
        """``(value, notes, formats)`` of an earlier clean read, or None."""

    def put(self, key: str, value: Any, notes: list[str], formats: dict[str, str]) -> None:
        """Keep a clean read."""


def _memo(cache: ReadCache | None, key_parts: list[Any], problems: list[Problem],
          notes: list[str], formats: dict[str, str],
          read: Callable[[list[Problem], list[str], dict[str, str]], Any]) -> Any:
    """``read(problems, notes, formats)``, or its result from ``cache`` when the same file
    was read with the same options before. Only reads without problems are kept, so a
    cached read replays its notes and formats and never hides a problem."""
    if cache is None or None in key_parts[3:5]:
        return read(problems, notes, formats)
    key = hashlib.sha256(json.dumps(key_parts, default=str).encode()).hexdigest()[:32]
    hit = cache.get(key)
    if hit is not None:
        value, hit_notes, hit_formats = hit
        notes += hit_notes
        formats.update(hit_formats)
        return value
    p: list[Problem] = []
    n: list[str] = []
    f: dict[str, str] = {}
    value = read(p, n, f)
    problems += p
    notes += n
    formats.update(f)
    if not p:
        cache.put(key, value, n, f)
    return value


@dataclass(frozen=True)
class _Reads:
    """What the cached readers of one :func:`load_inputs` call share: the cache, the start
    of every cache key (version, working CRS, operators), the inputs' sha256 and the lists
    the problems, notes and formats go to."""

    cache: ReadCache | None
    base: list[Any]
    sums: dict[str, str]
    problems: list[Problem]
    notes: list[str]
    formats: dict[str, str]

    def memo(self, key_parts: list[Any],
             read: Callable[[list[Problem], list[str], dict[str, str]], Any]) -> Any:
        """:func:`_memo` keyed by ``base`` + ``key_parts`` (the input's name, its sha256,
        then its reading options)."""
        return _memo(self.cache, [*self.base, *key_parts], self.problems, self.notes,
                     self.formats, read)


def load_inputs(cfg: Config, *, read_cache: ReadCache | None = None) -> Inputs:
    """Load and validate every input named in ``cfg.inputs``.

    ``read_cache`` (optional) keeps parsed inputs between runs: a file read before with the
    same options, without problems, is taken from it instead of being parsed and checked
    again (the cell table is always read).

    Raises
    ------
    InputDataError
        With every problem found in every file (nothing is computed before, nothing is
        written).
    """
    inp: InputsConfig = cfg.inputs
    working = CRS.from_user_input(cfg.study.working_crs)
    problems: list[Problem] = []
    notes: list[str] = []
    formats: dict[str, str] = {}
    if not working.is_projected:
        raise CRSError([Problem("config", f"working_crs {working.to_string()} is not "
                                "projected (metric)", "use EPSG:32648 (UTM 48N) or another "
                                "metric CRS")])
    _check_required_inputs(inp)
    assert inp.boundaries is not None and inp.cells is not None and inp.dem is not None
    operators = tuple(cfg.kpi.operators)
    sums = {key: file_sha256(getattr(inp, key)) for key in _CHECKSUMMED
            if getattr(inp, key) is not None and Path(getattr(inp, key)).is_file()}
    reads = _Reads(read_cache, [__version__, working.to_wkt(), operators], sums, problems,
                   notes, formats)
    villages, centres, districts, communes_2025 = _load_boundaries(inp, inp.boundaries,
                                                                   working, reads)
    cells = read_cells(inp.cells, working_crs=working, problems=problems, notes=notes,
                       operators=operators, formats=formats)
    dem = read_dem(inp.dem, working_crs=working, problems=problems)
    settlements = _load_settlements(inp, working, villages, reads)
    ftth = _load_ftth_nodes(inp, working, operators, reads)
    roads = _load_roads(inp, working, reads)
    targets = _load_targets(inp, reads)
    _check_extents(cfg, villages, cells, ftth, dem, problems, notes)
    if problems:
        raise InputDataError(problems)
    assert villages is not None and centres is not None and cells is not None and dem is not None
    checksums = {key: sums[key] if key in sums else file_sha256(getattr(inp, key))
                 for key in _CHECKSUMMED if getattr(inp, key) is not None}
    return Inputs(villages=villages, centres=centres, cells=cells, dem=dem,
                  settlements=settlements, ftth_nodes=ftth, roads=roads, targets=targets,
                  districts=districts, communes_2025=communes_2025, checksums=checksums,
                  notes=tuple(notes), formats=formats)


def _check_required_inputs(inp: InputsConfig) -> None:
    """Raise :class:`InputDataError` naming every required input missing from the config
    (boundaries, cells, dem)."""
    problems: list[Problem] = []
    for key in ("boundaries", "cells", "dem"):
        if getattr(inp, key) is None:
            problems.append(Problem("config", f"[inputs] {key} is required",
                                    f"set [inputs] {key} = \"path/to/file\""))
    if problems:
        raise InputDataError(problems)


#: Villages, their centres, districts and 2025 communes (each None when not read).
_Boundaries = tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None, gpd.GeoDataFrame | None,
                    gpd.GeoDataFrame | None]


def _load_boundaries(inp: InputsConfig, bpath: Path, working: CRS, reads: _Reads) -> _Boundaries:
    """``(villages, centres, districts, communes_2025)`` of the boundaries file (cached)."""
    boundaries: _Boundaries = reads.memo(
        ["boundaries", reads.sums.get("boundaries"), inp.villages_layer, inp.centres_layer,
         inp.districts_layer, inp.communes_2025_layer],
        lambda p, n, f: _read_boundary_layers(inp, bpath, working, p, n))
    return boundaries


def _read_boundary_layers(
    inp: InputsConfig, bpath: Path, working: CRS, problems: list[Problem], notes: list[str]
) -> _Boundaries:
    """Read the villages, their centres and the district / 2025-commune layers of the
    boundaries file; the admin layers' names are matched to the villages' (noted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        villages, centres = read_villages(
            bpath, layer=inp.villages_layer, centres_layer=inp.centres_layer,
            working_crs=working, problems=problems, notes=notes)
    admin: dict[str, gpd.GeoDataFrame | None] = {}
    if villages is not None:
        admin = _read_admin_layers(inp, bpath, working, problems)
        _check_admin_layers(villages, admin["districts_layer"],
                            admin["communes_2025_layer"], notes)
    return (villages, centres, admin.get("districts_layer"),
            admin.get("communes_2025_layer"))


def _read_admin_layers(
    inp: InputsConfig, bpath: Path, working: CRS, problems: list[Problem]
) -> dict[str, gpd.GeoDataFrame | None]:
    """The district and 2025-commune layers of the boundaries file in the working CRS, by
    config key (``districts_layer``, ``communes_2025_layer``); None when absent."""
    admin: dict[str, gpd.GeoDataFrame | None] = {}
    names: list[str] = []
    with contextlib.suppress(*GDAL_ERRORS):
        names = [x for x, _ in pyogrio.list_layers(bpath)]
    for key in ("districts_layer", "communes_2025_layer"):
        lname = getattr(inp, key)
        layer = None
        if lname in names:
            layer = read_layer(bpath, lname, problems)
            if layer is not None:
                layer = to_working_crs(layer, f"{bpath} (layer '{lname}')", working,
                                       problems)
        admin[key] = layer
    return admin


def _load_settlements(
    inp: InputsConfig, working: CRS, villages: gpd.GeoDataFrame | None, reads: _Reads
) -> gpd.GeoDataFrame | None:
    """The household clusters (cached), None when there is no file (noted: population
    shares are then area-weighted) or no villages to check their ids against."""
    if inp.settlements is None:
        reads.notes.append("no household clusters: population shares are area-weighted")
        return None
    if villages is None:
        return None
    vids, spath = villages.index, inp.settlements
    return reads.memo(
        ["settlements", reads.sums.get("settlements"), reads.sums.get("boundaries"),
         inp.settlements_layer],
        lambda p, n, f: read_settlements(spath, layer=inp.settlements_layer,
                                         working_crs=working, village_ids=vids, problems=p))


def _load_ftth_nodes(
    inp: InputsConfig, working: CRS, operators: tuple[str, ...], reads: _Reads
) -> gpd.GeoDataFrame | None:
    """The FTTH node inventory (cached), None when there is no file."""
    if inp.ftth_nodes is None:
        return None
    fpath = inp.ftth_nodes
    return reads.memo(
        ["ftth_nodes", reads.sums.get("ftth_nodes")],
        lambda p, n, f: read_ftth_nodes(fpath, working_crs=working, problems=p, notes=n,
                                        operators=operators, formats=f))


def _load_roads(inp: InputsConfig, working: CRS, reads: _Reads) -> gpd.GeoDataFrame | None:
    """The road network (cached), None when there is no file."""
    if inp.roads is None:
        return None
    rpath = inp.roads
    return reads.memo(
        ["roads", reads.sums.get("roads"), inp.roads_layer],
        lambda p, n, f: read_roads(rpath, layer=inp.roads_layer, working_crs=working,
                                   problems=p))


def _load_targets(inp: InputsConfig, reads: _Reads) -> pd.DataFrame | None:
    """The plan's KPI targets (cached), None when there is no file."""
    if inp.targets is None:
        return None
    tpath = inp.targets
    return reads.memo(
        ["targets", reads.sums.get("targets")],
        lambda p, n, f: read_targets(tpath, problems=p, notes=n, formats=f))


def _check_extents(
    cfg: Config, villages: gpd.GeoDataFrame | None, cells: gpd.GeoDataFrame | None,
    ftth: gpd.GeoDataFrame | None, dem: Dem | None, problems: list[Problem],
    notes: list[str],
) -> None:
    """Points outside the study area, villages outside the DEM, sites whose radius leaves
    the DEM, DEM holes under the villages.

    The study area is the villages' bounding box grown by each technology's computation
    radius (cells: farther away they cannot cover any village) or by the GPON reach (FTTH
    nodes: farther away they cannot serve any village).
    """
    inp = cfg.inputs
    if villages is not None and len(villages):
        vx0, vy0, vx1, vy1 = (float(v) for v in villages.total_bounds)

        def dist(gdf: gpd.GeoDataFrame) -> np.ndarray:
            x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
            dx = np.maximum(np.maximum(vx0 - x, x - vx1), 0.0)
            dy = np.maximum(np.maximum(vy0 - y, y - vy1), 0.0)
            return np.hypot(dx, dy)

        if cells is not None:
            radius = cells["technology"].map(dict(cfg.radio.max_radius_m)).fillna(
                max(cfg.radio.max_radius_m.values())).to_numpy(float)
            d = dist(cells)
            far = d > radius
            report_rows(problems, str(inp.cells), "the site lies outside the study area: "
                        "farther from every village than its computation radius",
                        "remove cells of other provinces (they cannot cover any village) "
                        "or correct the coordinates", list(cells.index[far]),
                        column="lon/lat", values=[f"{v / 1000:.1f} km from the village area, "
                                                   f"radius {r / 1000:g} km"
                                                   for v, r in zip(d[far], radius[far],
                                                                   strict=True)])
            cells = cells[~far]
        if ftth is not None:
            d = dist(ftth)
            far = d > cfg.ftth.gpon_reach_m
            report_rows(problems, str(inp.ftth_nodes), "the node lies outside the study "
                        "area: farther from every village than the GPON reach",
                        "remove nodes of other provinces or correct the coordinates",
                        list(ftth.index[far]), column="lon/lat",
                        values=[f"{v / 1000:.1f} km from the village area" for v in d[far]])
    if dem is None:
        return
    xmin, ymin, xmax, ymax = dem.bounds
    tol = dem.pixel_m
    if villages is not None:
        b = villages.geometry.bounds
        out = ((b["minx"] < xmin - tol) | (b["maxx"] > xmax + tol) | (b["miny"] < ymin - tol)
               | (b["maxy"] > ymax + tol)).to_numpy()
        report_rows(problems, str(inp.boundaries), "the village lies (partly) outside the "
                    "DEM", "extend the DEM to cover every village", list(villages.index[out]),
                    column="geometry")
        _dem_holes(dem, villages, notes)
    if cells is not None:
        x, y = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
        outside = (x < xmin) | (x > xmax) | (y < ymin) | (y > ymax)
        report_rows(problems, str(inp.cells), "site lies outside the DEM",
                    "extend the DEM or correct the coordinates", list(cells.index[outside]),
                    column="lon/lat")
        computed = cells["technology"].isin(cfg.radio.technologies).to_numpy() & ~outside
        r = cells["technology"].map(dict(cfg.radio.max_radius_m)).fillna(0).to_numpy(float)
        beyond = computed & ((x - r < xmin) | (x + r > xmax) | (y - r < ymin) | (y + r > ymax))
        if beyond.any():
            sites = sorted(set(cells.loc[beyond, "site_id"]))
            notes.append(f"{len(sites)} site(s) reach beyond the DEM edge within their "
                         "computation radius: coverage is computed inside the DEM only (every "
                         "village is inside): " + ", ".join(sites[:20])
                         + (" ..." if len(sites) > 20 else ""))


def _dem_holes(dem: Dem, villages: gpd.GeoDataFrame, notes: list[str]) -> None:
    """Note DEM nodata under the villages: paths crossing it give 'unknown' pixels."""
    vx0, vy0, vx1, vy1 = (float(v) for v in villages.total_bounds)
    r0, c0 = dem.index(np.array([vx0]), np.array([vy1]))
    r1, c1 = dem.index(np.array([vx1]), np.array([vy0]))
    h, w = dem.shape
    window = dem.elevation[max(int(r0[0]), 0):min(int(r1[0]) + 1, h),
                           max(int(c0[0]), 0):min(int(c1[0]) + 1, w)]
    n_nan = int(np.isnan(window).sum())
    if not n_nan:
        return
    text = (f"the DEM has {n_nan} nodata pixel(s) ({n_nan * dem.pixel_m**2 / 1e6:.2f} km²) "
            "in the village area: pixels behind them are 'unknown', never sea level")
    pts = villages.geometry.representative_point()
    rows, cols = dem.index(pts.x.to_numpy(), pts.y.to_numpy())
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    on_hole = np.zeros(len(pts), dtype=bool)
    on_hole[inside] = np.isnan(dem.elevation[rows[inside], cols[inside]])
    if on_hole.any():
        ids = list(villages.index[on_hole])
        text += ("; villages with nodata at their centre: " + ", ".join(map(str, ids[:20]))
                 + (" ..." if len(ids) > 20 else ""))
    notes.append(text)
    log.warning(text)


def _check_admin_layers(villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
                        communes_2025: gpd.GeoDataFrame | None, notes: list[str]) -> None:
    """Match the villages' district / 2025-commune names to the boundary layers' names
    (tolerantly; every fuzzy match and every name without a polygon is noted)."""
    for col, layer in (("district", districts), ("commune_2025", communes_2025)):
        if layer is None:
            continue
        cands = [str(v) for c in ("name", "short_name") if c in layer.columns
                 for v in layer[c].dropna()]
        if not cands:
            continue
        matches = match_names(villages[col].unique(), cands)
        lines = describe_matches(matches, col)
        lost = [m.value for m in matches.values() if m.match is None]
        if lines:
            notes.append(f"{col} names matched to the {col} boundary layer: "
                         + "; ".join(lines))
        if lost:
            notes.append(f"{col} without a polygon in the boundary layer: "
                         + ", ".join(f"'{v}'" for v in lost))
