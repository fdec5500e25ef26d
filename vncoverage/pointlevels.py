"""Every cell's median received level at chosen points: a sparse point × cell matrix.

The layers of a run keep, per pixel, only the best server's level. Two questions need the
others too: calibration (the predicted level of the *measured* cell, or of the best server of
an operator and technology, at each measurement point) and the uncertainty of the verdicts (a
per-site error can hand a point to another server). :func:`levels_at_points` gives, for each
point and each cell whose computation radius reaches it, the level the run computed for
that cell at the point's pixel: the same sweep, antenna pattern and corrections
(:func:`vncoverage.coverage.group_window`, :func:`vncoverage.coverage.cell_raster`), read on
the pixel that holds the point (:meth:`vncoverage.datatypes.Dem.index`, the rule the village
summary uses for centres and household clusters). The maximum over a point's cells of one
technology and operator is therefore the layer's ``best_dbm`` at that pixel.

Only the sweeps of groups that reach a point are computed (or read from a workspace's sweep
cache), and each only on the box of its points' pixels.

A run that needs the matrix (the uncertainty of the verdicts, :mod:`vncoverage.uncertainty`)
does not pay for this separate pass: a :class:`PointCollector` given to
:func:`vncoverage.coverage.compute_layers` (and :func:`~vncoverage.coverage.update_layers`)
reads every cell raster on the points as the run folds it. :func:`village_points` gives the
points a village's verdict reads: its centre, its household clusters, or, for a village
without clusters, the centres of the pixels its polygon overlaps weighted by the overlapped
area (the area share's weights).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource

from .clutter import ClutterGrid
from .config import RadioConfig
from .coverage import (
    CellRaster,
    SweepCache,
    SweepGroup,
    _cell_records,
    cell_raster,
    clutter_window,
    dem_fingerprint,
    group_geometry,
    group_lanes,
    in_lanes,
    sweep_groups,
)
from .datatypes import Dem

__all__ = ["CENTRE", "CLUSTER", "PIXEL", "PointCollector", "PointLevels", "VillagePoints",
           "levels_at_points", "village_points"]


@dataclass(frozen=True)
class PointLevels:
    """Median received levels at points, one entry per (point, cell) in reach.

    ``point`` indexes the points given (0 … ``n_points`` - 1), ``cell`` indexes
    ``cell_ids`` (sorted, as :attr:`vncoverage.coverage.Layers.cell_ids`); ``level_dbm``
    is the cell's level at the point's pixel (dBm per resource element for 4G/5G, as the
    layers hold it; NaN where the path crossed DEM nodata).
    Entries are sorted by point, then cell. Points outside the DEM have no entry.
    """

    n_points: int
    cell_ids: list[str]
    point: np.ndarray
    cell: np.ndarray
    level_dbm: np.ndarray

    def frame(self, cells: pd.DataFrame | None = None,
              columns: Sequence[str] = ("technology", "operator")) -> pd.DataFrame:
        """The entries as a table: ``point``, ``cell_id``, ``level_dbm`` and, given the cell
        table, its ``columns``."""
        ids = np.asarray(self.cell_ids, dtype=object)[self.cell]
        out = pd.DataFrame({"point": self.point, "cell_id": ids, "level_dbm": self.level_dbm})
        if cells is not None:
            for c in columns:
                out[c] = cells[c].reindex(ids).to_numpy()
        return out

    def select(self, cells: pd.DataFrame, *, technology: str | None = None,
               operator: str | None = None) -> np.ndarray:
        """A mask over ``cell_ids`` of the cells of ``technology`` and ``operator`` (either
        None: any)."""
        ids = pd.Index(self.cell_ids)
        keep = np.ones(len(ids), bool)
        for col, value in (("technology", technology), ("operator", operator)):
            if value is not None:
                keep &= cells[col].astype(str).reindex(ids).to_numpy() == value
        return keep

    def best(self, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per point, the best level among the cells selected by ``mask`` (a boolean per
        entry of ``cell_ids``; all cells when None) and that cell's index (-inf and -1 where
        none reaches; NaN where only unknown levels do). Ties go to the lowest cell index,
        as in the layers' fold."""
        keep = np.ones(len(self.point), bool) if mask is None else mask[self.cell]
        p, c, v = self.point[keep], self.cell[keep], self.level_dbm[keep]
        best = np.full(self.n_points, -np.inf)
        server = np.full(self.n_points, -1, dtype=np.int64)
        known = np.isfinite(v)
        has_unknown = np.zeros(self.n_points, bool)
        has_unknown[p[~known]] = True
        # order by point, level descending, cell ascending: the first of each point wins
        pk, ck, vk = p[known], c[known], v[known]
        order = np.lexsort((ck, -vk, pk))
        pk, ck, vk = pk[order], ck[order], vk[order]
        first = np.r_[True, pk[1:] != pk[:-1]] if len(pk) else np.zeros(0, bool)
        best[pk[first]] = vk[first]
        server[pk[first]] = ck[first]
        best[has_unknown & (server < 0)] = np.nan
        return best, server


