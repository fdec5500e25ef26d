"""Compare two output folders of ``vncoverage run``: are the results the same?

    python scripts/compare_outputs.py OUT_A OUT_B

Checks, and prints one line per file:

* the tables ``villages.csv``, ``kpi.csv``, ``by_district.csv``, ``by_commune_2025.csv``
  (and ``changes*.csv`` when both folders have them): byte-identical;
* the GeoTIFFs ``coverage_4g.tif``, ``server_4g.tif``, ``coverage_masks.tif``: the same
  values (NaN equal to NaN), dtypes, transform, CRS, nodata and band descriptions;
* every layer of ``villages.gpkg``: the same columns, values and geometries.

``report.md``, ``report.html`` and ``map.html`` are not compared: they carry the date and
the stage timings of their run. Exits with status 1 if anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio

TABLES = ("villages.csv", "kpi.csv", "by_district.csv", "by_commune_2025.csv",
          "changes.csv", "changes_cells.csv", "changes_kpi.csv")
RASTERS = ("coverage_4g.tif", "server_4g.tif", "coverage_masks.tif")


def compare_table(a: Path, b: Path) -> str | None:
    if a.read_bytes() == b.read_bytes():
        return None
    return "bytes differ"


def compare_raster(a: Path, b: Path) -> str | None:
    with rasterio.open(a) as sa, rasterio.open(b) as sb:
        for what in ("dtypes", "transform", "crs", "descriptions", "count", "shape"):
            if getattr(sa, what) != getattr(sb, what):
                return f"{what}: {getattr(sa, what)} != {getattr(sb, what)}"
        if not (sa.nodata == sb.nodata or (np.isnan(sa.nodata or 0) and np.isnan(sb.nodata or 0))):
            return f"nodata: {sa.nodata} != {sb.nodata}"
        va, vb = sa.read(), sb.read()
    if not np.array_equal(va, vb, equal_nan=np.issubdtype(va.dtype, np.floating)):
        n = int((~((va == vb) | (np.isnan(va) & np.isnan(vb)) if va.dtype.kind == "f"
                  else va == vb)).sum())
        return f"{n} pixel value(s) differ"
    return None


def compare_gpkg(a: Path, b: Path) -> list[str]:
    la = [n for n, _ in pyogrio.list_layers(a)]
    lb = [n for n, _ in pyogrio.list_layers(b)]
    if la != lb:
        return [f"layers: {la} != {lb}"]
    out = []
    for name in la:
        da, db = gpd.read_file(a, layer=name), gpd.read_file(b, layer=name)
        if list(da.columns) != list(db.columns):
            out.append(f"{name}: columns {list(da.columns)} != {list(db.columns)}")
            continue
        try:
            pd.testing.assert_frame_equal(pd.DataFrame(da.drop(columns="geometry")),
                                          pd.DataFrame(db.drop(columns="geometry")))
        except AssertionError as exc:
            out.append(f"{name}: {str(exc).splitlines()[0]}")
        if not da.geometry.geom_equals_exact(db.geometry, tolerance=0).all():
            out.append(f"{name}: geometries differ")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    bad = 0
    for name in TABLES:
        pa, pb = args.a / name, args.b / name
        if not pa.exists() and not pb.exists():
            continue
        if pa.exists() != pb.exists():
            msg: str | None = "present in only one folder"
        else:
            msg = compare_table(pa, pb)
        print(f"{name:24s} {'byte-identical' if msg is None else 'DIFFERS: ' + msg}")
        bad += msg is not None
    for name in RASTERS:
        pa, pb = args.a / name, args.b / name
        if not pa.exists() and not pb.exists():
            continue
        msg = ("present in only one folder" if pa.exists() != pb.exists()
               else compare_raster(pa, pb))
        print(f"{name:24s} {'values identical' if msg is None else 'DIFFERS: ' + msg}")
        bad += msg is not None
    problems = compare_gpkg(args.a / "villages.gpkg", args.b / "villages.gpkg")
    print(f"{'villages.gpkg':24s} "
          f"{'every layer identical' if not problems else 'DIFFERS: ' + '; '.join(problems)}")
    bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
