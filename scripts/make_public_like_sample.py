#!/usr/bin/env python
"""Write a small area of the SYNTHETIC sample in the formats a province gets from public data.

The bundled sample (``data/``) holds every input in its cleanest form: village polygons, a
per-cell table, one projected DEM. A provincial office starting from scratch has other
files. This script cuts two neighbouring communes (default ``C001`` Xã Văn Tam and ``C146``
Xã Lũng Tẳng, which lie in two districts) out of the sample and writes them as those files,
for the recipe of the README ("From public data to a first map") and its end-to-end test
(``tests/test_public_recipe.py``). Everything written is derived from the synthetic sample
and is itself SYNTHETIC: the formats are real, the contents are not.

Written under ``OUT`` (nothing is written in the repository)::

    dem_tiles/   1-degree DEM tiles in EPSG:4326 covering the area plus the computation
                 radius, resampled (bilinear) from the sample's 90 m UTM DEM:
                 Copernicus GLO-90 Cloud Optimized GeoTIFFs (default) named
                 ``Copernicus_DSM_COG_30_N21_00_E106_00_DEM.tif``, or SRTM3 ``N21E106.hgt``
                 (``--dem-format srtm``)
    roads/roads.osm                 OpenStreetMap XML (nodes, ways tagged highway=*)
    opencellid/452.csv.gz           OpenCelliD per-country download (no header)
    villages/village_points.geojson the thôn as points (cultural houses) with their commune
    boundaries/boundaries.gpkg      layers ``communes`` and ``districts`` (GADM-like names,
                                    some without diacritics)
    sites/operator_sites.csv        a site-level list as the operators' quarterly reports
    cells/viettel_cells.csv         one operator's per-cell list (the sample's cell table
                                    layout): the refinement that arrives later
    ftth/ftth_nodes.geojson         OLTs and splitters as points
    config.toml                     the run on the operator site list
    config_opencellid.toml          the same with ``sites = "sites/opencellid_sites.csv"``,
                                    the file ``vncoverage import opencellid`` writes
    config_refined.toml             config.toml plus ``cells = "cells/viettel_cells.csv"``
    README.txt                      what each file is and that it is synthetic

Formats imitated (public specifications, no code taken from anywhere):

* Copernicus DEM: tiles of 1 x 1 degree named ``Copernicus_DSM_COG_<res>_<N|S>dd_00_<E|W>ddd_00
  _DEM.tif`` after their south-west corner, ``<res>`` = 10 (GLO-30, 1 arc-second) or 30
  (GLO-90, 3 arc-seconds); float32 metres, pixel centres on whole degrees: a GLO-90 tile
  below 50 degrees latitude is 1200 x 1200 pixels whose grid starts half a pixel west and
  north of the tile's north-west corner (Copernicus DEM Product Handbook, AIRBUS
  GEO.2018-1988-2; the tile list of https://copernicus-dem-30m.s3.amazonaws.com/readme.html).
* SRTM3 ``.hgt``: 1201 x 1201 big-endian int16, named after the south-west corner's pixel
  centre, -32768 = void (NASA SRTM Version 2.1 documentation); written with GDAL's SRTMHGT
  driver.
* OpenStreetMap XML 0.6 (https://wiki.openstreetmap.org/wiki/OSM_XML): a way's vertices are
  node references, so junctions share nodes; ``highway`` values for the sample's road
  classes after the Vietnamese tagging page https://wiki.openstreetmap.org/wiki/Vi:Highways
  (an approximation: quốc lộ = trunk, đường tỉnh = secondary, đường huyện = tertiary,
  village roads = unclassified).
* OpenCelliD CSV (http://wiki.opencellid.org/wiki/Menu_map_view#database): ``radio, mcc,
  net, area, cell, unit, lon, lat, range, samples, changeable, created, updated,
  averageSignal``, times in Unix seconds; MNC per ITU-T E.212 (Viet Nam 452: 01 MobiFone,
  02 VinaPhone/VNPT, 04 Viettel). Positions are crowd-sourced estimates: each cell's is
  moved by a seeded random offset of up to ``JITTER_MAX_M`` (``--seed``).
* GADM level-3 layers carry ``NAME_3`` / ``TYPE_3``; geoBoundaries ``shapeName``. Both
  spell names without the administrative prefix and, for some sources, without diacritics;
  the layers here keep a ``name`` column as vncoverage reads it, with those spellings.

Usage::

    python scripts/make_public_like_sample.py OUT [--seed 14] [--communes C001,C146]
                                              [--dem-format copernicus|srtm]

Two runs with the same arguments write identical bytes (GeoPackage timestamps pinned with
``OGR_CURRENT_DATE``, gzip without a time stamp).
"""

