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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import RadioConfig
from .coverage import (
    SweepCache,
    _cell_records,
    cell_raster,
    dem_fingerprint,
    group_window,
    sweep_groups,
)
from .datatypes import Dem

__all__ = ["PointLevels", "levels_at_points"]


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
                     y: np.ndarray, *, cache: SweepCache | None = None) -> PointLevels:
    """The level of every cell of a computed technology (``radio.technologies``) at every
    point (``x``, ``y``, working CRS) within its computation radius, as the run computes
    it (see the module docstring). ``cells``: the run's cell table (working CRS, indexed by
    cell id); ``cache``: a workspace's sweep cache (sweeps found there are not recomputed).
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
    for g in sweep_groups(sel, radio):
        near = np.flatnonzero(on_grid & ((px - g.x) ** 2 + (py - g.y) ** 2
                                         <= (g.radius_m + 2 * dem.pixel_m) ** 2))
        if not len(near):
            continue
        r, c = rows[near], cols[near]
        box = (int(r.min()), int(c.min()), int(r.max()) + 1, int(c.max()) + 1)
        win = group_window(g, dem, radio, cache=cache, dem_fp=dem_fp, within=box)
        wr, wc = r - win.row, c - win.col
        inside = ((wr >= 0) & (wr < win.loss_db.shape[0]) & (wc >= 0)
                  & (wc < win.loss_db.shape[1]))
        near, wr, wc = near[inside], wr[inside], wc[inside]
        for cid in g.cell_ids:
            lev = cell_raster(cid, records[cid], win, radio).level_dbm[wr, wc]
            reach = ~np.isneginf(lev)
            pts.append(near[reach])
            cids.append(np.full(int(reach.sum()), position[cid], dtype=np.int64))
            levels.append(lev[reach].astype(np.float64))
    if pts:
        p, c, v = np.concatenate(pts), np.concatenate(cids), np.concatenate(levels)
    else:
        p = c = np.zeros(0, np.int64)
        v = np.zeros(0, np.float64)
    order = np.lexsort((c, p))
    return PointLevels(len(x), cell_ids, p[order].astype(np.int64), c[order].astype(np.int64),
                       v[order])
