"""Interactive gap map (folium / Leaflet). folium is imported lazily.

Data goes back to EPSG:4326 only here, at the map edge. Every string from an input file is
HTML-escaped before it reaches a popup or tooltip.
"""

from __future__ import annotations

import html
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["VERDICT_COLOURS", "gap_map"]

VERDICT_COLOURS = {
    "covered": "#1a9850",
    "lõm sóng": "#fdae61",
    "trắng sóng": "#d73027",
    "unknown": "#969696",
}
OPERATOR_COLOURS = {"Viettel": "#e31a1c", "VNPT": "#1f78b4", "MobiFone": "#33a02c"}


def _rounded(gdf: gpd.GeoDataFrame, grid_deg: float = 1e-5) -> gpd.GeoDataFrame:
    """Coordinates rounded to ``grid_deg`` degrees (about 1 m) to keep the HTML small."""
    out = gdf.copy()
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), grid_deg)
    return out


def _points_layer(m: Any, name: str, points: gpd.GeoSeries, *, colours: str | list[str],
                  labels: list[str], radius: float, show: bool) -> None:
    """One GeoJSON layer of circle markers (compact, unlike one marker object per point)
    with escaped tooltips."""
    import folium

    cols = [colours] * len(points) if isinstance(colours, str) else colours
    gdf = _rounded(gpd.GeoDataFrame(
        {"colour": cols, "label": [html.escape(t) for t in labels]},
        geometry=points.to_numpy(), crs=points.crs))
    folium.GeoJson(
        gdf.to_json(drop_id=True), name=name, show=show,
        marker=folium.CircleMarker(radius=radius, fill=True, fill_opacity=0.9, weight=1),
        style_function=lambda f: {"color": f["properties"]["colour"],
                                  "fillColor": f["properties"]["colour"]},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(m)


def _popup_html(row: pd.Series) -> str:
    e = html.escape
    lines = [
        f"<b>{e(str(row['name']))}</b> ({e(str(row.name))})",
        f"{e(str(row['commune']))}, {e(str(row['district']))}",
        f"Population: {int(row['population']):,}",
        f"Mobile broadband: <b>{e(str(row['verdict_mbb_any']))}</b>, "
        f"{100 * float(row['pop_share_mbb_any']):.0f} % of population",
    ]
    op_keys = [c for c in row.index if c.startswith("pop_share_mbb_")]
    for key in [c for c in op_keys if c != "pop_share_mbb_any"]:
        op = key.removeprefix("pop_share_mbb_")
        lines.append(f"&nbsp;&nbsp;{e(op)}: {100 * float(row[key]):.0f} %")
    if "nearest_site_id" in row.index and row["nearest_site_id"]:
        lines.append(f"Nearest 4G/5G tower: {e(str(row['nearest_site_id']))} "
                     f"({e(str(row['nearest_site_operators']))}), "
                     f"{float(row['nearest_site_m']) / 1000:.1f} km")
    if "ftth_covered" in row.index:
        lines.append(f"FTTH: {'yes' if row['ftth_covered'] else 'no'}, "
                     f"{int(row['ftth_households_passed'])}/{int(row['ftth_households'])} "
                     "households passed")
    return "<br>".join(lines)


def gap_map(
    villages: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    ftth_nodes: gpd.GeoDataFrame | None = None,
    *,
    title: str = "vncoverage",
    tiles: str | None = None,
    simplify_m: float = 20.0,
    fibre_roads: gpd.GeoDataFrame | None = None,
    ftth_unreached: gpd.GeoDataFrame | None = None,
) -> Any:
    """A folium map: villages coloured by mobile-broadband verdict (with popups), towers by
    operator, FTTH nodes, fibre-ready roads and the villages fibre does not reach (with the
    cable length needed), and a layer control. ``tiles=None`` gives a map without a tile
    server (usable offline).

    Returns
    -------
    folium.Map
    """
    import folium

    v = villages.copy()
    v["geometry"] = v.geometry.simplify(simplify_m)
    v = v.to_crs(4326)
    minx, miny, maxx, maxy = v.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=9,
                   tiles=tiles, control_scale=True)
    root: Any = m.get_root()
    root.html.add_child(folium.Element(f"<title>{html.escape(title)}</title>"))

    props = _rounded(gpd.GeoDataFrame(
        {
            "colour": [VERDICT_COLOURS.get(str(x), "#969696") for x in v["verdict_mbb_any"]],
            "label": [html.escape(f"{n} ({i})") for i, n in zip(v.index, v["name"], strict=True)],
            "popup": [_popup_html(row) for _, row in v.iterrows()],
        },
        geometry=v.geometry.values, crs=v.crs,
    ))
    fg = folium.FeatureGroup(name="Villages: 4G/5G verdict", show=True)
    folium.GeoJson(
        props.to_json(drop_id=True),
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#444444",
                                  "weight": 0.5, "fillOpacity": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=320),
    ).add_to(fg)
    fg.add_to(m)

    towers = cells.to_crs(4326).groupby("site_id").agg(
        geometry=("geometry", "first"),
        operators=("operator", lambda x: ", ".join(sorted(set(x)))),
        technologies=("technology", lambda x: ", ".join(sorted(set(x)))),
        owner=("tower_owner", "first"), first_op=("operator", "first"),
    )
    _points_layer(
        m, "Towers", gpd.GeoSeries(towers["geometry"], crs=4326),
        colours=[OPERATOR_COLOURS.get(o, "#000000") for o in towers["first_op"]],
        labels=[f"{sid}: {t['operators']} ({t['technologies']}), owner {t['owner']}"
                for sid, t in towers.iterrows()],
        radius=3, show=True)

    if ftth_nodes is not None and len(ftth_nodes):
        nodes = ftth_nodes.to_crs(4326)
        olt = nodes["node_type"] == "olt"
        _points_layer(m, "FTTH: OLTs", nodes.geometry[olt], colours="#6a3d9a",
                      labels=[f"OLT {i} ({n['operator']})" for i, n in nodes[olt].iterrows()],
                      radius=5, show=True)
        _points_layer(m, "FTTH: splitters", nodes.geometry[~olt], colours="#b15928",
                      labels=[f"splitter {i}: {n['ports_used']}/{n['ports']} ports used"
                              for i, n in nodes[~olt].iterrows()],
                      radius=2, show=False)
    if fibre_roads is not None and len(fibre_roads):
        fr = fibre_roads.copy()
        fr["geometry"] = fr.geometry.simplify(simplify_m)
        fr = _rounded(fr.to_crs(4326)[["geometry"]])
        folium.GeoJson(
            fr.to_json(drop_id=True), name="FTTH: fibre-ready roads", show=False,
            style_function=lambda _f: {"color": "#6a3d9a", "weight": 2, "opacity": 0.8},
        ).add_to(m)
    if ftth_unreached is not None and len(ftth_unreached):
        u = ftth_unreached.to_crs(4326)
        extra = u["ftth_extra_cable_m"].to_numpy(float)
        names = u["name"] if "name" in u.columns else pd.Series(u.index, index=u.index)
        labels = [f"{n} ({vid}): " + (f"{e / 1000:.1f} km of cable to the nearest free "
                                      "splitter" if np.isfinite(e) else "no splitter in reach")
                  for vid, n, e in zip(u.index, names, extra, strict=True)]
        _points_layer(m, "FTTH: villages not reached", u.geometry, colours="#b2182b",
                      labels=labels, radius=4, show=False)
    legend = "".join(
        f'<div><span style="background:{c};width:12px;height:12px;display:inline-block;'
        f'margin-right:4px"></span>{html.escape(k)}</div>' for k, c in VERDICT_COLOURS.items())
    root.html.add_child(folium.Element(
        '<div id="vnc-legend" style="position:fixed;bottom:20px;left:20px;z-index:9999;'
        'background:white;padding:6px;border:1px solid #999;font:12px sans-serif">'
        f"<b>4G/5G</b>{legend}</div>"))
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m
