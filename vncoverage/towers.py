"""The tower inventory: one row per tower (site) from the cell table.

A tower carries the cells of one or more operators; the map, the GeoPackage and the exports
show it once, with its operators, technologies, owner and counts. Computed once per run by
:func:`vncoverage.pipeline.run` (``Results.towers``).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

__all__ = ["towers_from_cells"]


def _joined(cells: pd.DataFrame, column: str) -> pd.Series:
    """Sorted distinct values of ``column`` per site, joined with ", "."""
    pairs = pd.DataFrame({"site_id": cells["site_id"].astype(str),
                          column: cells[column].fillna("").astype(str)})
    pairs = pairs.drop_duplicates().sort_values(["site_id", column])
    return pairs.groupby("site_id", sort=True)[column].agg(", ".join)


def towers_from_cells(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per tower, indexed by ``site_id``: ``operators``, ``technologies``,
    ``tower_owner``, ``n_operators`` and ``n_cells``, at the position of its first cell."""
    g = cells.groupby(cells["site_id"].astype(str), sort=True)
    first = g.first()
    out = pd.DataFrame({
        "operators": _joined(cells, "operator"),
        "technologies": _joined(cells, "technology"),
        "tower_owner": (first["tower_owner"].fillna("").astype(str)
                        if "tower_owner" in cells.columns else ""),
        "n_operators": g["operator"].nunique(),
        "n_cells": g.size(),
    })
    out.index.name = "site_id"
    return gpd.GeoDataFrame(out, geometry=first["geometry"].to_numpy(), crs=cells.crs)
