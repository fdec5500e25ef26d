"""Write the corpus of bad input files (run once; the files are committed).

Each file is tiny and wrong in one way; ``expected.toml`` gives the message fragments the
loaders must produce for it (checked by ``tests/test_bad_inputs.py``).

    .venv/bin/python tests/data/bad/make_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

HERE = Path(__file__).resolve().parent

HEADER = ("site_id,cell_id,operator,technology,lon,lat,height_m,azimuth_deg,tilt_deg,"
          "frequency_mhz,bandwidth_mhz,eirp_dbm,commissioned,tower_owner")
ROW = "S1,C1,Viettel,4G,106.7345,21.807,30,120,3,1800,20,60.5,2024-03-01,Viettel"


def cp1258(text: str) -> bytes:
    from vncoverage.fileio._tables import to_cp1258

    return to_cp1258(text)


def csv(name: str, text: str) -> None:
    (HERE / name).write_bytes(text.encode("utf-8"))


def geojson(name: str, features: list[dict], **extra: object) -> None:
    doc = {"type": "FeatureCollection", **extra, "features": features}
    (HERE / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def village(vid: str, geometry: dict | None, **props: object) -> dict:
    base = {"village_id": vid, "name": "Thôn Nà", "commune": "Xã Văn Tam",
            "district": "Lạng Sơn", "commune_2025": "Phường Phong Thịnh", "kind": "thôn",
            "population": 400, "households": 100}
    base.update(props)
    return {"type": "Feature", "properties": base, "geometry": geometry}


def square(lon: float, lat: float, d: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def dem(name: str, data: np.ndarray, *, crs: str | None, pixel: float, x0: float, y0: float,
        nodata: float | None) -> None:
    with rasterio.open(HERE / name, "w", driver="GTiff", height=data.shape[0],
                       width=data.shape[1], count=1, dtype="float32", crs=crs,
                       transform=Affine(pixel, 0, x0, 0, -pixel, y0), nodata=nodata) as dst:
        dst.write(data.astype(np.float32), 1)


def main() -> None:
    # tables
    csv("cells_empty.csv", "")
    csv("cells_header_only.csv", HEADER + "\n")
    csv("cells_swapped.csv", f"{HEADER}\n{ROW.replace('106.7345,21.807', '21.807,106.7345')}\n")
    csv("cells_dms_bad.csv", f"{HEADER}\n" + ROW.replace("106.7345,21.807",
                                                          "106°44'4\"E,21°61'12\"N") + "\n")
    csv("cells_duplicate.csv", f"{HEADER}\n{ROW}\n{ROW.replace(',30,', ',35,')}\n")
    csv("cells_impossible.csv", f"{HEADER}\n" + ROW.replace(",30,120,3,1800,20,60.5,",
                                                            ",-5,400,3,0.5,20,200,") + "\n")
    (HERE / "cells_mojibake.csv").write_bytes(
        f"{HEADER}\n{ROW.replace('Viettel,4G', 'Lạng Sơn,4G')}\n".encode().decode(
            "cp1252", errors="replace").encode("utf-8"))
    (HERE / "cells_vni.csv").write_bytes(
        f"{HEADER}\n{ROW.replace('S1,C1', 'Laïng Sôn,C1').replace(',Viettel', ',Ñoàn Keát')}\n"
        .encode("cp1252"))
    csv("cells_unquoted_decimal_comma.csv", f"{HEADER}\n{ROW.replace('60.5', '60,5')}\n")
    csv("cells_missing_columns.csv", "Mã trạm,Mã cell,Kinh độ\nS1,C1,106.7\n")
    csv("cells_metres_in_lonlat.csv",
        f"{HEADER}\n{ROW.replace('106.7345,21.807', '655000,2415000')}\n")
    csv("cells_xy_without_crs.csv", HEADER.replace("lon,lat", "x,y") + "\n"
        + ROW.replace("106.7345,21.807", "655000,2415000") + "\n")
    csv("cells_unknown_crs.csv", HEADER + ",crs\n" + ROW + ",EPSG:999999\n")
    csv("cells_height_in_feet.csv", HEADER.replace("height_m", "height (ft)") + "\n" + ROW + "\n")
    csv("cells_site_conflict.csv", f"{HEADER}\n{ROW}\n"
        "S1,C2,VNPT,4G,106.7345,21.807,30,120,3,2100,20,60.5,2024-03-01,VNPT\n")
    (HERE / "cells_not_excel.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (HERE / "cells_old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 56)
    (HERE / "cells_cp1258_bad_dates.csv").write_bytes(cp1258(
        "Mã trạm;Mã cell;Nhà mạng;Công nghệ;Kinh độ;Vĩ độ;Độ cao (m);Góc phương vị;Góc nghiêng;"
        "Tần số (MHz);Băng thông (MHz);EIRP (dBm);Ngày phát sóng;Chủ sở hữu cột\n"
        "S1;C1;Viettel;4G;106°44'4\"E;21°48'25\"N;30;120;3;1800;20;60,5;32/13/2024;Viettel\n"))
    csv("ftth_orphan_splitter.csv", "node_id,node_type,operator,olt_id,lon,lat,ports,"
        "ports_used,name\nSP1,splitter,VNPT,OLT9,106.73,21.85,8,9,\n"
        "X1,router,VNPT,,106.74,21.85,,,\n")
    csv("targets_bad_values.csv", "kpi_id,name_vi,name_en,unit,baseline_2023,target_2025,"
        "computed\nftth_villages,Tỷ lệ thôn có cáp quang,FTTH villages,%,87%,95,maybe\n")
    # vectors
    geojson("villages_empty_geometry.geojson",
            [village("V1", square(106.7, 21.8)), village("V2", None)])
    geojson("villages_points.geojson",
            [village("V1", {"type": "Point", "coordinates": [106.7, 21.8]})])
    geojson("villages_metres_labelled_wgs84.geojson", [village("V1", {
        "type": "Polygon", "coordinates": [[[655000, 2415000], [656000, 2415000],
                                            [656000, 2416000], [655000, 2415000]]]})])
    geojson("villages_missing_columns.geojson", [{
        "type": "Feature", "properties": {"id": "V1", "ten": "Thôn Nà"},
        "geometry": square(106.7, 21.8)}])
    geojson("villages_duplicate_ids.geojson",
            [village("V1", square(106.7, 21.8)), village("V1", square(106.72, 21.8)),
             village("V3", square(106.74, 21.8), population=-4)])
    import geopandas as gpd
    from shapely.geometry import shape

    gpd.GeoDataFrame([village("V1", None)["properties"]],
                     geometry=[shape(square(106.7, 21.8))], crs=None).to_file(
        HERE / "villages_no_crs.shp")
    # rasters
    dem("dem_geographic.tif", np.full((4, 4), 100.0), crs="EPSG:4326", pixel=0.001,
        x0=106.7, y0=21.8, nodata=None)
    dem("dem_no_crs.tif", np.full((4, 4), 100.0), crs=None, pixel=90, x0=650000,
        y0=2420000, nodata=None)
    void = np.full((4, 4), 100.0)
    void[0, 0] = -32768
    dem("dem_undeclared_void.tif", void, crs="EPSG:32648", pixel=90, x0=650000, y0=2420000,
        nodata=None)
    dem("dem_all_nodata.tif", np.full((4, 4), -9999.0), crs="EPSG:32648", pixel=90,
        x0=650000, y0=2420000, nodata=-9999)
    (HERE / "dem_not_a_raster.tif").write_text("not a GeoTIFF\n", encoding="utf-8")


if __name__ == "__main__":
    main()
