"""Interactive gap map (folium / Leaflet). folium is imported lazily.

Data goes back to EPSG:4326 only here, at the map edge. The map embeds all of its data
(no request is needed for it) and works without a tile server: base tiles are optional
(``tiles=None`` by default). The JavaScript and CSS libraries are loaded from the CDNs listed
in :data:`CDN_PACKAGES`, each the file of a pinned npm package, so that they can be served
from a local copy (see :func:`asset_path`).

Every string that comes from an input file (names, ids, operators, owners) is HTML-escaped in
Python before it reaches the page; the page inserts only those pre-escaped strings and its own
labels (:mod:`vncoverage.i18n`) as HTML.

Layers: villages coloured by 4G/5G verdict, by share of population covered and by FTTH status;
the remote gaps (:mod:`vncoverage.remote`); towers per operator coloured by technology; OLTs
and splitters; fibre-ready roads and the villages fibre does not reach; the best-server RSRP
raster; district and 2025-commune boundaries. A layer control, a legend whose sections follow
the visible layers, a scale bar and a search by village name.

With the per-splitter table of the run (:attr:`vncoverage.fibre.FtthResult.splitters`,
passed by :func:`results_map`), each splitter is coloured usable or not and its tooltip
says, in the map's language, its OLT and route to it, its snap distance to the road, its
ports used, its free ports before and after the household assignment, whether it is usable
and why not, and its position. A village's popup says why it has no FTTH
(``ftth_reason``, :func:`vncoverage.i18n.ftth_reason_label`).
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.warp
import shapely
from affine import Affine
from markupsafe import Markup
from matplotlib.colors import to_rgba
from matplotlib.image import imsave
from pyproj import CRS, Transformer

from ..datatypes import Raster
from ..explain import explanation_href
from ..i18n import (
    DEFAULT_LANG,
    Message,
    check_lang,
    ftth_reason_label,
    localise,
    number,
    tr,
    verdict_label,
)
from ..results import Results
from ..villages import COVERED, LOM_SONG, TRANG_SONG, UNKNOWN
from .report import kpi_uncertainty_text

__all__ = [
    "CDN_PACKAGES",
    "OPERATOR_COLOURS",
    "POPSHARE_CLASSES",
    "RSRP_CLASSES",
    "TECH_COLOURS",
    "VERDICT_COLOURS",
    "asset_path",
    "gap_map",
    "inline_assets",
    "map_asset_urls",
    "missing_assets",
    "results_map",
    "rsrp_png",
]

VERDICT_COLOURS = {
    COVERED: "#1a9850",
    LOM_SONG: "#fdae61",
    TRANG_SONG: "#d73027",
    UNKNOWN: "#969696",
}
OPERATOR_COLOURS = {"Viettel": "#e31a1c", "VNPT": "#1f78b4", "MobiFone": "#33a02c"}
#: Tower colour by the highest technology an operator has on it.
TECH_COLOURS = {"5G": "#6a3d9a", "4G": "#1f78b4", "3G": "#a6a6a6", "2G": "#a6a6a6"}
#: (lower bound of the share of population covered, colour), ascending.
POPSHARE_CLASSES = ((0.0, "#d73027"), (0.25, "#fc8d59"), (0.5, "#fee08b"), (0.75, "#d9ef8b"),
                    (0.9, "#1a9850"))
#: (lower bound in dBm, colour) of the RSRP overlay, ascending; below the first bound the
#: first colour is used, unreached pixels are transparent.
RSRP_CLASSES = ((-np.inf, "#d7191c"), (-110.0, "#fdae61"), (-100.0, "#ffffbf"),
                (-90.0, "#a6d96a"), (-80.0, "#1a9641"))
FTTH_COLOURS = ("#d7191c", "#2c7bb6")  # not covered, covered
SPLITTER_COLOURS = ("#b15928", "#7f7f7f")  # usable, not usable
REMOTE_COLOUR = "#111111"

#: Every CDN URL the map may load, as ``url or url prefix -> (npm package, version, path in
#: the package)``. A prefix (ending with "/") maps the rest of the URL onto the package
#: folder (Leaflet's CSS loads its images relative to itself). folium's icon-marker kit
#: (Leaflet.awesome-markers, Font Awesome, the Bootstrap 3 glyphicons and folium's own
#: rotation CSS) is not used by this map and is removed from it; awesome-markers 2.0.2 and
#: the glyphicons stylesheet are not published on npm.
CDN_PACKAGES: dict[str, tuple[str, str, str]] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/": ("leaflet", "1.9.3", ""),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "3.7.1", "dist/jquery.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/": ("bootstrap", "5.2.2", ""),
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/": ("leaflet-search", "2.9.7", ""),
}
_UNUSED_ASSETS = {"awesome_markers", "awesome_markers_css", "awesome_markers_font_css",
                  "awesome_rotate_css", "glyphicons_css"}
_SEARCH_JS = "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js"
_SEARCH_CSS = "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css"


def asset_path(url: str, node_modules: str | Path) -> Path | None:
    """The local file that serves ``url`` from an npm install of :data:`CDN_PACKAGES`
    (``npm install --prefix DIR`` puts them in ``DIR/node_modules``), or ``None`` when the
    URL is not one of them. The file may not exist (the install may be missing)."""
    base = Path(node_modules)
    for key, (package, _version, inner) in CDN_PACKAGES.items():
        if key.endswith("/") and url.startswith(key):
            rest = url[len(key):].split("?", 1)[0].split("#", 1)[0]
            if ".." in Path(rest).parts:
                return None
            return base / package / rest
        if url == key:
            return base / package / inner
    return None


def _rounded(gdf: gpd.GeoDataFrame, grid_deg: float = 1e-5) -> gpd.GeoDataFrame:
    """Coordinates rounded to ``grid_deg`` degrees (about 1 m) to keep the HTML small."""
    out = gdf.copy()
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), grid_deg)
    return out


def _e(value: object) -> str:
    """Escape a value from an input file for HTML."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value))


