"""Readers of vector layers: village polygons and centres, household clusters, roads."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from ..errors import Problem
from ..i18n import Message, Param, match_how
from ..names import clean_text, unify_names
from ._shared import (
    GDAL_ERRORS,
    MAX_ROWS_REPORTED,
    layer_label,
    plain,
    read_layer,
    read_working_layer,
    report_rows,
    to_working_crs,
)

__all__ = ["OSM_EXCLUDED_HIGHWAYS", "OSM_SUFFIXES", "VILLAGE_COLUMNS", "read_roads",
           "read_settlements", "read_villages"]

log = logging.getLogger(__name__)

VILLAGE_COLUMNS = ("village_id", "name", "commune", "district", "commune_2025", "kind",
                   "population", "households")

#: Village overlaps: noted from this share of the smaller village's area, an error from
#: the second (a duplicated or misassigned polygon). Assumptions.
OVERLAP_NOTE_SHARE = 0.01

OVERLAP_ERROR_SHARE = 0.5

#: Holes inside a commune that no village covers are noted from this area, m² (1 ha;
#: assumption: smaller gaps are digitising slivers).
HOLE_MIN_M2 = 10_000.0


def _polygonal(g: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygonal part of a geometry (what ``make_valid`` may return as a collection)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for q in shapely.get_parts(g) if q.geom_type in ("Polygon", "MultiPolygon")
             for p in shapely.get_parts(q)]
    parts = [p for p in parts if p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _unify_admin_names(gdf: gpd.GeoDataFrame, label: str, notes: list[Message], *,
                       source: str) -> None:
    """Give every district, commune and 2025 commune one spelling (in place), listing each
    variant read as another spelling; communes are compared within their district."""
    changes: list[Param] = []
    ambiguous: list[Param] = []
    for col, within in (("district", None), ("commune_2025", None), ("commune", "district")):
        groups = [gdf.index] if within is None else list(gdf.groupby(within).groups.values())
        for idx in groups:
            values = gdf.loc[idx, col]
            matches = unify_names(list(values))
            mapping = {v: m.match for v, m in matches.items() if m.match not in (None, v)}
            for v, m in matches.items():
                if m.how == "ambiguous":
                    ambiguous.append(Message("villages.could_be", column=col, value=v,
                                             candidates=[f"'{c}'" for c in m.candidates]))
            if mapping:
                counts = values.value_counts()
                changes += [Message("villages.spelling", column=col, value=v,
                                    n=int(counts.get(v, 0)), target=t,
                                    how=match_how(matches[v].how))
                            for v, t in mapping.items()]
                gdf.loc[idx, col] = values.replace(mapping)
    if changes:
        notes.append(Message("villages.spellings_unified", source=source, label=label,
                             changes=changes))
        log.warning("%s", notes[-1])
    if ambiguous:
        notes.append(Message("villages.names_ambiguous", source=source, label=label,
                             items=ambiguous))


def _check_tessellation(
    gdf: gpd.GeoDataFrame, label: str, problems: list[Problem], notes: list[Message], *,
    source: str,
) -> None:
    """Report villages that overlap each other and holes inside a commune that no village
    covers (areas in the working CRS, m²)."""
    g = gdf.geometry.to_numpy()
    ids = gdf.index.to_numpy()
    try:
        tree = shapely.STRtree(g)
        a, b = tree.query(g, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        keep = shapely.relate_pattern(g[a], g[b], "2********")  # interiors share an area
        a, b = a[keep], b[keep]
        inter = shapely.area(shapely.intersection(g[a], g[b]))
    except shapely.errors.GEOSException as exc:  # pragma: no cover - after make_valid
        notes.append(Message("villages.overlaps_unchecked", source=source, label=label,
                             error=str(exc)))
        return
    smaller = np.minimum(shapely.area(g[a]), shapely.area(g[b]))
    share = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    heavy = np.flatnonzero(share >= OVERLAP_ERROR_SHARE)
    for k in heavy[:MAX_ROWS_REPORTED]:
        problems.append(Problem(label, f"villages '{ids[a[k]]}' and '{ids[b[k]]}' overlap "
                                f"over {share[k]:.0%} of the smaller one (a duplicated or "
                                "misassigned polygon)", "fix or delete one of the polygons",
                                row=str(ids[a[k]]), column="geometry"))
    light = np.flatnonzero((share >= OVERLAP_NOTE_SHARE) & (share < OVERLAP_ERROR_SHARE))
    if len(light):
        pairs = [Message("villages.overlap_pair", a=str(ids[a[k]]), b=str(ids[b[k]]),
                         ha=inter[k] / 1e4) for k in light[:20]]
        text = Message("villages.overlap", source=source, label=label, n=len(light),
                       pairs=pairs, more=" ..." if len(light) > 20 else "")
        notes.append(text)
        log.warning(text)
    holes: list[Param] = []
    for (district, commune), grp in gdf.groupby(["district", "commune"], sort=True):
        union = shapely.union_all(grp.geometry.to_numpy())
        for part in shapely.get_parts(union):
            for ring in getattr(part, "interiors", []):
                hole = shapely.Polygon(ring)
                if hole.area < HOLE_MIN_M2:
                    continue
                near = tree.query(hole, predicate="intersects")
                rest = hole.difference(shapely.union_all(g[near])) if len(near) else hole
                if rest.area >= HOLE_MIN_M2:
                    holes.append(Message("villages.hole", commune=str(commune),
                                         district=str(district), ha=rest.area / 1e4))
    if holes:
        text = Message("villages.holes", source=source, label=label, n=len(holes),
                       holes=holes[:20], more=" ..." if len(holes) > 20 else "")
        notes.append(text)
        log.warning(text)


def read_villages(
    path: str | Path,
    *,
    layer: str | None,
    centres_layer: str | None,
    working_crs: CRS,
    problems: list[Problem],
    notes: list[Message],
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None]:
    """Village polygons indexed by ``village_id`` and their centre points (cultural houses).

    Invalid polygons are repaired with ``make_valid`` (a warning and a note name the
    villages); multipart villages stay one village; empty or degenerate geometries are
    errors. Names are NFC-normalised and each district / commune gets one spelling (see
    :func:`vncoverage.names.unify_names`; every change is noted). Villages overlapping each
    other, and holes inside a commune, are noted (an overlap over half of a village is an
    error). Without a centres layer, a representative point inside each polygon is used
    (noted).
    """
    path = Path(path)
    label = layer_label(path, layer)
    gdf = _read_village_layer(path, layer, label, working_crs, problems)
    if gdf is None:
        return None, None
    _check_village_ids(gdf, label, problems)
    polygonal = _check_village_geometry_types(gdf, label, problems)
    _check_census_numbers(gdf, label, problems)
    if not polygonal:
        return None, None  # the geometry checks below need polygons
    gdf = _repair_village_polygons(gdf, label, problems, notes, source=str(path))
    if gdf is None:
        return None, None
    gdf = gdf.set_index("village_id", drop=True)
    for col in ("name", "commune", "district", "commune_2025", "kind"):
        gdf[col] = gdf[col].map(clean_text).astype(str)
    _unify_admin_names(gdf, label, notes, source=str(path))
    _check_tessellation(gdf, label, problems, notes, source=str(path))
    centres = _village_centres(path, centres_layer, gdf, working_crs, problems, notes)
    return gdf, gpd.GeoSeries(centres, crs=gdf.crs, name="centre")


def _read_village_layer(
    path: Path, layer: str | None, label: str, working_crs: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """The village layer in the working CRS, or None when it cannot be read, lacks one of
    :data:`VILLAGE_COLUMNS` or has no usable CRS (problems reported)."""
    gdf = read_layer(path, layer, problems)
    if gdf is None:
        return None
    missing = [c for c in VILLAGE_COLUMNS if c not in gdf.columns]
    if missing:
        problems.append(
            Problem(label, f"missing column(s) {', '.join(missing)}",
                    f"the village layer needs: {', '.join(VILLAGE_COLUMNS)} (a Shapefile "
                    "cuts field names to 10 characters: use a GeoPackage)")
        )
    gdf = to_working_crs(gdf, label, working_crs, problems)
    if gdf is None or missing:
        return None
    return gdf


def _check_village_ids(gdf: gpd.GeoDataFrame, label: str, problems: list[Problem]) -> None:
    """Clean the ``village_id`` column (in place) and report empty and repeated ids (rows
    are feature numbers, from 1)."""
    gdf["village_id"] = gdf["village_id"].map(clean_text)
    no_id = np.flatnonzero((gdf["village_id"] == "").to_numpy())
    report_rows(problems, label, "village_id is empty", "give every village a unique, "
                "stable id", [int(i) + 1 for i in no_id], column="village_id")
    dup = gdf["village_id"][gdf["village_id"].duplicated(keep=False) & (gdf["village_id"] != "")]
    for vid in sorted(set(dup)):
        rows = [int(i) + 1 for i in np.flatnonzero(gdf["village_id"].to_numpy() == vid)]
        problems.append(Problem(label, f"duplicate village_id '{vid}' (features {rows})",
                                "give every village a unique, stable id", row=rows[0],
                                column="village_id"))


def _check_village_geometry_types(
    gdf: gpd.GeoDataFrame, label: str, problems: list[Problem]
) -> bool:
    """Report empty geometries and geometries that are not polygons; True when every
    village is a non-empty (Multi)Polygon."""
    empty = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    for i in np.flatnonzero(empty):
        problems.append(Problem(label, "empty geometry", "draw the village polygon",
                                row=gdf["village_id"].iloc[i], column="geometry"))
    types = set(gdf.geometry[~empty].geom_type)
    if types - {"Polygon", "MultiPolygon"}:
        problems.append(Problem(label, f"geometries must be polygons, found {sorted(types)}",
                                "export the village boundaries as polygons"))
    return not (empty.any() or types - {"Polygon", "MultiPolygon"})


def _check_census_numbers(gdf: gpd.GeoDataFrame, label: str, problems: list[Problem]) -> None:
    """Report ``population`` and ``households`` values that are not numbers >= 0 and store
    the columns as integers (0 where bad), in place."""
    for col in ("population", "households"):
        num = pd.to_numeric(gdf[col], errors="coerce")
        for i in np.flatnonzero((num.isna() | (num < 0)).to_numpy()):
            problems.append(Problem(label, f"{col} must be a number >= 0",
                                    "fill in the census figure", row=gdf["village_id"].iloc[i],
                                    column=col, value=plain(gdf[col].iloc[i])))
        gdf[col] = num.fillna(0).astype("int64")


def _repair_village_polygons(
    gdf: gpd.GeoDataFrame, label: str, problems: list[Problem], notes: list[Message], *,
    source: str,
) -> gpd.GeoDataFrame | None:
    """Drop Z coordinates and repair invalid polygons with ``make_valid`` (noted, with a
    warning); None when a polygon has no area once repaired (reported)."""
    if shapely.has_z(gdf.geometry.to_numpy()).any():
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.to_numpy()), crs=gdf.crs)
    invalid = (~gdf.geometry.is_valid).to_numpy()
    if not invalid.any():
        return gdf
    ids = list(gdf.loc[invalid, "village_id"])
    repaired = [_polygonal(g) for g in shapely.make_valid(gdf.geometry[invalid].to_numpy())]
    for vid, g in zip(ids, repaired, strict=True):
        if g is None:
            problems.append(Problem(label, "the polygon has no area (it stays empty once "
                                    "repaired)", "redraw the village polygon", row=vid,
                                    column="geometry"))
    if any(g is None for g in repaired):
        return None
    gdf.loc[invalid, "geometry"] = gpd.GeoSeries(repaired, index=gdf.index[invalid],
                                                 crs=gdf.crs)
    text = Message("villages.repaired", source=source, n=len(ids),
                   ids=[str(i) for i in ids[:20]], more=" ..." if len(ids) > 20 else "")
    notes.append(text)
    log.warning("%s: %s", label, text)
    return gdf


def _village_centres(
    path: Path, centres_layer: str | None, villages: gpd.GeoDataFrame, working_crs: CRS,
    problems: list[Problem], notes: list[Message],
) -> gpd.GeoSeries:
    """The centre point of every village: from ``centres_layer`` of the file when it has
    one, else a representative point inside each polygon (noted)."""
    centres: gpd.GeoSeries | None = None
    layers: list[str] = []
    with contextlib.suppress(*GDAL_ERRORS):
        layers = [n for n, _ in pyogrio.list_layers(path)]
    if centres_layer is not None and centres_layer in layers:
        centres = _read_centres_layer(path, centres_layer, villages, working_crs, problems,
                                      notes)
    if centres is None:
        notes.append(Message("villages.no_centres", source=path))
        centres = villages.geometry.representative_point()
    return centres


def _read_centres_layer(
    path: Path, centres_layer: str, villages: gpd.GeoDataFrame, working_crs: CRS,
    problems: list[Problem], notes: list[Message],
) -> gpd.GeoSeries | None:
    """The centre points of ``centres_layer`` in the working CRS, indexed like
    ``villages`` (a village without a point gets a representative point inside its polygon,
    noted); None when the layer cannot be used (problems reported)."""
    clabel = layer_label(path, centres_layer)
    c = read_working_layer(path, centres_layer, working_crs, problems)
    if c is None:
        return None
    if "village_id" not in c.columns:
        problems.append(Problem(clabel, "missing column village_id",
                                "add the village_id of each centre point"))
        return None
    c["village_id"] = c["village_id"].map(clean_text)
    bad = ~c.geometry.geom_type.isin(["Point"]) | c.geometry.is_empty
    c = c[~bad.to_numpy()]
    c = c.drop_duplicates("village_id").set_index("village_id")
    centres = c.geometry.reindex(villages.index)
    lacking = centres.index[centres.isna()]
    if len(lacking):
        notes.append(Message("villages.centres_missing", source=path, n=len(lacking)))
        centres.loc[lacking] = villages.geometry[lacking].representative_point()
    return centres


def read_settlements(
    path: str | Path, *, layer: str | None, working_crs: CRS, village_ids: pd.Index,
    problems: list[Problem],
) -> gpd.GeoDataFrame | None:
    """Household clusters (points) with ``village_id``, ``households`` and ``population``."""
    path = Path(path)
    label = layer_label(path, layer)
    gdf = read_layer(path, layer, problems)
    if gdf is None:
        return None
    need = ("village_id", "households", "population")
    missing = [c for c in need if c not in gdf.columns]
    if missing:
        problems.append(Problem(label, f"missing column(s) {', '.join(missing)}",
                                f"household clusters need: {', '.join(need)}"))
        return None
    gdf = to_working_crs(gdf, label, working_crs, problems)
    if gdf is None:
        return None
    gdf["village_id"] = gdf["village_id"].astype(str).str.strip()
    unknown = ~gdf["village_id"].isin(village_ids)
    for i in np.flatnonzero(unknown.to_numpy())[:50]:
        problems.append(Problem(label, "village_id not found in the village layer",
                                "fix the id or remove the cluster", row=int(i) + 1,
                                column="village_id", value=gdf["village_id"].iloc[i]))
    for col in ("households", "population"):
        num = pd.to_numeric(gdf[col], errors="coerce")
        for i in np.flatnonzero((num.isna() | (num < 0)).to_numpy())[:50]:
            problems.append(Problem(label, f"{col} must be a number >= 0", "fix the value",
                                    row=int(i) + 1, column=col, value=plain(gdf[col].iloc[i])))
        gdf[col] = num.fillna(0).astype("int64")
    if "cluster_id" not in gdf.columns:
        gdf["cluster_id"] = [f"H{i + 1:06d}" for i in range(len(gdf))]
    return gdf.set_index("cluster_id")


#: OpenStreetMap extracts, read through GDAL's OSM driver (layer "lines").
OSM_SUFFIXES = (".osm", ".pbf")

#: OSM ``highway`` values that are not roads a cable can follow (yet).
OSM_EXCLUDED_HIGHWAYS = ("proposed", "construction", "abandoned", "razed", "disused",
                         "platform", "bus_stop", "elevator", "rest_area", "services")


def read_roads(
    path: str | Path, *, layer: str | None, working_crs: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """The road network as LineStrings in the working CRS.

    Accepts any GDAL vector file of (Multi)LineStrings (GeoPackage, GeoJSON, Shapefile...;
    ``layer`` is used when the file holds several layers) with optional columns
    ``road_id``, ``road_class`` and ``name``, or an OpenStreetMap extract (``.osm`` XML or
    ``.osm.pbf``), read offline with GDAL's OSM driver: every way with a ``highway`` tag
    (except :data:`OSM_EXCLUDED_HIGHWAYS`) becomes a road with ``road_id`` = OSM way id,
    ``road_class`` = its ``highway`` value (``layer`` is ignored).
    MultiLineStrings are split into their parts.

    Returns
    -------
    geopandas.GeoDataFrame or None
        Columns ``road_id``, ``road_class``, ``name`` and the geometry, default index;
        ``None`` when a problem was found (appended to ``problems``).
    """
    path = Path(path)
    is_osm = path.name.lower().endswith(OSM_SUFFIXES)
    if is_osm:
        layer = "lines"
    elif path.exists():
        with contextlib.suppress(pyogrio.errors.DataSourceError):
            names = [n for n, _ in pyogrio.list_layers(path)]
            if len(names) == 1:  # e.g. GeoJSON: its one layer, whatever its name
                layer = names[0]
    label = layer_label(path, layer)
    gdf = read_layer(path, layer, problems)
    if gdf is None:
        return None
    if is_osm:
        if "highway" not in gdf.columns:
            problems.append(Problem(label, "no 'highway' tag on any way",
                                    "export the roads (ways tagged highway=*) of the area"))
            return None
        hw = gdf["highway"]
        gdf = gdf[hw.notna() & ~hw.isin(OSM_EXCLUDED_HIGHWAYS)]
        if len(gdf) == 0:
            problems.append(Problem(label, "no roads (ways tagged highway=*) in the extract",
                                    "export an extract that contains the road network"))
            return None
        gdf = gpd.GeoDataFrame({"road_id": gdf["osm_id"].astype(str).to_numpy(),
                                "road_class": gdf["highway"].astype(str).to_numpy(),
                                "name": gdf["name"].fillna("").astype(str).to_numpy()},
                               geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    n0 = len(problems)
    geom = gdf.geometry
    empty = (geom.isna() | geom.is_empty).to_numpy()
    kinds = geom.geom_type.to_numpy()
    wrong = ~empty & ~np.isin(kinds, ["LineString", "MultiLineString"])
    for what, mask, fix in (
        ("empty geometry", empty, "delete the feature or draw the road"),
        ("not a line", wrong, "keep only road centre lines (LineString / MultiLineString); "
         "e.g. `ogr2ogr -nlt MULTILINESTRING -where \"OGR_GEOMETRY LIKE '%LINESTRING'\"`"),
    ):
        bad = np.flatnonzero(mask)
        for i in bad[:50]:
            problems.append(Problem(label, what, fix, row=int(i) + 1, column="geometry",
                                    value=None if what == "empty geometry" else kinds[i]))
        if len(bad) > 50:
            problems.append(Problem(label, f"{len(bad)} features in all: {what}", fix))
    if len(problems) > n0:
        return None
    gdf = to_working_crs(gdf, label, working_crs, problems)
    if gdf is None:
        return None
    n = len(gdf)
    out = gpd.GeoDataFrame(
        {
            "road_id": (gdf["road_id"].astype(str).to_numpy() if "road_id" in gdf.columns
                        else [f"R{i + 1}" for i in range(n)]),
            "road_class": (gdf["road_class"].fillna("").astype(str).to_numpy()
                           if "road_class" in gdf.columns else np.full(n, "")),
            "name": (gdf["name"].fillna("").astype(str).to_numpy() if "name" in gdf.columns
                     else np.full(n, "")),
        },
        geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    return out.explode(index_parts=False).reset_index(drop=True)
