"""Per-cell received-level rasters and their fold into best-server layers.

A *layer* is one (technology, operator) pair, or (technology, ``"any"``) for the union of
operators. Each holds, on the DEM grid, the best received level (RSRP per resource element
for 4G/5G, RSCP for 3G, RxLev for 2G; dBm, ``-inf`` where no cell reaches), the index of the
best server (position in the cell table, -1 for none), how many cells left the pixel
unknown (DEM nodata along the path) and the warning flags of the best server's path.

Folding is a per-pixel maximum with deterministic tie-breaking (lowest cell index), so the
result does not depend on the order cells are folded in: adding a site means folding its
raster into the existing layers, and a batch run equals any sequence of incremental ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

import geopandas as gpd
import numba
import numpy as np
import pandas as pd
from scipy.ndimage import map_coordinates
from tqdm.auto import tqdm

from . import __version__, _grids, _prune, _rays, _sweep
from ._itm_kernels import ItmParams
from .antenna import sector_gain_db
from .clutter import ClutterGrid
from .config import RadioConfig
from .datatypes import Dem
from .i18n import Message
from .propagation import EARTH_RADIUS_M, ModelDomainWarning, get_model
from .radio import per_re_offset_db

__all__ = [
    "CellRaster",
    "GroupWindow",
    "Layer",
    "LayerUpdate",
    "Layers",
    "PathLosses",
    "SweepCache",
    "SweepGroup",
    "cell_raster",
    "cell_raster_naive",
    "cell_rasters",
    "compute_layers",
    "dem_fingerprint",
    "diff_cells",
    "empty_layers",
    "exact_window",
    "group_lanes",
    "group_window",
    "in_lanes",
    "new_layers",
    "path_method",
    "ray_window",
    "sweep_groups",
    "update_layers",
    "with_clutter",
]

log = logging.getLogger(__name__)

ANY = "any"


@dataclass(frozen=True)
class CellRaster:
    """One cell's received level on a window of the DEM grid.

    ``level_dbm`` is ``-inf`` outside the computation radius and NaN where unknown;
    ``row``/``col`` give the window's top-left pixel in the DEM grid (may be negative when
    the radius leaves the DEM, in which case those pixels are unknown).
    """

    cell_id: str
    row: int
    col: int
    level_dbm: np.ndarray
    flags: np.ndarray


@dataclass
class Layer:
    """Best-server layer of one (technology, operator) pair. Mutable only through
    :meth:`fold`."""

    technology: str
    operator: str
    best_dbm: np.ndarray
    server: np.ndarray
    unknown: np.ndarray
    flags: np.ndarray

    def fold(self, raster: CellRaster, cell_index: int) -> None:
        """Fold one cell's raster in (per-pixel max, lowest index wins ties)."""
        _sweep.fold_window(self.best_dbm, self.server, self.unknown, self.flags,
                           raster.level_dbm, raster.flags, raster.row, raster.col, cell_index)

    def merge(self, other: Layer) -> None:
        """Fold the whole layer ``other`` (same grid, same cell numbering) in, as folding
        each of its cells' rasters would (:func:`~vncoverage._sweep.merge_layer`)."""
        _sweep.merge_layer(self.best_dbm, self.server, self.unknown, self.flags,
                           other.best_dbm, other.server, other.unknown, other.flags)

    @property
    def under_warning(self) -> np.ndarray:
        """Pixels whose best server's path was computed under a model warning (outside the
        model's distance domain, or an ITM warning)."""
        return (self.flags & _sweep.WARNING_FLAGS) != 0

    @property
    def is_unknown(self) -> np.ndarray:
        """Pixels no cell reaches with a known level while at least one path crossed DEM
        nodata."""
        return (self.unknown > 0) & ~np.isfinite(self.best_dbm)


@dataclass
class Layers:
    """All layers of a run, on one grid, with the cell order that server indexes refer to."""

    dem: Dem
    cell_ids: list[str]
    layers: dict[tuple[str, str], Layer] = field(default_factory=dict)
    #: The model-domain notes (:class:`~vncoverage.i18n.Message`) of the cells computed.
    notes: list[Message] = field(default_factory=list)

    def get(self, technology: str, operator: str = ANY) -> Layer:
        return self.layers[(technology, operator)]

    def window(self, r0: int, c0: int, r1: int, c1: int) -> Layers:
        """The same layers restricted to rows ``r0:r1`` and columns ``c0:c1`` of the grid
        (views, not copies), on :meth:`Dem.window` of the DEM."""
        return Layers(dem=self.dem.window(r0, c0, r1, c1), cell_ids=self.cell_ids,
                      layers={k: Layer(lay.technology, lay.operator,
                                       lay.best_dbm[r0:r1, c0:c1], lay.server[r0:r1, c0:c1],
                                       lay.unknown[r0:r1, c0:c1], lay.flags[r0:r1, c0:c1])
                              for k, lay in self.layers.items()},
                      notes=self.notes)

    @property
    def technologies(self) -> list[str]:
        return sorted({t for t, _ in self.layers})

    @property
    def operators(self) -> list[str]:
        return sorted({o for _, o in self.layers if o != ANY})


def new_layers(dem: Dem, technologies: Iterable[str], operators: Iterable[str],
               cell_ids: list[str]) -> Layers:
    """Empty layers (nothing covered) for every technology x (operators + ``any``)."""
    ops = list(operators)
    return empty_layers(dem, [(t, o) for t in technologies for o in [ANY, *ops]], cell_ids)


def empty_layers(dem: Dem, keys: Iterable[tuple[str, str]], cell_ids: list[str]) -> Layers:
    """Empty layers (nothing covered) on ``dem``'s grid for the (technology, operator)
    ``keys``, in that order."""
    out = Layers(dem=dem, cell_ids=list(cell_ids))
    shape = dem.shape
    for t, o in keys:
        out.layers[(t, o)] = Layer(
            t, o,
            best_dbm=_grids.full(shape, -np.inf, np.float32),
            server=_grids.full(shape, -1, np.int32),
            unknown=_grids.empty(shape, np.uint32),
            flags=_grids.empty(shape, np.uint32),
        )
    return out


def _site_pixel(dem: Dem, x: float, y: float) -> tuple[float, float]:
    """Fractional (row, col) of a point, where integers are pixel centres."""
    col = (x - dem.transform.c) / dem.transform.a - 0.5
    row = (y - dem.transform.f) / dem.transform.e - 0.5
    return row, col


class SweepCache(Protocol):
    """Where packed sweep results are kept between runs (see :mod:`vncoverage.workspace`).
    A pruned :func:`compute_layers` calls it from several threads at once (never for the
    same key at the same time)."""

    def get(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The packed ``(losses, flags)`` of a sweep, or None (absent or corrupt)."""

    def put(self, key: str, losses: np.ndarray, flags: np.ndarray) -> None:
        """Keep the packed ``(losses, flags)`` of a sweep."""


@dataclass(frozen=True)
class SweepGroup:
    """Cells that share one radial sweep: same site position, antenna height, frequency and
    radius (typically the sectors of one operator's band on a tower)."""

    x: float
    y: float
    height_m: float
    frequency_mhz: float
    radius_m: float
    cell_ids: tuple[str, ...]

    def fingerprint(self, radio: RadioConfig, dem_fingerprint: str,
                    method: str = "profile", rx_heights: str = "") -> str:
        """Hash of everything that determines the sweep: geometry, model and its
        parameters, receiver height, k-factor, DEM, package version and how the path losses
        are computed (``method``, see :func:`group_window`: per-pixel profiles are kept in
        format 4, the radial sweep in format 3 under the key it always had)."""
        model = get_model(radio.model)
        params: dict[str, Any] = {
            "x": round(self.x, 2), "y": round(self.y, 2), "h": self.height_m,
            "f": self.frequency_mhz, "r": self.radius_m, "model": model.name,
            "code": model.code, "rx": radio.rx_height_m, "k": radio.k_factor,
            "itm": radio.itm_params if model.name == "itm" else None,
            "dem": dem_fingerprint, "version": __version__, "format": 3,
        }
        if method != "sweep":  # format 5: entries may hold paths not computed yet
            params.update(format=5, method=method)
        if rx_heights:  # paths to the clutter top (the key of bare terrain is unchanged)
            params.update(rx_heights=rx_heights)
        return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]


def dem_fingerprint(dem: Dem) -> str:
    """Hash of the DEM grid as used (elevations, transform, CRS)."""
    h = hashlib.sha256(np.ascontiguousarray(dem.elevation).tobytes())
    h.update(repr(tuple(dem.transform)).encode())
    h.update(dem.crs.to_wkt().encode())
    return h.hexdigest()[:32]


def sweep_groups(cells: gpd.GeoDataFrame, radio: RadioConfig) -> list[SweepGroup]:
    """The sweep groups of ``cells`` (technologies outside ``radio.technologies`` skipped),
    in a deterministic order."""
    sel = cells[cells["technology"].isin(radio.technologies)]
    if not len(sel):
        return []
    radius = {str(t): float(v) for t, v in radio.max_radius_m.items()}
    cols = [np.round(sel.geometry.x.to_numpy(), 2), np.round(sel.geometry.y.to_numpy(), 2),
            sel["height_m"].to_numpy(float), sel["frequency_mhz"].to_numpy(float),
            np.array([radius[str(t)] for t in sel["technology"]], dtype=float)]
    ids = np.array([str(c) for c in sel.index], dtype=object)
    # sorted by the group key, then by cell id (numpy's lexsort: last key first)
    order = np.lexsort([ids.astype(str), *cols[::-1]])
    keys = np.column_stack(cols)[order]
    ids = ids[order]
    starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)])
    ends = np.r_[starts[1:], len(ids)]
    groups = []
    for a, b in zip(starts, ends, strict=True):
        x, y, height_m, frequency_mhz, radius_m = (float(v) for v in keys[a])
        groups.append(SweepGroup(x, y, height_m, frequency_mhz, radius_m, tuple(ids[a:b])))
    return groups


