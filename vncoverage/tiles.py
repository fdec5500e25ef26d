"""The propagation on Dask: one task per output tile, the same layers as in one process.

:func:`vncoverage.coverage.compute_layers` folds every cell's whole window into layers that
cover the whole grid. Here the grid is cut into square output tiles of ``[run] tile_px``
pixels, and one Dask task computes one tile:

1. it reads, from GeoTIFFs the driver staged once (:func:`stage_grids`: the DEM and the
   land cover as the run uses them, on its grid), only the window its paths can touch: the
   union of the whole windows of the sweep groups that meet the tile, plus
   :data:`HALO_PX` pixels (the DEM is never sent whole to a worker);
2. for every such group it computes the path losses of the tile's pixels only (``within``
   the tile: :func:`vncoverage.coverage.clutter_window`, whose per-pixel paths do not
   depend on which other pixels are computed), applies each cell's antenna and folds it
   into the tile's own best-server layers;
3. it reads the cell rasters on the uncertainty's village points that lie in the tile
   (:class:`~vncoverage.pointlevels.PointCollector`);
4. it writes all of it atomically to one file in the scratch folder, named by a hash of
   everything the tile depends on, and returns the file's path.

The driver copies each tile's core into the whole-grid :class:`~vncoverage.coverage.Layers`.
A pixel gets the same cells, the same path losses (each pixel's own path, on the same
global grid coordinates: the worker's DEM array is the whole grid's shape, allocated
zeroed, with only its window written, so every position and bilinear weight is computed
as in one process) and the same fold (maximum, lowest cell index on ties), so the layers
are identical to :func:`~vncoverage.coverage.compute_layers`' to the bit.

A tile whose file exists already is not computed again: a run that stopped (a crash, a
killed driver) starts again where it was. Dask itself retries a task whose worker died.

The village summary runs on the cluster too (:func:`summarise_villages_tiled`): villages
grouped by tile, each task reading its window of the layers back from the tile files
(:class:`TileStore`) and summarising its villages whole, so that the table is the whole
grid's to the bit. :class:`DaskSession` holds a run's client and scratch folder across
both stages and removes the tiles after a clean run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.windows import Window
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from . import __version__
from .clutter import ClutterGrid
from .config import CoverageConfig, RadioConfig, parse_scheduler
from .coverage import (
    ANY,
    Layers,
    LayerUpdate,
    ModelDomainWarning,
    SweepGroup,
    _cell_records,
    _domain_check,
    _LayerUpdateJob,
    cell_raster,
    clutter_window,
    dem_fingerprint,
    diff_cells,
    domain_note,
    empty_layers,
    group_geometry,
    new_layers,
    set_threads,
    sweep_groups,
)
from .datatypes import Dem
from .fileio.atomic import atomic_path
from .pointlevels import PointCollector
from .villages import _summary_window, summarise_villages, village_pixel_bounds

__all__ = [
    "HALO_PX",
    "SCRATCH",
    "Grids",
    "TileJob",
    "TileStore",
    "TiledRun",
    "compute_layers_tiled",
    "default_scratch",
    "open_client",
    "run_tile",
    "stage_grids",
    "summarise_tile",
    "summarise_villages_tiled",
    "tile_boxes",
    "update_layers_tiled",
]

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]

#: Pixels read beyond a group's whole window: its paths read bilinear neighbours up to a
#: pixel past the window's edge (the window is centred on the site's rounded pixel).
HALO_PX = 8

#: The scratch folder's name inside a workspace's state folder (:func:`default_scratch`).
SCRATCH = "scratch"

#: The arrays of a layer in a tile file, in order (``<layer number>_<array>``).
_ARRAYS = ("best", "server", "unknown", "flags")

#: Format of the tile files (part of their names).
TILE_FORMAT = 1


@dataclass(frozen=True)
class Grids:
    """The grids a worker reads, as staged by :func:`stage_grids`: the DEM (and the land
    cover's classes with their clutter tables, when clutter is on) on the run's grid."""

    dem_path: str
    shape: tuple[int, int]
    transform: tuple[float, ...]
    crs_wkt: str
    dem_fp: str
    landcover_path: str = ""
    lut_height_m: np.ndarray | None = None
    lut_diffraction: np.ndarray | None = None
    rx_height_m: float = 1.5
    street_width_m: float = 0.0
    clutter_digest: str = ""

    def read(self, box: Box) -> tuple[Dem, ClutterGrid | None]:
        """The DEM (and clutter) with the window ``box`` read from the files: arrays of
        the whole grid's shape, zero and never read outside the window (their pages are
        not touched, so the memory used is the window's)."""
        r0, c0, r1, c1 = box
        window = Window(c0, r0, c1 - c0, r1 - r0)
        elevation = np.zeros(self.shape, dtype=np.float32)
        with rasterio.open(self.dem_path) as src:
            elevation[r0:r1, c0:c1] = src.read(1, window=window)
        dem = Dem(elevation, Affine(*self.transform[:6]), CRS.from_wkt(self.crs_wkt),
                  self.dem_path)
        if not self.landcover_path:
            return dem, None
        assert self.lut_height_m is not None and self.lut_diffraction is not None
        with rasterio.open(self.landcover_path) as src:
            classes = src.read(1, window=window)
        return dem, ClutterGrid.from_window(classes, box, self.shape, self.lut_height_m,
                                            self.lut_diffraction, self.rx_height_m,
                                            self.street_width_m)


def _write_grid(path: Path, array: np.ndarray, dem: Dem, nodata: float | None) -> None:
    """One band, tiled and losslessly compressed (windowed reads), written atomically."""
    profile = {"driver": "GTiff", "width": array.shape[1], "height": array.shape[0],
               "count": 1, "dtype": array.dtype.name, "crs": dem.crs,
               "transform": dem.transform, "tiled": True, "blockxsize": 256,
               "blockysize": 256, "compress": "deflate", "nodata": nodata, "BIGTIFF": "IF_SAFER"}
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array, 1)