def _float(value: object) -> float | None:
    """``value`` as a float, or None when it is not a number."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _km(metres: object, lang: str) -> str:
    m = _float(metres)
    return "–" if m is None else f"{number(m / 1000.0, lang, 1)} km"


def _pct(share: object, lang: str) -> str:
    s = _float(share)
    return "–" if s is None else f"{number(100.0 * s, lang, 0)} %"


def _operators(villages: pd.DataFrame) -> list[str]:
    keys = [c.removeprefix("pop_share_mbb_") for c in villages.columns
            if c.startswith("pop_share_mbb_") and c != "pop_share_mbb_any"]
    return keys


def _has(row: Mapping[Hashable, Any], key: str) -> bool:
    """Whether ``row`` holds a value (not missing) under ``key``."""
    v = row.get(key)
    if v is None:
        return False
    try:
        return not pd.isna(v)
    except (TypeError, ValueError):
        return True


def _popup_html(vid: object, row: Mapping[Hashable, Any], operators: list[str], lang: str,
                gpon_reach_m: float | None = None, ftth_method: str | None = None) -> str:
    """The popup of one village: pre-escaped HTML.

    Parameters
    ----------
    vid
        The village id.
    row
        The village's values by column (a record of the village table).
    operators
        The operator keys of the ``pop_share_mbb_*`` columns.
    lang
        ``"vi"`` or ``"en"``.
    gpon_reach_m
        The GPON reach (m), for the ``OLT out of reach`` reason; ``None``: not said.
    ftth_method
        How the FTTH distances were measured (:attr:`vncoverage.fibre.FtthResult.method`,
        rendered in ``lang``); ``None``: not said.
    """
    lines = [f"<b>{_e(row.get('name'))}</b> <span class='vnc-id'>({_e(vid)})</span>"]
    place = ", ".join(_e(row.get(k)) for k in ("commune", "district") if _has(row, k))
    if place:
        lines.append(place)
    if _has(row, "commune_2025"):
        lines.append(f"{tr('pop_commune_2025', lang)}: {_e(row['commune_2025'])}")
    if row.get("geom_method") == "voronoi":  # no polygon given: the area is an estimate
        lines.append(f"<i>{tr('pop_geom_voronoi', lang)}</i>")
    pop = f"{tr('pop_population', lang)}: <b>{number(row.get('population'), lang)}</b>"
    if _has(row, "households"):
        pop += f" ({number(row['households'], lang)} {tr('pop_households', lang)})"
    lines.append(pop)
    if "verdict_mbb_any" in row:  # not in a run without the mobile analysis
        lines.append(_verdict_popup_line(row, lang))
        if str(row.get("verdict_mbb_any")) != COVERED:
            lines.append(_why_popup_line(vid, lang))
    if operators:
        per_op = ", ".join(
            f"{_e(_OP_DISPLAY.get(op, op))} {_pct(row.get(f'pop_share_mbb_{op}'), lang)}"
            for op in operators)
        lines.append(f"{tr('pop_per_operator', lang)}: {per_op}")
    if _has(row, "best_dbm_centre_4g"):
        lines.append(f"{tr('pop_rsrp_centre', lang)}: "
                     f"{number(row['best_dbm_centre_4g'], lang, 1)} dBm")
    if _has(row, "nearest_site_id") and str(row["nearest_site_id"]):
        lines.append(f"{tr('pop_nearest', lang)}: {_e(row['nearest_site_id'])} "
                     f"({_e(row.get('nearest_site_operators'))}), "
                     f"{_km(row.get('nearest_site_m'), lang)}")
    lines += _ftth_popup_lines(row, lang, gpon_reach_m, ftth_method)
    if row.get("remote_gap"):
        lines.append(_remote_popup_line(row, lang))
    return "<div class='vnc-popup'>" + "<br>".join(lines) + "</div>"


def _verdict_popup_line(row: Mapping[Hashable, Any], lang: str) -> str:
    """The mobile-broadband line of a village's popup: verdict and population covered."""
    verdict = str(row.get("verdict_mbb_any", UNKNOWN))
    colour = VERDICT_COLOURS.get(verdict, VERDICT_COLOURS[UNKNOWN])
    line = (f"{tr('pop_mbb', lang)}: <b style='color:{colour}'>"
            f"{html.escape(verdict_label(verdict, lang))}</b>, "
            f"{_pct(row.get('pop_share_mbb_any'), lang)} {tr('pop_covered_share', lang)}")
    if _has(row, "p_covered_mbb_any"):  # the Monte Carlo's (vncoverage.uncertainty)
        line += f"; {tr('pop_p_covered', lang)} {number(row['p_covered_mbb_any'], lang, 2)}"
    return line


def _why_popup_line(vid: object, lang: str) -> str:
    """The line of a village not covered pointing to its explanation (pre-escaped HTML):
    the page ``vncoverage explain`` writes beside the map (a link, which opens once made)
    and the command that makes it."""
    href = html.escape(explanation_href(str(vid)))
    folder = html.escape(tr("pop_why_folder", lang))
    return (f"{tr('pop_why', lang)}: <a href=\"{href}\" target=\"_blank\">"
            f"{tr('pop_why_link', lang)}</a> ({tr('pop_why_cmd', lang)} "
            f"<code>vncoverage explain {_e(vid)} --out {folder}</code>)")


def _ftth_popup_lines(row: Mapping[Hashable, Any], lang: str,
                      gpon_reach_m: float | None = None,
                      ftth_method: str | None = None) -> list[str]:
    """The FTTH lines of a village's popup (pre-escaped HTML): covered or not, households
    passed, why not (and the splitter concerned), distance to the nearest splitter and the
    extra cable a village not covered needs, and how distances were measured (the
    straight-line flag); none without the FTTH columns."""
    if not _has(row, "ftth_covered"):
        return []
    yes = bool(row["ftth_covered"])
    text = f"{tr('pop_ftth', lang)}: <b>{tr('yes' if yes else 'no', lang)}</b>"
    if _has(row, "ftth_households"):
        text += ", " + tr("pop_ftth_passed", lang,
                          passed=number(row.get("ftth_households_passed"), lang),
                          total=number(row["ftth_households"], lang))
    lines = [text]
    why = row.get("ftth_reason") if not yes else None
    if isinstance(why, str) and why:
        text = (f"{tr('pop_ftth_why', lang)}: "
                f"<b>{html.escape(ftth_reason_label(why, lang, gpon_reach_m=gpon_reach_m))}</b>")
        node = row.get("ftth_reason_splitter")
        if isinstance(node, str) and node:
            text += f" ({html.escape(tr('pop_ftth_why_splitter', lang, id=node))})"
        lines.append(text)
    if _has(row, "ftth_nearest_splitter_m"):
        text = (f"{tr('pop_fibre_distance', lang)}: "
                f"{_km(row['ftth_nearest_splitter_m'], lang)}")
        if not yes and _has(row, "ftth_extra_cable_m"):
            extra = float(row["ftth_extra_cable_m"])
            if extra > 0:
                text += "; " + tr("pop_fibre_extra", lang, km=extra / 1000.0)
        lines.append(text)
    if ftth_method:
        lines.append(html.escape(tr("pop_ftth_method", lang,
                                    method=localise(ftth_method, lang))))
    return lines


def _remote_popup_line(row: Mapping[Hashable, Any], lang: str) -> str:
    """The remote-gap line of a village's popup (pre-escaped HTML): the distances to the
    district town and to the nearest road, those known."""
    parts = []
    if _has(row, "town_distance_m"):
        parts.append(tr("pop_town", lang, km=float(row["town_distance_m"]) / 1000.0))
    if _has(row, "road_distance_m"):
        parts.append(tr("pop_road", lang, km=float(row["road_distance_m"]) / 1000.0))
    return f"<b>{tr('pop_remote', lang)}</b>: {', '.join(parts)}"


_OP_DISPLAY = {"viettel": "Viettel", "vnpt": "VNPT", "mobifone": "MobiFone"}


def _class_index(values: np.ndarray, bounds: list[float]) -> np.ndarray:
    """Index of the class (``bounds`` ascending lower bounds) holding each value."""
    return np.clip(np.searchsorted(np.asarray(bounds[1:]), values, side="right"), 0,
                   len(bounds) - 1)


