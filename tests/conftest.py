"""Shared fixtures: a tiny synthetic world built in code (no committed test data)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from shapely.geometry import Point, box

#: NTIA's Longley-Rice reference cases, in ``shared/`` beside the repository (never copied in).
ORACLE_DIR = Path(__file__).resolve().parents[2] / "shared" / "oracles" / "itm"


def pytest_sessionstart(session: pytest.Session) -> None:
    """On CI the oracle tests must run: a missing ``shared/`` is an error, not a skip."""
    if os.environ.get("CI") and not ORACLE_DIR.is_dir():
        raise pytest.UsageError(
            f"CI is set but the ITM reference cases are missing at {ORACLE_DIR}; CI must "
            "provide shared/ beside the repository (unset CI to run without them)")


X0, Y0 = 650_000.0, 2_420_000.0  # top-left corner, EPSG:32648 (near Lạng Sơn)
PIXEL = 50.0
N = 200  # 10 km x 10 km


@dataclass
class World:
    root: Path
    config: Path
    cells: Path
    dem: Path
    boundaries: Path

    def utm_to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        t = Transformer.from_crs(32648, 4326, always_xy=True)
        return t.transform(x, y)


def write_dem(path: Path, elevation: np.ndarray, *, pixel: float = PIXEL,
              nodata: float = -32768.0, crs: str | None = "EPSG:32648") -> None:
    arr = elevation.astype(np.float32)
    with rasterio.open(path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1],
                       count=1, dtype="float32", crs=crs,
                       transform=Affine(pixel, 0, X0, 0, -pixel, Y0), nodata=nodata) as dst:
        dst.write(arr, 1)


def build_world(root: Path, *, ridge: bool = False, village_names: list[str] | None = None,
                cells_rows: list[dict] | None = None) -> World:
    """A 10 km square: 16 villages of 2.5 km, one 3-sector Viettel 4G site in the middle,
    one VNPT omni site in a corner, an OLT and two splitters, a targets table."""
    root.mkdir(parents=True, exist_ok=True)
    elev = np.full((N, N), 100.0)
    if ridge:
        elev[:, 120:124] = 400.0  # a north-south ridge 1 km east of the centre site
    write_dem(root / "dem.tif", elev)
    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    polys, rows, centres, clusters = [], [], [], []
    k = 0
    for i in range(4):
        for j in range(4):
            xa, ya = X0 + j * 2500, Y0 - (i + 1) * 2500
            poly = box(xa, ya, xa + 2500, ya + 2500)
            vid = f"V{k + 1:02d}"
            name = village_names[k] if village_names else f"Thôn Nà {k + 1}"
            district = "Huyện Văn Quan" if j < 2 else "Huyện Chi Lăng"
            rows.append({"village_id": vid, "name": name, "commune": f"Xã {i}",
                         "district": district, "commune_2025": f"Xã mới {j // 2}",
                         "kind": "thôn", "population": 400 + 10 * k, "households": 100 + k})
            polys.append(poly)
            c = poly.centroid
            centres.append({"village_id": vid, "name": name, "geometry": c})
            clusters.append({"cluster_id": f"H{k:03d}a", "village_id": vid, "households": 60,
                             "population": 240, "geometry": Point(c.x - 300, c.y)})
            clusters.append({"cluster_id": f"H{k:03d}b", "village_id": vid,
                             "households": 40 + k, "population": 160 + 10 * k,
                             "geometry": Point(c.x + 600, c.y + 600)})
            k += 1
    vil = gpd.GeoDataFrame(rows, geometry=polys, crs=32648).to_crs(4326)
    cen = gpd.GeoDataFrame(centres, crs=32648).to_crs(4326)
    bpath = root / "boundaries.gpkg"
    vil.to_file(bpath, layer="villages", driver="GPKG")
    cen.to_file(bpath, layer="village_centres", driver="GPKG")
    gpd.GeoDataFrame(clusters, crs=32648).to_crs(4326).to_file(
        root / "settlements.gpkg", layer="clusters", driver="GPKG")

    cx, cy = X0 + 5000, Y0 - 5000
    lon, lat = to_ll.transform(cx, cy)
    lon2, lat2 = to_ll.transform(X0 + 500, Y0 - 500)
    if cells_rows is None:
        cells_rows = []
        for s, az in enumerate((0, 120, 240)):
            cells_rows.append(dict(site_id="S1", cell_id=f"VT-S1-4G-{s + 1}", operator="Viettel",
                                   technology="4G", lon=lon, lat=lat, height_m=30,
                                   azimuth_deg=az, tilt_deg=3, frequency_mhz=1800,
                                   bandwidth_mhz=20, eirp_dbm=60, commissioned="2024-03-01",
                                   tower_owner="Viettel"))
        cells_rows.append(dict(site_id="S2", cell_id="VN-S2-4G-1", operator="VNPT",
                               technology="4G", lon=lon2, lat=lat2, height_m=25,
                               azimuth_deg="", tilt_deg=2, frequency_mhz=2100,
                               bandwidth_mhz=10, eirp_dbm=58, commissioned="2019-05-01",
                               tower_owner="VNPT"))
    pd.DataFrame(cells_rows).to_csv(root / "cells.csv", index=False)

    olt = to_ll.transform(cx, cy)
    s1 = to_ll.transform(cx - 300, cy - 1250 + 100)  # near village V06/V10 border centre
    s2 = to_ll.transform(X0 + 1250, Y0 - 1250 + 150)  # 150 m from V01's centre
    pd.DataFrame([
        dict(node_id="OLT1", node_type="olt", operator="VNPT", olt_id="", lon=olt[0],
             lat=olt[1], ports="", ports_used="", name="OLT"),
        dict(node_id="SP1", node_type="splitter", operator="VNPT", olt_id="OLT1", lon=s1[0],
             lat=s1[1], ports=16, ports_used=4, name=""),
        dict(node_id="SP2", node_type="splitter", operator="VNPT", olt_id="OLT1", lon=s2[0],
             lat=s2[1], ports=8, ports_used=0, name=""),
    ]).to_csv(root / "ftth.csv", index=False)
    pd.DataFrame([
        dict(kpi_id="mobile_broadband_villages", name_vi="Thôn có băng rộng di động",
             name_en="Villages with mobile broadband", unit="%", baseline_2023=92,
             target_2025=98, computed="true", source="plan"),
        dict(kpi_id="ftth_villages", name_vi="Thôn có cáp quang", name_en="Villages with FTTH",
             unit="%", baseline_2023=87, target_2025=95, computed="true", source="plan"),
        dict(kpi_id="shared_new_bts", name_vi="BTS mới dùng chung", name_en="Shared new BTS",
             unit="%", baseline_2023=16, target_2025=30, computed="true", source="plan"),
        dict(kpi_id="mobile_download_mbps", name_vi="Tốc độ di động",
             name_en="Mobile download speed", unit="Mbps", baseline_2023=34.41,
             target_2025=42, computed="false", source="plan"),
    ]).to_csv(root / "targets.csv", index=False)
    cfg = root / "config.toml"
    cfg.write_text(
        '[study]\nname = "Tiny world"\n\n'
        '[inputs]\nboundaries = "boundaries.gpkg"\nsettlements = "settlements.gpkg"\n'
        'cells = "cells.csv"\nftth_nodes = "ftth.csv"\ndem = "dem.tif"\n'
        'targets = "targets.csv"\n\n'
        '[radio]\nmax_radius_m = { "4G" = 6000.0 }\n\n[run]\nprogress = false\n',
        encoding="utf-8")
    return World(root, cfg, root / "cells.csv", root / "dem.tif", bpath)


@pytest.fixture
def tiny_world(tmp_path: Path) -> World:
    return build_world(tmp_path / "world")