def _sweep_shape(radius_m: float, pixel_m: float) -> tuple[int, int]:
    """(radials, samples) of a sweep: samples one pixel apart, radials at most one pixel
    apart at the edge."""
    # a pixel at distance d reads sample round(d / pixel) <= round(radius / pixel): samples
    # beyond that would be computed for no pixel
    n_samples = max(1, int(round(radius_m / pixel_m)))
    n_radials = max(360, int(math.ceil(2.0 * math.pi * radius_m / pixel_m)))
    return n_radials, n_samples


@dataclass(frozen=True)
class GroupWindow:
    """Path loss, azimuth, depression angle and flags of a sweep group on its window."""

    row: int
    col: int
    loss_db: np.ndarray
    az_deg: np.ndarray
    theta_deg: np.ndarray
    flags: np.ndarray


#: How :func:`group_window` gets the path loss of a pixel: ``"ray"``, ITM with the terrain
#: read on rays from the site and the receiver's foreground on the pixel's own line
#: (:func:`ray_window`; the default with ITM since version 17), ``"profile"``, from its own
#: straight profile (:func:`exact_window`, the exact reference; the default of the other
#: models), or ``"sweep"``, the radial sweep read at the nearest radial sample (before
#: version 15; kept for the benchmark).
METHODS = ("ray", "profile", "sweep")


def path_method(radio: RadioConfig) -> str:
    """The method :func:`group_window` uses by default: ``[radio] paths`` with ITM
    (``"ray"`` unless set to ``"profile"``), ``"profile"`` with every other model (the ray
    kernel is ITM's)."""
    return "ray" if radio.paths == "ray" and get_model(radio.model).name == "itm" else "profile"


@dataclass(frozen=True)
class PathLosses:
    """Path loss (dB, float32; ``+inf`` outside the radius or not asked for, NaN where
    unknown) and flags of a sweep group on a window whose top-left grid pixel is
    ``(row, col)``."""

    row: int
    col: int
    loss_db: np.ndarray
    flags: np.ndarray


def _group_sweep(group: SweepGroup, dem: Dem,
                 radio: RadioConfig) -> tuple[_sweep.Sweep, int, int, int]:
    """The :class:`~vncoverage._sweep.Sweep` of a group, and its whole window: top-left
    grid pixel and size (a square of ``n`` pixels around the site)."""
    model = get_model(radio.model)
    pixel = dem.pixel_m
    n_radials, n_samples = _sweep_shape(group.radius_m, pixel)
    r0, c0 = _site_pixel(dem, group.x, group.y)
    half = int(math.ceil(group.radius_m / pixel)) + 1
    domain_lo, domain_hi = model.domain.distance_m or (0.0, math.inf)
    sweep = _sweep.Sweep(row0=r0, col0=c0, pixel_m=pixel, step_m=pixel, n_radials=n_radials,
                         n_samples=n_samples, radius_m=group.radius_m, h_tx_m=group.height_m,
                         h_rx_m=radio.rx_height_m, f_mhz=group.frequency_mhz,
                         k_factor=radio.k_factor, model_code=model.code, d_min_m=domain_lo,
                         d_max_m=domain_hi)
    return sweep, int(round(r0)) - half, int(round(c0)) - half, 2 * half + 1


def group_geometry(group: SweepGroup, dem: Dem,
                   radio: RadioConfig) -> tuple[_sweep.Sweep, int, int, int]:
    """A group's sweep parameters and whole window (top-left grid pixel, size): what
    :func:`group_window` computes on before any box ``within`` clips it."""
    return _group_sweep(group, dem, radio)