def levels_at_points(cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig, x: np.ndarray,
                     y: np.ndarray, *, cache: SweepCache | None = None,
                     clutter: ClutterGrid | None = None,
                     only_points: bool = False) -> PointLevels:
    """The level of every cell of a computed technology (``radio.technologies``) at every
    point (``x``, ``y``, working CRS) within its computation radius, as the run computes
    it (see the module docstring). ``cells``: the run's cell table (working CRS, indexed by
    cell id); ``cache``: a workspace's sweep cache (sweeps found there are not recomputed);
    ``clutter``: the run's clutter loss (:func:`vncoverage.coverage.with_clutter`), or None.
    ``only_points``: compute the paths to the points' pixels only, not their whole box
    (the same values: every pixel has its own path; a ``cache`` keeps them, and the
    paths it had already are read).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    rows, cols = dem.index(x, y)
    on_grid = (rows >= 0) & (rows < dem.shape[0]) & (cols >= 0) & (cols < dem.shape[1])
    cell_ids = sorted(map(str, cells.index))  # the layers' order: same tie-breaking
    position = {c: k for k, c in enumerate(cell_ids)}
    sel = cells[cells["technology"].isin(radio.technologies)]
    records = _cell_records(sel)
    dem_fp = dem_fingerprint(dem) if cache is not None else None
    pts, cids, levels = [], [], []
    # pixel centres of the points: the reach test uses the pixel, as the rasters do
    t = dem.transform
    px = t.c + (cols + 0.5) * t.a
    py = t.f + (rows + 0.5) * t.e

    def group_levels(g: SweepGroup) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per cell of the group: the points it reaches, its index, its levels there."""
        near = np.flatnonzero(on_grid & ((px - g.x) ** 2 + (py - g.y) ** 2
                                         <= (g.radius_m + 2 * dem.pixel_m) ** 2))
        if not len(near):
            return []
        r, c = rows[near], cols[near]
        box = (int(r.min()), int(c.min()), int(r.max()) + 1, int(c.max()) + 1)
        mask = None
        if only_points:
            mask = np.zeros((box[2] - box[0], box[3] - box[1]), bool)
            mask[r - box[0], c - box[1]] = True
            box, mask = _clipped(box, mask, g, dem, radio)
        win = clutter_window(g, dem, radio, clutter, cache=cache, dem_fp=dem_fp, within=box,
                             pixels=mask)
        wr, wc = r - win.row, c - win.col
        inside = ((wr >= 0) & (wr < win.loss_db.shape[0]) & (wc >= 0)
                  & (wc < win.loss_db.shape[1]))
        near, wr, wc = near[inside], wr[inside], wc[inside]
        out = []
        for cid in g.cell_ids:
            lev = cell_raster(cid, records[cid], win, radio).level_dbm[wr, wc]
            reach = ~np.isneginf(lev)
            out.append((near[reach], np.full(int(reach.sum()), position[cid], dtype=np.int64),
                        lev[reach].astype(np.float64)))
        return out

    # the groups in lanes, one per core, each on one numba thread (the results come in the
    # groups' order: the same matrix)
    for part in in_lanes(group_levels, sweep_groups(sel, radio), group_lanes(0)):
        for p, k, v in part:
            pts.append(p)
            cids.append(k)
            levels.append(v)
    return _assembled(len(x), cell_ids, pts, cids, levels)


def _clipped(box: tuple[int, int, int, int], mask: np.ndarray, g: SweepGroup, dem: Dem,
             radio: RadioConfig) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """``box`` and its pixel ``mask`` cut to the group's window (:func:`group_window`
    clips its box to the window; the mask must follow)."""
    _, r0, c0, n = group_geometry(g, dem, radio)
    b = (max(box[0], r0), max(box[1], c0), max(min(box[2], r0 + n), max(box[0], r0)),
         max(min(box[3], c0 + n), max(box[1], c0)))
    sub = mask[b[0] - box[0]:b[2] - box[0], b[1] - box[1]:b[3] - box[1]]
    return b, np.ascontiguousarray(sub)


def _assembled(n_points: int, cell_ids: list[str], pts: list[np.ndarray],
               cids: list[np.ndarray], levels: list[np.ndarray]) -> PointLevels:
    """The entries gathered in pieces (points, cell indexes, levels), sorted by point then
    cell."""
    if pts:
        p, c, v = np.concatenate(pts), np.concatenate(cids), np.concatenate(levels)
    else:
        p = c = np.zeros(0, np.int64)
        v = np.zeros(0, np.float64)
    order = np.lexsort((c, p))
    return PointLevels(n_points, cell_ids, p[order].astype(np.int64),
                       c[order].astype(np.int64), v[order])