def stage_grids(dem: Dem, clutter: ClutterGrid | None, folder: Path) -> Grids:
    """Write the DEM (and the clutter's classes) as used to tiled GeoTIFFs in ``folder``
    (kept under a hash of their content, so a second run reuses them) for the workers'
    windowed reads."""
    dem_fp = dem_fingerprint(dem)
    dem_path = folder / f"dem-{dem_fp}.tif"
    if not dem_path.exists():
        _write_grid(dem_path, np.ascontiguousarray(dem.elevation, dtype=np.float32), dem,
                    math.nan)
    grids = Grids(str(dem_path), dem.shape, tuple(dem.transform), dem.crs.to_wkt(), dem_fp)
    if clutter is None:
        return grids
    classes = np.ascontiguousarray(clutter.classes)
    h = hashlib.sha256(classes.tobytes())
    h.update(repr(classes.shape).encode())
    lc_path = folder / f"landcover-{h.hexdigest()[:32]}.tif"
    if not lc_path.exists():
        _write_grid(lc_path, classes, dem, None)
    return dataclasses.replace(
        grids, landcover_path=str(lc_path), lut_height_m=clutter.lut_height_m,
        lut_diffraction=clutter.lut_diffraction, rx_height_m=clutter.rx_height_m,
        street_width_m=clutter.street_width_m, clutter_digest=clutter.heights_digest)


def tile_boxes(shape: tuple[int, int], tile_px: int) -> list[Box]:
    """The output tiles of a grid, row by row: ``(row0, col0, row1, col1)``, end-exclusive,
    ``tile_px`` square (smaller on the last row and column)."""
    n_rows, n_cols = shape
    return [(r, c, min(r + tile_px, n_rows), min(c + tile_px, n_cols))
            for r in range(0, n_rows, tile_px) for c in range(0, n_cols, tile_px)]


@dataclass(frozen=True)
class TileJob:
    """What one task computes: the tile ``box``, the window ``read`` of the grids its
    paths touch, the sweep groups that meet the tile with their cells (``records``:
    :func:`vncoverage.coverage.cell_raster`'s fields; ``position``: the index of each cell
    in the layers' sorted cell ids; ``layer``: its technology and operator), and the
    village points in the tile (their indexes into the run's points, and coordinates)."""

    key: str
    box: Box
    read: Box
    groups: tuple[SweepGroup, ...]
    records: Mapping[str, Mapping[str, Any]]
    position: Mapping[str, int]
    layer: Mapping[str, tuple[str, str]]
    point_index: np.ndarray
    point_x: np.ndarray
    point_y: np.ndarray


def run_tile(job: TileJob, grids: Grids, radio: RadioConfig,
             layer_keys: Sequence[tuple[str, str]], folder: str,
             kernel_threads: int = 1) -> str:
    """Compute one tile (see the module docstring) and write it to ``folder``; return the
    file's path. Runs on a worker."""
    set_threads(kernel_threads)
    dem, clutter = grids.read(job.read)
    r0, c0 = job.box[0], job.box[1]
    tile = empty_layers(dem.window(*job.box), layer_keys, [])
    collector = (PointCollector(dem, job.point_x, job.point_y)
                 if len(job.point_index) else None)
    for g in job.groups:
        win = clutter_window(g, dem, radio, clutter, within=job.box)
        if win.loss_db.size == 0:
            continue
        for cid in g.cell_ids:
            raster = cell_raster(cid, job.records[cid], win, radio)
            local = dataclasses.replace(raster, row=raster.row - r0, col=raster.col - c0)
            tech, op = job.layer[cid]
            for key in ((tech, ANY), (tech, op)):
                tile.get(*key).fold(local, job.position[cid])
            if collector is not None:
                collector(raster)
    out: dict[str, np.ndarray] = {}
    for k, key in enumerate(layer_keys):
        lay = tile.layers[key]
        for name, a in zip(_ARRAYS, (lay.best_dbm, lay.server, lay.unknown, lay.flags),
                           strict=True):
            out[f"{k}_{name}"] = a
    entries = collector.entries(job.point_index) if collector is not None else {}
    ids = sorted(entries)
    out["point_cells"] = np.array(ids, dtype=str)
    out["point_counts"] = np.array([len(entries[c][0]) for c in ids], dtype=np.int64)
    out["point_index"] = (np.concatenate([entries[c][0] for c in ids]) if ids
                          else np.zeros(0, np.int64)).astype(np.int64)
    out["point_level"] = (np.concatenate([entries[c][1] for c in ids]) if ids
                          else np.zeros(0, np.float64)).astype(np.float64)
    path = Path(folder) / f"{job.key}.npz"
    with atomic_path(path, durable=False) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **out)  # type: ignore[arg-type]
    return str(path)


