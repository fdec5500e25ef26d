"""FTTH reach: which households and villages a splitter with a free port can serve.

First version: route lengths are straight-line distances times
``FtthConfig.straight_line_factor`` (DOMAIN.md: 1.2 without road data), and every output
row says so in ``ftth_method``. A household cluster is passed, household by household,
when a splitter within the drop reach still has free ports (``ports - ports_used``, counted
down as households are assigned, nearest pair first across the whole province) and that
splitter's route to its OLT is within the GPON reach.

Per village: households passed (count and share), whether the centre (cultural house) is
within drop reach of a usable splitter with a free port, the FTTH verdict under
``FtthConfig.rule``, the route distance to the nearest usable splitter and to the nearest
one that still has a free port, and the extra cable needed (beyond the drop reach) to reach
the latter.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .config import FtthConfig

__all__ = ["STRAIGHT_LINE", "assign_households", "ftth_reach"]

STRAIGHT_LINE = "straight line x {factor:g} (no road network)"


def _usable_splitters(nodes: gpd.GeoDataFrame, cfg: FtthConfig) -> gpd.GeoDataFrame:
    """Splitters whose route to their OLT is within the GPON reach, with ``free`` ports
    and ``olt_route_m``."""
    olts = nodes[nodes["node_type"] == "olt"]
    spl = nodes[nodes["node_type"] == "splitter"].copy()
    olt_geom = olts.geometry.reindex(spl["olt_id"].to_numpy())
    route = spl.geometry.distance(olt_geom.set_axis(spl.index), align=False).to_numpy()
    spl["olt_route_m"] = route * cfg.straight_line_factor
    spl["free"] = (spl["ports"] - spl["ports_used"]).clip(lower=0).astype("int64")
    spl["usable"] = spl["olt_route_m"] <= cfg.gpon_reach_m
    return spl


def assign_households(
    cluster_xy: np.ndarray,
    cluster_households: np.ndarray,
    splitter_xy: np.ndarray,
    splitter_free: np.ndarray,
    reach_m: float,
    factor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy nearest-first assignment of households to splitter ports.

    All (cluster, splitter) pairs within ``reach_m`` (route = straight x ``factor``) are
    visited by increasing distance (ties by cluster then splitter index); each assigns as
    many households as both sides still have.

    Returns
    -------
    passed
        Households passed per cluster.
    free_left
        Free ports left per splitter.
    """
    passed = np.zeros(len(cluster_xy), dtype=np.int64)
    free = splitter_free.astype(np.int64).copy()
    if len(cluster_xy) == 0 or len(splitter_xy) == 0:
        return passed, free
    tree_c, tree_s = cKDTree(cluster_xy), cKDTree(splitter_xy)
    pairs = tree_c.sparse_distance_matrix(tree_s, reach_m / factor, output_type="ndarray")
    if len(pairs) == 0:
        return passed, free
    order = np.lexsort((pairs["j"], pairs["i"], pairs["v"]))
    remaining = cluster_households.astype(np.int64).copy()
    for k in order:
        i, j = int(pairs["i"][k]), int(pairs["j"][k])
        n = min(remaining[i], free[j])
        if n > 0:
            remaining[i] -= n
            free[j] -= n
            passed[i] += n
    return passed, free


def ftth_reach(
    villages: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    settlements: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame,
    cfg: FtthConfig,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FTTH figures per village and per household cluster.

    Returns
    -------
    per_village
        Indexed by ``village_id``: ``ftth_households``, ``ftth_households_passed``,
        ``ftth_household_share``, ``ftth_centre_passed``, ``ftth_covered``,
        ``ftth_nearest_splitter_m``, ``ftth_nearest_free_splitter_m``,
        ``ftth_extra_cable_m``, ``ftth_method``.
    per_cluster
        Indexed by cluster id: ``village_id``, ``households``, ``households_passed``.
    """
    f = cfg.straight_line_factor
    method = STRAIGHT_LINE.format(factor=f)
    spl = _usable_splitters(nodes, cfg)
    use = spl[spl["usable"]]
    sxy = np.column_stack([use.geometry.x, use.geometry.y]) if len(use) else np.empty((0, 2))
    if settlements is not None and len(settlements):
        cl = settlements
        cxy = np.column_stack([cl.geometry.x, cl.geometry.y])
        hh = cl["households"].to_numpy(np.int64)
        vid = cl["village_id"].to_numpy()
    else:  # one pseudo-cluster per village at its centre
        cxy = np.column_stack([centres.x, centres.y])
        hh = villages["households"].to_numpy(np.int64)
        vid = villages.index.to_numpy()
    passed, free_left = assign_households(cxy, hh, sxy, use["free"].to_numpy(),
                                          cfg.drop_reach_m, f)
    per_cluster = pd.DataFrame(
        {"village_id": vid, "households": hh, "households_passed": passed},
        index=settlements.index if settlements is not None and len(settlements)
        else villages.index.rename("cluster_id"),
    )
    tot = per_cluster.groupby("village_id")["households"].sum().reindex(villages.index)
    got = per_cluster.groupby("village_id")["households_passed"].sum().reindex(villages.index)
    tot, got = tot.fillna(0).astype("int64"), got.fillna(0).astype("int64")
    share = np.where(tot > 0, got / tot.where(tot > 0, 1), 0.0)

    vxy = np.column_stack([centres.x, centres.y])
    inf = np.full(len(vxy), np.inf)
    nearest = inf.copy()
    nearest_free = inf.copy()
    centre_passed = np.zeros(len(vxy), dtype=bool)
    if len(use):
        tree = cKDTree(sxy)
        d, _ = tree.query(vxy)
        nearest = d * f
        initially_free = use["free"].to_numpy() > 0
        if initially_free.any():
            d0, _ = cKDTree(sxy[initially_free]).query(vxy)
            centre_passed = d0 * f <= cfg.drop_reach_m
        still_free = free_left > 0
        if still_free.any():
            d1, _ = cKDTree(sxy[still_free]).query(vxy)
            nearest_free = d1 * f
    share_ok = share >= cfg.household_share - 1e-12
    covered = {
        "centre": centre_passed,
        "share": share_ok,
        "centre_or_share": centre_passed | share_ok,
    }[cfg.rule]
    extra = np.where(covered, 0.0, np.maximum(nearest_free - cfg.drop_reach_m, 0.0))
    per_village = pd.DataFrame(
        {
            "ftth_households": tot.to_numpy(),
            "ftth_households_passed": got.to_numpy(),
            "ftth_household_share": share,
            "ftth_centre_passed": centre_passed,
            "ftth_covered": covered,
            "ftth_nearest_splitter_m": np.where(np.isfinite(nearest), nearest, np.nan),
            "ftth_nearest_free_splitter_m": np.where(np.isfinite(nearest_free), nearest_free,
                                                     np.nan),
            "ftth_extra_cable_m": np.where(np.isfinite(extra), extra, np.nan),
            "ftth_method": method,
        },
        index=villages.index,
    )
    return per_village, per_cluster