#: Kinds of :class:`VillagePoints`: a village centre, a household cluster, a pixel centre
#: standing for the part of the polygon in that pixel (villages without clusters).
CENTRE, CLUSTER, PIXEL = 0, 1, 2


@dataclass(frozen=True)
class VillagePoints:
    """The points a village's verdict reads (:func:`village_points`), grouped by village.

    ``village`` indexes ``village_ids`` (points sorted by it); ``kind`` is :data:`CENTRE`,
    :data:`CLUSTER` or :data:`PIXEL`; ``weight`` is the population of a cluster, the area
    (m²) of the polygon inside a pixel, 1 for a centre. ``centre[v]`` is the point of
    village ``v``'s centre; ``by_area[v]`` says that its share is an area share (no
    cluster with population), as :func:`vncoverage.villages.summarise_villages` decides;
    ``on_grid``: the point falls on a pixel of the DEM.
    """

    village_ids: pd.Index
    x: np.ndarray
    y: np.ndarray
    village: np.ndarray
    kind: np.ndarray
    weight: np.ndarray
    centre: np.ndarray
    by_area: np.ndarray
    on_grid: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return len(self.x)

    @property
    def ptr(self) -> np.ndarray:
        """CSR offsets: the points of village ``v`` are ``ptr[v]:ptr[v + 1]``."""
        return np.searchsorted(self.village, np.arange(len(self.village_ids) + 1))


def _pixel_points(villages: gpd.GeoDataFrame, dem: Dem) -> pd.DataFrame:
    """Per village, the centres of the DEM pixels its polygon overlaps and the area (m²)
    overlapped: the weights of the exact area share (exactextract's coverage fractions)."""
    if not len(villages):
        return pd.DataFrame(columns=["vid", "x", "y", "w"])
    xmin, ymin, xmax, ymax = dem.bounds
    src = NumPyRasterSource(np.zeros(dem.shape, np.float32), xmin, ymin, xmax, ymax,
                            name="grid", srs_wkt=dem.crs.to_wkt())
    poly = gpd.GeoDataFrame({"vid": np.arange(len(villages))}, geometry=villages.geometry.values,
                            crs=villages.crs)
    ex = exact_extract(src, poly, ["coverage", "center_x", "center_y"], include_cols=["vid"],
                       output="pandas")
    parts = [pd.DataFrame({"vid": v, "x": cx, "y": cy, "w": cov * dem.pixel_m ** 2})
             for v, cov, cx, cy in zip(ex["vid"], ex["coverage"], ex["center_x"],
                                       ex["center_y"], strict=True) if len(cov)]
    if not parts:
        return pd.DataFrame(columns=["vid", "x", "y", "w"])
    out = pd.concat(parts, ignore_index=True)
    return out[out["w"] > 0]


def village_points(villages: gpd.GeoDataFrame, centres: gpd.GeoSeries,
                   settlements: gpd.GeoDataFrame | None, dem: Dem) -> VillagePoints:
    """The points of every village's verdict (working CRS): its centre; its household
    clusters (weighted by population) when they hold any population, as the population
    share does; otherwise the centres of the pixels its polygon overlaps, weighted by the
    area overlapped (the area share's exact weights)."""
    vids = villages.index
    n = len(vids)
    cen = centres.reindex(vids)
    frames = [pd.DataFrame({"vid": np.arange(n), "x": cen.x.to_numpy(), "y": cen.y.to_numpy(),
                            "w": 1.0, "kind": CENTRE})]
    by_area = np.ones(n, bool)
    if settlements is not None and len(settlements):
        s = settlements[settlements["village_id"].isin(vids)]
        pos = vids.get_indexer(s["village_id"])
        pop = s["population"].to_numpy(float)
        total = np.bincount(pos, weights=np.nan_to_num(pop), minlength=n)
        by_area = ~(total > 0)
        keep = ~by_area[pos] & (pop > 0)
        frames.append(pd.DataFrame({"vid": pos[keep], "x": s.geometry.x.to_numpy()[keep],
                                    "y": s.geometry.y.to_numpy()[keep], "w": pop[keep],
                                    "kind": CLUSTER}))
    if by_area.any():
        px = _pixel_points(villages[by_area], dem)
        px["vid"] = np.flatnonzero(by_area)[px["vid"].to_numpy(int)]
        px["kind"] = PIXEL
        frames.append(px)
    pts = pd.concat(frames, ignore_index=True)
    pts = pts.sort_values(["vid", "kind"], kind="stable", ignore_index=True)
    village = pts["vid"].to_numpy(np.int64)
    kind = pts["kind"].to_numpy(np.int8)
    centre = np.full(n, -1, np.int64)
    is_c = np.flatnonzero(kind == CENTRE)
    centre[village[is_c]] = is_c
    x, y = pts["x"].to_numpy(float), pts["y"].to_numpy(float)
    fin = np.isfinite(x) & np.isfinite(y)
    rows, cols = dem.index(np.where(fin, x, dem.bounds[0] - 1e9), np.where(fin, y, 0.0))
    on = fin & (rows >= 0) & (rows < dem.shape[0]) & (cols >= 0) & (cols < dem.shape[1])
    return VillagePoints(vids, x, y, village, kind, pts["w"].to_numpy(float), centre, by_area,
                         on)


