"""A small world for the site planner (``vncoverage plan``): the conftest world on hills,
with a road grid, a short 4G reach (the corner villages are not covered) and a MobiFone
2G-only site (a 4G upgrade candidate)."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from conftest import X0, Y0, N, World, build_world, write_dem
from pyproj import Transformer
from shapely.geometry import LineString


def build_plan_world(root: Path) -> World:
    """Build the world under ``root`` (see the module docstring)."""
    w = build_world(root)
    ii, jj = np.mgrid[0:N, 0:N]
    # smooth hills: a few Gaussian bumps (deterministic), 100-400 m
    elev = np.full((N, N), 100.0)
    for ci, cj, h, s in ((40, 40, 250, 18), (150, 60, 200, 22), (60, 170, 300, 20),
                         (170, 170, 220, 16), (110, 110, 120, 30)):
        elev += h * np.exp(-((ii - ci) ** 2 + (jj - cj) ** 2) / (2 * s * s))
    write_dem(w.dem, elev)
    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    # a grid of roads, split at every crossing (a road network meets at shared vertices)
    grid = [100.0, 1250.0, 3750.0, 5000.0, 6250.0, 8750.0, 9900.0]
    lines = []
    for v in grid[1:-1]:
        for a, b in itertools.pairwise(grid):
            lines.append(LineString([(X0 + v, Y0 - a), (X0 + v, Y0 - b)]))
            lines.append(LineString([(X0 + a, Y0 - v), (X0 + b, Y0 - v)]))
    roads = gpd.GeoDataFrame({"road_id": [f"R{k}" for k in range(len(lines))],
                              "road_class": "provincial", "name": ""},
                             geometry=lines, crs=32648).to_crs(4326)
    roads.to_file(root / "roads.gpkg", layer="roads", driver="GPKG")
    cells = pd.read_csv(w.cells)
    lon, lat = to_ll.transform(X0 + 8_750, Y0 - 8_750)
    cells = pd.concat([cells, pd.DataFrame([
        dict(site_id="S3", cell_id=f"MF-S3-2G-{s + 1}", operator="MobiFone", technology="2G",
             lon=lon, lat=lat, height_m=30, azimuth_deg=az, tilt_deg=3, frequency_mhz=900,
             bandwidth_mhz=0.2, eirp_dbm=59, commissioned="2012-01-01", tower_owner="MobiFone")
        for s, az in enumerate((0, 120, 240))])], ignore_index=True)
    cells.to_csv(w.cells, index=False)
    text = w.config.read_text(encoding="utf-8")
    text = text.replace('targets = "targets.csv"\n', 'targets = "targets.csv"\n'
                        'roads = "roads.gpkg"\n')
    text = text.replace('max_radius_m = { "4G" = 6000.0 }',
                        'max_radius_m = { "4G" = 3000.0 }')
    w.config.write_text(text + '\n[plan]\ntime_limit_s = 30.0\nmin_spacing_m = 1000.0\n',
                        encoding="utf-8")
    return w