def _read_tile(path: str, layer_keys: Sequence[tuple[str, str]], with_layers: bool = True
               ) -> tuple[dict[tuple[str, str], tuple[np.ndarray, ...]],
                          dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A tile file's layers (none unless ``with_layers``) and point entries."""
    with np.load(path, allow_pickle=False) as z:
        layers = {key: tuple(z[f"{k}_{name}"] for name in _ARRAYS)
                  for k, key in enumerate(layer_keys)} if with_layers else {}
        counts = z["point_counts"]
        starts = np.r_[0, np.cumsum(counts)]
        idx, lev = z["point_index"], z["point_level"]
        entries = {str(cid): (idx[starts[k]:starts[k + 1]], lev[starts[k]:starts[k + 1]])
                   for k, cid in enumerate(z["point_cells"])}
    return layers, entries


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _jobs(cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig, grids: Grids,
          layers: Layers, tile_px: int, points: tuple[np.ndarray, np.ndarray] | None,
          only: set[Box] | None = None) -> list[TileJob]:
    """One job per tile that some group meets (tiles no group reaches stay empty); with
    ``only``, for those tiles only."""
    sel = cells[cells["technology"].isin(radio.technologies)]
    groups = sweep_groups(sel, radio)
    if not groups:
        return []
    records = _cell_records(sel)
    position = {cid: k for k, cid in enumerate(layers.cell_ids)}
    layer = {str(cid): (str(t), str(o)) for cid, t, o
             in zip(sel.index, sel["technology"], sel["operator"], strict=True)}
    wins = np.array([group_geometry(g, dem, radio)[1:] for g in groups], dtype=np.int64)
    starts, sizes = wins[:, :2], wins[:, 2]
    centres = starts + sizes[:, None] / 2.0
    tree = cKDTree(centres)
    n_rows, n_cols = dem.shape
    if points is not None:
        p_rows, p_cols = dem.index(points[0], points[1])
    base = {"version": __version__, "format": TILE_FORMAT, "dem": grids.dem_fp,
            "clutter": grids.clutter_digest, "radio": repr(radio),
            "layers": [list(k) for k in layers.layers]}
    jobs = []
    for box in tile_boxes(dem.shape, tile_px):
        if only is not None and box not in only:
            continue
        r0, c0, r1, c1 = box
        reach = (max(r1 - r0, c1 - c0) + int(sizes.max()) + 1) / 2.0
        near = tree.query_ball_point([(r0 + r1) / 2.0, (c0 + c1) / 2.0], reach, p=np.inf)
        members = [k for k in sorted(near)
                   if starts[k, 0] < r1 and starts[k, 0] + sizes[k] > r0
                   and starts[k, 1] < c1 and starts[k, 1] + sizes[k] > c0]
        if not members:
            continue
        m = np.array(members)
        read = (max(0, min(r0, int(starts[m, 0].min()) - HALO_PX)),
                max(0, min(c0, int(starts[m, 1].min()) - HALO_PX)),
                min(n_rows, max(r1, int((starts[m, 0] + sizes[m]).max()) + HALO_PX)),
                min(n_cols, max(c1, int((starts[m, 1] + sizes[m]).max()) + HALO_PX)))
        tile_groups = tuple(groups[k] for k in members)
        ids = [cid for g in tile_groups for cid in g.cell_ids]
        if points is not None:
            inside = np.flatnonzero((p_rows >= r0) & (p_rows < r1) & (p_cols >= c0)
                                    & (p_cols < c1))
        else:
            inside = np.zeros(0, np.int64)
        px, py = (points[0][inside], points[1][inside]) if points is not None else (
            np.zeros(0), np.zeros(0))
        key = _digest({**base, "box": box, "read": read,
                       "groups": [dataclasses.asdict(g) for g in tile_groups],
                       "cells": {c: {**records[c], "position": position[c],
                                     "layer": layer[c]} for c in ids},
                       "points": [inside.tolist(), px.tolist(), py.tolist()]})[:32]
        jobs.append(TileJob(key, box, read, tile_groups, {c: records[c] for c in ids},
                            {c: position[c] for c in ids}, {c: layer[c] for c in ids},
                            inside.astype(np.int64), px.astype(float), py.astype(float)))
    return jobs


@dataclass(frozen=True)
class TileStore:
    """Finished tiles on disk (files by tile box; a tile without a file has no cell in
    reach) and the grid they cut: what a window of the layers is read back from."""

    shape: tuple[int, int]
    transform: tuple[float, ...]
    crs_wkt: str
    keys: tuple[tuple[str, str], ...]
    cell_ids: tuple[str, ...]
    files: Mapping[Box, str]

    @classmethod
    def of(cls, dem: Dem, layers: Layers, files: Mapping[Box, str]) -> TileStore:
        """The store of tiles cut from ``dem``'s grid, with ``layers``' keys and cells."""
        return cls(dem.shape, tuple(dem.transform), dem.crs.to_wkt(), tuple(layers.layers),
                   tuple(layers.cell_ids), dict(files))

    def grid(self, box: Box | None = None) -> Dem:
        """The grid (of ``box``, end-exclusive): transform and shape, no elevations (zero
        pages, never touched)."""
        r0, c0, r1, c1 = box if box is not None else (0, 0, *self.shape)
        return Dem(np.zeros((r1 - r0, c1 - c0), dtype=np.float32),
                   Affine(*self.transform[:6]) @ Affine.translation(c0, r0),
                   CRS.from_wkt(self.crs_wkt))

    def only(self, box: Box) -> TileStore:
        """The same store with only the files of the tiles that meet ``box`` (what a task
        reading that window needs to be sent)."""
        return dataclasses.replace(self, files={b: f for b, f in self.files.items()
                                                if _meets(b, box)})

    def window(self, box: Box) -> Layers:
        """The layers on the grid window ``box`` (end-exclusive), read from the tiles."""
        r0, c0, r1, c1 = box
        out = empty_layers(self.grid(box), self.keys, list(self.cell_ids))
        for tb, path in self.files.items():
            if not _meets(tb, box):
                continue
            a0, b0, a1, b1 = max(tb[0], r0), max(tb[1], c0), min(tb[2], r1), min(tb[3], c1)
            with np.load(path, allow_pickle=False) as z:
                for k, key in enumerate(self.keys):
                    lay = out.layers[key]
                    for name, dst in zip(_ARRAYS, (lay.best_dbm, lay.server, lay.unknown,
                                                   lay.flags), strict=True):
                        dst[a0 - r0:a1 - r0, b0 - c0:b1 - c0] = z[f"{k}_{name}"][
                            a0 - tb[0]:a1 - tb[0], b0 - tb[1]:b1 - tb[1]]
        return out

    def remove(self) -> None:
        """Delete the tiles' files."""
        _remove(self.files)

    def write_mosaic(self, folder: Path) -> list[Path]:
        """The layers as mosaics a GIS opens whole: per layer, one tiled GeoTIFF per tile
        for the best level (float32, NaN where no cell reaches or the level is unknown)
        and one for the best server (int32, the index into ``cell_ids``; -1: none), and a
        GDAL virtual raster (``<tech>_<operator>_best.vrt``, ``..._server.vrt``) that
        places them on the grid. Returns the virtual rasters' paths."""
        folder.mkdir(parents=True, exist_ok=True)
        sources: dict[tuple[int, str], list[tuple[Box, str]]] = {}
        for tb, path in sorted(self.files.items()):
            r0, c0 = tb[0], tb[1]
            transform = Affine(*self.transform[:6]) @ Affine.translation(c0, r0)
            with np.load(path, allow_pickle=False) as z:
                for k, (tech, op) in enumerate(self.keys):
                    best = z[f"{k}_best"]
                    for name, array, nodata in (
                            ("best", np.where(np.isfinite(best), best, np.nan), math.nan),
                            ("server", z[f"{k}_server"], -1)):
                        rel = f"{tech}_{op}/{name}/r{r0}_c{c0}.tif".lower()
                        _write_tile(folder / rel, array, transform, self.crs_wkt, nodata)
                        sources.setdefault((k, name), []).append((tb, rel))
        out = []
        for (k, name), tiles in sorted(sources.items()):
            tech, op = self.keys[k]
            vrt = folder / f"{tech}_{op}_{name}.vrt".lower()
            with atomic_path(vrt) as tmp:
                tmp.write_text(self._vrt(tiles, name), encoding="utf-8")
            out.append(vrt)
        return out

    def _vrt(self, tiles: Sequence[tuple[Box, str]], name: str) -> str:
        """The XML of a GDAL virtual raster placing ``tiles`` (box, path relative to it)."""
        from xml.sax.saxutils import escape

        kind, nodata = ("Float32", "nan") if name == "best" else ("Int32", "-1")
        rows, cols = self.shape
        sources = "".join(
            f"<SimpleSource><SourceFilename relativeToVRT=\"1\">{escape(rel)}"
            f"</SourceFilename><SourceBand>1</SourceBand>"
            f"<SrcRect xOff=\"0\" yOff=\"0\" xSize=\"{c1 - c0}\" ySize=\"{r1 - r0}\"/>"
            f"<DstRect xOff=\"{c0}\" yOff=\"{r0}\" xSize=\"{c1 - c0}\" ySize=\"{r1 - r0}\"/>"
            "</SimpleSource>\n" for (r0, c0, r1, c1), rel in tiles)
        gt = ", ".join(repr(v) for v in Affine(*self.transform[:6]).to_gdal())
        return (f"<VRTDataset rasterXSize=\"{cols}\" rasterYSize=\"{rows}\">\n"
                f"<SRS>{escape(self.crs_wkt)}</SRS>\n<GeoTransform>{gt}</GeoTransform>\n"
                f"<VRTRasterBand dataType=\"{kind}\" band=\"1\">"
                f"<NoDataValue>{nodata}</NoDataValue>\n{sources}</VRTRasterBand>\n"
                "</VRTDataset>\n")


def _write_tile(path: Path, array: np.ndarray, transform: Affine, crs_wkt: str,
                nodata: float) -> None:
    """One tile of a mosaic: a tiled, deflate-compressed GeoTIFF, written atomically."""
    profile = {"driver": "GTiff", "width": array.shape[1], "height": array.shape[0],
               "count": 1, "dtype": array.dtype.name, "crs": CRS.from_wkt(crs_wkt),
               "transform": transform, "tiled": True, "blockxsize": 256, "blockysize": 256,
               "compress": "deflate", "nodata": nodata}
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array, 1)



