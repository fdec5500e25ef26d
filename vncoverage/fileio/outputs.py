"""Reader of an output folder written by ``vncoverage run --out`` (for exports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import rasterio
from pyproj import CRS

from ..datatypes import Raster
from ..errors import InputDataError, Problem

__all__ = ["OutputFolder", "read_output_folder"]


@dataclass(frozen=True)
class OutputFolder:
    """What :func:`vncoverage.outputs.writer.write_outputs` wrote, read back (for exports).

    ``layers`` are the layers of ``villages.gpkg`` in the working CRS (``villages`` indexed
    by ``village_id``); ``tables`` the CSV tables (``kpi``, ``by_district``,
    ``by_commune_2025``); ``rasters`` the bands of each GeoTIFF by file stem, and ``tags``
    each GeoTIFF's dataset tags.
    """

    path: Path
    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]
    rasters: dict[str, tuple[Raster, ...]]
    tags: dict[str, dict[str, str]] = field(default_factory=dict)


def read_output_folder(path: str | Path) -> OutputFolder:
    """Read an output folder written by ``vncoverage run --out``.

    Raises
    ------
    InputDataError
        If the folder or its ``villages.gpkg`` is missing.
    """
    folder = Path(path)
    gpkg = folder / "villages.gpkg"
    if not gpkg.is_file():
        raise InputDataError([Problem(str(folder), "not an output folder of vncoverage run "
                                      "(no villages.gpkg)",
                                      f"run `vncoverage run --out {folder}` first, or point "
                                      "--out at the folder it wrote")])
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, _ in pyogrio.list_layers(gpkg):
        layers[str(name)] = pyogrio.read_dataframe(gpkg, layer=name)
    if "villages" not in layers:
        raise InputDataError([Problem(str(gpkg), "no 'villages' layer",
                                      "rerun `vncoverage run` to rewrite the outputs")])
    layers["villages"] = layers["villages"].set_index("village_id")
    tables: dict[str, pd.DataFrame] = {}
    for stem in ("kpi", "by_district", "by_commune_2025"):
        p = folder / f"{stem}.csv"
        if p.is_file():
            tables[stem] = pd.read_csv(p, index_col=0, encoding="utf-8-sig")
    rasters: dict[str, tuple[Raster, ...]] = {}
    tags: dict[str, dict[str, str]] = {}
    for p in sorted(folder.glob("*.tif")):
        with rasterio.open(p) as src:
            crs = CRS(src.crs)
            rasters[p.stem] = tuple(
                Raster(band, src.transform, crs, src.nodata, d or "")
                for band, d in zip(src.read(), src.descriptions, strict=True))
            tags[p.stem] = dict(src.tags())
    return OutputFolder(path=folder, layers=layers, tables=tables, rasters=rasters,
                        tags=tags)