from __future__ import annotations

import argparse
import gzip
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, reproject
from shapely.geometry import box

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
BOUNDARIES = DATA / "boundaries" / "lang_son_sample.gpkg"
WORK_CRS = "EPSG:32648"
GEO_CRS = "EPSG:4326"
OGR_DATE = "2025-01-01T00:00:00Z"
DEFAULT_COMMUNES = ("C001", "C146")
DEFAULT_SEED = 14

#: The computation radius (m) of every technology in the configs (only 4G is computed): 3 km,
#: so that the end-to-end test stays fast; cells and sites are kept within ``CELL_MARGIN_M``
#: of the area.
RADIUS_M = 3000.0
CELL_MARGIN_M = 4000.0
#: Tiles cover the area plus the radius plus this margin (the loader clips to area + radius).
TILE_MARGIN_M = 2000.0
#: Roads are kept (whole ways) when they touch the box of the area and its OLTs plus this.
ROAD_MARGIN_M = 2000.0
#: FTTH splitters are kept within the drop reach (300 m) of the area.
SPLITTER_MARGIN_M = 300.0
#: Crowd-sourced cell positions: offset drawn from a Rayleigh law (scale 150 m), capped.
JITTER_SCALE_M, JITTER_MAX_M = 150.0, 450.0

COPERNICUS_NODATA = -32767.0  # the synthetic tile's pixels beyond the sample DEM
SRTM_NODATA = -32768
SYNTHETIC = ("SYNTHETIC: derived from the vncoverage synthetic Lạng Sơn sample by "
             "scripts/make_public_like_sample.py; not real terrain, boundaries or networks")

#: ITU-T E.212 mobile network codes of the operators in the sample (Viet Nam, MCC 452).
MNC = {"MobiFone": 1, "VNPT": 2, "Viettel": 4}
#: An MNC no operator holds in Viet Nam: one crowd-sourced row with a mistyped network code.
UNKNOWN_MNC = 99
RADIO = {"2G": "GSM", "3G": "UMTS", "4G": "LTE", "5G": "NR"}
HIGHWAY = {"national": "trunk", "provincial": "secondary", "district": "tertiary",
           "village": "unclassified"}


# --------------------------------------------------------------------------------------------
# selection