def _village_features(v: gpd.GeoDataFrame, lang: str, gpon_reach_m: float | None = None,
                      ftth_method: str | None = None) -> _RawJson:
    """The villages' GeoJSON for the page: id, name, colour classes and popup of each
    (``gpon_reach_m``, ``ftth_method``: see :func:`_popup_html`)."""
    operators = _operators(v)
    verdict_codes = {k: i for i, k in enumerate(VERDICT_COLOURS)}
    used = {"name", "commune", "district", "commune_2025", "population", "households",
            "geom_method",
            "verdict_mbb_any", "pop_share_mbb_any", "p_covered_mbb_any",
            "best_dbm_centre_4g", "nearest_site_id",
            "nearest_site_operators", "nearest_site_m", "ftth_covered", "ftth_households",
            "ftth_households_passed", "ftth_nearest_splitter_m", "ftth_extra_cable_m",
            "ftth_reason", "ftth_reason_splitter", "remote_gap", "town_distance_m",
            "road_distance_m",
            *(f"pop_share_mbb_{op}" for op in operators)}
    # only the columns the popups read (the table has ~150)
    records = pd.DataFrame(v[[c for c in v.columns if c in used]]).to_dict("index")
    share = v["pop_share_mbb_any"].to_numpy(float) if "pop_share_mbb_any" in v else \
        np.zeros(len(v))
    pcls = _class_index(np.nan_to_num(share), [b for b, _ in POPSHARE_CLASSES])
    props = pd.DataFrame({
        "i": [html.escape(str(i)) for i in v.index],
        "n": [html.escape(str(n)) for n in v["name"]],
        "v": [verdict_codes.get(str(x), verdict_codes[UNKNOWN])
              for x in v.get("verdict_mbb_any", pd.Series(UNKNOWN, index=v.index))],
        "p": pcls.astype(int),
        "f": ([int(bool(x)) for x in v["ftth_covered"].fillna(False)]
              if "ftth_covered" in v else [-1] * len(v)),
        "r": ([int(bool(x)) for x in v["remote_gap"]] if "remote_gap" in v
              else [0] * len(v)),
        "h": [_popup_html(vid, records[vid], operators, lang, gpon_reach_m, ftth_method)
              for vid in v.index],
    })
    gdf = _rounded(gpd.GeoDataFrame(props, geometry=v.geometry.to_numpy(), crs=v.crs))
    return _feature_collection(gdf)


class _RawJson(str):
    """JSON text that :func:`_script_json` puts in the page as it is."""


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _feature_collection(gdf: gpd.GeoDataFrame) -> _RawJson:
    """GeoJSON FeatureCollection text of a GeoDataFrame in EPSG:4326 (what ``to_json``
    gives), with shapely's vectorised GeoJSON writer: the geometries are written once, as
    text, never decoded and encoded again."""
    gdf = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).to_dict("records")
    geoms = shapely.to_geojson(gdf.geometry.to_numpy())
    features = ",".join(
        '{"type":"Feature","properties":' + _ENCODE(p) + ',"geometry":'
        + (g if g is not None else "null") + "}"
        for p, g in zip(props, geoms, strict=True))
    return _RawJson('{"type":"FeatureCollection","features":[' + features + "]}")


def _point_rows(points: gpd.GeoSeries, colour_idx: list[int], labels: list[str]
                ) -> list[list[Any]]:
    """Compact ``[lat, lon, colour index, tooltip html]`` rows (5 decimals, about 1 m)."""
    pts = points.to_crs(4326)
    return [[round(float(p.y), 5), round(float(p.x), 5), int(c), lab]
            for p, c, lab in zip(pts, colour_idx, labels, strict=True)]


def rsrp_png(overlay: Raster, *, max_px: int = 800) -> tuple[bytes, list[list[float]]]:
    """The RSRP band (dBm; NaN or -inf where no cell reaches) reprojected to Web Mercator
    (EPSG:3857), at most ``max_px`` pixels on a side (averaged), classified with
    :data:`RSRP_CLASSES` into an RGBA PNG.

    Returns
    -------
    (png bytes, [[south, west], [north, east]] in degrees) for a Leaflet image overlay.
    """
    src = np.where(np.isfinite(overlay.values), overlay.values, np.nan).astype(np.float32)
    h, w = src.shape
    left, top = overlay.transform.c, overlay.transform.f
    right = left + overlay.transform.a * w
    bottom = top + overlay.transform.e * h
    dst_crs = CRS.from_epsg(3857)
    west, south, east, north = rasterio.warp.transform_bounds(
        overlay.crs, dst_crs, left, bottom, right, top)
    # about the source pixel size (Web Mercator stretches it by 1/cos(lat)), at most max_px
    lat = np.radians(np.mean(rasterio.warp.transform_bounds(dst_crs, 4326, west, south, east,
                                                            north)[1::2]))
    pixel = max(abs(overlay.transform.a) / np.cos(lat), (east - west) / max_px,
                (north - south) / max_px)
    width = max(1, round((east - west) / pixel))
    height = max(1, round((north - south) / pixel))
    transform = Affine((east - west) / width, 0.0, west, 0.0, -(north - south) / height, north)
    dst = np.full((height, width), np.nan, dtype=np.float32)
    rasterio.warp.reproject(src, dst, src_transform=overlay.transform, src_crs=overlay.crs,
                            dst_transform=transform, dst_crs=dst_crs, src_nodata=np.nan,
                            dst_nodata=np.nan,
                            resampling=rasterio.warp.Resampling.average)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    ok = np.isfinite(dst)
    cls = _class_index(np.where(ok, dst, -np.inf), [b for b, _ in RSRP_CLASSES])
    palette = np.array([[round(255 * c) for c in to_rgba(col)] for _, col in RSRP_CLASSES],
                       dtype=np.uint8)
    rgba[ok] = palette[cls[ok]]
    rgba[~ok, 3] = 0
    buf = io.BytesIO()
    imsave(buf, rgba, format="png")
    x0, y0 = transform.c, transform.f
    x1, y1 = x0 + transform.a * width, y0 + transform.e * height
    to_ll = Transformer.from_crs(dst_crs, 4326, always_xy=True)
    west, north = to_ll.transform(x0, y0)
    east, south = to_ll.transform(x1, y1)
    return buf.getvalue(), [[float(south), float(west)], [float(north), float(east)]]


def _script_json(obj: object) -> Any:
    """JSON safe inside a ``<script>`` element (``<``, ``>``, ``&``, ``'`` and the JavaScript
    line separators escaped), keeping other characters as UTF-8 (Vietnamese text stays
    compact). :class:`_RawJson` values go in as they are; NaN and infinities are refused
    (``JSON.parse`` would fail on them)."""
    raw: list[str] = []

    def swap(o: Any) -> Any:
        if isinstance(o, _RawJson):
            raw.append(str(o))
            return f"\x00{len(raw) - 1}\x00"
        if isinstance(o, dict):
            return {k: swap(x) for k, x in o.items()}
        if isinstance(o, list | tuple):
            return [swap(x) for x in o]
        return o

    text = _ENCODE(swap(obj))
    for k, piece in enumerate(raw):
        text = text.replace(f'"\\u0000{k}\\u0000"', piece, 1)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)


@functools.lru_cache(maxsize=1)
def _js_template() -> Any:
    from folium.template import Template

    return Template(_JS)