@dataclass
class TiledRun:
    """What :func:`compute_layers_tiled` did: tiles in the grid, tiles computed by tasks,
    tiles read back from files an earlier, stopped run left; the tiles kept on disk."""

    tiles: int = 0
    computed: int = 0
    reused: int = 0
    store: TileStore | None = None


def summarise_tile(store: TileStore, villages: gpd.GeoDataFrame, centres: gpd.GeoSeries,
                   settlements: gpd.GeoDataFrame | None, radio: RadioConfig,
                   coverage: CoverageConfig) -> pd.DataFrame:
    """:func:`vncoverage.villages.summarise_villages` of some villages on the window of
    the layers they read, read from the tiles: the numbers of the whole grid's summary
    (each village is summarised whole, on the same pixels). Runs on a worker."""
    box = village_pixel_bounds(villages, store.grid(), centres, settlements)
    win = _summary_window(box, store.shape)
    return summarise_villages(villages, centres, settlements, store.window(win), radio,
                              coverage)


def summarise_villages_tiled(client: Any, store: TileStore, villages: gpd.GeoDataFrame,
                             centres: gpd.GeoSeries, settlements: gpd.GeoDataFrame | None,
                             radio: RadioConfig, coverage: CoverageConfig, tile_px: int
                             ) -> pd.DataFrame:
    """The village summary on Dask: the villages are grouped by the tile that holds the
    middle of the pixels they read, one task a group (:func:`summarise_tile`, which reads
    its window of the layers from the tiles, not from this process); the rows come back
    in ``villages``' order. The same table as
    :func:`~vncoverage.villages.summarise_villages` on the whole grid."""
    box = village_pixel_bounds(villages, store.grid(), centres, settlements)
    mid_r = ((box["r0"] + box["r1"]) / 2.0).to_numpy()
    mid_c = ((box["c0"] + box["c1"]) / 2.0).to_numpy()
    finite = np.isfinite(mid_r) & np.isfinite(mid_c)  # no box: one group of their own
    tile_r = np.where(finite, np.floor(np.nan_to_num(mid_r) / tile_px), -1).astype(np.int64)
    tile_c = np.where(finite, np.floor(np.nan_to_num(mid_c) / tile_px), -1).astype(np.int64)
    futures = []
    for rows in pd.Series(np.arange(len(villages))).groupby([tile_r, tile_c]).groups.values():
        ids = villages.index[np.asarray(rows)]
        win = _summary_window(box.loc[ids], store.shape)
        sett = (settlements[settlements["village_id"].isin(ids)]
                if settlements is not None else None)
        futures.append(client.submit(summarise_tile, store.only(win), villages.loc[ids],
                                     centres.loc[ids], sett, radio, coverage, pure=False))
    parts = client.gather(futures)
    return pd.concat(parts).reindex(villages.index)


