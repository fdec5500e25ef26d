"""The tower inventory: one row per tower (site) from the cell table, and the sites that are
one tower under several codes.

A tower carries the cells of one or more operators; the map, the GeoPackage and the exports
show it once, with its operators, technologies, owner and counts. Computed once per run by
:func:`vncoverage.pipeline.run` (``Results.towers``).

Each operator numbers its own sites, so one shared mast often appears as two or more
``site_id`` a few metres apart, each with its own operator. :func:`same_tower_ids` groups
the sites closer than ``[kpi] same_tower_m`` (single linkage: a chain of sites, each within
the distance of the next, is one tower) and gives every site the id of its tower, which the
shared-BTS KPI counts as one tower (:func:`vncoverage.kpi.bts_inventory`);
:func:`same_tower_note` lists the groups for the report.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from .i18n import Message, Param

__all__ = ["same_tower_groups", "same_tower_ids", "same_tower_note", "site_points",
           "towers_from_cells"]


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


def site_points(cells: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """One point per site: the position of its first cell (as in :func:`towers_from_cells`
    and on the map), indexed by ``site_id`` (text, sorted).

    Raises
    ------
    ValueError
        If the cells are in a geographic CRS (distances would be in degrees).
    """
    if cells.crs is not None and cells.crs.is_geographic:
        raise ValueError(f"cells must be in a projected (metric) CRS, got {cells.crs!r}; "
                         "reproject them first, e.g. cells.to_crs('EPSG:32648')")
    first = cells.groupby(cells["site_id"].astype(str), sort=True)["geometry"].first()
    out = gpd.GeoSeries(first.to_numpy(), index=first.index, crs=cells.crs)
    out.index.name = "site_id"
    return out


def same_tower_ids(cells: gpd.GeoDataFrame, same_tower_m: float) -> pd.Series:
    """The tower of each site: sites within ``same_tower_m`` of each other are one tower.

    Single linkage: two sites at most ``same_tower_m`` apart are linked, and every connected
    group of sites is one tower (so a chain A-B-C, each within the distance of the next, is
    one tower even if A and C are farther apart; :func:`same_tower_groups` gives the largest
    distance of each group). Sites are placed at their first cell (:func:`site_points`).

    Parameters
    ----------
    cells
        Cell inventory with ``site_id`` and point geometries in a projected (metric) CRS.
    same_tower_m
        Linking distance in metres (``[kpi] same_tower_m``); 0 makes every ``site_id`` its
        own tower (even two site ids at the very same point).

    Returns
    -------
    Series ``tower_id`` indexed by ``site_id`` (text, sorted): the smallest ``site_id`` of
    the site's group (text order), so the result does not depend on the row order.
    """
    if same_tower_m < 0:
        raise ValueError(f"same_tower_m must be >= 0, got {same_tower_m}")
    pts = site_points(cells)
    site_ids = pts.index.to_numpy(dtype=object)
    if same_tower_m == 0 or len(pts) < 2:
        return pd.Series(site_ids, index=pts.index, name="tower_id", dtype=object)
    xy = np.column_stack([pts.x.to_numpy(float), pts.y.to_numpy(float)])
    pairs = cKDTree(xy).query_pairs(float(same_tower_m), output_type="ndarray")
    n = len(xy)
    link = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(link, directed=False)
    # the sites are sorted by site_id, so the first site of each label is its smallest id
    _, first_of_label = np.unique(label, return_index=True)
    tower = site_ids[first_of_label][label]
    return pd.Series(tower, index=pts.index, name="tower_id", dtype=object)


def same_tower_groups(cells: gpd.GeoDataFrame, tower_ids: pd.Series) -> pd.DataFrame:
    """The towers made of several site ids (from :func:`same_tower_ids`).

    Returns
    -------
    DataFrame indexed by ``tower_id`` (sorted) with ``site_ids`` (", "-joined, sorted),
    ``n_sites``, ``operators`` and ``owners`` (the ``tower_owner`` its cells name; both
    ", "-joined, sorted) and ``max_distance_m`` (the largest distance between two of its
    sites, metres); empty if every tower has one site id.
    """
    pts = site_points(cells)
    tower = tower_ids.reindex(pts.index)
    if tower.isna().any():
        missing = list(pts.index[tower.isna().to_numpy()])[:5]
        raise ValueError(f"tower_ids has no tower for site(s) {missing}: compute it from "
                         "the same cells (same_tower_ids)")
    n_sites = tower.value_counts()
    several = sorted(n_sites.index[n_sites.to_numpy() > 1])
    cols = ["site_ids", "n_sites", "operators", "owners", "max_distance_m"]
    if not several:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="tower_id"))
    owner = (cells["tower_owner"] if "tower_owner" in cells.columns
             else pd.Series("", index=cells.index))
    ops = pd.DataFrame({"tower_id": cells["site_id"].astype(str).map(tower),
                        "operator": cells["operator"].fillna("").astype(str),
                        "owner": owner.fillna("").astype(str)})
    rows = []
    for tid in several:
        members = tower.index[(tower == tid).to_numpy()]
        xy = np.column_stack([pts.loc[members].x.to_numpy(float),
                              pts.loc[members].y.to_numpy(float)])
        mine = ops[ops["tower_id"] == tid]
        rows.append({
            "site_ids": ", ".join(sorted(members)), "n_sites": len(members),
            "operators": ", ".join(sorted(set(mine["operator"]))),
            "owners": ", ".join(sorted(set(mine["owner"]) - {""})),
            "max_distance_m": float(pdist(xy).max()),
        })
    return pd.DataFrame(rows, index=pd.Index(several, name="tower_id"))[cols]


def same_tower_note(cells: gpd.GeoDataFrame, tower_ids: pd.Series, same_tower_m: float,
                    max_listed: int = 20) -> list[Message]:
    """The report's note on the towers made of several site ids (none if there are none).

    Lists each group - its site ids, operators, largest distance (metres) and, when its
    cells name different tower owners, the owners (a hint that they may be two masts after
    all) - largest distance first (the most doubtful merges on top), at most ``max_listed``
    of them.

    Parameters
    ----------
    cells, tower_ids
        As for :func:`same_tower_groups`.
    same_tower_m
        The linking distance used for ``tower_ids`` (metres), quoted in the note.
    max_listed
        Groups listed by name; the rest are counted.
    """
    groups = same_tower_groups(cells, tower_ids)
    if groups.empty:
        return []
    groups = groups.reset_index().sort_values(["max_distance_m", "tower_id"],
                                              ascending=[False, True], kind="stable")
    head = groups.head(max_listed)
    listed: list[Param] = [
        Message("towers.group", sites=str(sites).replace(", ", " + "), operators=str(ops),
                m=float(dist_m),
                owners=(Message("towers.owners_differ", owners=str(owners))
                        if ", " in str(owners) else None))
        for sites, ops, owners, dist_m in zip(head["site_ids"], head["operators"],
                                              head["owners"], head["max_distance_m"],
                                              strict=True)]
    more = len(groups) - len(listed)
    return [Message("towers.same_tower", m=same_tower_m, n_sites=int(groups["n_sites"].sum()),
                    n_groups=len(groups), groups=listed,
                    more=Message("towers.more", n=more) if more else None)]