@functools.lru_cache(maxsize=1)
def _raw_html_class() -> type:
    from branca.element import Element

    class RawHtml(Element):
        """Text put in the page as it is (branca's ``Element(text)`` compiles its text as a
        Jinja template, which takes seconds for megabytes of data)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self._name = "RawHtml"
            self.text = text

        def render(self, **kwargs: Any) -> str:
            return self.text

    return RawHtml


def _swatch(colour: str, label: str, *, outline: bool = False, round_: bool = False) -> str:
    style = (f"border:3px solid {colour};background:transparent" if outline
             else f"background:{colour}")
    if round_:
        style += ";border-radius:50%"
    return (f"<div class='vnc-row'><span class='vnc-sw' style='{style}'></span>{label}"
            "</div>")


def missing_assets(node_modules: str | Path) -> list[str]:
    """The packages of :data:`CDN_PACKAGES` not installed (at their pinned version) in
    ``node_modules``; empty when :func:`inline_assets` can embed them all."""
    missing = []
    for package, version, _ in CDN_PACKAGES.values():
        try:
            manifest = json.loads((Path(node_modules) / package / "package.json")
                                  .read_text(encoding="utf-8"))
            found = manifest.get("version")
        except (OSError, ValueError):
            found = None
        if found != version:
            missing.append(f"{package}@{version}")
    return missing


def inline_assets(html_text: str, node_modules: str | Path) -> str:
    """The map page with every library of :data:`CDN_PACKAGES` embedded from a local npm
    install (``make assets``), so that it opens with no network at all (a commune office
    offline). Images the stylesheets refer to become data URLs.

    Raises
    ------
    FileNotFoundError
        When a file the page needs is not in ``node_modules`` (naming it and the fix).
    """
    def local(url: str) -> Path:
        path = asset_path(url, node_modules)
        if path is None or not path.is_file():
            raise FileNotFoundError(
                f"{url} is not in {node_modules}: run `make assets` (npm copies of the map's "
                "libraries) or pass the node_modules folder that holds them")
        return path

    def css_with_images(path: Path) -> str:
        text = path.read_text(encoding="utf-8")

        def data_url(m: re.Match[str]) -> str:
            ref = m.group(2)
            img = (path.parent / ref).resolve()
            if ref.startswith(("data:", "http")) or not img.is_file():
                return m.group(0)
            mime = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}.get(
                img.suffix.lower(), "application/octet-stream")
            return f"url({m.group(1)}data:{mime};base64," \
                f"{base64.b64encode(img.read_bytes()).decode('ascii')}{m.group(1)})"

        return re.sub(r"""url\((['"]?)([^'")]+)\1\)""", data_url, text)

    def script(m: re.Match[str]) -> str:
        code = local(m.group(1)).read_text(encoding="utf-8").replace("</script", "<\\/script")
        return f"<script>{code}</script>"

    def stylesheet(m: re.Match[str]) -> str:
        css = css_with_images(local(m.group(1))).replace("</style", "<\\/style")
        return f"<style>{css}</style>"

    text = re.sub(r"""<script src=["'](https?://[^"']+)["']>\s*</script>""", script, html_text)
    return re.sub(r"""<link rel=["']stylesheet["'] href=["'](https?://[^"']+)["']\s*/?>""",
                  stylesheet, text)


def map_asset_urls(html_text: str) -> list[str]:
    """The external script and stylesheet URLs a rendered map page loads."""
    return sorted(set(re.findall(r"""(?:src|href)=["'](https?://[^"']+)["']""", html_text)))


_CSS = """
<style>
.leaflet-container { background: #eef0ea; }
.vnc-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 650; background: rgba(255,255,255,0.92); padding: 6px 12px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 14px/1.3 sans-serif; text-align: center;
  pointer-events: none; max-width: 60%; }
.vnc-title b { font-size: 16px; }
.vnc-legend { background: rgba(255,255,255,0.95); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; max-width: 260px;
  max-height: 55vh; overflow-y: auto; }
.vnc-legend h4 { margin: 4px 0 2px; font-size: 12px; font-weight: bold; }
.vnc-legend .vnc-note { color: #555; font-size: 11px; }
.vnc-sw { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
  vertical-align: -2px; box-sizing: border-box; }
.vnc-popup { font: 12px/1.45 sans-serif; }
.vnc-id { color: #666; }
.leaflet-control-layers-overlays label { font: 12px/1.5 sans-serif; margin: 0; }
.leaflet-control-layers { max-height: 70vh; overflow-y: auto; }
.leaflet-control-search .search-input { width: 180px; }
</style>
"""

_JS = r"""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var P = JSON.parse(document.getElementById({{ this.payload_id|tojson }}).textContent);
  var G = {
  {%- for key, fg in this.groups.items() %}
    {{ key|tojson }}: {{ fg.get_name() }}{{ "," if not loop.last }}
  {%- endfor %}
  };
  var api = window.vncoverage = {map: map, groups: G, layers: {}};
  function lazy(key, build) {
    var g = G[key];
    if (!g) { return; }
    if (map.hasLayer(g)) { build(g); } else { g.once('add', function () { build(g); }); }
  }
  function villages(style, filter) {
    return L.geoJson(P.villages, {
      style: style, filter: filter,
      onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties.n + ' (' + f.properties.i + ')', {sticky: true});
        layer.bindPopup(f.properties.h, {maxWidth: 360});
      }
    });
  }
  // boundaries and fibre roads first: they lie under the villages
  Object.keys(P.lines).forEach(function (key) {
    var spec = P.lines[key];
    lazy(key, function (g) {
      api.layers[key] = L.geoJson(spec.data, {
        style: function () { return spec.style; },
        onEachFeature: spec.tip ? function (f, layer) {
          layer.bindTooltip(f.properties.label, {sticky: true});
        } : null
      }).addTo(g);
    });
  });
  var VC = P.verdict_colours, PC = P.popshare_colours, FC = P.ftth_colours;
  lazy('verdict', function (g) {
    api.layers.verdict = villages(function (f) {
      return {fillColor: VC[f.properties.v], color: '#555555', weight: 0.5, fillOpacity: 0.65};
    }).addTo(g);
  });
  lazy('popshare', function (g) {
    api.layers.popshare = villages(function (f) {
      return {fillColor: PC[f.properties.p], color: '#555555', weight: 0.5, fillOpacity: 0.7};
    }).addTo(g);
  });
  lazy('ftth', function (g) {
    api.layers.ftth = villages(function (f) {
      return {fillColor: f.properties.f < 0 ? '#969696' : FC[f.properties.f],
              color: '#555555', weight: 0.5, fillOpacity: 0.6};
    }).addTo(g);
  });
  lazy('remote', function (g) {
    api.layers.remote = villages(function () {
      return {fill: false, color: P.remote_colour, weight: 3, opacity: 0.9};
    }, function (f) { return f.properties.r === 1; }).addTo(g);
  });
  Object.keys(P.points).forEach(function (key) {
    var spec = P.points[key];
    lazy(key, function (g) {
      spec.rows.forEach(function (r) {
        var tip = spec.tip ? spec.tip.replace(/\{(\d+)\}/g, function (_, k) {
          var lut = spec.lookup && spec.lookup[k];
          return lut ? lut[r[Number(k)]] : r[Number(k)];
        }) : r[3];
        L.circleMarker([r[0], r[1]], {radius: spec.radius, color: '#222222', weight: 0.6,
          fillColor: spec.colours[r[2]], fillOpacity: 0.9})
          .bindTooltip(tip).addTo(g);
      });
    });
  });

  var title = L.DomUtil.create('div', 'vnc-title', map.getContainer());
  title.innerHTML = P.title_html;

  var legend = L.control({position: 'bottomright'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'vnc-legend');
    div.id = 'vnc-legend';
    P.legend.forEach(function (s) {
      var sec = L.DomUtil.create('div', 'vnc-legend-section', div);
      sec.setAttribute('data-layers', s.layers.join(' '));
      sec.innerHTML = s.html;
    });
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  api.legend = legend;
  function showLegend() {
    var secs = legend.getContainer().querySelectorAll('.vnc-legend-section');
    secs.forEach(function (sec) {
      var on = sec.getAttribute('data-layers').split(' ').some(function (key) {
        var layer = G[key] || api.overlays[key];
        return layer && map.hasLayer(layer);
      });
      sec.style.display = on ? '' : 'none';
    });
  }
  api.overlays = {
  {%- for key, layer in this.others.items() %}
    {{ key|tojson }}: {{ layer.get_name() }}{{ "," if not loop.last }}
  {%- endfor %}
  };
  map.on('overlayadd overlayremove', showLegend);
  showLegend();

  if (L.Control.Search && (G.verdict || G.ftth)) {
    var target = G.verdict ? api.layers.verdict : api.layers.ftth;
    var search = new L.Control.Search({
      layer: target, propertyName: 'n', initial: false, marker: false, collapsed: false,
      textPlaceholder: P.search_placeholder, textErr: P.search_not_found,
      moveToLocation: function (latlng, title, m) {
        m.fitBounds(latlng.layer.getBounds(), {maxZoom: 14});
      }
    });
    search.on('search:locationfound', function (e) { e.layer.openPopup(); });
    map.addControl(search);
    api.search = search;
  }
})();
{% endmacro %}
"""


def gap_map(
    villages: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame | None,
    ftth_nodes: gpd.GeoDataFrame | None = None,
    *,
    towers: gpd.GeoDataFrame | None,
    remote_town_m: float,
    remote_road_m: float,
    title: str = "vncoverage",
    lang: str = DEFAULT_LANG,
    tiles: str | None = None,
    simplify_m: float = 20.0,
    fibre_roads: gpd.GeoDataFrame | None = None,
    ftth_unreached: gpd.GeoDataFrame | None = None,
    ftth_splitters: pd.DataFrame | None = None,
    gpon_reach_m: float | None = None,
    ftth_method: str | None = None,
    rsrp: Raster | None = None,
    rsrp_threshold_dbm: float = -110.0,
    rsrp_margin_db: float = 0.0,
    districts: gpd.GeoDataFrame | None = None,
    communes_2025: gpd.GeoDataFrame | None = None,
    max_overlay_px: int = 800,
    analyses: Sequence[str] = ("mobile", "fibre"),
    kpi_line: str | None = None,
) -> Any:
    """A folium map of the coverage gaps for planners.

    Parameters
    ----------
    villages
        Per-village results (working CRS), indexed by ``village_id``, with ``name``,
        ``population``, ``verdict_mbb_any``, ``pop_share_mbb_*`` and, when available, the
        nearest-tower, FTTH and remote-gap columns (:func:`vncoverage.remote.remote_gaps`).
    cells
        Cell inventory (points) with ``site_id``, ``operator``, ``technology``,
        ``tower_owner``.
    ftth_nodes
        OLTs and splitters, or ``None``.
    towers
        The tower inventory of ``cells`` (:func:`vncoverage.towers.towers_from_cells`).
    remote_town_m, remote_road_m
        The remote-gap thresholds (``[coverage]`` of the configuration), for the legend.
    title
        Shown at the top of the map and as the page title.
    lang
        ``"vi"`` (default) or ``"en"``: labels, legend and popups.
    tiles
        A folium tile specification (e.g. ``"OpenStreetMap"``) or ``None`` (default): no
        base map, no request to a tile server; the map is usable offline.
    simplify_m
        Tolerance, in metres, for simplifying polygons and lines (keeps the page small).
    fibre_roads, ftth_unreached
        FTTH results (:func:`vncoverage.fibre.ftth_reach`), or ``None``.
    ftth_splitters
        The per-splitter table (:attr:`vncoverage.fibre.FtthResult.splitters`), or
        ``None``: then the splitters' tooltips give only their ports used.
    gpon_reach_m
        The GPON reach (m) of the run, said in the ``OLT out of reach`` reason; ``None``:
        not said.
    ftth_method
        How the FTTH distances were measured (:attr:`vncoverage.fibre.FtthResult.method`,
        a :class:`~vncoverage.i18n.Message` shown in ``lang``), in each village's popup;
        ``None``: not said.
    rsrp
        Best-server RSRP band (dBm) for a semi-transparent overlay (off by default), or
        ``None``.
    rsrp_threshold_dbm, rsrp_margin_db
        Edge threshold and location-variability margin, for the overlay's legend.
    districts, communes_2025
        Boundaries (``name`` column), or ``None``.
    max_overlay_px
        The RSRP overlay is averaged down to at most this many pixels on a side.
    analyses
        The analyses of the run (:attr:`vncoverage.results.Results.analyses`). Without
        ``"mobile"`` (``cells`` and ``towers`` None) the map has no coverage layers (no
        verdicts, population shares, towers, RSRP or remote gaps): the FTTH layer is shown
        and the title says that mobile coverage was not computed; without ``"fibre"`` the
        title says that FTTH was not computed.
    kpi_line
        A line under the title (plain text), e.g. the mobile KPI with its 90 % interval
        (:func:`vncoverage.outputs.report.kpi_uncertainty_text`), or None.

    Returns
    -------
    folium.Map
    """
    import folium

    check_lang(lang)
    v = villages.copy()
    v["geometry"] = v.geometry.simplify(simplify_m)
    v = v.to_crs(4326)
    layers = _MapLayers(_new_map(v, title, tiles))
    # rasters and boundaries first: they lie under the villages
    if rsrp is not None and np.isfinite(rsrp.values).any():
        _add_rsrp_overlay(layers, rsrp, lang=lang, threshold_dbm=rsrp_threshold_dbm,
                          margin_db=rsrp_margin_db, max_px=max_overlay_px)
    _add_boundaries(layers, districts, communes_2025, lang=lang, simplify_m=simplify_m)
    mobile = "mobile" in analyses and cells is not None and towers is not None
    _add_village_layers(layers, v, lang=lang, remote_town_m=remote_town_m,
                        remote_road_m=remote_road_m, mobile=mobile)
    if mobile:
        assert cells is not None and towers is not None
        _add_towers(layers, cells, towers, lang=lang)
    if ftth_nodes is not None and len(ftth_nodes):
        _add_ftth_nodes(layers, ftth_nodes, lang=lang, splitters=ftth_splitters,
                        gpon_reach_m=gpon_reach_m)
    if fibre_roads is not None and len(fibre_roads):
        _add_fibre_roads(layers, fibre_roads, lang=lang, simplify_m=simplify_m)
    if ftth_unreached is not None and len(ftth_unreached):
        _add_unreached(layers, ftth_unreached, lang=lang, gpon_reach_m=gpon_reach_m)
    _add_layers_script(layers, _payload(layers, v, lang=lang, title=title,
                                        gpon_reach_m=gpon_reach_m, ftth_method=ftth_method,
                                        analyses=analyses if mobile else ("fibre",),
                                        kpi_line=kpi_line))
    folium.LayerControl(collapsed=False, position="topright").add_to(layers.m)
    minx, miny, maxx, maxy = v.total_bounds
    layers.m.fit_bounds([[miny, minx], [maxy, maxx]])
    return layers.m


@dataclass
class _MapLayers:
    """A map being built and what the layers' script (:data:`_JS`) reads, each in the order
    added: the feature groups of the layer control by key, the other overlays by key, the
    legend sections, and the data of the point and line layers by key (the key of their
    feature group)."""

    m: Any
    groups: dict[str, Any] = field(default_factory=dict)
    others: dict[str, Any] = field(default_factory=dict)
    legend: list[dict[str, Any]] = field(default_factory=list)
    points: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)

    def group(self, key: str, name: str, show: bool) -> None:
        """Add a feature group (a layer of the layer control, named ``name``, shown at
        first when ``show``) to the map, under ``key``."""
        import folium

        fg = folium.FeatureGroup(name=name, show=show)
        fg.add_to(self.m)
        self.groups[key] = fg


def _new_map(v: gpd.GeoDataFrame, title: str, tiles: str | None) -> Any:
    """An empty folium map centred on the villages ``v`` (EPSG:4326), with the page's title
    and stylesheet and without folium's icon-marker kit (:data:`_UNUSED_ASSETS`)."""
    import folium

    minx, miny, maxx, maxy = v.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=9,
                   tiles=tiles, control_scale=True)
    m.default_js = [(k, u) for k, u in m.default_js if k not in _UNUSED_ASSETS]
    m.default_css = [(k, u) for k, u in m.default_css if k not in _UNUSED_ASSETS]
    root: Any = m.get_root()
    root.header.add_child(folium.Element(f"<title>{html.escape(title)}</title>"))
    root.html.add_child(folium.Element(_CSS))  # after the libraries' stylesheets
    return m


