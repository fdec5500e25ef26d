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

import logging
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numba
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import _sweep
from .config import RadioConfig
from .io import Dem
from .propagation import ModelDomainWarning, get_model
from .radio import per_re_offset_db

__all__ = [
    "CellRaster",
    "Layer",
    "Layers",
    "cell_raster_naive",
    "cell_rasters",
    "compute_layers",
    "new_layers",
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
    notes: list[str] = field(default_factory=list)

    def get(self, technology: str, operator: str = ANY) -> Layer:
        return self.layers[(technology, operator)]

    @property
    def technologies(self) -> list[str]:
        return sorted({t for t, _ in self.layers})

    @property
    def operators(self) -> list[str]:
        return sorted({o for _, o in self.layers if o != ANY})


def new_layers(dem: Dem, technologies: Iterable[str], operators: Iterable[str],
               cell_ids: list[str]) -> Layers:
    """Empty layers (nothing covered) for every technology x (operators + ``any``)."""
    out = Layers(dem=dem, cell_ids=list(cell_ids))
    shape = dem.shape
    for t in technologies:
        for o in [ANY, *operators]:
            out.layers[(t, o)] = Layer(
                t, o,
                best_dbm=np.full(shape, -np.inf, dtype=np.float32),
                server=np.full(shape, -1, dtype=np.int32),
                unknown=np.zeros(shape, dtype=np.uint32),
                flags=np.zeros(shape, dtype=np.uint32),
            )
    return out


def _site_pixel(dem: Dem, x: float, y: float) -> tuple[float, float]:
    """Fractional (row, col) of a point, where integers are pixel centres."""
    col = (x - dem.transform.c) / dem.transform.a - 0.5
    row = (y - dem.transform.f) / dem.transform.e - 0.5
    return row, col


def cell_rasters(
    cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    progress: bool = False,
) -> Iterable[CellRaster]:
    """Yield the received-level raster of every cell.

    The order groups cells that share a sweep (folding does not depend on order). Cells that
    share a site position, antenna height, frequency and radius share one radial
    sweep of path loss; only the antenna pattern is applied per cell.

    Parameters
    ----------
    cells
        Cell table as returned by :func:`vncoverage.io.read_cells` (working CRS).
    dem
        DEM in the same CRS.
    radio
        Radio parameters (model, radius per technology, receiver height, antenna pattern).
    """
    model = get_model(radio.model)
    pixel = dem.pixel_m
    step = pixel
    nodata = math.nan
    elev = dem.elevation
    x = cells.geometry.x.to_numpy()
    y = cells.geometry.y.to_numpy()
    key_cols = np.column_stack([
        np.round(x, 2), np.round(y, 2), cells["height_m"].to_numpy(float),
        cells["frequency_mhz"].to_numpy(float),
        np.array([radio.max_radius_m[t] for t in cells["technology"]], dtype=float),
    ])
    # frequency / antenna-height domain, once per distinct (frequency, height)
    fh = cells.groupby(["frequency_mhz", "height_m"]).size()
    out_of_domain = sum(
        int(n) for (f, h), n in fh.items()
        if model.domain.violations(freq_mhz=float(f), h_tx_m=float(h), h_rx_m=radio.rx_height_m,
                                   distance_m=None))
    cache_key: tuple[float, ...] | None = None
    pwin = azwin = thwin = wflags = None
    order = np.lexsort(key_cols.T[::-1])
    domain_lo, domain_hi = model.domain.distance_m or (0.0, math.inf)
    itm_params = np.array(list(radio.itm_params.values()), dtype=np.float64)
    bar = tqdm(total=len(cells), desc="cells", unit="cell", disable=not progress)
    for i in order:
        row = cells.iloc[i]
        tech = row["technology"]
        radius = radio.max_radius_m[tech]
        n_samples = int(math.ceil(radius / step))
        n_radials = max(360, int(math.ceil(2.0 * math.pi * radius / pixel)))
        r0, c0 = _site_pixel(dem, x[i], y[i])
        key = tuple(key_cols[i])
        half = int(math.ceil(radius / pixel)) + 1
        r_start, c_start = int(round(r0)) - half, int(round(c0)) - half
        if key != cache_key:
            loss, lflags = _sweep.radial_losses(
                elev, nodata, r0, c0, pixel, float(row["height_m"]), radio.rx_height_m,
                float(row["frequency_mhz"]), n_radials, n_samples, step, model.code,
                radio.k_factor, domain_lo, domain_hi, _sweep.J_TABLE, itm_params)
            z_site = _sweep._bilinear(elev, nodata, r0, c0)
            pwin, azwin, thwin, wflags = _sweep.path_window(
                loss, lflags, elev, nodata, r0, c0, r_start, c_start, 2 * half + 1,
                2 * half + 1, pixel, step, radius, float(z_site) + float(row["height_m"]),
                radio.rx_height_m, radio.k_factor)
            if not math.isfinite(z_site):  # site on DEM nodata: everything unknown
                pwin[np.isfinite(pwin)] = np.nan
                wflags |= _sweep.FLAG_NODATA
            cache_key = key
        assert pwin is not None and azwin is not None and thwin is not None
        assert wflags is not None
        level0 = float(row["eirp_dbm"]) + per_re_offset_db(
            tech, float(row["bandwidth_mhz"]), radio.cpich_fraction_db)
        az = row["azimuth_deg"]
        omni = bool(np.isnan(az))
        window = _sweep.apply_antenna(
            pwin, azwin, thwin, level0, omni, 0.0 if omni else float(az),
            float(row["tilt_deg"]), float(row["mechanical_tilt_deg"]), radio.h_beamwidth_deg,
            radio.v_beamwidth_deg, radio.front_to_back_db, radio.vertical_sidelobe_db)
        bar.update(1)
        yield CellRaster(str(cells.index[i]), r_start, c_start, window, wflags)
    bar.close()
    if out_of_domain:
        msg = (f"{out_of_domain} cell(s) outside the validity domain of model "
               f"'{model.name}' (frequency or antenna height)")
        warnings.warn(msg, ModelDomainWarning, stacklevel=2)
        log.warning(msg)


def compute_layers(
    cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    threads: int = 0,
    progress: bool = False,
) -> Layers:
    """Best-server layers for every technology in ``radio.technologies`` and every operator.

    Parameters
    ----------
    cells
        Cell table (working CRS); cells of other technologies are ignored.
    threads
        Numba threads (0 = all cores).
    """
    max_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    numba.set_num_threads(min(threads, max_threads) if threads else max_threads)
    sel = cells[cells["technology"].isin(radio.technologies)]
    operators = sorted(cells["operator"].unique())
    layers = new_layers(dem, radio.technologies, operators, list(cells.index))
    pos = {cid: k for k, cid in enumerate(cells.index)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelDomainWarning)
        for r in cell_rasters(sel, dem, radio, progress=progress):
            idx = pos[r.cell_id]
            tech = str(cells.at[r.cell_id, "technology"])
            op = str(cells.at[r.cell_id, "operator"])
            layers.get(tech, ANY).fold(r, idx)
            layers.get(tech, op).fold(r, idx)
    for w in caught:  # keep domain warnings for the report, and pass them on
        layers.notes.append(str(w.message))
        warnings.warn(str(w.message), w.category, stacklevel=2)
    return layers


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
    from scipy.ndimage import map_coordinates

    from .antenna import sector_gain_db
    from .propagation import EARTH_RADIUS_M

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
                loss = float(model._func(prof, d / m, float(cell["frequency_mhz"]), h_tx,
                                         radio.rx_height_m, radio.k_factor, **extra))
            else:
                loss = float(model._func(np.asarray(d), float(cell["frequency_mhz"]), h_tx,
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