def fold(text: str) -> str:
    """``text`` without diacritics (``Xã Văn Tam`` -> ``Xa Van Tam``; ``Đ`` -> ``D``)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")


def read_sample(communes: Sequence[str]) -> dict[str, gpd.GeoDataFrame]:
    """The sample's communes, districts and village centres (working CRS), the villages
    (EPSG:4326) and the chosen communes as ``chosen``; exits on unknown or distant ids."""
    com = pyogrio.read_dataframe(BOUNDARIES, layer="communes").to_crs(WORK_CRS)
    missing = sorted(set(communes) - set(com["commune_id"]))
    if missing:
        raise SystemExit(f"unknown commune ids {missing}: see the sample's 'communes' layer")
    chosen = com[com["commune_id"].isin(communes)]
    if len(communes) == 2:
        a, b = chosen.geometry.iloc[0], chosen.geometry.iloc[1]
        if a.intersection(b).length < 100.0:
            raise SystemExit(f"communes {communes} are not neighbours")
    villages = pyogrio.read_dataframe(BOUNDARIES, layer="villages")
    centres = pyogrio.read_dataframe(BOUNDARIES, layer="village_centres").to_crs(WORK_CRS)
    return {"communes": com, "chosen": chosen, "villages": villages, "centres": centres,
            "districts": pyogrio.read_dataframe(BOUNDARIES, layer="districts").to_crs(WORK_CRS)}


def points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """A lon/lat table as points in the working CRS."""
    g = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                         crs=GEO_CRS)
    return g.to_crs(WORK_CRS)


# --------------------------------------------------------------------------------------------
# DEM tiles


def tile_cells(area_ll: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """The 1-degree cells (south-west corner lat, lon) that the box ``area_ll`` touches."""
    w, s, e, n = area_ll
    return [(lat, lon) for lat in range(int(np.floor(s)), int(np.floor(n)) + 1)
            for lon in range(int(np.floor(w)), int(np.floor(e)) + 1)]


def hemi(lat: int, lon: int) -> tuple[str, str]:
    """``N21``, ``E106`` style prefixes."""
    ns = f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}"
    return ns, f"{'E' if lon >= 0 else 'W'}{abs(lon):03d}"


def copernicus_name(lat: int, lon: int, arcsec: int = 3) -> str:
    """Copernicus DEM COG tile name: ``_30_`` for GLO-90 (3"), ``_10_`` for GLO-30 (1")."""
    ns, ew = hemi(lat, lon)
    return f"Copernicus_DSM_COG_{arcsec * 10}_{ns}_00_{ew}_00_DEM.tif"


def srtm_name(lat: int, lon: int) -> str:
    """SRTM tile name: ``N21E106.hgt``."""
    ns, ew = hemi(lat, lon)
    return f"{ns}{ew}.hgt"


def resample_tile(src: rasterio.DatasetReader, transform: Affine, size: int,
                  nodata: float) -> np.ndarray:
    """The sample DEM resampled (bilinear) onto one tile's grid; nodata beyond the sample."""
    out = np.full((size, size), nodata, dtype=np.float32)
    reproject(source=rasterio.band(src, 1), destination=out, src_transform=src.transform,
              src_crs=src.crs, src_nodata=src.nodata, dst_transform=transform,
              dst_crs=GEO_CRS, dst_nodata=nodata, resampling=Resampling.bilinear)
    return out


