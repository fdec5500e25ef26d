"""A tiny world for the planner-facing outputs (map, report, exports, browser test).

The conftest world plus: hostile village names (HTML / script injection), district and
2025-commune boundary layers with district towns, and a short road in the south-west so
that the uncovered corner village V04 is a remote gap (more than 1 km from any road).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from conftest import X0, Y0, World, build_world
from shapely.geometry import LineString, box

#: Village names that would run script if a page inserted them as HTML.
XSS_NAMES = {
    "V01": "<script>alert(1)</script>",
    "V02": "<img src=x onerror=alert(2)>",
    "V04": '"><svg onload=alert(4)>Bản & Nà',
}


def build_planner_world(root: Path) -> World:
    """Build the world under ``root`` (see the module docstring)."""
    names = [XSS_NAMES.get(f"V{k + 1:02d}", f"Thôn Nà {k + 1}") for k in range(16)]
    w = build_world(root, village_names=names)
    west = box(X0, Y0 - 10_000, X0 + 5_000, Y0)
    east = box(X0 + 5_000, Y0 - 10_000, X0 + 10_000, Y0)
    districts = gpd.GeoDataFrame(
        {"district_id": ["D1", "D2"], "name": ["Huyện Văn Quan", "Huyện Chi Lăng"],
         "short_name": ["Văn Quan", "Chi Lăng"]},
        geometry=[west, east], crs=32648)
    towns = gpd.GeoSeries(gpd.points_from_xy([X0 + 2_500, X0 + 7_500],
                                             [Y0 - 7_500, Y0 - 7_500]), crs=32648).to_crs(4326)
    districts["town_lon"] = towns.x.to_numpy()
    districts["town_lat"] = towns.y.to_numpy()
    districts.to_crs(4326).to_file(w.boundaries, layer="districts", driver="GPKG")
    communes = gpd.GeoDataFrame({"commune_2025_id": ["X0", "X1"],
                                 "name": ["Xã mới 0", "Xã mới 1"]},
                                geometry=[west, east], crs=32648)
    communes.to_crs(4326).to_file(w.boundaries, layer="communes_2025", driver="GPKG")
    road = LineString([(X0 + 200, Y0 - 9_800), (X0 + 4_000, Y0 - 9_800)])
    gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["district"], "name": ["ĐH 1"]},
                     geometry=[road], crs=32648).to_crs(4326).to_file(
        root / "roads.gpkg", layer="roads", driver="GPKG")
    text = w.config.read_text(encoding="utf-8")
    w.config.write_text(text.replace('targets = "targets.csv"\n',
                                     'targets = "targets.csv"\nroads = "roads.gpkg"\n'),
                        encoding="utf-8")
    return w
