"""Exports for planners' tools: GeoPackage, GeoJSON, CSV, Excel, KML (Google Earth) and
Cloud-Optimized GeoTIFF.

An export starts from an :class:`ExportData`: built from an output folder written by
``vncoverage run --out`` (:func:`from_output_folder`) or from an in-memory run
(:func:`from_results`). The builders (:func:`village_table`, :func:`coverage_polygons`,
:func:`xlsx_bytes`, :func:`kml_document`) return in-memory objects; :func:`export` writes the
files of one format through :mod:`vncoverage.fileio` (each atomically).

Files written by :func:`export` into the destination folder:

========  =====================================================================================
format    files
========  =====================================================================================
gpkg      ``vncoverage.gpkg``: villages, towers, cells, fibre_nodes, coverage (+ boundaries,
          fibre-ready roads, villages fibre does not reach, when available)
geojson   ``villages.geojson``, ``towers.geojson``, ``fibre_nodes.geojson``,
          ``coverage.geojson`` (WGS 84, RFC 7946)
csv       ``villages.csv``, ``towers.csv``, ``kpi.csv``, ``by_district.csv``,
          ``by_commune_2025.csv`` (UTF-8 with BOM, headers in the chosen language)
xlsx      ``vncoverage.xlsx``: one sheet per table, headers in the chosen language
kml       ``vncoverage.kml``: villages by verdict, remote gaps, towers, fibre nodes, coverage
cog       ``rsrp_4g.tif`` (best-server RSRP, dBm), ``server_4g.tif`` (best-server index) and
          ``server_4g_cells.csv`` (index -> cell, site, operator)
========  =====================================================================================

Coverage polygons are the covered masks (median level less the location margin reaches
the threshold) of every technology / operator layer, vectorised on the raster grid
(``rasterio.features.shapes``) and simplified by half a pixel.
"""

from __future__ import annotations

import functools
import html
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio.features import shapes

from .. import fileio
from ..datatypes import Raster
from ..i18n import DEFAULT_LANG, check_lang, column_label, tr, verdict_label
from ..results import Results
from ..villages import COVERED, LOM_SONG, TRANG_SONG, UNKNOWN
from . import FORMATS

__all__ = [
    "FORMATS",
    "ExportData",
    "coverage_polygons",
    "export",
    "from_output_folder",
    "from_results",
    "kml_document",
    "village_table",
    "xlsx_bytes",
]


#: Columns of the village table of the CSV / Excel exports (others stay in the GeoPackage).
VILLAGE_COLUMNS = (
    "name", "commune", "district", "commune_2025", "kind", "population", "households",
    "verdict_mbb_any", "pop_share_mbb_any", "area_share_mbb_any", "centre_mbb_any",
    "pop_share_mbb_viettel", "pop_share_mbb_vnpt", "pop_share_mbb_mobifone",
    "best_dbm_centre_4g", "best_server_centre_4g", "nearest_site_id", "nearest_site_m",
    "nearest_site_operators", "ftth_covered", "ftth_households_passed", "ftth_households",
    "ftth_nearest_splitter_m", "ftth_extra_cable_m", "town_distance_m", "road_distance_m",
    "remote_gap",
)
_BOOL_COLUMNS = ("centre_mbb_any", "ftth_covered", "remote_gap")


@dataclass
class ExportData:
    """Everything an export needs, in memory (working CRS, stable ids as indexes)."""

    villages: gpd.GeoDataFrame
    towers: gpd.GeoDataFrame | None = None
    cells: gpd.GeoDataFrame | None = None
    fibre_nodes: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    communes_2025: gpd.GeoDataFrame | None = None
    fibre_roads: gpd.GeoDataFrame | None = None
    ftth_unreached: gpd.GeoDataFrame | None = None
    kpis: pd.DataFrame | None = None
    by_district: pd.DataFrame | None = None
    by_commune_2025: pd.DataFrame | None = None
    rsrp_4g: Raster | None = None
    server_4g: Raster | None = None
    #: Covered masks (1 covered, 0 not, 255 unknown) keyed ``(technology, operator)``.
    masks: dict[tuple[str, str], Raster] = field(default_factory=dict)
    title: str = "vncoverage"

    @functools.cached_property
    def coverage(self) -> gpd.GeoDataFrame:
        """Coverage polygons of every mask (:func:`coverage_polygons`), computed once."""
        return coverage_polygons(self.masks)