def _add_rsrp_overlay(layers: _MapLayers, rsrp: Raster, *, lang: str, threshold_dbm: float,
                      margin_db: float, max_px: int) -> None:
    """The best-server RSRP overlay (hidden at first, in a pane under the villages that
    takes no clicks) and its legend."""
    import folium

    png, bounds = rsrp_png(rsrp, max_px=max_px)
    folium.map.CustomPane("vncRaster", z_index=350, pointer_events=False).add_to(layers.m)
    overlay = folium.raster_layers.ImageOverlay(
        image="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        bounds=bounds, opacity=0.65, name=tr("layer_rsrp", lang), show=False,
        interactive=False, pane="vncRaster")
    overlay.add_to(layers.m)
    layers.others["rsrp"] = overlay
    layers.legend.append({"layers": ["rsrp"],
                          "html": _rsrp_legend(lang, threshold_dbm, margin_db)})


def _rsrp_legend(lang: str, threshold_dbm: float, margin_db: float) -> str:
    """The legend section (HTML) of the RSRP overlay: its classes, strongest first, and the
    edge threshold with the location-variability margin."""
    edge = threshold_dbm + margin_db
    labels = []
    for k, (lo, col) in enumerate(RSRP_CLASSES):
        hi = RSRP_CLASSES[k + 1][0] if k + 1 < len(RSRP_CLASSES) else None
        if not np.isfinite(lo):
            lab = f"&lt; {number(hi, lang)} dBm"
        elif hi is None:
            lab = f"≥ {number(lo, lang)} dBm"
        else:
            lab = f"{number(lo, lang)} … {number(hi, lang)} dBm"
        labels.append(_swatch(col, lab))
    return (f"<h4>{tr('legend_rsrp', lang)}</h4>" + "".join(reversed(labels))
            + "<div class='vnc-note'>" + html.escape(tr(
                "legend_rsrp_note", lang, edge=edge, thr=threshold_dbm,
                margin=margin_db)) + "<br>" + tr("legend_no_signal", lang) + "</div>")