def compute_layers_tiled(
    cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    client: Any,
    scratch: Path,
    tile_px: int = 1024,
    clutter: ClutterGrid | None = None,
    collector: PointCollector | None = None,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = False,
    kernel_threads: int = 1,
    stats: TiledRun | None = None,
) -> Layers:
    """:func:`vncoverage.coverage.compute_layers` with one Dask task per output tile on
    ``client`` (a :class:`distributed.Client`): the same layers, to the bit.

    ``scratch``: a folder every worker can read and write (the staged grids and the tile
    files go there). ``collector`` with ``points`` (the same x, y it was made with): the
    entries of the village points are gathered from the tiles into it. ``stats``, if
    given, is filled in (:class:`TiledRun`); its ``store`` then holds the tiles, kept on
    disk for :func:`summarise_villages_tiled` (the caller removes them with
    :meth:`TileStore.remove`); without ``stats`` they are removed here.
    """
    operators = sorted(cells["operator"].unique())
    layers = new_layers(dem, radio.technologies, operators, sorted(map(str, cells.index)))
    run = stats if stats is not None else TiledRun()
    files = _compute_tiles(cells, dem, radio, layers, client=client, scratch=scratch,
                           tile_px=tile_px, clutter=clutter, collector=collector,
                           points=points, progress=progress, kernel_threads=kernel_threads,
                           stats=run)
    run.store = TileStore.of(dem, layers, files)
    if stats is None:
        run.store.remove()
    layers.notes = _domain_notes(cells, radio)
    return layers


