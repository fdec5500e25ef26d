"""Remote gaps: villages without mobile broadband that are far from towns or roads.

The plan's priority is the villages the market will not cover unaided. A village is a
*remote gap* when its mobile-broadband verdict (4G or 5G, any operator) is not
``covered`` and its centre (cultural house) is

* more than ``town_m`` from the nearest district town (straight line), or
* more than ``road_m`` from the nearest road.

The thresholds are ``[coverage] remote_town_m`` and ``remote_road_m`` of the configuration
(:class:`~vncoverage.config.CoverageConfig`: 15 km and 1 km by default, with the reasons).

A criterion whose data is missing (no town positions, no road network) is not applied and
the result says so in its notes. Distances are measured in the working CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .errors import CRSError, Problem
from .i18n import Message
from .villages import COVERED

__all__ = ["RemoteGaps", "district_towns", "remote_gaps"]

@dataclass(frozen=True)
class RemoteGaps:
    """Per-village distances and the remote-gap flag.

    Attributes
    ----------
    table
        Indexed by ``village_id``: ``town_distance_m`` and ``road_distance_m`` (NaN when
        that criterion could not be evaluated), ``remote`` (far from towns or roads) and
        ``remote_gap`` (remote and not covered).
    town_m, road_m
        The thresholds used, in metres.
    notes
        What could not be evaluated.
    """

    table: pd.DataFrame
    town_m: float
    road_m: float
    notes: tuple[Message, ...] = ()

    @property
    def evaluated(self) -> bool:
        """Whether at least one criterion could be applied."""
        return bool(self.table["town_distance_m"].notna().any()
                    or self.table["road_distance_m"].notna().any())


def district_towns(districts: gpd.GeoDataFrame | None) -> gpd.GeoSeries | None:
    """District town points from a district layer with ``town_lon`` / ``town_lat`` (WGS 84),
    in the layer's CRS; ``None`` when the layer or the columns are missing."""
    if districts is None or not {"town_lon", "town_lat"} <= set(districts.columns):
        return None
    lon = pd.to_numeric(districts["town_lon"], errors="coerce")
    lat = pd.to_numeric(districts["town_lat"], errors="coerce")
    ok = (lon.notna() & lat.notna()).to_numpy()
    if not ok.any():
        return None
    pts = gpd.GeoSeries(gpd.points_from_xy(lon[ok], lat[ok]), crs="EPSG:4326",
                        index=districts.index[ok])
    return pts.to_crs(districts.crs) if districts.crs is not None else None


def remote_gaps(
    villages: pd.DataFrame,
    centres: gpd.GeoSeries,
    *,
    towns: gpd.GeoSeries | None,
    roads: gpd.GeoDataFrame | None,
    town_m: float,
    road_m: float,
    verdict_column: str = "verdict_mbb_any",
) -> RemoteGaps:
    """Flag the uncovered villages that are far from district towns or roads.

    Parameters
    ----------
    villages
        Per-village results with ``verdict_column``, indexed by ``village_id``.
    centres
        Village centres in the working CRS, indexed like ``villages``.
    towns
        District towns (points) in the same CRS, or ``None``.
    roads
        Road network (lines) in the same CRS, or ``None``.
    town_m, road_m
        Distance thresholds in metres.

    Raises
    ------
    CRSError
        If ``towns`` or ``roads`` are not in the CRS of ``centres``.
    """
    for what, gdf in (("district towns", towns), ("roads", roads)):
        if gdf is not None and gdf.crs != centres.crs:
            raise CRSError([Problem(what, f"CRS {gdf.crs} differs from the village centres' "
                                    f"{centres.crs}", "reproject both to the working CRS")])
    centres = centres.reindex(villages.index)
    xy = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    notes: list[Message] = []
    n = len(villages)
    d_town = np.full(n, np.nan)
    if towns is not None and len(towns):
        txy = np.column_stack([towns.x.to_numpy(), towns.y.to_numpy()])
        d_town, _ = cKDTree(txy).query(xy)
    else:
        notes.append(Message("remote.no_towns"))
    d_road = np.full(n, np.nan)
    if roads is not None and len(roads):
        tree = shapely.STRtree(roads.geometry.to_numpy())
        idx, dist = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
        d_road[idx[0]] = dist
    else:
        notes.append(Message("remote.no_roads"))
    with np.errstate(invalid="ignore"):
        remote = (d_town > town_m) | (d_road > road_m)
    uncovered = (villages[verdict_column] != COVERED).to_numpy()
    table = pd.DataFrame({"town_distance_m": d_town, "road_distance_m": d_road,
                          "remote": remote, "remote_gap": remote & uncovered},
                         index=villages.index)
    return RemoteGaps(table=table, town_m=town_m, road_m=road_m, notes=tuple(notes))