def _add_boundaries(layers: _MapLayers, districts: gpd.GeoDataFrame | None,
                    communes_2025: gpd.GeoDataFrame | None, *, lang: str, simplify_m: float
                    ) -> None:
    """The district (shown at first) and 2025-commune (dashed, hidden) boundary lines, each
    boundary named in its tooltip; nothing for a missing or empty layer."""
    for key, gdf, name_key, show, weight in (
        ("districts", districts, "layer_districts", True, 2.0),
        ("communes", communes_2025, "layer_communes", False, 1.0),
    ):
        if gdf is None or not len(gdf):
            continue
        b = _boundary_lines(gdf, simplify_m)
        layers.group(key, tr(name_key, lang), show)
        layers.lines[key] = {"data": _feature_collection(b), "tip": True,
                             "style": {"color": "#333333", "weight": weight, "opacity": 0.8,
                                       "dashArray": None if weight > 1.5 else "4 3"}}


def _boundary_lines(gdf: gpd.GeoDataFrame, simplify_m: float) -> gpd.GeoDataFrame:
    """The boundaries of the polygons ``gdf`` as lines in EPSG:4326, simplified by twice
    ``simplify_m``, with their escaped ``name`` (or index) as ``label``."""
    b = gdf.copy()
    b["geometry"] = b.geometry.boundary.simplify(simplify_m * 2)
    names = b["name"] if "name" in b.columns else pd.Series(b.index, index=b.index)
    return _rounded(gpd.GeoDataFrame({"label": [html.escape(str(x)) for x in names]},
                                     geometry=b.geometry.to_numpy(), crs=b.crs).to_crs(4326),
                    1e-4)


def _add_village_layers(layers: _MapLayers, v: gpd.GeoDataFrame, *, lang: str,
                        remote_town_m: float, remote_road_m: float,
                        mobile: bool = True) -> None:
    """The village layers and their legends: the 4G/5G verdict (shown), the share of the
    population covered and, with their columns in ``v``, the FTTH status and the remote
    gaps (shown, with the rule in the legend). The villages' data is in the payload.
    Without the mobile analysis, the FTTH status only (shown)."""
    if not mobile:
        if "ftth_covered" in v.columns:
            layers.group("ftth", tr("layer_ftth", lang), True)
            layers.legend.append({"layers": ["ftth"],
                                  "html": f"<h4>{tr('legend_ftth', lang)}</h4>"
                                  + _swatch(FTTH_COLOURS[1], tr("legend_ftth_yes", lang))
                                  + _swatch(FTTH_COLOURS[0], tr("legend_ftth_no", lang))})
        return
    layers.group("verdict", tr("layer_verdict", lang), True)
    n_voronoi = (int((v["geom_method"] == "voronoi").sum()) if "geom_method" in v.columns
                 else 0)
    geom_text = tr("legend_geom_voronoi", lang, n=number(n_voronoi, lang))
    geom_note = f"<div class='vnc-note'>{html.escape(geom_text)}</div>" if n_voronoi else ""
    layers.legend.append({"layers": ["verdict"],
                          "html": f"<h4>{tr('legend_verdict', lang)}</h4>" + "".join(
                              _swatch(c, html.escape(verdict_label(k, lang)))
                              for k, c in VERDICT_COLOURS.items()) + geom_note})
    layers.group("popshare", tr("layer_popshare", lang), False)
    layers.legend.append({"layers": ["popshare"], "html": _popshare_legend(lang)})
    if "ftth_covered" in v.columns:
        layers.group("ftth", tr("layer_ftth", lang), False)
        layers.legend.append({"layers": ["ftth"], "html": f"<h4>{tr('legend_ftth', lang)}</h4>"
                              + _swatch(FTTH_COLOURS[1], tr("legend_ftth_yes", lang))
                              + _swatch(FTTH_COLOURS[0], tr("legend_ftth_no", lang))})
    if "remote_gap" in v.columns:
        layers.group("remote", tr("layer_remote", lang), True)
        rule = tr("legend_remote", lang, town_km=remote_town_m / 1000,
                  road_km=remote_road_m / 1000)
        layers.legend.append({"layers": ["remote"],
                              "html": f"<h4>{tr('layer_remote', lang)}</h4>"
                              + _swatch(REMOTE_COLOUR, html.escape(rule), outline=True)})


def _popshare_legend(lang: str) -> str:
    """The legend section (HTML) of the share of population covered, highest class first."""
    ps = []
    for k, (lo, col) in enumerate(POPSHARE_CLASSES):
        hi = POPSHARE_CLASSES[k + 1][0] if k + 1 < len(POPSHARE_CLASSES) else 1.0
        ps.append(_swatch(col, f"{number(100 * lo, lang)}–{number(100 * hi, lang)} %"))
    return f"<h4>{tr('legend_popshare', lang)}</h4>" + "".join(reversed(ps))