def compute_tiles(
    cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    client: Any,
    scratch: Path,
    tile_px: int = 1024,
    clutter: ClutterGrid | None = None,
    collector: PointCollector | None = None,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = False,
    kernel_threads: int = 1,
    stats: TiledRun | None = None,
) -> TileStore:
    """:func:`compute_layers_tiled` without the whole grid's layers in this process: the
    tiles stay in ``scratch`` and the returned :class:`TileStore` reads windows of them
    (:meth:`TileStore.window`), summarises villages by tile
    (:func:`summarise_villages_tiled`) and writes them as mosaics
    (:meth:`TileStore.write_mosaic`). For grids whose layers do not fit in the driver's
    memory (the whole country at 30 m: 16 bytes per pixel per layer); this process holds
    the cells, the DEM it stages and one tile at a time."""
    operators = sorted(cells["operator"].unique())
    shell = new_layers(dem.window(0, 0, 0, 0), radio.technologies, operators,
                       sorted(map(str, cells.index)))
    run = stats if stats is not None else TiledRun()
    files = _compute_tiles(cells, dem, radio, shell, client=client, scratch=scratch,
                           tile_px=tile_px, clutter=clutter, collector=collector,
                           points=points, progress=progress, kernel_threads=kernel_threads,
                           stats=run, paste=False)
    run.store = TileStore.of(dem, shell, files)
    return run.store


def update_layers_tiled(
    layers: Layers,
    old_cells: gpd.GeoDataFrame,
    new_cells: gpd.GeoDataFrame,
    dem: Dem,
    radio: RadioConfig,
    *,
    client: Any,
    scratch: Path,
    tile_px: int = 1024,
    clutter: ClutterGrid | None = None,
    collector: PointCollector | None = None,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = False,
    kernel_threads: int = 1,
    stats: TiledRun | None = None,
) -> LayerUpdate:
    """:func:`vncoverage.coverage.update_layers` on Dask: only the tiles that the windows
    of the added, changed and removed cells meet are computed again, whole (every cell
    that reaches them, with ``new_cells``), and pasted in; elsewhere no changed cell
    reaches, so the layers only take the new server numbering. The same layers and the
    same :class:`~vncoverage.coverage.LayerUpdate` as in one process. ``collector`` gets
    the entries of the added and changed cells (the caller forgets the removed ones)."""
    added, changed, removed = diff_cells(old_cells, new_cells, radio)
    job = _LayerUpdateJob(layers, old_cells, new_cells, dem, radio, None,
                          stale=removed + changed, fresh=added + changed, clutter=clutter)
    before = job.touched_states()
    windows: dict[str, list[Box]] = {}
    for cid in job.stale:
        windows.setdefault(cid, []).append(job.old_windows[cid])
    for cid in job.fresh:
        windows.setdefault(cid, []).append(job.cur_windows[cid])
    touched = {box for box in tile_boxes(dem.shape, tile_px)
               if any(_meets(box, w) for ws in windows.values() for w in ws)}
    keep_ops = sorted(map(str, new_cells["operator"].unique()))
    # the layers the tiles fill (renumbered, with the new operators' added by the job)
    target = Layers(dem, layers.cell_ids, {(t, o): layers.layers[(t, o)]
                                           for t in radio.technologies
                                           for o in [ANY, *keep_ops]})
    fresh_points = PointCollector(dem, *points) if collector is not None and points else None
    if touched:
        _remove(_compute_tiles(new_cells, dem, radio, target, client=client, scratch=scratch,
                               tile_px=tile_px, clutter=clutter, collector=fresh_points,
                               points=points, progress=progress,
                               kernel_threads=kernel_threads,
                               stats=stats if stats is not None else TiledRun(),
                               only=touched))
    if collector is not None and fresh_points is not None:
        entries = fresh_points.entries()
        collector.extend({c: entries[c] for c in job.fresh if c in entries})
    job.tidy()
    return LayerUpdate(tuple(added), tuple(changed), tuple(removed), windows,
                       job.changed_boxes(before))


