"""A tiny world whose inputs make the loader and the stages say many things (notes).

The conftest world, changed so that nearly every kind of note is made:

* no household clusters, and no village centre layer (the boundaries file has the villages
  only; a centre layer named in the config that the file does not have would be a problem);
* no road network (straight-line FTTH, remote gaps without the road criterion) and no
  district layer (no district towns);
* village V01's polygon has a spike (invalid, repaired with ``make_valid``); V05 writes
  its district without the prefix (``Văn Quan``: spellings unified);
* the cell table is ';'-separated with decimal commas, names VNPT ``Vinaphone`` (and a
  tower owner ``Vietel``), writes a date day first and repeats a row; a MobiFone site
  10 m from the Viettel one (two site ids, one tower); a site 50 km east, outside the
  study area (dropped);
* the FTTH node table names its operator ``vinaphone``;
* a north-south strip of DEM nodata 2.5 km east of the centre site: every path to the
  villages beyond it crosses nodata (pixels of unknown coverage; 4G only, so that the
  mobile-broadband union is unknown there too).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from conftest import X0, Y0, N, World, build_world, write_dem
from pyproj import Transformer
from shapely.geometry import Polygon


def build_noisy_world(root: Path) -> World:
    """Build the world under ``root`` (see the module docstring)."""
    w = build_world(root)
    _spiked_village(w.boundaries)
    _noisy_cells(w.cells)
    nodes = pd.read_csv(root / "ftth.csv", dtype=str, keep_default_na=False)
    nodes["operator"] = "vinaphone"
    nodes.to_csv(root / "ftth.csv", index=False)
    with rasterio.open(w.dem) as src:
        elev = src.read(1)
    elev[:, 150:153] = -32768.0  # nodata, 2.5 km east of the centre site
    write_dem(w.dem, elev)
    assert elev.shape == (N, N)
    w.config.write_text(
        '[study]\nname = "Noisy world"\n\n'
        '[inputs]\nboundaries = "boundaries.gpkg"\n'
        'cells = "cells.csv"\nftth_nodes = "ftth.csv"\ndem = "dem.tif"\n'
        'targets = "targets.csv"\n\n'
        '[radio]\ntechnologies = ["4G"]\nmax_radius_m = { "4G" = 6000.0 }\n\n'
        '[run]\nprogress = false\n',
        encoding="utf-8")
    return w


def _spiked_village(path: Path) -> None:
    """V01 (top-left square) with a zero-area spike on its north edge: invalid."""
    vil = gpd.read_file(path, layer="villages").to_crs(32648)
    xa, ya = X0, Y0 - 2500
    vil.loc[vil["village_id"] == "V01", "geometry"] = Polygon([
        (xa, ya), (xa + 2500, ya), (xa + 2500, ya + 2500), (xa + 1250, ya + 2500),
        (xa + 1250, ya + 2400), (xa + 1250, ya + 2500), (xa, ya + 2500)])
    assert not vil.geometry.is_valid.all()
    vil.loc[vil["village_id"] == "V05", "district"] = "Văn Quan"
    path.unlink()  # the villages only: no centre layer
    vil.to_crs(4326).to_file(path, layer="villages", driver="GPKG")


def _noisy_cells(path: Path) -> None:
    """The cell table rewritten as described in the module docstring."""
    cells = pd.read_csv(path)
    cells["operator"] = cells["operator"].replace({"VNPT": "Vinaphone"})
    cells["tower_owner"] = cells["tower_owner"].replace({"VNPT": "Vietel"})
    cells.loc[0, "commissioned"] = "15/03/2024"
    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    lon, lat = to_ll.transform(X0 + 5010, Y0 - 5000)
    mobi = dict(cells.iloc[0])
    mobi.update(site_id="M9", cell_id="MB-M9-4G-1", operator="MobiFone", lon=lon, lat=lat,
                tower_owner="MobiFone", commissioned="2024-06-01")
    far = dict(mobi)
    far.update(site_id="FAR1", cell_id="MB-FAR1-4G-1",
               lon=to_ll.transform(X0 + 55_000, Y0 - 5000)[0])
    cells = pd.concat([cells, pd.DataFrame([mobi, far]), cells.iloc[[1]]], ignore_index=True)
    cells["azimuth_deg"] = cells["azimuth_deg"].astype(object)
    cells.to_csv(path, index=False, sep=";", decimal=",")
    assert np.isfinite(cells["lon"]).all()