def write_dem_tiles(out: Path, cells: list[tuple[int, int]], fmt: str) -> list[str]:
    """One tile per 1-degree cell in the chosen product's size, name and encoding (tiles
    of an earlier run in ``out`` are removed first: the folder is mosaicked whole)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.hgt"), *out.glob("Copernicus_DSM_*.tif")]:
        old.unlink()
    names = []
    with rasterio.open(DATA / "dem" / "lang_son_dem_90m.tif") as src:
        for lat, lon in cells:
            if fmt == "srtm":
                names.append(_write_srtm(src, out, lat, lon))
            else:
                names.append(_write_copernicus(src, out, lat, lon))
    return names


def _write_copernicus(src: rasterio.DatasetReader, out: Path, lat: int, lon: int) -> str:
    size, px = 1200, 1.0 / 1200.0
    transform = Affine(px, 0.0, lon - px / 2, 0.0, -px, lat + 1 + px / 2)
    arr = np.round(resample_tile(src, transform, size, COPERNICUS_NODATA), 1)
    name = copernicus_name(lat, lon)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 1,
               "dtype": "float32", "crs": GEO_CRS, "transform": transform,
               "nodata": COPERNICUS_NODATA}
    with MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(arr, 1)
            tmp.update_tags(SOURCE=SYNTHETIC)
        with mem.open() as tmp:
            rasterio.shutil.copy(tmp, out / name, driver="COG", COMPRESS="DEFLATE",
                                 PREDICTOR="YES", BLOCKSIZE=512, OVERVIEWS="NONE")
    return name


def _write_srtm(src: rasterio.DatasetReader, out: Path, lat: int, lon: int) -> str:
    size, px = 1201, 1.0 / 1200.0
    transform = Affine(px, 0.0, lon - px / 2, 0.0, -px, lat + 1 + px / 2)
    arr = resample_tile(src, transform, size, float(SRTM_NODATA))
    arr = np.where(arr == SRTM_NODATA, SRTM_NODATA, np.round(arr)).astype(np.int16)
    name = srtm_name(lat, lon)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 1,
               "dtype": "int16", "crs": GEO_CRS, "transform": transform,
               "nodata": SRTM_NODATA}
    with MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(arr, 1)
        with mem.open() as tmp:
            rasterio.shutil.copy(tmp, out / name, driver="SRTMHGT")
    for aux in out.glob(f"{name}.aux.xml"):
        aux.unlink()
    return name


# --------------------------------------------------------------------------------------------
# roads as OSM XML


def write_osm(path: Path, roads: gpd.GeoDataFrame) -> int:
    """The roads (EPSG:4326 LineStrings) as OSM XML: coordinates rounded to 1e-7 degree (OSM's
    precision) and shared by node, so noded lines share their junction nodes. Returns the
    number of ways."""
    path.parent.mkdir(parents=True, exist_ok=True)
    node_ids: dict[tuple[int, int], int] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    for k, row in enumerate(roads.itertuples(index=False)):
        refs: list[int] = []
        for x, y in row.geometry.coords:
            key = (round(y * 1e7), round(x * 1e7))
            nid = node_ids.setdefault(key, len(node_ids) + 1)
            if not refs or refs[-1] != nid:
                refs.append(nid)
        if len(refs) < 2:
            continue
        tags = {"highway": HIGHWAY.get(row.road_class, "road")}
        if isinstance(row.name, str) and row.name:
            tags["ref" if row.road_class in ("national", "provincial") else "name"] = row.name
        ways.append((k + 1, refs, tags))
    b = roads.total_bounds
    lines = ["<?xml version='1.0' encoding='UTF-8'?>",
             '<osm version="0.6" generator="make_public_like_sample.py (SYNTHETIC)">',
             f'  <bounds minlat="{b[1]:.7f}" minlon="{b[0]:.7f}" maxlat="{b[3]:.7f}" '
             f'maxlon="{b[2]:.7f}"/>']
    for (lat7, lon7), nid in node_ids.items():
        lines.append(f'  <node id="{nid}" version="1" lat="{lat7 / 1e7:.7f}" '
                     f'lon="{lon7 / 1e7:.7f}"/>')
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}" version="1">')
        lines.extend(f'    <nd ref="{r}"/>' for r in refs)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(ways)


# --------------------------------------------------------------------------------------------
# OpenCelliD


def _radio_ids(cells: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Per cell: the OpenCelliD ``area`` (LAC/TAC), ``cell`` (CI, UTRAN CI, ECI, NCI) and
    ``unit`` (PSC / PCI) columns, invented but in each radio's range."""
    site_num = {s: i + 1 for i, s in enumerate(sorted(cells["site_id"].unique()))}
    sector = cells.groupby(["site_id", "operator", "technology"]).cumcount() + 1
    base = cells["site_id"].map(site_num).to_numpy() + 1000
    tech = cells["technology"].to_numpy()
    cell = np.select([tech == "2G", tech == "3G", tech == "4G"],
                     [base * 10 + sector, (base % 4096) * 65536 + base * 10 + sector,
                      base * 256 + sector], base * 4096 + sector)
    unit = np.where(tech == "2G", 0, rng.integers(0, 504, len(cells)))
    area = np.where(np.isin(tech, ["2G", "3G"]), 21000 + base % 50, 31000 + base % 50)
    return pd.DataFrame({"area": area, "cell": cell, "unit": unit}, index=cells.index)