def _clip(r_start: int, c_start: int, n: int,
          within: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    """The whole window ``(r_start, c_start, r_end, c_end)``, or its part inside
    ``within`` (possibly empty)."""
    r_end, c_end = r_start + n, c_start + n
    if within is not None:
        r_start, c_start = max(r_start, within[0]), max(c_start, within[1])
        r_end, c_end = max(min(r_end, within[2]), r_start), max(min(c_end, within[3]), c_start)
    return r_start, c_start, r_end, c_end


class _WindowInputs(NamedTuple):
    """What both per-pixel kernels take besides the DEM: the group's sweep, the (clipped)
    window's top-left grid pixel and shape, the pixel mask and the receiver heights."""

    sweep: _sweep.Sweep
    row: int
    col: int
    shape: tuple[int, int]
    mask: np.ndarray
    heights: np.ndarray


def _window_inputs(group: SweepGroup, dem: Dem, radio: RadioConfig,
                   within: tuple[int, int, int, int] | None, pixels: np.ndarray | None,
                   clutter: ClutterGrid | None) -> _WindowInputs:
    """The arguments of :func:`exact_window` and :func:`ray_window` checked and laid out
    for their kernels (empty arrays: all pixels, the handset height everywhere)."""
    sweep, r_start, c_start, n = _group_sweep(group, dem, radio)
    r_start, c_start, r_end, c_end = _clip(r_start, c_start, n, within)
    shape = (r_end - r_start, c_end - c_start)
    if pixels is not None and pixels.shape != shape:
        raise ValueError(f"pixels has shape {pixels.shape}, the window {shape}")
    mask = (np.zeros((0, 0), dtype=np.uint8) if pixels is None
            else np.ascontiguousarray(pixels, dtype=np.uint8))
    heights = (np.zeros((0, 0), dtype=np.float32) if clutter is None
               else np.ascontiguousarray(clutter.rx_heights(), dtype=np.float32))
    if clutter is not None and heights.shape != dem.shape:
        raise ValueError(f"the clutter grid has shape {heights.shape}, the DEM {dem.shape}")
    return _WindowInputs(sweep, r_start, c_start, shape, mask, heights)


def exact_window(group: SweepGroup, dem: Dem, radio: RadioConfig, *,
                 within: tuple[int, int, int, int] | None = None,
                 pixels: np.ndarray | None = None,
                 clutter: ClutterGrid | None = None, extra_steps: int = 0) -> PathLosses:
    """Path loss of every pixel of a group's window, each from its own straight profile.

    The exact per-pixel computation: the profile from the site to the pixel centre in
    ``ceil(d / pixel)`` equal steps (at most one pixel each), bilinear elevations, ending on
    the pixel's own elevation, and the configured model over it (the compiled kernels of
    the sweep: :func:`vncoverage._sweep.exact_window`). ``within`` (grid box ``row0, col0,
    row1, col1``, end-exclusive) restricts the window; ``pixels`` (bool, the restricted
    window's shape) chooses the pixels computed, the others are ``+inf``. ``clutter``: the
    path of a pixel whose clutter is above the handset ends at the clutter top
    (:meth:`~vncoverage.clutter.ClutterGrid.rx_heights`; :func:`with_clutter` then adds
    the §3.1 correction). ``extra_steps``: that many steps more per profile, an equally
    valid sampling of the same paths (how much the model's own discretisation moves the
    losses; the benchmark's and the accuracy test's reference). Not quantised:
    :func:`group_window` keeps these losses to 0.01 dB.
    """
    w = _window_inputs(group, dem, radio, within, pixels, clutter)
    loss, flags = _sweep.exact_window(dem.elevation, math.nan, w.sweep,
                                      ItmParams(**radio.itm_params), _sweep.J_TABLE, w.row,
                                      w.col, w.shape[0], w.shape[1], w.mask, w.heights,
                                      extra_steps)
    return PathLosses(w.row, w.col, loss, flags)


def ray_window(group: SweepGroup, dem: Dem, radio: RadioConfig, *,
               within: tuple[int, int, int, int] | None = None,
               pixels: np.ndarray | None = None,
               clutter: ClutterGrid | None = None) -> PathLosses:
    """:func:`exact_window` with ITM's terrain read on rays (:mod:`vncoverage._rays`): the
    same arguments and layout. Every pixel still ends its path on its own elevation at its
    exact distance, with the last :data:`~vncoverage._rays.TAIL` points before it on its own
    line; the terrain before them is read on the nearest of
    :func:`~vncoverage._rays.n_rays_for` rays, whose horizons, least-squares sums and
    mean elevation are kept incrementally, and Δh is interpolated between exact anchors.
    A pixel's value does not depend on which others are computed. ITM only."""
    if get_model(radio.model).name != "itm":
        raise ValueError(f"the ray kernel is ITM's, not {radio.model!r}: use exact_window")
    w = _window_inputs(group, dem, radio, within, pixels, clutter)
    loss, flags = _rays.ray_window(dem.elevation, w.sweep, ItmParams(**radio.itm_params),
                                   w.row, w.col, w.shape[0], w.shape[1], w.mask, w.heights,
                                   _rays.n_rays_for(group.radius_m, dem.pixel_m))
    return PathLosses(w.row, w.col, loss, flags)


def group_window(group: SweepGroup, dem: Dem, radio: RadioConfig, *,
                 cache: SweepCache | None = None, dem_fp: str | None = None,
                 within: tuple[int, int, int, int] | None = None,
                 method: str | None = None, pixels: np.ndarray | None = None,
                 clutter: ClutterGrid | None = None,
                 known: tuple[int, int, np.ndarray, np.ndarray] | None = None) -> GroupWindow:
    """The path losses of one group (or its packed losses from ``cache``) on its window,
    or only on the part of its window inside the grid box ``within`` (``row0, col0, row1,
    col1``, end-exclusive; the same pixel values, fewer of them).

    ``method`` (:data:`METHODS`): ``"profile"`` gives every pixel its own straight profile
    (:func:`exact_window`); ``"sweep"`` is the radial sweep read at the nearest radial
    sample, less accurate (``scripts/bench_propagation.py`` compares both with
    :func:`exact_window`).
    Path losses are kept to 0.01 dB (:data:`vncoverage._sweep.LOSS_SCALE`) whether fresh
    or cached, so both give identical rasters.

    ``pixels`` (bool, the shape of the box ``within``; ``"ray"`` or ``"profile"``):
    compute only those pixels, the others read as outside the radius (with a ``cache``:
    as far as its entry knows them). Each pixel has its own path, so a selected pixel's
    value is the one the whole window gives it (the site planner reads candidate sites at
    the village points this way, and a pruned run computes only the paths that can change
    its layers: :func:`compute_layers`).

    A ``cache`` entry holds a group's whole window, whose pixels not computed yet are
    :data:`~vncoverage._sweep.LOSS_PRUNED`: the pixels asked for (all of the box without
    ``pixels``) that it lacks are computed, and the entry is put back with them.
    ``known`` (with a ``cache``): paths the caller computed already, ``(row, col, q,
    flags)`` (a grid box's quantised losses, :func:`~vncoverage._sweep.quantize_window`,
    and flags, from the same group): those the entry lacks are taken, not computed.

    ``clutter`` (``"profile"`` only): the paths end at the clutter top where it is above
    the handset (:func:`exact_window`); the §3.1 correction itself is :func:`with_clutter`'s
    (:func:`clutter_window` does both: use it).
    """
    if method is None:
        method = path_method(radio)
    if pixels is not None and (method == "sweep" or within is None):
        raise ValueError("pixels needs method 'ray' or 'profile' and a box `within`")
    if method == "sweep":
        return _radial_group_window(group, dem, radio, cache=cache, dem_fp=dem_fp,
                                    within=within)
    if method not in ("ray", "profile"):
        raise ValueError(f"unknown method {method!r}: one of {METHODS}")
    sweep, r_start, c_start, n = _group_sweep(group, dem, radio)
    r_a, c_a, r_b, c_b = _clip(r_start, c_start, n, within)
    compute = ray_window if method == "ray" else exact_window
    if cache is None:
        exact = compute(group, dem, radio, within=within, pixels=pixels, clutter=clutter)
        q, qflags, q_row, q_col = (_sweep.quantize_window(exact.loss_db), exact.flags,
                                   exact.row, exact.col)
    else:
        key = group.fingerprint(radio, dem_fp or dem_fingerprint(dem), method,
                                clutter.heights_digest if clutter is not None else "")
        packed = cache.get(key)
        if packed is not None and packed[0].size != n * n:  # not this window's: recompute
            packed = None
        if packed is None:  # a new entry: no pixel of the window computed yet (those
            # beyond the radius become LOSS_OUTSIDE when first asked for)
            q = np.full((n, n), _sweep.LOSS_PRUNED, dtype=np.int16)
            qflags = np.zeros((n, n), dtype=np.uint32)
        else:
            q, qflags = packed[0].reshape(n, n), packed[1].reshape(n, n)
        dirty = False
        if known is not None:
            k_row, k_col, k_q, k_flags = known
            sub = (slice(k_row - r_start, k_row - r_start + k_q.shape[0]),
                   slice(k_col - c_start, k_col - c_start + k_q.shape[1]))
            take = ((k_q != _sweep.LOSS_OUTSIDE) & (k_q != _sweep.LOSS_PRUNED)
                    & (q[sub] == _sweep.LOSS_PRUNED))
            if take.any():
                q, qflags, dirty = q.copy(), qflags.copy(), True
                q[sub][take] = k_q[take]
                qflags[sub][take] = k_flags[take]
        box = (slice(r_a - r_start, r_b - r_start), slice(c_a - c_start, c_b - c_start))
        missing = q[box] == _sweep.LOSS_PRUNED
        if pixels is not None:
            missing &= pixels
        if missing.any():
            whole = packed is None and pixels is None and known is None
            fresh = compute(group, dem, radio, within=(r_a, c_a, r_b, c_b),
                            pixels=None if whole else missing, clutter=clutter)
            if not dirty:
                q, qflags, dirty = q.copy(), qflags.copy(), True
            q[box][missing] = _sweep.quantize_window(fresh.loss_db)[missing]
            qflags[box][missing] = fresh.flags[missing]
        if dirty:
            cache.put(key, q.ravel(), qflags.ravel())
        q_row, q_col = r_start, c_start
    z_site = _sweep.bilinear(dem.elevation, math.nan, sweep.row0, sweep.col0)
    pwin, azwin, thwin, wflags = _sweep.profile_window(
        q, qflags, q_row, q_col, sweep, dem.elevation, math.nan, r_a, c_a, r_b - r_a,
        c_b - c_a, float(z_site) + group.height_m)
    return GroupWindow(r_a, c_a, pwin, azwin, thwin, wflags)


def _radial_group_window(group: SweepGroup, dem: Dem, radio: RadioConfig, *,
                         cache: SweepCache | None = None, dem_fp: str | None = None,
                         within: tuple[int, int, int, int] | None = None) -> GroupWindow:
    """:func:`group_window` by the radial sweep (``method="sweep"``)."""
    elev = dem.elevation
    sweep, r_start, c_start, n = _group_sweep(group, dem, radio)
    packed = None
    key = ""
    if cache is not None:
        key = group.fingerprint(radio, dem_fp or dem_fingerprint(dem), "sweep")
        packed = cache.get(key)
    if packed is None:
        needed = _sweep.needed_samples(sweep, r_start, c_start, n, n)
        loss, lflags = _sweep.radial_losses(elev, math.nan, sweep, ItmParams(**radio.itm_params),
                                            _sweep.J_TABLE, needed)
        packed = _sweep.pack_losses(loss, lflags, 1.0)
        if cache is not None:
            cache.put(key, *packed)
    z_site = _sweep.bilinear(elev, math.nan, sweep.row0, sweep.col0)
    r_start, c_start, r_end, c_end = _clip(r_start, c_start, n, within)
    pwin, azwin, thwin, wflags = _sweep.path_window(
        packed[0], packed[1], sweep, elev, math.nan, r_start, c_start, r_end - r_start,
        c_end - c_start, float(z_site) + group.height_m)
    if not math.isfinite(z_site):  # site on DEM nodata: everything unknown
        pwin[np.isfinite(pwin)] = np.nan
        wflags |= _sweep.FLAG_NODATA
    return GroupWindow(r_start, c_start, pwin, azwin, thwin, wflags)


#: Cell columns a raster needs beyond the sweep (see :func:`cell_raster`).
_CELL_FIELDS = ("technology", "operator", "eirp_dbm", "bandwidth_mhz", "azimuth_deg",
                "tilt_deg", "mechanical_tilt_deg")


def _cell_records(cells: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per cell id, the values :func:`cell_raster` needs (one pass over the table)."""
    cols = {c: cells[c].to_numpy() for c in _CELL_FIELDS}
    return {str(cid): {c: cols[c][k] for c in _CELL_FIELDS}
            for k, cid in enumerate(cells.index)}


def with_clutter(win: GroupWindow, clutter: ClutterGrid | None, frequency_mhz: float,
                 extra: np.ndarray | None = None) -> GroupWindow:
    """``win`` with the clutter loss at the receiver (ITU-R P.2108 §3.1 on the land cover,
    :class:`~vncoverage.clutter.ClutterGrid`) added to every pixel's path loss; ``win``
    itself without clutter. A separate step after the sweep: the sweeps (and their cache)
    stay those of bare terrain. ``extra``: :meth:`ClutterGrid.window` on ``win``'s window
    at ``frequency_mhz``, when the caller has it already."""
    if clutter is None:
        return win
    n_rows, n_cols = win.loss_db.shape
    if extra is None:
        extra = clutter.window(win.row, win.col, n_rows, n_cols, frequency_mhz)
    return dataclasses.replace(win, loss_db=(win.loss_db + extra).astype(win.loss_db.dtype))


def clutter_window(group: SweepGroup, dem: Dem, radio: RadioConfig,
                   clutter: ClutterGrid | None, extra: np.ndarray | None = None,
                   **kwargs: Any) -> GroupWindow:
    """A group's window with clutter as ITU-R P.2108 §3.1 intends: the paths to the clutter
    top (:func:`group_window` with ``clutter``) and the terminal correction added
    (:func:`with_clutter`); :func:`group_window` alone without clutter. ``kwargs``: those
    of :func:`group_window`. Every reader of the levels (layers, point matrix, explain)
    goes through here, so they agree."""
    if clutter is None:
        return group_window(group, dem, radio, **kwargs)
    if kwargs.get("method") == "sweep":
        raise ValueError("clutter needs per-pixel paths (method 'ray' or 'profile')")
    return with_clutter(group_window(group, dem, radio, clutter=clutter, **kwargs), clutter,
                        group.frequency_mhz, extra)


def cell_raster(cell_id: str, cell: Mapping[str, Any], win: GroupWindow,
                radio: RadioConfig) -> CellRaster:
    """One cell's received level from its group's window: EIRP per resource element +
    antenna gain - path loss. ``cell`` is a row of the cell table (or a mapping with the
    same keys)."""
    level0, omni, az, etilt, mtilt = _cell_antenna(cell, radio)
    window = _sweep.apply_antenna(
        win.loss_db, win.az_deg, win.theta_deg, level0, omni, az, etilt, mtilt,
        radio.h_beamwidth_deg, radio.v_beamwidth_deg, radio.front_to_back_db,
        radio.vertical_sidelobe_db)
    return CellRaster(cell_id, win.row, win.col, window, win.flags)


def _cell_antenna(cell: Mapping[str, Any],
                  radio: RadioConfig) -> tuple[float, bool, float, float, float]:
    """What :func:`cell_raster` adds to a path loss, per cell: the EIRP per resource
    element, whether the antenna is omni, its azimuth, electrical and mechanical tilt."""
    tech = str(cell["technology"])
    level0 = float(cell["eirp_dbm"]) + per_re_offset_db(tech, float(cell["bandwidth_mhz"]),
                                                        radio.cpich_fraction_db)
    az = cell["azimuth_deg"]
    omni = bool(pd.isna(az))
    return (level0, omni, 0.0 if omni else float(az), float(cell["tilt_deg"]),
            float(cell["mechanical_tilt_deg"]))


def domain_note(warning: Warning | str) -> Message:
    """The report's note of a warning raised while computing the layers: the
    :class:`~vncoverage.i18n.Message` of a model-domain warning (:func:`_domain_check`);
    any other warning's text, introduced as a warning in Vietnamese."""
    text = warning.args[0] if isinstance(warning, Warning) and warning.args else warning
    if isinstance(text, Message):
        return text
    return Message("coverage.warning", text=str(text))


def _domain_check(cells: pd.DataFrame, radio: RadioConfig) -> None:
    """Warn (ModelDomainWarning) about cells whose frequency or antenna height is outside
    the model's domain; checked once per distinct (frequency, height)."""
    model = get_model(radio.model)
    fh = cells.groupby(["frequency_mhz", "height_m"]).size().rename("n").reset_index()
    out_of_domain = sum(
        int(n) for f, h, n in fh.itertuples(index=False)
        if model.domain.violations(freq_mhz=float(f), h_tx_m=float(h), h_rx_m=radio.rx_height_m,
                                   distance_m=None))
    if out_of_domain:
        msg = Message("coverage.domain", n=out_of_domain, model=model.name)
        warnings.warn(msg, ModelDomainWarning, stacklevel=3)
        log.warning(msg)


def cell_rasters(
    cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    progress: bool = False,
    cache: SweepCache | None = None,
    clutter: ClutterGrid | None = None,
) -> Iterable[CellRaster]:
    """Yield the received-level raster of every cell.

    The order groups cells that share a sweep (folding does not depend on order). Cells that
    share a site position, antenna height, frequency and radius share one radial
    sweep of path loss; only the antenna pattern is applied per cell. With a ``cache``,
    sweeps found there are not recomputed and new ones are stored.

    Parameters
    ----------
    cells
        Cell table as returned by :func:`vncoverage.fileio.read_cells` (working CRS).
    dem
        DEM in the same CRS.
    radio
        Radio parameters (model, radius per technology, receiver height, antenna pattern).
    clutter
        The clutter loss at the receiver to add (:func:`with_clutter`), or None.
    """
    sel = cells[cells["technology"].isin(radio.technologies)]
    groups = sweep_groups(sel, radio)
    records = _cell_records(sel)
    dem_fp = dem_fingerprint(dem) if cache is not None else None
    bar = tqdm(total=len(sel), desc="cells", unit="cell", disable=not progress)
    for g in groups:
        win = clutter_window(g, dem, radio, clutter, cache=cache, dem_fp=dem_fp)
        for cid in g.cell_ids:
            bar.update(1)
            yield cell_raster(cid, records[cid], win, radio)
    bar.close()
    if len(sel):
        _domain_check(sel, radio)


def set_threads(threads: int) -> None:
    """Use ``threads`` numba threads (0 = all cores)."""
    max_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    numba.set_num_threads(min(threads, max_threads) if threads else max_threads)


def compute_layers(
    cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    threads: int = 0,
    progress: bool = False,
    cache: SweepCache | None = None,
    clutter: ClutterGrid | None = None,
    on_raster: Callable[[CellRaster], None] | None = None,
    prune: bool = False,
    keep: tuple[np.ndarray, np.ndarray] | None = None,
    stats: dict[str, int] | None = None,
) -> Layers:
    """Best-server layers for every technology in ``radio.technologies`` and every operator.

    Server indexes refer to ``Layers.cell_ids``, the cell ids in sorted order, so that the
    layers do not depend on the order of the cell table.

    Parameters
    ----------
    cells
        Cell table (working CRS); cells of other technologies are ignored.
    threads
        Numba threads (0 = all cores). With ``prune``, that many sweep groups are
        computed at once, each on one thread (:func:`group_lanes`): the same layers.
    cache
        Optional store of sweeps (see :class:`SweepCache`).
    clutter
        The clutter loss at the receiver to add (:func:`with_clutter`), or None.
    on_raster
        Called with every cell raster as it is folded (e.g. a
        :class:`vncoverage.pointlevels.PointCollector` reading it on chosen points), or None.
    prune
        Leave out the paths that provably cannot change the layers (:mod:`vncoverage._prune`:
        a level bound below the best level found so far). The layers are the same to the
        bit; the cell rasters are not whole (left-out pixels read as out of reach; a
        ``cache`` keeps them as not computed, :func:`group_window` computes them when
        asked), and ``on_raster`` sees every pixel of ``keep`` only.
    keep
        Grid rows and columns whose paths are always computed with ``prune`` (the points an
        ``on_raster`` collector reads); needed with ``prune`` and ``on_raster``.
    stats
        Filled with ``paths`` (pixel-group paths within reach) and ``evaluated`` (those
        computed), or None.
    """
    if prune and on_raster is not None and keep is None:
        raise ValueError("prune with on_raster needs `keep`, the pixels on_raster reads")
    set_threads(threads)
    operators = sorted(cells["operator"].unique())
    layers = new_layers(dem, radio.technologies, operators, sorted(map(str, cells.index)))
    pos = {cid: k for k, cid in enumerate(layers.cell_ids)}
    tech_of = dict(zip(map(str, cells.index), map(str, cells["technology"]), strict=True))
    op_of = dict(zip(map(str, cells.index), map(str, cells["operator"]), strict=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelDomainWarning)
        lanes = group_lanes(threads) if prune else 1
        rasters = (_pruned_rasters(cells, dem, radio, layers, clutter, keep, progress, stats,
                                   cache, lanes)
                   if prune else _whole_rasters(cells, dem, radio, progress, cache, clutter,
                                                stats))
        if lanes > 1:  # the groups' lanes take the cores; the folds here take one
            set_threads(1)
        try:
            for r, whole in rasters:
                layers.get(tech_of[r.cell_id], op_of[r.cell_id]).fold(r, pos[r.cell_id])
                if on_raster is not None and whole:
                    on_raster(r)
        finally:
            set_threads(threads)
        # each "any" layer is its operators' layers folded together: the same arrays as
        # folding every raster into it too, for one fold per raster instead of two
        for tech in radio.technologies:
            for op in operators:
                layers.get(tech, ANY).merge(layers.get(tech, op))
    for w in caught:  # keep domain warnings for the report, and pass them on
        layers.notes.append(domain_note(w.message))
        warnings.warn(str(w.message), w.category, stacklevel=2)
    return layers


def _whole_rasters(cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig, progress: bool,
                   cache: SweepCache | None, clutter: ClutterGrid | None,
                   stats: dict[str, int] | None) -> Iterator[tuple[CellRaster, bool]]:
    """:func:`cell_rasters`, each raster whole (``True``); ``stats``: every path within
    reach is evaluated (or read from ``cache``)."""
    for r in cell_rasters(cells, dem, radio, progress=progress, cache=cache, clutter=clutter):
        yield r, True
    if stats is not None:
        paths = sum(_reach(g, dem, radio)
                    for g in sweep_groups(cells[cells["technology"].isin(radio.technologies)],
                                          radio))
        stats.update(paths=paths, evaluated=paths)


#: With ``prune``, the pixels nearer to a site than this share of its radius are computed
#: first for every group: the strongest server of a pixel is mostly a near one, and the
#: levels found there are what the bound of the farther paths is tested against. On the
#: sample at 90 m (10 km radius, the per-radius variability bound) the shares 0.2, 0.25,
#: 0.3 and 0.4 left 41.0 %, 38.2 %, 36.6 % and 37.1 % of the paths to evaluate.
NEAR_SHARE = 0.3


def _disk(sweep: _sweep.Sweep, box: tuple[int, int, int, int], d_m: float) -> np.ndarray:
    """The pixels of the grid box ``row0, col0, row1, col1`` within ``d_m`` of the site,
    by the kernels' own distance."""
    rows = np.arange(box[0], box[2], dtype=float)[:, None]
    cols = np.arange(box[1], box[3], dtype=float)[None, :]
    dy = (sweep.row0 - rows) * sweep.pixel_m
    dx = (cols - sweep.col0) * sweep.pixel_m
    return np.sqrt(dx * dx + dy * dy) <= d_m


def _reach(g: SweepGroup, dem: Dem, radio: RadioConfig) -> int:
    """The pixels of the grid within a group's radius: its paths."""
    sweep, r0, c0, n = _group_sweep(g, dem, radio)
    box = _clip(r0, c0, n, (0, 0, dem.shape[0], dem.shape[1]))
    if box[2] <= box[0] or box[3] <= box[1]:
        return 0
    return int(_disk(sweep, box, g.radius_m).sum())


def group_lanes(threads: int) -> int:
    """How many sweep groups a pruned computation runs at once, each kernel on one numba
    thread: the threads asked for (0: all cores), when numba's threading layer lets
    several threads launch kernels at the same time (OpenMP or TBB); else 1, and the
    kernels share the threads within each group."""
    max_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    lanes = min(threads, max_threads) if threads else max_threads
    if lanes > 1 and _sweep.threading_layer() not in ("omp", "tbb"):
        return 1
    return lanes


_T = TypeVar("_T")
_R = TypeVar("_R")


def in_lanes(fn: Callable[[_T], _R], items: Iterable[_T], lanes: int) -> Iterator[_R]:
    """``fn`` over ``items``, results in order. With ``lanes`` > 1, on that many threads
    (each on one numba thread, the kernels release the GIL), ``lanes + 1`` items ahead so
    that every lane is busy while the caller handles a result; an item is drawn from
    ``items`` only after the caller has handled the result ``lanes + 1`` before it, so a
    lazy ``items`` sees exactly the results handled so far (whatever the threads' timing).
    With one lane, each item is drawn and computed here, after the previous result."""
    if lanes <= 1:
        for x in items:
            yield fn(x)
        return
    it = iter(items)
    with ThreadPoolExecutor(lanes, thread_name_prefix="vnc-group", initializer=set_threads,
                            initargs=(1,)) as pool:
        pending = deque(pool.submit(fn, x) for x in itertools.islice(it, lanes + 1))
        try:
            while pending:
                result = pending.popleft().result()
                yield result
                pending.extend(pool.submit(fn, x) for x in itertools.islice(it, 1))
        finally:
            for f in pending:
                f.cancel()


@dataclass(frozen=True)
class _FarGroup:
    """A pruned group's second pass: its sweep and whole window, the variability bound,
    the pixels the first computed (the near disk: the grid row and column of its box and
    its mask) and, with a cache, their paths (for the group's entry; else None)."""

    group: SweepGroup
    sweep: _sweep.Sweep
    row: int
    col: int
    n: int
    bonus_db: float
    #: grid row and column of the near box, and of the known paths' box (None: no cache)
    near_at: tuple[int, int]
    known_at: tuple[int, int] | None
    #: the near box's mask, then (with a cache) the known paths' quantised losses and
    #: flags, parked until the far pass (:func:`vncoverage._grids.park`: in a run's grid
    #: memory, out of the process meanwhile)
    parked: _grids.Parked

    def take(self) -> tuple[np.ndarray, tuple[int, int, np.ndarray, np.ndarray] | None]:
        """The near disk on the whole window (uint8: the paths the far pass has) and the
        known paths for :func:`group_window` (or None)."""
        mask, *kept = self.parked.take()
        out = np.zeros((self.n, self.n), dtype=np.uint8)
        r, c = self.near_at
        out[r - self.row:r - self.row + mask.shape[0],
            c - self.col:c - self.col + mask.shape[1]] = mask
        known = ((*self.known_at, kept[0], kept[1]) if self.known_at is not None
                 else None)
        return out, known


class _GroupPass(NamedTuple):
    """What one group's pass gives the fold: its cells' rasters, whether they are whole on
    ``keep``, the paths it evaluated and its paths within reach (counted in this pass),
    the pass's progress and, after a near pass, the group's far pass (or None)."""

    rasters: list[CellRaster]
    whole: bool
    evaluated: int
    paths: int
    progress: int
    far: _FarGroup | None = None


def _pruned_rasters(cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig, layers: Layers,
                    clutter: ClutterGrid | None, keep: tuple[np.ndarray, np.ndarray] | None,
                    progress: bool, stats: dict[str, int] | None,
                    cache: SweepCache | None = None,
                    lanes: int = 1) -> Iterator[tuple[CellRaster, bool]]:
    """The rasters of :func:`compute_layers` with ``prune`` (:mod:`vncoverage._prune`),
    each with whether it is whole on ``keep`` (what ``on_raster`` may read).

    First every group's near disk (:data:`NEAR_SHARE` of its radius), and the whole window
    of the groups that cannot be pruned; then, group by group, the farther pixels whose
    level bound reaches the best level folded so far in the cell's own operator layer, and
    the ``keep`` pixels. Folding is order-free (maximum, lowest index on ties), a pixel's
    path does not depend on which others are computed, and a near ``keep`` pixel folded
    twice folds the same value (no path of a pruned group is unknown), so the layers are
    those of :func:`cell_rasters`.

    ``lanes`` groups are computed at once (:func:`in_lanes`). A far pass's best levels
    are copied when it is drawn, after the fold of every group drawn ``lanes + 1`` before
    it: a level only rises as rasters fold, so an earlier copy bounds less tightly and
    leaves out nothing that could matter; and which rasters are folded at that point does
    not depend on the threads' timing, so neither do the paths evaluated."""
    sel = cells[cells["technology"].isin(radio.technologies)]
    records = _cell_records(sel)
    params = ItmParams(**radio.itm_params)
    dem_fp = dem_fingerprint(dem) if cache is not None else None
    itm = get_model(radio.model).name == "itm"
    k_rows = np.zeros(0, np.int64) if keep is None else np.asarray(keep[0], np.int64)
    k_cols = np.zeros(0, np.int64) if keep is None else np.asarray(keep[1], np.int64)
    order = np.argsort(k_rows, kind="stable")
    k_rows, k_cols = k_rows[order], k_cols[order]

    def rasters(g: SweepGroup, win: GroupWindow) -> list[CellRaster]:
        return [cell_raster(cid, records[cid], win, radio) for cid in g.cell_ids]

    def near_pass(g: SweepGroup) -> _GroupPass:
        sweep, r0, c0, n = _group_sweep(g, dem, radio)
        bonus = (_prune.variability_bonus_db(params, g.frequency_mhz,
                                             max(g.radius_m, 0.5 * dem.pixel_m)) if itm
                 else None)
        if bonus is None or not _prune.prunable_group(dem.elevation, sweep, params, r0, c0, n):
            win = clutter_window(g, dem, radio, clutter, cache=cache, dem_fp=dem_fp)
            reach = _reach(g, dem, radio)
            return _GroupPass(rasters(g, win), True, reach, reach, 2 * len(g.cell_ids))
        half = int(math.ceil(NEAR_SHARE * g.radius_m / dem.pixel_m)) + 1
        rc, cc = int(round(sweep.row0)), int(round(sweep.col0))
        box = _clip(rc - half, cc - half, 2 * half + 1, (r0, c0, r0 + n, c0 + n))
        near = _disk(sweep, box, NEAR_SHARE * g.radius_m)
        bare = group_window(g, dem, radio, within=box, pixels=near, clutter=clutter)
        # with a cache the near paths go into the group's entry once, with the far ones
        # (the window's losses are kept to 0.01 dB: quantising them again gives them back)
        known = (() if cache is None else
                 (_sweep.quantize_window(bare.loss_db), bare.flags))
        far = _FarGroup(g, sweep, r0, c0, n, float(bonus), (box[0], box[1]),
                        (bare.row, bare.col) if cache is not None else None,
                        _grids.park(near, *known))
        win = with_clutter(bare, clutter, g.frequency_mhz)
        return _GroupPass(rasters(g, win), False, int(near.sum()), 0, len(g.cell_ids), far)

    def far_passes(todo: list[_FarGroup]) -> Iterator[tuple[_FarGroup, list[tuple[str, str]],
                                                          np.ndarray]]:
        for f in todo:  # drawn lazily: the best levels folded so far (see above)
            keys = sorted({(str(records[c]["technology"]), str(records[c]["operator"]))
                           for c in f.group.cell_ids})
            best = np.stack([layers.get(*k).best_dbm[f.row:f.row + f.n, f.col:f.col + f.n]
                             for k in keys])
            yield f, keys, best

    def far_pass(item: tuple[_FarGroup, list[tuple[str, str]], np.ndarray]) -> _GroupPass:
        f, keys, best = item
        g, r0, c0, n = f.group, f.row, f.col, f.n
        recs = [records[cid] for cid in g.cell_ids]
        level0, omni, azimuth, etilt, mtilt = (
            np.array(v) for v in zip(*(_cell_antenna(r, radio) for r in recs), strict=True))
        plane = np.array([keys.index((str(r["technology"]), str(r["operator"])))
                          for r in recs])
        extra = (clutter.window(r0, c0, n, n, g.frequency_mhz) if clutter is not None
                 else np.zeros((0, 0), np.float32))
        z_tx = float(_sweep.bilinear(dem.elevation, math.nan, f.sweep.row0, f.sweep.col0))
        done, known = f.take()
        need, reach = _prune.needed_pixels(
            dem.elevation, f.sweep, r0, c0, n, n, z_tx + g.height_m, extra, f.bonus_db,
            level0, omni, azimuth, etilt, mtilt, plane, best, radio.h_beamwidth_deg,
            radio.v_beamwidth_deg, radio.front_to_back_db, radio.vertical_sidelobe_db,
            done)
        a, b = np.searchsorted(k_rows, [r0, r0 + n])
        kr, kc = k_rows[a:b] - r0, k_cols[a:b] - c0
        inside = (kc >= 0) & (kc < n)
        need[kr[inside], kc[inside]] = 1
        win = clutter_window(g, dem, radio, clutter, extra if clutter is not None else None,
                             within=(r0, c0, r0 + n, c0 + n), pixels=need.astype(bool),
                             cache=cache, dem_fp=dem_fp, known=known)
        return _GroupPass(rasters(g, win), True, int(need.sum()), int(reach), len(g.cell_ids))

    bar = tqdm(total=2 * len(sel), desc="cells", unit="pass", disable=not progress)
    evaluated = paths = 0
    later = []
    try:
        for p in in_lanes(near_pass, sweep_groups(sel, radio), lanes):
            evaluated, paths = evaluated + p.evaluated, paths + p.paths
            if p.far is not None:
                later.append(p.far)
            bar.update(p.progress)
            for r in p.rasters:
                yield r, p.whole
        for p in in_lanes(far_pass, far_passes(later), lanes):
            evaluated, paths = evaluated + p.evaluated, paths + p.paths
            bar.update(p.progress)
            for r in p.rasters:
                yield r, p.whole
    finally:
        bar.close()
    if len(sel):
        _domain_check(sel, radio)
    if stats is not None:
        stats.update(paths=paths, evaluated=evaluated)


@dataclass(frozen=True)
class LayerUpdate:
    """What :func:`update_layers` changed: cell ids added, changed and removed; per cell,
    the grid windows ``(row0, col0, row1, col1)`` (end-exclusive) it reaches (old and new);
    and ``changed_boxes``, the bounding boxes (same convention) of the pixels whose best
    level, server, unknown count or flags actually differ afterwards in some layer (inside
    those windows, often much smaller: a new cell only changes the pixels it now serves)."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    windows_by_cell: dict[str, list[tuple[int, int, int, int]]]
    changed_boxes: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


#: Cell columns that determine a cell's raster and layers.
RASTER_COLUMNS = ("technology", "operator", "frequency_mhz", "bandwidth_mhz", "height_m",
                  "azimuth_deg", "tilt_deg", "mechanical_tilt_deg", "eirp_dbm")


def _cell_signature(cells: gpd.GeoDataFrame) -> pd.Series:
    """One comparable string per cell of everything that determines its raster."""
    cols: dict[str, pd.Series] = {}
    for c in RASTER_COLUMNS:
        v = cells[c]
        if pd.api.types.is_numeric_dtype(v):
            cols[c] = v.astype("float64")  # int in one file, float in another: same cell
        else:
            cols[c] = v.astype(object).where(v.notna(), "").map(str)
    df = pd.DataFrame(cols)
    df["x"] = np.round(cells.geometry.x.to_numpy(), 2)
    df["y"] = np.round(cells.geometry.y.to_numpy(), 2)
    out = pd.util.hash_pandas_object(df, index=False)
    out.index = cells.index.astype(str)
    return out


def diff_cells(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame,
               radio: RadioConfig) -> tuple[list[str], list[str], list[str]]:
    """Cell ids ``(added, changed, removed)`` between two cell tables, counting only
    technologies in ``radio.technologies``."""
    old = old[old["technology"].isin(radio.technologies)]
    new = new[new["technology"].isin(radio.technologies)]
    so, sn = _cell_signature(old), _cell_signature(new)
    added = sorted(set(sn.index) - set(so.index))
    removed = sorted(set(so.index) - set(sn.index))
    both = sorted(set(sn.index) & set(so.index))
    differs = so.reindex(both).to_numpy() != sn.reindex(both).to_numpy()
    changed = [c for c, d in zip(both, differs, strict=True) if d]
    return added, changed, removed


def _cell_windows(cells: gpd.GeoDataFrame, dem: Dem,
                  radio: RadioConfig) -> dict[str, tuple[int, int, int, int]]:
    """The grid window each cell's raster covers, clipped to the grid, end-exclusive
    ``(row0, col0, row1, col1)``."""
    if not len(cells):
        return {}
    radius = np.array([radio.max_radius_m[str(t)] for t in cells["technology"]])
    col = (cells.geometry.x.to_numpy() - dem.transform.c) / dem.transform.a - 0.5
    row = (cells.geometry.y.to_numpy() - dem.transform.f) / dem.transform.e - 0.5
    half = np.ceil(radius / dem.pixel_m).astype(np.int64) + 1
    rs = np.round(row).astype(np.int64) - half
    cs = np.round(col).astype(np.int64) - half
    nr, nc = dem.shape
    r0, c0 = np.maximum(rs, 0), np.maximum(cs, 0)
    r1, c1 = np.minimum(rs + 2 * half + 1, nr), np.minimum(cs + 2 * half + 1, nc)
    return {str(cid): (int(a), int(b), int(c), int(d))
            for cid, a, b, c, d in zip(cells.index, r0, c0, r1, c1, strict=True)}


Window = tuple[int, int, int, int]
LayerKey = tuple[str, str]


def update_layers(
    layers: Layers,
    old_cells: gpd.GeoDataFrame,
    new_cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    cache: SweepCache | None = None,
    threads: int = 0,
    progress: bool = False,
    clutter: ClutterGrid | None = None,
    on_raster: Callable[[CellRaster], None] | None = None,
) -> LayerUpdate:
    """Bring ``layers`` (computed for ``old_cells``) to ``new_cells``, in place, computing
    only what changed.

    A removed or changed cell leaves every layer it belonged to: its unknown-path counts
    are taken off (from its old raster, rebuilt from its cached sweep), and the pixels it
    served are recomputed from the rasters of the unchanged cells that reach them (their
    sweeps come from ``cache`` when there); elsewhere the best server stays what it was.
    Added cells and the new rasters of changed cells are then folded in. Server indexes are
    renumbered to the new sorted cell ids. The result equals :func:`compute_layers` on
    ``new_cells`` (with the same ``clutter``, which must be the one ``layers`` were
    computed with). ``on_raster`` is called with the new raster of every added and
    changed cell (see :func:`compute_layers`; the caller forgets the removed cells).
    """
    set_threads(threads)
    added, changed, removed = diff_cells(old_cells, new_cells, radio)
    job = _LayerUpdateJob(layers, old_cells, new_cells, dem, radio, cache,
                          stale=removed + changed, fresh=added + changed, clutter=clutter)
    job.on_raster = on_raster
    before = job.touched_states()
    bar = tqdm(total=len(removed) + 2 * len(changed) + len(added), desc="update", unit="cell",
               disable=not progress)
    regions = job.take_out_stale(bar)
    job.refill(regions)
    job.fold_fresh(bar)
    bar.close()
    job.tidy()
    return LayerUpdate(tuple(added), tuple(changed), tuple(removed), job.windows_by_cell,
                       job.changed_boxes(before))


class _LayerUpdateJob:
    """The state of one :func:`update_layers` call: the cells that go (``stale``: removed
    and changed, with their old rows) and come (``fresh``: added and changed, with their new
    rows), their windows and sweep groups, and the group windows mapped so far."""

    def __init__(self, layers: Layers, old_cells: gpd.GeoDataFrame,
                 new_cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig,
                 cache: SweepCache | None, *, stale: list[str], fresh: list[str],
                 clutter: ClutterGrid | None = None) -> None:
        self.layers, self.dem, self.radio, self.cache = layers, dem, radio, cache
        self.clutter = clutter
        self.new_cells = new_cells
        self.stale, self.fresh = stale, fresh
        self.old_windows = _cell_windows(old_cells.loc[stale], dem, radio)
        self.old_records = _cell_records(old_cells.loc[stale])
        # the pixels each stale cell serves, found before the servers are renumbered
        self.served = self._served()
        self.new_pos = self._renumber(sorted(map(str, new_cells.index)))
        sel_new = new_cells[new_cells["technology"].isin(radio.technologies)]
        self.sel_new = sel_new
        self.records = _cell_records(sel_new)
        self.cur_windows = _cell_windows(sel_new, dem, radio)
        self.group_of = {cid: g for g in sweep_groups(sel_new, radio) for cid in g.cell_ids}
        self.old_group_of = {cid: g for g in sweep_groups(old_cells.loc[stale], radio)
                             for cid in g.cell_ids}
        self.dem_fp = dem_fingerprint(dem) if cache is not None else None
        self.win_cache: dict[tuple[SweepGroup, Window | None], GroupWindow] = {}
        self.windows_by_cell: dict[str, list[Window]] = {}
        self.on_raster: Callable[[CellRaster], None] | None = None

    @staticmethod
    def keys_of(row: Mapping[str, Any]) -> tuple[LayerKey, LayerKey]:
        """The two layers a cell belongs to: its technology's ``any`` and its operator's."""
        return (str(row["technology"]), ANY), (str(row["technology"]), str(row["operator"]))

    def _served(self) -> dict[tuple[str, LayerKey], np.ndarray]:
        """Per stale cell and layer, the mask of the pixels of its window it serves."""
        old_pos = {cid: k for k, cid in enumerate(self.layers.cell_ids)}
        served = {}
        for cid in self.stale:
            r0, c0, r1, c1 = self.old_windows[cid]
            for key in self.keys_of(self.old_records[cid]):
                served[(cid, key)] = (self.layers.layers[key].server[r0:r1, c0:c1]
                                      == old_pos[cid])
        return served

    def _renumber(self, new_ids: list[str]) -> dict[str, int]:
        """Renumber the servers to the new sorted cell ids (the relative order of kept
        cells is unchanged) and add empty layers for new operators; the new positions."""
        layers = self.layers
        remap = np.full(len(layers.cell_ids) + 1, -1, dtype=np.int32)
        new_pos = {cid: k for k, cid in enumerate(new_ids)}
        for k, cid in enumerate(layers.cell_ids):
            remap[k] = new_pos.get(cid, -1)
        for operator in sorted(set(self.new_cells["operator"]) - set(layers.operators)):
            extra = new_layers(self.dem, self.radio.technologies, [operator], [])
            for key, lay in extra.layers.items():
                layers.layers.setdefault(key, lay)
        for lay in layers.layers.values():
            srv = lay.server
            srv[...] = np.where(srv >= 0, remap[srv], -1)
        layers.cell_ids = new_ids
        return new_pos

    def raster(self, cid: str, record: Mapping[str, Any] | None = None,
               within: Window | None = None) -> CellRaster:
        """A current cell's raster, or (with its old ``record``) a stale cell's old one;
        only its part inside the box ``within`` when given."""
        g = self.group_of[cid] if record is None else self.old_group_of[cid]
        if (g, within) not in self.win_cache:
            self.win_cache[(g, within)] = clutter_window(
                g, self.dem, self.radio, self.clutter, cache=self.cache, dem_fp=self.dem_fp,
                within=within)
        return cell_raster(cid, self.records[cid] if record is None else record,
                           self.win_cache[(g, within)], self.radio)

    def touched_states(self) -> dict[tuple[LayerKey, Window], tuple[np.ndarray, ...]]:
        """What every (layer, window) the update touches holds now, to find the pixels
        that really change."""
        touched: dict[tuple[LayerKey, Window], None] = {}
        for cid in self.stale:
            for key in self.keys_of(self.old_records[cid]):
                touched[(key, self.old_windows[cid])] = None
        for cid in self.fresh:
            for key in self.keys_of(self.records[cid]):
                touched[(key, self.cur_windows[cid])] = None
        return {kw: _window_state(self.layers.layers[kw[0]], kw[1]) for kw in touched
                if kw[0] in self.layers.layers}

    def take_out_stale(self, bar: Any) -> dict[LayerKey, list[Window]]:
        """Each stale cell leaves its layers: its unknown paths are no longer counted and
        the pixels it served are emptied. Returns, per layer, the boxes emptied."""
        regions: dict[LayerKey, list[Window]] = {}
        for cid in self.stale:
            win = self.old_windows[cid]
            self.windows_by_cell.setdefault(cid, []).append(win)
            r0, c0, r1, c1 = win
            old = self.raster(cid, self.old_records[cid])
            nan = np.isnan(old.level_dbm[r0 - old.row:r1 - old.row, c0 - old.col:c1 - old.col])
            for key in self.keys_of(self.old_records[cid]):
                lay = self.layers.layers[key]
                lay.unknown[r0:r1, c0:c1][nan] -= 1
                box = _empty_served(lay, win, self.served[(cid, key)])
                if box is not None:
                    regions.setdefault(key, []).append(box)
            bar.update(1)
        return regions

    def refill(self, regions: Mapping[LayerKey, list[Window]]) -> None:
        """Fold the unchanged cells that reach an emptied box in again: the maximum does
        not change where they were already folded, and their unknown paths are already
        counted (they go to a scratch array)."""
        fresh = set(self.fresh)
        for key, boxes in regions.items():
            tech, op = key
            lay = self.layers.layers[key]
            for a0, b0, a1, b1 in boxes:
                scratch = np.zeros((a1 - a0, b1 - b0), dtype=np.uint32)
                for other, (o0, p0, o1, p1) in self.cur_windows.items():
                    if o0 >= a1 or o1 <= a0 or p0 >= b1 or p1 <= b0 or other in fresh:
                        continue
                    row = self.records[other]
                    if str(row["technology"]) != tech or op not in (ANY, str(row["operator"])):
                        continue
                    ras = self.raster(other, within=(a0, b0, a1, b1))
                    _sweep.fold_window(lay.best_dbm[a0:a1, b0:b1], lay.server[a0:a1, b0:b1],
                                       scratch, lay.flags[a0:a1, b0:b1], ras.level_dbm,
                                       ras.flags, ras.row - a0, ras.col - b0,
                                       self.new_pos[other])

    def fold_fresh(self, bar: Any) -> None:
        """Fold the added cells and the new rasters of the changed ones in."""
        for cid in self.fresh:
            ras = self.raster(cid)
            self.windows_by_cell.setdefault(cid, []).append(self.cur_windows[cid])
            for key in self.keys_of(self.records[cid]):
                self.layers.layers[key].fold(ras, self.new_pos[cid])
            if self.on_raster is not None:
                self.on_raster(ras)
            bar.update(1)

    def tidy(self) -> None:
        """The layers of operators that no longer have any cell go and the others take
        the order of a full computation; the domain notes are those of the new cells."""
        layers, radio = self.layers, self.radio
        keep_ops = set(map(str, self.new_cells["operator"].unique()))
        for key in [k for k in layers.layers if k[1] != ANY and k[1] not in keep_ops]:
            del layers.layers[key]
        order = [(t, o) for t in radio.technologies for o in [ANY, *sorted(keep_ops)]]
        layers.layers = {k: layers.layers[k] for k in order if k in layers.layers}
        layers.notes = []
        if len(self.sel_new):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ModelDomainWarning)
                _domain_check(self.sel_new, radio)
            layers.notes = [domain_note(w.message) for w in caught]

    def changed_boxes(self, before: Mapping[tuple[LayerKey, Window], tuple[np.ndarray, ...]]
                      ) -> tuple[Window, ...]:
        """The bounding boxes of the pixels that differ from ``before``, per touched
        (layer, window)."""
        boxes = []
        for (key, win), old_state in before.items():
            lay = self.layers.layers.get(key)
            box = _changed_box(old_state, _window_state(lay, win) if lay is not None else None,
                               win)
            if box is not None:
                boxes.append(box)
        return tuple(boxes)


def _empty_served(lay: Layer, win: Window, mask: np.ndarray) -> Window | None:
    """Empty the pixels of ``win`` in ``mask`` (a stale cell's) in ``lay``; their bounding
    box, or None when there are none."""
    if not mask.any():
        return None
    r0, c0, r1, c1 = win
    lay.best_dbm[r0:r1, c0:c1][mask] = -np.inf
    lay.server[r0:r1, c0:c1][mask] = -1
    lay.flags[r0:r1, c0:c1][mask] = 0
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return (r0 + int(rows[0]), c0 + int(cols[0]), r0 + int(rows[-1]) + 1,
            c0 + int(cols[-1]) + 1)


def _window_state(lay: Layer, win: tuple[int, int, int, int]) -> tuple[np.ndarray, ...]:
    """Copies of a layer's four arrays inside ``win``."""
    r0, c0, r1, c1 = win
    return tuple(a[r0:r1, c0:c1].copy()
                 for a in (lay.best_dbm, lay.server, lay.unknown, lay.flags))


def _changed_box(old: tuple[np.ndarray, ...], new: tuple[np.ndarray, ...] | None,
                 win: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """Bounding box (grid rows and columns, end-exclusive) of the pixels of ``win`` where
    any of the arrays differ (the whole window when the layer went away), or None."""
    if new is None:
        return win
    diff = np.zeros(old[0].shape, dtype=bool)
    for a, b in zip(old, new, strict=True):
        diff |= a != b
    # best levels: -inf == -inf compares equal; NaN never appears in a layer's best_dbm
    if not diff.any():
        return None
    rows = np.flatnonzero(diff.any(axis=1))
    cols = np.flatnonzero(diff.any(axis=0))
    r0, c0 = win[0], win[1]
    return (r0 + int(rows[0]), c0 + int(cols[0]), r0 + int(rows[-1]) + 1,
            c0 + int(cols[-1]) + 1)


def cell_raster_naive(
    cell: pd.Series,
    x: float,
    y: float,
    dem: Dem,
    radio: RadioConfig,
) -> CellRaster:
    """Reference implementation, one terrain profile per pixel (numpy, slow).

    Every pixel within the radius gets its own profile from the site, sampled at about one
    pixel spacing with bilinear interpolation (:func:`scipy.ndimage.map_coordinates`), and
    the model's reference implementation in :mod:`vncoverage.propagation`. Used to validate
    the radial sweep and as the baseline of ``scripts/bench_propagation.py``.
    """
    model = get_model(radio.model)
    pixel = dem.pixel_m
    tech = str(cell["technology"])
    radius = radio.max_radius_m[tech]
    r0, c0 = _site_pixel(dem, x, y)
    half = int(math.ceil(radius / pixel)) + 1
    r_start, c_start = int(round(r0)) - half, int(round(c0)) - half
    n = 2 * half + 1
    out = np.full((n, n), -np.inf, dtype=np.float32)
    flags = np.zeros((n, n), dtype=np.uint32)
    elev = np.where(np.isfinite(dem.elevation), dem.elevation, np.nan).astype(float)
    z_site = float(map_coordinates(elev, [[r0], [c0]], order=1, mode="constant",
                                   cval=np.nan)[0])
    h_tx = float(cell["height_m"])
    level0 = float(cell["eirp_dbm"]) + per_re_offset_db(tech, float(cell["bandwidth_mhz"]),
                                                        radio.cpich_fraction_db)
    az = float(cell["azimuth_deg"])
    omni = bool(np.isnan(az))
    for i in range(n):
        for j in range(n):
            r, c = r_start + i, c_start + j
            dy, dx = (r0 - r) * pixel, (c - c0) * pixel
            d = math.hypot(dx, dy)
            if d > radius:
                continue
            d = max(d, 0.5 * pixel)
            m = max(int(math.ceil(d / pixel)), 1)
            t = np.linspace(0.0, 1.0, m + 1)
            prof = map_coordinates(elev, [r0 + t * (r - r0), c0 + t * (c - c0)], order=1,
                                   mode="constant", cval=np.nan)
            if not np.all(np.isfinite(prof)) or not (0 <= r < elev.shape[0]
                                                     and 0 <= c < elev.shape[1]):
                out[i, j] = np.nan
                flags[i, j] = _sweep.FLAG_NODATA
                continue
            prof[-1] = elev[r, c]
            if model.uses_terrain:
                extra = radio.itm_params if model.name == "itm" else {}
                loss = float(model.formula(prof, d / m, float(cell["frequency_mhz"]), h_tx,
                                         radio.rx_height_m, radio.k_factor, **extra))
            else:
                loss = float(model.formula(np.asarray(d), float(cell["frequency_mhz"]), h_tx,
                                         radio.rx_height_m))
            drop = (z_site + h_tx) - (prof[-1] + radio.rx_height_m) + d * d / (
                2.0 * radio.k_factor * EARTH_RADIUS_M)
            theta = math.degrees(math.atan2(drop, d))
            azp = math.degrees(math.atan2(dx, dy)) % 360.0
            g = float(sector_gain_db(0.0 if omni else azp - az, theta, omni=omni,
                                     etilt_deg=float(cell["tilt_deg"]),
                                     mtilt_deg=float(cell["mechanical_tilt_deg"]),
                                     h_beamwidth_deg=radio.h_beamwidth_deg,
                                     v_beamwidth_deg=radio.v_beamwidth_deg,
                                     front_to_back_db=radio.front_to_back_db,
                                     sla_v_db=radio.vertical_sidelobe_db))
            out[i, j] = level0 + g - loss
    return CellRaster(str(cell.name), r_start, c_start, out, flags)