def _meets(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _domain_notes(cells: gpd.GeoDataFrame, radio: RadioConfig) -> list[Any]:
    """The model-domain notes of the cells computed, as :func:`compute_layers` keeps them
    (and the warnings passed on)."""
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelDomainWarning)
        sel = cells[cells["technology"].isin(radio.technologies)]
        if len(sel):
            _domain_check(sel, radio)
    for w in caught:
        notes.append(domain_note(w.message))
        warnings.warn(str(w.message), w.category, stacklevel=3)
    return notes


def _compute_tiles(cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig, layers: Layers, *,
                   client: Any, scratch: Path, tile_px: int, clutter: ClutterGrid | None,
                   collector: PointCollector | None,
                   points: tuple[np.ndarray, np.ndarray] | None, progress: bool,
                   kernel_threads: int, stats: TiledRun, only: set[Box] | None = None,
                   paste: bool = True) -> dict[Box, str]:
    """Compute the tiles (``only`` those, when given) on ``client`` and paste each into
    ``layers`` (whose keys and cell ids the tiles take); tiles found finished in
    ``scratch`` are read back instead. Returns the tiles' files (kept)."""
    from distributed import as_completed

    keys = list(layers.layers)
    scratch.mkdir(parents=True, exist_ok=True)
    grids = stage_grids(dem, clutter, scratch)
    jobs = _jobs(cells, dem, radio, grids, layers, tile_px,
                 points if collector is not None else None, only)
    stats.tiles = len(jobs)
    folder = scratch / "tiles"
    folder.mkdir(exist_ok=True)
    done = {j.key: str(folder / f"{j.key}.npz") for j in jobs
            if (folder / f"{j.key}.npz").exists()}
    todo = [j for j in jobs if j.key not in done]
    stats.reused, stats.computed = len(done), len(todo)
    if done:
        log.info("%d of %d tiles read back from %s", len(done), len(jobs), folder)
    by_key = {j.key: j for j in jobs}
    bar = tqdm(total=len(jobs), desc="tiles", unit="tile", disable=not progress)
    # grids and radio are small (paths, tables): they travel with each task, so that no
    # task depends on data a dead worker held
    futures = [client.submit(run_tile, j, grids, radio, keys, str(folder),
                             kernel_threads, key=f"vncoverage-tile-{j.key}", pure=False)
               for j in todo]
    try:
        for key, path in done.items():
            _paste(layers if paste else None, by_key[key], path, keys, collector)
            bar.update(1)
        for fut in as_completed(futures):
            job = by_key[fut.key.removeprefix("vncoverage-tile-")]
            try:
                path = fut.result()
            except Exception as exc:
                r0, c0, r1, c1 = job.box
                raise RuntimeError(
                    f"tile rows {r0}-{r1}, columns {c0}-{c1} failed on the Dask cluster: "
                    f"{exc!r}. The {len(done)} tile(s) finished are kept in {folder}; run "
                    "again to compute only the rest.") from exc
            _paste(layers if paste else None, job, path, keys, collector)
            done[job.key] = path
            bar.update(1)
    finally:
        bar.close()
        client.cancel(futures)
    return {by_key[k].box: path for k, path in done.items()}


def _remove(files: Mapping[Box, str]) -> None:
    for path in files.values():
        with contextlib.suppress(FileNotFoundError):
            Path(path).unlink()


def _paste(layers: Layers | None, job: TileJob, path: str, keys: Sequence[tuple[str, str]],
           collector: PointCollector | None) -> None:
    """Copy a tile file's core into the whole-grid layers, if given, and its points'
    entries into the collector."""
    tile, entries = _read_tile(path, keys, layers is not None)
    r0, c0, r1, c1 = job.box
    for key, (best, server, unknown, flags) in tile.items():
        assert layers is not None
        lay = layers.layers[key]
        lay.best_dbm[r0:r1, c0:c1] = best
        lay.server[r0:r1, c0:c1] = server
        lay.unknown[r0:r1, c0:c1] = unknown
        lay.flags[r0:r1, c0:c1] = flags
    if collector is not None:
        collector.extend(entries)