def _jitter(g: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Crowd-sourced positions: each point moved by up to ``JITTER_MAX_M`` in a random
    direction; returned as lon, lat."""
    r = np.minimum(rng.rayleigh(JITTER_SCALE_M, len(g)), JITTER_MAX_M)
    t = rng.uniform(0.0, 2 * np.pi, len(g))
    moved = gpd.GeoSeries(gpd.points_from_xy(g.geometry.x + r * np.sin(t),
                                             g.geometry.y + r * np.cos(t)),
                          crs=WORK_CRS).to_crs(GEO_CRS)
    return moved.x.to_numpy(), moved.y.to_numpy()


def opencellid_rows(near: gpd.GeoDataFrame, far: gpd.GeoDataFrame,
                    rng: np.random.Generator) -> pd.DataFrame:
    """The OpenCelliD rows: every cell near the area, a few far away, one unknown MNC."""
    cells = pd.concat([near.assign(near=True), far.assign(near=False)])
    cells = cells.sort_values("cell_id").reset_index(drop=True)
    g = gpd.GeoDataFrame(cells, geometry="geometry", crs=WORK_CRS)
    lon, lat = _jitter(g, rng)
    ids = _radio_ids(cells, rng)
    on_air = pd.to_datetime(cells["commissioned"].fillna("2019-01-01"))
    created = (on_air - pd.Timestamp("1970-01-01")).dt.total_seconds().astype(np.int64)
    created += rng.integers(3, 120, len(cells)) * 86400
    updated = np.maximum(created, 1_735_689_600 - rng.integers(0, 400, len(cells)) * 86400)
    rows = pd.DataFrame({
        "radio": cells["technology"].map(RADIO), "mcc": 452,
        "net": cells["operator"].map(MNC), "area": ids["area"], "cell": ids["cell"],
        "unit": ids["unit"], "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "range": rng.integers(300, 4000, len(cells)), "samples": rng.integers(1, 250, len(cells)),
        "changeable": 1, "created": created, "updated": updated, "averageSignal": 0})
    near_rows = np.flatnonzero(cells["near"].to_numpy())
    odd = int(near_rows[rng.integers(0, len(near_rows))])  # a code no operator holds
    rows.loc[odd, "net"] = UNKNOWN_MNC
    return rows


def write_opencellid(path: Path, rows: pd.DataFrame) -> None:
    """OpenCelliD's per-country file: gzip'd CSV without header (gzip time stamp 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = rows.to_csv(header=False, index=False, lineterminator="\n")
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                mtime=0) as gz:
        gz.write(text.encode("ascii"))


# --------------------------------------------------------------------------------------------
# site list, villages, boundaries, FTTH


def operator_sites(cells: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per operator and site, as a quarterly report lists them: the site code (the
    one the operators' per-cell lists use, so that a cell list arriving later replaces the
    site's rows), position, technologies ``2G/3G/4G``, tower height for about 60 % of rows."""
    rows = []
    for (site, op), grp in cells.groupby(["site_id", "operator"], sort=True):
        techs = "/".join(sorted(grp["technology"].unique()))
        rows.append({"site_id": site, "operator": op,
                     "lon": round(float(grp["lon"].iloc[0]), 6),
                     "lat": round(float(grp["lat"].iloc[0]), 6),
                     "technologies": techs, "height_m": float(grp["height_m"].max())})
    out = pd.DataFrame(rows)
    out.loc[rng.random(len(out)) < 0.4, "height_m"] = np.nan
    out["height_m"] = out["height_m"].astype("Int64")
    return out


def village_points(s: dict[str, gpd.GeoDataFrame], communes: Sequence[str]) -> gpd.GeoDataFrame:
    """The thôn of the chosen communes as points (their cultural houses), in EPSG:4326."""
    v = s["villages"]
    v = v[v["commune_id"].isin(communes)].drop(columns="geometry")
    cols = ["village_id", "name", "commune", "district", "commune_2025", "kind",
            "population", "households"]
    c = s["centres"][["village_id", "geometry"]].merge(v[cols], on="village_id")
    return gpd.GeoDataFrame(c[[*cols, "geometry"]], geometry="geometry",
                            crs=WORK_CRS).to_crs(GEO_CRS)


def gadm_like(frame: gpd.GeoDataFrame, level: int, plain: set[str],
              plain_districts: set[str]) -> gpd.GeoDataFrame:
    """A GADM-like layer: ``name`` in the source's spelling (diacritics dropped for the ids in
    ``plain``, as geoBoundaries and older GADM releases write them), ``GID_<level>``,
    ``NAME_<level>`` without the prefix, ``TYPE_<level>``; communes also carry their
    ``district`` (GADM's ``NAME_2``), without diacritics for ``plain_districts``."""
    idcol = "commune_id" if level == 3 else "district_id"
    out = frame[[idcol, "name", *(["district"] if level == 3 else []), "geometry"]].copy()
    prefix = out["name"].str.extract(r"^(Xã|Phường|Thị trấn|Huyện|Thành phố)\s")[0]
    bare = out["name"].str.replace(r"^(Xã|Phường|Thị trấn|Huyện|Thành phố)\s+", "", regex=True)
    fold_it = out[idcol].isin(plain)
    out["name"] = np.where(fold_it, out["name"].map(fold), out["name"])
    if level == 3:  # GADM's NAME_2 beside NAME_3: the district, one spelling per district
        fold_d = frame["district_id"].isin(plain_districts)
        out["district"] = np.where(fold_d, out["district"].map(fold), out["district"])
    out[f"NAME_{level}"] = np.where(fold_it, bare.map(fold), bare)
    out[f"TYPE_{level}"] = prefix.fillna("")
    out[f"GID_{level}"] = "VNM.SYN." + out[idcol]
    out = out.drop(columns=idcol)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WORK_CRS).to_crs(GEO_CRS)


def write_boundaries(path: Path, s: dict[str, gpd.GeoDataFrame],
                     communes: Sequence[str]) -> None:
    """``communes``: the chosen communes and their neighbours, as a cut of a national file
    would hold them (the first chosen commune and every other neighbour without diacritics);
    ``districts``: the districts they lie in (the first one without diacritics)."""
    com, chosen = s["communes"], s["chosen"]
    touching = com[com.intersects(chosen.union_all().buffer(50.0))]
    touching = touching.sort_values("commune_id")
    plain = {communes[0], *touching["commune_id"].iloc[1::2]} - set(communes[1:])
    dists = s["districts"]
    dists = dists[dists["district_id"].isin(touching["district_id"])]
    dists = dists.sort_values("district_id")
    first = chosen.sort_values("commune_id")["district_id"].iloc[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a fresh file, not layers replaced in an old one
    for layer, frame in (("communes", gadm_like(touching, 3, plain, {first})),
                         ("districts", gadm_like(dists, 2, {first}, {first}))):
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG",
                                layer_options={"DESCRIPTION": SYNTHETIC})


def ftth_points(area: object) -> gpd.GeoDataFrame:
    """The splitters within the drop reach of the area and the OLTs they hang from."""
    nodes = points(pd.read_csv(DATA / "ftth" / "ftth_nodes.csv"))
    spl = nodes[(nodes["node_type"] == "splitter")
                & (nodes.distance(area) <= SPLITTER_MARGIN_M)]
    olts = nodes[nodes["node_id"].isin(spl["olt_id"])]
    keep = pd.concat([olts, spl]).drop(columns=["lon", "lat"])
    keep["ports"] = keep["ports"].astype("Int64")
    keep["ports_used"] = keep["ports_used"].astype("Int64")
    return gpd.GeoDataFrame(keep, geometry="geometry", crs=WORK_CRS).to_crs(GEO_CRS)


# --------------------------------------------------------------------------------------------
# configuration


def config_text(title: str, sites: str, note: str, cells: str | None = None) -> str:
    """A config.toml using every public-like file (and ``cells``, a per-cell list)."""
    radii = f'"4G" = {RADIUS_M}'
    cells_line = f'cells = "{cells}"            # per-cell list: wins over site rows\n' \
        if cells else ""
    return f"""# {title}: a SYNTHETIC area in the formats of public data
# (written by scripts/make_public_like_sample.py; see README.txt beside this file).
# {note}

[study]
name = "{title} (public-like sample, SYNTHETIC)"
working_crs = "EPSG:32648"

[inputs]
boundaries = "boundaries/boundaries.gpkg"   # GADM-like communes and districts
communes_layer = "communes"
districts_layer = "districts"
village_points = "villages/village_points.geojson"
{cells_line}sites = "{sites}"
dem = "dem_tiles"                          # a folder of 1-degree tiles in EPSG:4326
roads = "roads/roads.osm"
ftth_nodes = "ftth/ftth_nodes.geojson"

[radio]
model = "p526"
technologies = ["4G"]
# a small radius, for a fast run; the 2G / 3G cells of the site lists are not computed and
# reach no farther than the 4G radius (sites beyond it are dropped, noted)
max_radius_m = {{ {radii} }}

[run]
progress = false
"""


def write_text_files(out: Path, title: str, tiles: list[str], counts: dict[str, int]) -> None:
    """config.toml, config_opencellid.toml, config_refined.toml and README.txt."""
    (out / "config.toml").write_text(config_text(
        title, "sites/operator_sites.csv", "Sites: the operators' quarterly site list."),
        encoding="utf-8")
    (out / "config_opencellid.toml").write_text(config_text(
        title, "sites/opencellid_sites.csv",
        "Sites: written first by `vncoverage import opencellid opencellid/452.csv.gz "
        "--config config.toml --out sites/opencellid_sites.csv`."), encoding="utf-8")
    (out / "config_refined.toml").write_text(config_text(
        title, "sites/operator_sites.csv", "Sites: the operators' quarterly site list; "
        "Viettel's per-cell list has arrived and replaces Viettel's site rows.",
        cells="cells/viettel_cells.csv"), encoding="utf-8")
    lines = [f"{title}: public-like SYNTHETIC files", "",
             SYNTHETIC + ".", "",
             f"dem_tiles/: {', '.join(tiles)} (1-degree tiles, EPSG:4326)",
             f"roads/roads.osm: {counts['ways']} ways (OSM XML)",
             f"opencellid/452.csv.gz: {counts['ocid']} rows (OpenCelliD layout, no header)",
             f"villages/village_points.geojson: {counts['villages']} village points",
             f"boundaries/boundaries.gpkg: layers communes ({counts['communes']}), "
             f"districts ({counts['districts']})",
             f"sites/operator_sites.csv: {counts['sites']} site rows",
             f"cells/viettel_cells.csv: {counts['viettel_cells']} cells (one operator's "
             "per-cell list, the cell table's layout)",
             f"ftth/ftth_nodes.geojson: {counts['ftth']} OLTs and splitters",
             "config.toml: the run on the operator site list",
             "config_opencellid.toml: the run on sites/opencellid_sites.csv (import it first)",
             "config_refined.toml: the operator site list with Viettel's per-cell list"]
    (out / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------


def make(out: Path, *, seed: int = DEFAULT_SEED, communes: Sequence[str] = DEFAULT_COMMUNES,
         dem_format: str = "copernicus") -> dict[str, int]:
    """Write every file under ``out``; returns the counts written (also in README.txt).
    ``OGR_CURRENT_DATE`` pins the GeoPackage timestamps meanwhile (restored after)."""
    before = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = OGR_DATE
    try:
        return _write_all(out, seed, communes, dem_format)
    finally:
        if before is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = before


def _write_all(out: Path, seed: int, communes: Sequence[str], dem_format: str
               ) -> dict[str, int]:
    rng = np.random.default_rng([seed, 14])
    s = read_sample(communes)
    area = s["chosen"].union_all()
    title = " – ".join(sorted(s["chosen"]["name"].str.replace(r"^Xã\s+", "", regex=True)))
    out.mkdir(parents=True, exist_ok=True)

    ll = gpd.GeoSeries([area.buffer(RADIUS_M + TILE_MARGIN_M)], crs=WORK_CRS)
    tiles = write_dem_tiles(out / "dem_tiles", tile_cells(tuple(ll.to_crs(GEO_CRS).total_bounds)),
                            dem_format)

    ftth = ftth_points(area)
    reach = gpd.GeoSeries([area, *ftth.to_crs(WORK_CRS).geometry], crs=WORK_CRS)
    roads = pyogrio.read_dataframe(DATA / "roads" / "roads.gpkg", layer="roads")
    sel = roads.to_crs(WORK_CRS).intersects(box(*reach.total_bounds).buffer(ROAD_MARGIN_M))
    ways = write_osm(out / "roads" / "roads.osm", roads[sel.to_numpy()].sort_values("road_id"))

    cells = points(pd.read_csv(DATA / "bts_sites" / "cells.csv"))
    dist = cells.distance(area)
    near = cells[dist <= CELL_MARGIN_M]
    far_sites = sorted(cells.loc[dist > 30_000.0, "site_id"].unique())[:3]
    far = cells[cells["site_id"].isin(far_sites)]
    ocid = opencellid_rows(near, far, rng)
    write_opencellid(out / "opencellid" / "452.csv.gz", ocid)

    sites = operator_sites(pd.concat([near, far]), rng)
    (out / "sites").mkdir(exist_ok=True)
    sites.to_csv(out / "sites" / "operator_sites.csv", index=False, lineterminator="\n")
    viettel = near[near["operator"] == "Viettel"].drop(columns="geometry")
    (out / "cells").mkdir(exist_ok=True)
    viettel.to_csv(out / "cells" / "viettel_cells.csv", index=False, lineterminator="\n")

    vp = village_points(s, communes)
    (out / "villages").mkdir(exist_ok=True)
    pyogrio.write_dataframe(vp, out / "villages" / "village_points.geojson", driver="GeoJSON")
    write_boundaries(out / "boundaries" / "boundaries.gpkg", s, communes)
    (out / "ftth").mkdir(exist_ok=True)
    pyogrio.write_dataframe(ftth, out / "ftth" / "ftth_nodes.geojson", driver="GeoJSON")

    bpath = out / "boundaries" / "boundaries.gpkg"
    counts = {"ways": ways, "ocid": len(ocid), "villages": len(vp), "sites": len(sites),
              "ftth": len(ftth), "tiles": len(tiles), "cells_near": len(near),
              "viettel_cells": len(viettel),
              "communes": int(pyogrio.read_info(bpath, layer="communes")["features"]),
              "districts": int(pyogrio.read_info(bpath, layer="districts")["features"])}
    write_text_files(out, title, tiles, counts)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder to write (created)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help=f"seed of the crowd-sourced jitter and ids (default {DEFAULT_SEED})")
    ap.add_argument("--communes", default=",".join(DEFAULT_COMMUNES),
                    help="two neighbouring commune ids of the sample (default C001,C146)")
    ap.add_argument("--dem-format", choices=("copernicus", "srtm"), default="copernicus",
                    help="Copernicus GLO-90 COG tiles (default) or SRTM3 .hgt tiles")
    args = ap.parse_args(argv)
    counts = make(args.out, seed=args.seed, communes=tuple(args.communes.split(",")),
                  dem_format=args.dem_format)
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