# --------------------------------------------------------------------------------------
# coverage polygons


def coverage_polygons(masks: dict[tuple[str, str], Raster], *,
                      simplify_px: float = 0.5) -> gpd.GeoDataFrame:
    """Vectorise covered masks: one MultiPolygon per technology and operator (4-connected
    regions of covered pixels), simplified by ``simplify_px`` pixels, with its area in km²
    (of the unsimplified pixels)."""
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    crs = None
    for (tech, op), r in masks.items():
        crs = r.crs
        covered = (r.values == 1).astype(np.uint8)
        n_px = int(covered.sum())
        if not n_px:
            continue
        polys = shapely.from_geojson([
            json.dumps(g) for g, _ in shapes(covered, mask=covered.astype(bool),
                                             transform=r.transform, connectivity=4)])
        tol = abs(r.transform.a) * simplify_px
        # the regions never overlap: simplify them as a coverage (faster, GEOS >= 3.12)
        polys = (shapely.coverage_simplify(polys, tol) if hasattr(shapely, "coverage_simplify")
                 else shapely.simplify(polys, tol))
        keep = ~shapely.is_empty(polys) & (shapely.get_type_id(polys) == 3)
        rows.append({"technology": tech, "operator": op,
                     "area_km2": n_px * abs(r.transform.a * r.transform.e) / 1e6})
        geoms.append(shapely.MultiPolygon(list(polys[keep])))
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["technology", "operator", "area_km2"]),
                            geometry=geoms, crs=crs)


# --------------------------------------------------------------------------------------
# sources


def from_output_folder(folder: fileio.OutputFolder) -> ExportData:
    """Export data from an output folder read by :func:`vncoverage.fileio.read_output_folder`."""
    L = folder.layers
    v = L["villages"].copy()
    for c in _BOOL_COLUMNS:
        if c in v.columns:
            v[c] = v[c].fillna(0).astype(bool)
    masks: dict[tuple[str, str], Raster] = {}
    for band in folder.rasters.get("coverage_masks", ()):
        tech, _, op = band.description.partition(" ")
        masks[(tech, op)] = band

    def idx(name: str, key: str) -> gpd.GeoDataFrame | None:
        if name not in L:
            return None
        gdf = L[name]
        return gdf.set_index(key) if key in gdf.columns else gdf

    return ExportData(
        villages=v, towers=idx("towers", "site_id"), cells=idx("cells", "cell_id"),
        fibre_nodes=idx("fibre_nodes", "node_id"), districts=L.get("districts"),
        communes_2025=L.get("communes_2025"), fibre_roads=L.get("fibre_roads"),
        ftth_unreached=idx("ftth_unreached", "village_id"),
        kpis=folder.tables.get("kpi"), by_district=folder.tables.get("by_district"),
        by_commune_2025=folder.tables.get("by_commune_2025"),
        rsrp_4g=folder.rasters["coverage_4g"][0] if "coverage_4g" in folder.rasters else None,
        server_4g=folder.rasters["server_4g"][0] if "server_4g" in folder.rasters else None,
        masks=masks,
        title=folder.tags.get("coverage_4g", {}).get("STUDY", "vncoverage"),
    )


def from_results(results: Results) -> ExportData:
    """Export data from an in-memory run (:func:`vncoverage.pipeline.run`): the same
    figures ``vncoverage run`` writes (remote gaps with the configured thresholds, bands,
    masks, server index), read from the results, never computed again."""
    r = results
    cells = r.inputs.cells.copy() if r.inputs.cells is not None else None  # None: fibre only
    if cells is not None:
        cells["server_index"] = r.server_index.reindex(cells.index)
    return ExportData(
        villages=r.villages, towers=r.towers, cells=cells, fibre_nodes=r.inputs.ftth_nodes,
        districts=r.inputs.districts, communes_2025=r.inputs.communes_2025,
        fibre_roads=r.fibre_roads, ftth_unreached=r.ftth_unreached, kpis=r.kpis,
        by_district=r.by_district, by_commune_2025=r.by_commune_2025, rsrp_4g=r.rsrp_4g,
        server_4g=r.server_4g, masks=dict(r.coverage_masks), title=r.cfg.study.name)


# --------------------------------------------------------------------------------------
# tables