class PointCollector:
    """Collects the :class:`PointLevels` of chosen points while a run computes its layers:
    call it on every :class:`~vncoverage.coverage.CellRaster` (the ``on_raster`` hook of
    :func:`~vncoverage.coverage.compute_layers` and
    :func:`~vncoverage.coverage.update_layers`). A cell's entries are replaced when its
    raster comes again (a changed cell) and go with :meth:`drop` (a removed cell), so a
    collector kept across workspace updates holds what a full computation would."""

    def __init__(self, dem: Dem, x: np.ndarray, y: np.ndarray) -> None:
        x, y = np.asarray(x, float), np.asarray(y, float)
        fin = np.isfinite(x) & np.isfinite(y)
        rows, cols = dem.index(np.where(fin, x, dem.bounds[0] - 1e9), np.where(fin, y, 0.0))
        on = fin & (rows >= 0) & (rows < dem.shape[0]) & (cols >= 0) & (cols < dem.shape[1])
        idx = np.flatnonzero(on)
        order = np.lexsort((cols[idx], rows[idx]))
        self.n_points = len(rows)
        self._idx = idx[order]
        self._rows = rows[idx][order]
        self._cols = cols[idx][order]
        self._entries: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, raster: CellRaster) -> None:
        h, w = raster.level_dbm.shape
        a, b = np.searchsorted(self._rows, [raster.row, raster.row + h])
        rows, cols, idx = self._rows[a:b], self._cols[a:b], self._idx[a:b]
        inside = (cols >= raster.col) & (cols < raster.col + w)
        lev = raster.level_dbm[rows[inside] - raster.row, cols[inside] - raster.col]
        reach = ~np.isneginf(lev)
        self._entries[raster.cell_id] = (idx[inside][reach], lev[reach].astype(np.float64))

    def update(self, other: PointCollector) -> None:
        """Take the entries ``other`` collected (its cells replace this one's)."""
        self._entries.update(other._entries)

    def entries(self, points: np.ndarray | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What was collected: per cell id, the point indexes and levels; with ``points``
        (this collector's point k is ``points[k]`` of a larger set), indexes into that
        set."""
        if points is None:
            return dict(self._entries)
        return {cid: (points[idx], lev) for cid, (idx, lev) in self._entries.items()}

    def extend(self, entries: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Add entries collected on other points (another tile's, :mod:`vncoverage.tiles`):
        a cell's entries are appended to those it has, not replaced."""
        for cid, (idx, lev) in entries.items():
            had = self._entries.get(cid)
            self._entries[cid] = ((idx, lev) if had is None else
                                  (np.concatenate([had[0], idx]), np.concatenate([had[1], lev])))

    def drop(self, cell_ids: Iterable[str]) -> None:
        """Forget the entries of ``cell_ids`` (removed cells)."""
        for cid in cell_ids:
            self._entries.pop(str(cid), None)

    @classmethod
    def from_levels(cls, dem: Dem, x: np.ndarray, y: np.ndarray,
                    levels: PointLevels) -> PointCollector:
        """A collector holding ``levels`` (e.g. kept by an earlier run), to update."""
        out = cls(dem, x, y)
        ids = np.asarray(levels.cell_ids, dtype=object)
        order = np.argsort(levels.cell, kind="stable")
        cells = levels.cell[order]
        starts = np.searchsorted(cells, np.arange(len(ids) + 1))
        for k, cid in enumerate(ids):
            sl = order[starts[k]:starts[k + 1]]
            if len(sl):
                out._entries[str(cid)] = (levels.point[sl], levels.level_dbm[sl])
        return out

    def levels(self, cell_ids: Sequence[str]) -> PointLevels:
        """The matrix, with cells numbered as ``cell_ids`` (the layers' sorted ids; cells
        collected but not listed are left out)."""
        pts, cids, levels = [], [], []
        for k, cid in enumerate(cell_ids):
            e = self._entries.get(str(cid))
            if e is None:
                continue
            pts.append(e[0])
            cids.append(np.full(len(e[0]), k, dtype=np.int64))
            levels.append(e[1])
        return _assembled(self.n_points, list(map(str, cell_ids)), pts, cids, levels)