@contextlib.contextmanager
def open_client(spec: str) -> Iterator[Any]:
    """A :class:`distributed.Client` for ``[run] scheduler`` (see
    :func:`vncoverage.config.parse_scheduler`): a LocalCluster of worker processes
    (``local:N``, one thread each) or of threads (``threads:N``), closed on exit, or the
    scheduler at an address. Needs the ``dask`` extra."""
    parsed = parse_scheduler(spec)
    if parsed is None:
        raise ValueError("no scheduler given")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the extra is part of the test set-up
        raise RuntimeError(f"[run] scheduler = {spec!r} needs Dask: pip install "
                           "'vncoverage[dask]'") from exc
    kind, arg = parsed
    # Dask's own INFO lines (scheduler and worker start, connections) are not the run's
    logging.getLogger("distributed").setLevel(max(logging.WARNING,
                                                  logging.getLogger().getEffectiveLevel()))
    if kind == "address":
        with Client(str(arg)) as client:
            yield client
        return
    n = int(arg)
    processes = kind == "processes"
    # the dashboard (Dask's progress and task stream, with bokeh installed) on a free port
    with LocalCluster(n_workers=n if processes else 1, threads_per_worker=1 if processes else n,
                      processes=processes, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        log.info("Dask LocalCluster %s: dashboard %s", spec, client.dashboard_link)
        yield client


class DaskSession:
    """One run's Dask client and scratch folder, open across its stages
    (``with DaskSession(...) as dask``): the layers (:meth:`layers`, :meth:`update`), then
    the village summary from the tiles they left (:meth:`villages`). On a clean exit the
    tiles are removed, and the scratch folder too when it is a workspace's
    (:func:`default_scratch`); after an error they stay, so that the next run skips the
    tiles finished. ``[run] scratch`` is the user's: only the tiles are removed there."""

    def __init__(self, spec: str, tile_px: int, *, scratch: Path | None = None,
                 store_folder: Path | None = None, progress: bool = False) -> None:
        self.spec, self.tile_px, self.progress = spec, tile_px, progress
        self._scratch = scratch
        self._store_folder = store_folder
        self._stack = contextlib.ExitStack()
        self.client: Any = None
        self.folder = Path()
        self.stats = TiledRun()

    def __enter__(self) -> DaskSession:
        where = (contextlib.nullcontext(self._scratch) if self._scratch is not None
                 else default_scratch(self._store_folder))
        self.folder = self._stack.enter_context(where)
        self.client = self._stack.enter_context(open_client(self.spec))
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        self._stack.close()
        if exc_type is not None:
            return
        if self.stats.store is not None:
            self.stats.store.remove()
        if self._scratch is None and self._store_folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _common(self, clutter: ClutterGrid | None, collector: PointCollector | None,
                points: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
        return {"client": self.client, "scratch": self.folder, "tile_px": self.tile_px,
                "clutter": clutter, "collector": collector, "points": points,
                "progress": self.progress, "stats": self.stats}

    def layers(self, cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig, *,
               clutter: ClutterGrid | None = None, collector: PointCollector | None = None,
               points: tuple[np.ndarray, np.ndarray] | None = None) -> Layers:
        """:func:`compute_layers_tiled`, its tiles kept for :meth:`villages`."""
        return compute_layers_tiled(cells, dem, radio,
                                    **self._common(clutter, collector, points))

    def update(self, layers: Layers, old_cells: gpd.GeoDataFrame,
               new_cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig, *,
               clutter: ClutterGrid | None = None, collector: PointCollector | None = None,
               points: tuple[np.ndarray, np.ndarray] | None = None) -> LayerUpdate:
        """:func:`update_layers_tiled`."""
        return update_layers_tiled(layers, old_cells, new_cells, dem, radio,
                                   **self._common(clutter, collector, points))

    def villages(self, villages: gpd.GeoDataFrame, centres: gpd.GeoSeries,
                 settlements: gpd.GeoDataFrame | None, radio: RadioConfig,
                 coverage: CoverageConfig) -> pd.DataFrame | None:
        """:func:`summarise_villages_tiled` on the tiles :meth:`layers` left, or None
        when there are none (an update keeps only the tiles it touched)."""
        if self.stats.store is None:
            return None
        return summarise_villages_tiled(self.client, self.stats.store, villages, centres,
                                        settlements, radio, coverage, self.tile_px)

    def describe(self) -> str:
        """What the tiles were, for the run's notes."""
        s = self.stats
        return (f" on Dask ({self.spec}): {s.tiles} tiles of {self.tile_px} px, "
                f"{s.computed} computed, {s.reused} read back from a stopped run")


def default_scratch(store_folder: Path | None) -> contextlib.AbstractContextManager[Path]:
    """The scratch folder of a run without ``[run] scratch``: ``store_folder/scratch`` (in
    a workspace's state folder: kept if the run stops, so that the next run skips the tiles
    finished; the pipeline removes it after a complete run), else a temporary folder
    removed afterwards."""
    if store_folder is not None:
        return contextlib.nullcontext(store_folder / SCRATCH)
    return _temporary()


@contextlib.contextmanager
def _temporary() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="vncoverage-tiles-") as d:
        yield Path(d)
