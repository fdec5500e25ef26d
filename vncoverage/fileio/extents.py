"""Checks across the inputs: points outside the study area, villages and sites against the
DEM's extent, DEM holes under the villages."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import Config
from ..datatypes import Dem
from ..errors import Problem
from ._shared import log, report_rows

__all__ = ["check_extents", "dem_holes"]


def check_extents(
    cfg: Config, villages: gpd.GeoDataFrame | None, cells: gpd.GeoDataFrame | None,
    ftth: gpd.GeoDataFrame | None, dem: Dem | None, problems: list[Problem],
    notes: list[str],
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """Points outside the study area, villages outside the DEM, sites whose radius leaves
    the DEM, DEM holes under the villages.

    The study area is the villages' bounding box grown by each technology's computation
    radius (cells: farther away they cannot cover any village) or by the GPON reach (FTTH
    nodes: farther away they cannot serve any village).

    Returns the cells and FTTH nodes to use and the rows dropped (None: nothing dropped).
    """
    inp = cfg.inputs
    cells_in = cells
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
        return cells_in, ftth, None
    xmin, ymin, xmax, ymax = dem.bounds
    tol = dem.pixel_m
    if villages is not None:
        b = villages.geometry.bounds
        out = ((b["minx"] < xmin - tol) | (b["maxx"] > xmax + tol) | (b["miny"] < ymin - tol)
               | (b["maxy"] > ymax + tol)).to_numpy()
        report_rows(problems, str(inp.boundaries), "the village lies (partly) outside the "
                    "DEM", "extend the DEM to cover every village", list(villages.index[out]),
                    column="geometry")
        dem_holes(dem, villages, notes)
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
    return cells_in, ftth, None


def dem_holes(dem: Dem, villages: gpd.GeoDataFrame, notes: list[str]) -> None:
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