def _localise(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if c in _BOOL_COLUMNS or out[c].dtype == bool:
            out[c] = [tr("yes", lang) if bool(x) else tr("no", lang) if pd.notna(x) else ""
                      for x in out[c]]
        elif str(c).startswith("verdict_"):
            out[c] = [verdict_label(str(x), lang) for x in out[c]]
    out.index = out.index.rename(column_label(str(out.index.name or ""), lang)
                                 if out.index.name else None)
    return out.rename(columns=lambda c: column_label(str(c), lang))


def village_table(villages: pd.DataFrame, *, lang: str = DEFAULT_LANG, sort: bool = True
                  ) -> pd.DataFrame:
    """The planner's village table: the :data:`VILLAGE_COLUMNS` present, verdicts and
    yes/no in ``lang``, headers in ``lang``, indexed by village id and (``sort``) sorted by
    district, commune and name."""
    check_lang(lang)
    cols = [c for c in VILLAGE_COLUMNS if c in villages.columns]
    t = pd.DataFrame(villages[cols]).copy()
    t.index.name = "village_id"
    keys = [c for c in ("district", "commune", "name") if c in t.columns]
    if keys and sort:
        t = t.sort_values(keys, kind="stable")
    return _localise(t, lang)


def _tower_table(towers: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    ll = towers.to_crs(4326)
    t = pd.DataFrame(towers.drop(columns="geometry")).copy()
    t["lon"] = ll.geometry.x.round(6)
    t["lat"] = ll.geometry.y.round(6)
    t.index.name = "site_id"
    return _localise(t, lang)


def _sheets(data: ExportData, lang: str) -> dict[str, pd.DataFrame]:
    """Sheets / CSV files, by file stem."""
    out: dict[str, pd.DataFrame] = {}
    if data.kpis is not None:
        k = data.kpis.copy()
        k.index.name = "kpi_id"
        out["kpi"] = _localise(k, lang)
    out["villages"] = village_table(data.villages, lang=lang)
    if data.by_district is not None:
        d = data.by_district.copy()
        d.index.name = "district"
        out["by_district"] = _localise(d, lang)
    if data.by_commune_2025 is not None:
        c = data.by_commune_2025.copy()
        c.index.name = "commune_2025"
        out["by_commune_2025"] = _localise(c, lang)
    if data.towers is not None:
        out["towers"] = _tower_table(data.towers, lang)
    return out


_SHEET_NAMES = {
    "kpi": ("Chỉ tiêu", "KPIs"),
    "villages": ("Thôn", "Villages"),
    "uncovered": ("Thôn chưa có sóng", "Villages without 4G-5G"),
    "by_district": ("Theo huyện", "By district"),
    "by_commune_2025": ("Theo xã 2025", "By commune 2025"),
    "towers": ("Trạm BTS", "Towers"),
}


def xlsx_bytes(data: ExportData, *, lang: str = DEFAULT_LANG) -> bytes:
    """An Excel workbook (one sheet per table, plus the villages without coverage by
    population): bold frozen header row, filters, column widths, percentages formatted."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    check_lang(lang)
    tables = _sheets(data, lang)
    v = data.villages
    if "verdict_mbb_any" in v.columns:
        bad = v[v["verdict_mbb_any"] != COVERED].sort_values("population", ascending=False)
        tables["uncovered"] = village_table(bad, lang=lang, sort=False)
    order = ["kpi", "uncovered", "villages", "by_district", "by_commune_2025", "towers"]
    wb = Workbook()
    wb.remove(wb.active)
    share_headers = {column_label(c, lang) for c in VILLAGE_COLUMNS if "share" in c}
    for key in [k for k in order if k in tables]:
        df = tables[key]
        ws = wb.create_sheet(_SHEET_NAMES[key][0 if lang == "vi" else 1][:31])
        header = [df.index.name or "", *map(str, df.columns)]
        ws.append(header)
        for idx, row in zip(df.index, df.itertuples(index=False), strict=True):
            ws.append([_cell(idx), *(_cell(x) for x in row)])
        for c in ws[1]:
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor="DDEBF7")
            c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
        kinds = ["index", *(dt.kind for dt in df.dtypes)]
        for j, name in enumerate(header, start=1):
            letter = get_column_letter(j)
            values = [len(str(name)) * 0.6, *(len(str(ws.cell(i, j).value or ""))
                                              for i in range(2, min(ws.max_row, 200) + 1))]
            ws.column_dimensions[letter].width = min(45, max(8, max(values) + 2))
            fmt = ("0.0%" if name in share_headers
                   else "#,##0.0" if kinds[j - 1] == "f" else None)
            if fmt is not None:
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(x: object) -> object:
    """A value openpyxl accepts (no NaN, no numpy scalars)."""
    if x is None:
        return None
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    if isinstance(x, int | float | str | bool):
        return x
    return str(x)


# --------------------------------------------------------------------------------------
# KML

_KML_NS = "http://www.opengis.net/kml/2.2"
_VERDICT_KML = {COVERED: "7f50981a", LOM_SONG: "b361aefd", TRANG_SONG: "cc2730d7",
                UNKNOWN: "99969696"}  # aabbggrr
_OPERATOR_KML = {"Viettel": "ff1c1ae3", "VNPT": "ffb4781f", "MobiFone": "ff2ca033"}


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _coords(xy: Iterable[Sequence[float]]) -> str:
    return " ".join(f"{x:.6f},{y:.6f}" for x, y, *_ in xy)


def _kml_geometry(parent: ET.Element, geom: Any) -> None:
    if geom is None or geom.is_empty:
        return
    kind = geom.geom_type
    if kind.startswith("Multi") or kind == "GeometryCollection":
        multi = _sub(parent, "MultiGeometry")
        for part in geom.geoms:
            _kml_geometry(multi, part)
    elif kind == "Polygon":
        poly = _sub(parent, "Polygon")
        outer = _sub(_sub(poly, "outerBoundaryIs"), "LinearRing")
        _sub(outer, "coordinates", _coords(geom.exterior.coords))
        for ring in geom.interiors:
            inner = _sub(_sub(poly, "innerBoundaryIs"), "LinearRing")
            _sub(inner, "coordinates", _coords(ring.coords))
    elif kind == "LineString":
        _sub(_sub(parent, "LineString"), "coordinates", _coords(geom.coords))
    elif kind == "Point":
        _sub(_sub(parent, "Point"), "coordinates", _coords(geom.coords))


def _style(doc: ET.Element, sid: str, *, poly: str | None = None, line: str = "ff444444",
           width: float = 0.8, icon: str | None = None) -> None:
    st = _sub(doc, "Style", id=sid)
    ls = _sub(st, "LineStyle")
    _sub(ls, "color", line)
    _sub(ls, "width", f"{width:g}")
    ps = _sub(st, "PolyStyle")
    if poly is None:
        _sub(ps, "fill", "0")
    else:
        _sub(ps, "color", poly)
    if icon is not None:
        ic = _sub(st, "IconStyle")
        _sub(ic, "color", icon)
        _sub(ic, "scale", "0.6")
        _sub(_sub(ic, "Icon"), "href",
             "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png")


def _description(pairs: Iterable[tuple[str, object]]) -> str:
    """HTML for a balloon; values are escaped here, and the XML writer escapes the whole
    once more, so Google Earth shows input strings as text."""
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(str(v))}</b></td></tr>"
                   for k, v in pairs if v is not None and str(v) != "" and str(v) != "nan")
    return f"<table>{rows}</table>"


def kml_document(data: ExportData, *, lang: str = DEFAULT_LANG, simplify_m: float = 10.0,
                 max_splitters: int | None = None) -> str:
    """A KML document for Google Earth: villages by verdict (and the remote gaps), towers
    per operator, fibre nodes and the 4G/5G coverage per operator (folders hidden except
    the villages and towers)."""
    check_lang(lang)
    ET.register_namespace("", _KML_NS)
    kml = ET.Element("kml", xmlns=_KML_NS)
    doc = _sub(kml, "Document")
    _sub(doc, "name", data.title)
    _kml_styles(doc)
    _kml_villages(doc, data.villages, lang, simplify_m)
    if data.towers is not None and len(data.towers):
        _kml_towers(doc, data.towers, lang)
    if data.fibre_nodes is not None and len(data.fibre_nodes):
        _kml_fibre_nodes(doc, data.fibre_nodes, lang, max_splitters)
    _kml_coverage(doc, data.masks)
    ET.indent(kml, space=" ")
    return ET.tostring(kml, encoding="unicode", xml_declaration=True)


def _kml_styles(doc: ET.Element) -> None:
    """The shared styles: villages by verdict, remote gaps, coverage, towers by operator,
    OLTs and splitters."""
    for verdict, colour in _VERDICT_KML.items():
        _style(doc, f"v-{_slug(verdict)}", poly=colour)
    _style(doc, "remote", line="ff000000", width=3)
    _style(doc, "coverage", poly="5533a02c", line="8833a02c")
    for op, colour in _OPERATOR_KML.items():
        _style(doc, f"op-{_slug(op)}", icon=colour)
    _style(doc, "op-other", icon="ff000000")
    _style(doc, "olt", icon="ff9a3d6a")
    _style(doc, "splitter", icon="ff2859b1")


def _kml_villages(doc: ET.Element, villages: gpd.GeoDataFrame, lang: str,
                  simplify_m: float) -> None:
    """The village folders: one folder per verdict (worst first, none for a verdict without
    villages) and, when there are any, the remote gaps; polygons simplified by
    ``simplify_m``."""
    v = villages.copy()
    v["geometry"] = v.geometry.simplify(simplify_m)
    v = v.to_crs(4326)
    top = _sub(doc, "Folder")
    _sub(top, "name", tr("layer_verdict", lang))
    verdicts = v.get("verdict_mbb_any", pd.Series(UNKNOWN, index=v.index)).astype(str)
    for verdict in (TRANG_SONG, LOM_SONG, COVERED, UNKNOWN):
        sel = v[verdicts == verdict]
        if not len(sel):
            continue
        folder = _sub(top, "Folder")
        _sub(folder, "name", f"{verdict_label(verdict, lang)} ({len(sel)})")
        for vid, row in sel.iterrows():
            _village_placemark(folder, vid, row, f"#v-{_slug(verdict)}", lang)
    if "remote_gap" in v.columns and v["remote_gap"].astype(bool).any():
        folder = _sub(doc, "Folder")
        _sub(folder, "name", tr("layer_remote", lang))
        for vid, row in v[v["remote_gap"].astype(bool)].iterrows():
            _village_placemark(folder, vid, row, "#remote", lang)


def _kml_towers(doc: ET.Element, towers: gpd.GeoDataFrame, lang: str) -> None:
    """The towers folder: one sub-folder per operator (sorted), holding every tower that
    operator is on."""
    t = towers.to_crs(4326)
    folder = _sub(doc, "Folder")
    _sub(folder, "name", tr("legend_towers", lang))
    for op in sorted({o.strip() for ops in t["operators"] for o in str(ops).split(",")}):
        sub = _sub(folder, "Folder")
        _sub(sub, "name", tr("layer_towers", lang, operator=op))
        sel = t[[op in [o.strip() for o in str(x).split(",")] for x in t["operators"]]]
        style = f"#op-{_slug(op)}" if op in _OPERATOR_KML else "#op-other"
        for sid, row in sel.iterrows():
            _tower_placemark(sub, sid, row, style, lang)


def _tower_placemark(folder: ET.Element, sid: object, row: pd.Series, style: str,
                     lang: str) -> None:
    """The placemark of one tower: its id, operators, technologies and owner."""
    pm = _sub(folder, "Placemark")
    _sub(pm, "name", str(sid))
    _sub(pm, "styleUrl", style)
    _sub(pm, "description", _description([
        (column_label("operators", lang), row.get("operators")),
        (column_label("technologies", lang), row.get("technologies")),
        (column_label("tower_owner", lang), row.get("tower_owner"))]))
    _kml_geometry(pm, row.geometry)


def _kml_fibre_nodes(doc: ET.Element, nodes: gpd.GeoDataFrame, lang: str,
                     max_splitters: int | None) -> None:
    """The OLT folder (visible) and the splitter folder (hidden, its first
    ``max_splitters`` splitters when given); none for a kind without nodes."""
    n = nodes.to_crs(4326)
    for kind, key, visible in (("olt", "layer_olt", "1"), ("splitter", "layer_splitters",
                                                             "0")):
        sel = n[n["node_type"] == kind]
        if max_splitters is not None and kind == "splitter":
            sel = sel.head(max_splitters)
        if not len(sel):
            continue
        folder = _sub(doc, "Folder")
        _sub(folder, "name", tr(key, lang))
        _sub(folder, "visibility", visible)
        for nid, row in sel.iterrows():
            _node_placemark(folder, nid, row, kind, visible, lang)


def _node_placemark(folder: ET.Element, nid: object, row: pd.Series, kind: str,
                    visible: str, lang: str) -> None:
    """The placemark of one fibre node of ``kind`` (``olt`` or ``splitter``; a splitter
    with its operator and ports used)."""
    pm = _sub(folder, "Placemark")
    _sub(pm, "name", str(nid))
    _sub(pm, "visibility", visible)
    _sub(pm, "styleUrl", f"#{kind}")
    if kind == "splitter":
        _sub(pm, "description", _description([
            (column_label("operator", lang), row.get("operator")),
            (column_label("ports_used", lang),
             f"{row.get('ports_used')}/{row.get('ports')}")]))
    _kml_geometry(pm, row.geometry)


def _kml_coverage(doc: ET.Element, masks: dict[tuple[str, str], Raster]) -> None:
    """The 4G/5G coverage folder (hidden): one placemark per operator, the covered masks of
    the ``MBB`` layers vectorised (:func:`coverage_polygons`); none without such masks."""
    mbb = {k: r for k, r in masks.items() if k[0] == "MBB"}
    if not mbb:
        return
    cov = coverage_polygons(mbb, simplify_px=1.5).to_crs(4326)
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "4G/5G")
    _sub(folder, "visibility", "0")
    for _, row in cov.iterrows():
        pm = _sub(folder, "Placemark")
        _sub(pm, "name", f"4G/5G {row['operator']}")
        _sub(pm, "visibility", "0")
        _sub(pm, "styleUrl", "#coverage")
        _kml_geometry(pm, row.geometry)


def _slug(text: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text.lower())


def _village_placemark(folder: ET.Element, vid: object, row: pd.Series, style: str,
                       lang: str) -> None:
    pm = _sub(folder, "Placemark")
    _sub(pm, "name", str(row.get("name", vid)))
    _sub(pm, "styleUrl", style)
    share = row.get("pop_share_mbb_any")
    _sub(pm, "description", _description([
        (column_label("name", lang), row.get("name")),
        (column_label("village_id", lang), vid),
        (column_label("commune", lang), row.get("commune")),
        (column_label("district", lang), row.get("district")),
        (column_label("population", lang), row.get("population")),
        (column_label("verdict_mbb_any", lang),
         verdict_label(str(row.get("verdict_mbb_any")), lang)),
        (column_label("pop_share_mbb_any", lang),
         f"{100 * float(share):.0f} %" if share is not None and pd.notna(share) else None),
        (column_label("nearest_site_id", lang), row.get("nearest_site_id")),
        (column_label("ftth_covered", lang),
         (tr("yes", lang) if bool(row["ftth_covered"]) else tr("no", lang))
         if "ftth_covered" in row.index and pd.notna(row["ftth_covered"]) else None),
    ]))
    _kml_geometry(pm, row.geometry)


# --------------------------------------------------------------------------------------
# writing


def _layer(gdf: gpd.GeoDataFrame, index_name: str | None = None) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = out[c].astype("int8")
        elif out[c].dtype == object and c != "geometry":
            out[c] = out[c].map(lambda x: x if x is None or isinstance(x, str | int | float)
                                else str(x))
    if index_name is not None or out.index.name:
        out = out.reset_index(names=index_name or out.index.name)
    return out


def export(data: ExportData, fmt: str, dest: str | Path, *, lang: str = DEFAULT_LANG
           ) -> list[Path]:
    """Write the files of one format (:data:`FORMATS`) into the folder ``dest``.

    Returns
    -------
    The paths written.

    Raises
    ------
    ValueError
        For an unknown format, or a format whose data is missing (e.g. ``cog`` without the
        coverage raster).
    """
    check_lang(lang)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = Path(dest)
    written: list[Path] = []

    def path(name: str) -> Path:
        p = out / name
        written.append(p)
        return p

    _WRITERS[fmt](data, path, lang)
    return written


#: A writer's ``path(name)``: the path of the file ``name`` in the destination folder,
#: recorded as written.
_PathFor = Callable[[str], Path]


def _vector_layers(data: ExportData, *, coverage: bool) -> dict[str, gpd.GeoDataFrame]:
    """The vector layers of an export, by name, in the column types the files hold
    (:func:`_layer`): the villages, the other layers present and not empty and, with
    ``coverage`` and masks, the coverage polygons."""
    vector = {"villages": _layer(data.villages, "village_id")}
    for name, gdf in (("towers", data.towers), ("cells", data.cells),
                      ("fibre_nodes", data.fibre_nodes), ("districts", data.districts),
                      ("communes_2025", data.communes_2025),
                      ("fibre_roads", data.fibre_roads),
                      ("ftth_unreached", data.ftth_unreached)):
        if gdf is not None and len(gdf):
            vector[name] = _layer(gdf)
    if coverage and data.masks:
        vector["coverage"] = data.coverage
    return vector


def _write_gpkg(data: ExportData, path: _PathFor, lang: str) -> None:
    """``vncoverage.gpkg``: every vector layer (:func:`_vector_layers`)."""
    fileio.write_vector(path("vncoverage.gpkg"), _vector_layers(data, coverage=True))


def _write_geojson(data: ExportData, path: _PathFor, lang: str) -> None:
    """``villages.geojson`` and, when present, ``towers.geojson``, ``fibre_nodes.geojson``
    and ``coverage.geojson``."""
    vector = _vector_layers(data, coverage=True)
    for name in ("villages", "towers", "fibre_nodes", "coverage"):
        if name in vector:
            fileio.write_geojson(path(f"{name}.geojson"), vector[name])


def _write_csv(data: ExportData, path: _PathFor, lang: str) -> None:
    """One CSV file per table (:func:`_sheets`), headers in ``lang``."""
    for name, df in _sheets(data, lang).items():
        fileio.write_csv(path(f"{name}.csv"), df)


def _write_xlsx(data: ExportData, path: _PathFor, lang: str) -> None:
    """``vncoverage.xlsx`` (:func:`xlsx_bytes`)."""
    fileio.write_bytes(path("vncoverage.xlsx"), xlsx_bytes(data, lang=lang))


def _write_kml(data: ExportData, path: _PathFor, lang: str) -> None:
    """``vncoverage.kml`` (:func:`kml_document`)."""
    fileio.write_text(path("vncoverage.kml"), kml_document(data, lang=lang))


def _write_cog(data: ExportData, path: _PathFor, lang: str) -> None:
    """``rsrp_4g.tif`` and, with the best-server raster, ``server_4g.tif`` and (with the
    cells' server indexes) ``server_4g_cells.csv``.

    Raises
    ------
    ValueError
        Without the 4G coverage raster.
    """
    if data.rsrp_4g is None:
        raise ValueError("no 4G coverage raster to export (coverage_4g.tif is missing): "
                         "the run did not compute mobile coverage (a fibre-only run, [run] "
                         "analyses) or 4G; rerun `vncoverage run` with the mobile analysis "
                         "and 4G among [radio] technologies")
    fileio.write_cog(path("rsrp_4g.tif"), [data.rsrp_4g.with_values(
        data.rsrp_4g.values.astype(np.float32), nodata=float("nan"),
        description="best-server RSRP per resource element (dBm), 4G, any operator")],
        tags={"SOFTWARE": "vncoverage", "UNIT": "dBm"})
    if data.server_4g is None:
        return
    fileio.write_cog(path("server_4g.tif"), [data.server_4g.with_values(
        data.server_4g.values.astype(np.int32), nodata=-1,
        description="best-server index (server_index in server_4g_cells.csv), 4G, "
                    "any operator; -1 none")],
        tags={"SOFTWARE": "vncoverage"}, resampling="nearest")
    if data.cells is not None and "server_index" in data.cells.columns:
        fileio.write_csv(path("server_4g_cells.csv"), _server_cells(data.cells), index=False)


def _server_cells(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """The look-up table of ``server_4g.tif``: server index -> cell id, site, operator and
    technology, for the cells with a server index, by index."""
    c = cells[cells["server_index"].fillna(-1) >= 0]
    return pd.DataFrame({
        "server_index": c["server_index"].astype(int).to_numpy(),
        "cell_id": c.index.astype(str),
        **{k: c[k].to_numpy() for k in ("site_id", "operator", "technology")
           if k in c.columns}}).sort_values("server_index")


#: The writer of each export format: ``writer(data, path, lang)``.
_WRITERS: dict[str, Callable[[ExportData, _PathFor, str], None]] = {
    "gpkg": _write_gpkg,
    "geojson": _write_geojson,
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "kml": _write_kml,
    "cog": _write_cog,
}