#: Technologies from the highest; a tower's colour index is its highest one's position.
_TECH_ORDER = ("5G", "4G", "3G", "2G")


def _add_towers(layers: _MapLayers, cells: gpd.GeoDataFrame, towers: gpd.GeoDataFrame, *,
                lang: str) -> None:
    """One layer of towers per operator (the known operators first, shown), each tower
    coloured by the highest technology that operator has on it, and their legend."""
    tech_colours = [TECH_COLOURS.get(t, "#a6a6a6") for t in _TECH_ORDER]
    site_geom = gpd.GeoSeries(towers.geometry, crs=cells.crs)
    known = list(OPERATOR_COLOURS)
    ops = sorted(set(map(str, cells["operator"])),
                 key=lambda o: (known.index(o) if o in known else len(known), o))
    keys = []
    for k, op in enumerate(ops):
        key = f"towers_{k}"
        layers.group(key, tr("layer_towers", lang, operator=html.escape(op)), True)
        layers.points[key] = {"radius": 3, "colours": tech_colours,
                              "rows": _operator_tower_rows(cells[cells["operator"] == op],
                                                           towers, site_geom, lang)}
        keys.append(key)
    if keys:
        layers.legend.append({"layers": keys,
                              "html": f"<h4>{tr('legend_towers', lang)}</h4>" + "".join(
                                  _swatch(TECH_COLOURS[t], t, round_=True)
                                  for t in ("5G", "4G", "3G"))})


def _operator_tower_rows(sel: gpd.GeoDataFrame, towers: gpd.GeoDataFrame,
                         site_geom: gpd.GeoSeries, lang: str) -> list[list[Any]]:
    """The point rows (:func:`_point_rows`) of the towers of one operator's cells ``sel``:
    colour index of the highest technology of the operator on the tower, escaped tooltip."""
    rank = sel["technology"].map({t: i for i, t in enumerate(_TECH_ORDER)}).fillna(3)
    best = rank.groupby(sel["site_id"].astype(str)).min().astype(int)
    info = towers.loc[best.index]
    labels = [html.escape(tr("tip_tower", lang, site=sid, operators=o, techs=t, owner=w))
              for sid, o, t, w in zip(info.index, info["operators"], info["technologies"],
                                      info["tower_owner"], strict=True)]
    if "params_source" in sel.columns:  # cells of a site list: say their defaults
        dflt = set(sel.loc[sel["params_source"].astype(str) != "cells", "site_id"].astype(str))
        extra = html.escape("; " + Message("sites.popup_defaults").render(lang))
        labels = [lab + extra if sid in dflt else lab
                  for sid, lab in zip(info.index, labels, strict=True)]
    return _point_rows(site_geom.loc[best.index], list(best), labels)


def _add_ftth_nodes(layers: _MapLayers, ftth_nodes: gpd.GeoDataFrame, *, lang: str,
                    splitters: pd.DataFrame | None = None,
                    gpon_reach_m: float | None = None) -> None:
    """The OLTs and the splitters, two hidden layers (none for a kind without nodes).
    With the per-splitter table ``splitters`` (:attr:`vncoverage.fibre.FtthResult.
    splitters`), the splitters are coloured usable or not, with the facts of the table in
    their tooltip (:func:`_splitter_rows`); ``gpon_reach_m`` goes in the ``OLT out of
    reach`` reason."""
    olt = (ftth_nodes["node_type"] == "olt").to_numpy()
    n_olt, n_spl = ftth_nodes[olt], ftth_nodes[~olt]
    if len(n_olt):
        layers.group("olt", tr("layer_olt", lang), False)
        layers.points["olt"] = {"radius": 5, "colours": ["#6a3d9a"], "rows": _point_rows(
            n_olt.geometry, [0] * len(n_olt),
            [html.escape(tr("tip_olt", lang, id=i, operator=r["operator"]))
             for i, r in n_olt.iterrows()])}
    if not len(n_spl):
        return
    # 10^4 points or more: the tooltip is assembled in the page from a template, {k} being
    # the row's item k
    layers.group("splitters", tr("layer_splitters", lang), False)
    ll = n_spl.geometry.to_crs(4326)
    if splitters is None:
        rows = [[round(float(p.y), 5), round(float(p.x), 5), 0, html.escape(str(i)),
                 int(u), int(n)]
                for p, i, u, n in zip(ll, n_spl.index, n_spl["ports_used"],
                                      n_spl["ports"], strict=True)]
        layers.points["splitters"] = {"radius": 2, "colours": [SPLITTER_COLOURS[0]],
                                      "rows": rows,
                                      "tip": html.escape(tr("tip_splitter", lang, id="{3}",
                                                            used="{4}", ports="{5}"))}
        return
    rows, statuses = _splitter_rows(ll, splitters.reindex(n_spl.index), lang, gpon_reach_m)
    layers.points["splitters"] = {
        "radius": 2, "colours": list(SPLITTER_COLOURS), "rows": rows,
        "tip": html.escape(tr("tip_splitter_full", lang, lat="{0}", lon="{1}", id="{3}",
                              used="{4}", ports="{5}", olt="{6}", route="{7}", snap="{8}",
                              free="{9}", left="{10}", status="{11}")),
        "lookup": {"11": statuses}}
    layers.legend.append({"layers": ["splitters"],
                          "html": f"<h4>{tr('legend_splitters', lang)}</h4>"
                          + _swatch(SPLITTER_COLOURS[0], tr("legend_splitter_usable", lang),
                                    round_=True)
                          + _swatch(SPLITTER_COLOURS[1], tr("legend_splitter_unusable", lang),
                                    round_=True)})


def _splitter_rows(ll: gpd.GeoSeries, table: pd.DataFrame, lang: str,
                   gpon_reach_m: float | None) -> tuple[list[list[Any]], list[str]]:
    """The point rows of the splitters with the facts of their table, and the labels of
    their status (usable, or not usable and why).

    Parameters
    ----------
    ll
        The splitters' points in EPSG:4326, indexed by ``node_id``.
    table
        Their rows of the per-splitter table, same index (all NaN for one not in it).
    lang
        ``"vi"`` or ``"en"``: numbers and labels.
    gpon_reach_m
        The GPON reach (m), for the ``OLT out of reach`` label.

    Returns
    -------
    rows
        ``[lat, lon, colour (0 usable, 1 not), id, ports used, ports, OLT, route (km),
        snap (m), free ports before, free ports after, status]``, texts escaped and numbers
        written as ``lang`` writes them (``–`` when unknown); the status is a position in
        ``statuses``.
    statuses
        Escaped labels: ``usable``, ``–`` (not in the table), then ``not usable: why`` for
        each reason present.
    """
    reasons = table["unusable_reason"] if "unusable_reason" in table else pd.Series(
        np.nan, index=table.index)
    codes = sorted({str(c) for c in reasons if isinstance(c, str) and c})
    statuses = [html.escape(tr("splitter_usable", lang)), "–"] + [
        html.escape(tr("splitter_unusable", lang,
                       reason=ftth_reason_label(c, lang, gpon_reach_m=gpon_reach_m)))
        for c in codes]
    status = [0 if c == "" else 2 + codes.index(c) if isinstance(c, str) else 1
              for c in reasons]
    col = {c: (table[c] if c in table else pd.Series(np.nan, index=table.index))
           for c in ("ports_used", "ports", "olt_id", "olt_route_m", "snap_m", "free",
                     "free_left")}
    rows = [[round(float(p.y), 5), round(float(p.x), 5), int(k > 0), html.escape(str(i)),
             number(u, lang), number(n, lang), _e(olt) or "–",
             number(route / 1000, lang, 1), number(snap, lang, 0), number(free, lang),
             number(left, lang), k]
            for p, i, u, n, olt, route, snap, free, left, k in zip(
                ll, table.index, col["ports_used"], col["ports"], col["olt_id"],
                col["olt_route_m"].astype(float), col["snap_m"], col["free"],
                col["free_left"], status, strict=True)]
    return rows, statuses


def _add_fibre_roads(layers: _MapLayers, fibre_roads: gpd.GeoDataFrame, *, lang: str,
                     simplify_m: float) -> None:
    """The fibre-ready roads, a hidden line layer (simplified by ``simplify_m``)."""
    fr = fibre_roads.copy()
    fr["geometry"] = fr.geometry.simplify(simplify_m)
    fr = _rounded(fr.to_crs(4326)[["geometry"]], 1e-4)
    layers.group("fibre_roads", tr("layer_fibre_roads", lang), False)
    layers.lines["fibre_roads"] = {"data": _feature_collection(fr), "tip": False,
                                   "style": {"color": "#6a3d9a", "weight": 2, "opacity": 0.8}}


def _add_unreached(layers: _MapLayers, ftth_unreached: gpd.GeoDataFrame, *, lang: str,
                   gpon_reach_m: float | None = None) -> None:
    """The villages fibre does not reach, a hidden point layer; the tooltip gives the extra
    cable each needs, when known, and why it is not reached."""
    u = ftth_unreached
    extra = u["ftth_extra_cable_m"].to_numpy(float)
    names = u["name"] if "name" in u.columns else pd.Series(u.index, index=u.index)
    why = u["ftth_reason"] if "ftth_reason" in u.columns else pd.Series("", index=u.index)
    labels = [html.escape((tr("tip_unreached", lang, name=n, id=vid, km=e / 1000)
                           if np.isfinite(e) else tr("tip_unreached_none", lang, name=n,
                                                     id=vid))
                          + (f". {tr('pop_ftth_why', lang)}: "
                             f"{ftth_reason_label(w, lang, gpon_reach_m=gpon_reach_m)}"
                             if isinstance(w, str) and w else ""))
              for vid, n, e, w in zip(u.index, names, extra, why, strict=True)]
    layers.group("unreached", tr("layer_unreached", lang), False)
    layers.points["unreached"] = {"radius": 4, "colours": ["#b2182b"],
                                  "rows": _point_rows(u.geometry, [0] * len(u), labels)}


def _payload(layers: _MapLayers, v: gpd.GeoDataFrame, *, lang: str, title: str,
             gpon_reach_m: float | None = None,
             ftth_method: str | None = None,
             analyses: Sequence[str] = ("mobile", "fibre"),
             kpi_line: str | None = None) -> dict[str, Any]:
    """The data the layers' script reads (the page's JSON script element): the villages
    ``v`` (EPSG:4326), the line and point layers, the colours, the legend, the title and
    the search labels. The title says which analysis was not computed (``analyses``)."""
    n_gaps = int((v.get("verdict_mbb_any", pd.Series(dtype=str)) != COVERED).sum())
    n_remote = int(v["remote_gap"].sum()) if "remote_gap" in v.columns else 0
    subtitle = html.escape(tr("map_subtitle", lang, n=number(len(v), lang),
                              gaps=number(n_gaps, lang), remote=number(n_remote, lang)))
    if "mobile" not in analyses:
        subtitle = (html.escape(f"{number(len(v), lang)} {tr('villages', lang)}") + "<br>"
                    + html.escape(tr("map_mobile_not_run", lang)))
    elif "fibre" not in analyses:
        subtitle += "<br>" + html.escape(tr("map_fibre_not_run", lang))
    if kpi_line:
        subtitle += "<br>" + html.escape(kpi_line)
    return {
        "villages": _village_features(v, lang, gpon_reach_m, ftth_method),
        "lines": layers.lines,
        "points": layers.points,
        "verdict_colours": list(VERDICT_COLOURS.values()),
        "popshare_colours": [c for _, c in POPSHARE_CLASSES],
        "ftth_colours": list(FTTH_COLOURS),
        "remote_colour": REMOTE_COLOUR,
        "legend": layers.legend,
        "title_html": f"<b>{html.escape(title)}</b><br>" + subtitle,
        "search_placeholder": tr("search_placeholder", lang),
        "search_not_found": tr("search_not_found", lang),
    }


def _add_layers_script(layers: _MapLayers, payload: dict[str, Any]) -> None:
    """The page's script that builds the layers, the title, the legend and the village
    search (:data:`_JS`), with the leaflet-search library, and its data ``payload``."""
    from branca.element import MacroElement
    from folium.elements import JSCSSMixin

    class _Layers(JSCSSMixin, MacroElement):
        _template = _js_template()

        def __init__(self) -> None:
            super().__init__()
            self.default_js = [("leaflet_search_js", _SEARCH_JS)]
            self.default_css = [("leaflet_search_css", _SEARCH_CSS)]
            self._name = "VncLayers"
            self.payload_id = f"vnc-data-{self._id}"
            self.groups = layers.groups
            self.others = layers.others

    script = _Layers()
    script.add_to(layers.m)
    # the data (megabytes) goes in as it is: a JSON script element the layers' script
    # parses. Put through a folium element it would be compiled as a Jinja template.
    root: Any = layers.m.get_root()
    root.html.add_child(_raw_html_class()(
        f'<script type="application/json" id="{script.payload_id}">'
        f"{_script_json(payload)}</script>"), name=script.payload_id)


def results_map(results: Results, *, lang: str = DEFAULT_LANG, tiles: str | None = None
                ) -> Any:
    """:func:`gap_map` of a run, with everything ``map.html`` shows: villages (remote gaps
    included), towers, fibre nodes and roads, the 4G RSRP overlay, the boundaries, the
    configured thresholds, and the per-splitter table of the FTTH stage (usable or not and
    why, in the splitters' tooltips)."""
    r = results
    inp, cov, radio = r.inputs, r.cfg.coverage, r.cfg.radio
    return gap_map(r.villages, inp.cells, inp.ftth_nodes, towers=r.towers,
                   remote_town_m=cov.remote_town_m, remote_road_m=cov.remote_road_m,
                   title=r.cfg.study.name, lang=lang, tiles=tiles, fibre_roads=r.fibre_roads,
                   ftth_unreached=r.ftth_unreached,
                   ftth_splitters=r.ftth.splitters if r.ftth is not None else None,
                   gpon_reach_m=r.cfg.ftth.gpon_reach_m,
                   ftth_method=r.ftth.method if r.ftth is not None else None, rsrp=r.rsrp_4g,
                   rsrp_threshold_dbm=radio.rsrp_threshold_dbm["4G"],
                   rsrp_margin_db=radio.location_margin_db, districts=inp.districts,
                   communes_2025=inp.communes_2025, analyses=r.analyses,
                   kpi_line=_kpi_line(r, lang))


def _kpi_line(r: Results, lang: str) -> str | None:
    """The mobile-broadband KPI with its 90 % interval, for the title (None without the
    uncertainty)."""
    if r.uncertainty is None or "mobile_broadband_villages" not in r.kpis.index:
        return None
    row = r.kpis.loc[["mobile_broadband_villages"]].iloc[0]
    text = kpi_uncertainty_text(row, lang)
    if text is None:
        return None
    name = row.get("name_vi") if lang == "vi" else row.get("name_en")
    return f"{name if isinstance(name, str) and name else 'mobile_broadband_villages'}: {text}"
