"""Interactive gap map (folium / Leaflet). folium is imported lazily.

Data goes back to EPSG:4326 only here, at the map edge. Every string from an input file is
HTML-escaped before it reaches a popup or tooltip.
"""

from __future__ import annotations

import html
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["VERDICT_COLOURS", "gap_map"]

VERDICT_COLOURS = {
    "covered": "#1a9850",
    "lõm sóng": "#fdae61",
    "trắng sóng": "#d73027",
    "unknown": "#969696",
}
OPERATOR_COLOURS = {"Viettel": "#e31a1c", "VNPT": "#1f78b4", "MobiFone": "#33a02c"}


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
) -> Any:
    """A folium map: villages coloured by mobile-broadband verdict (with popups), towers by
    operator, FTTH nodes, and a layer control. ``tiles=None`` gives a map without a tile
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

    props = gpd.GeoDataFrame(
        {
            "colour": [VERDICT_COLOURS.get(str(x), "#969696") for x in v["verdict_mbb_any"]],
            "label": [html.escape(f"{n} ({i})") for i, n in zip(v.index, v["name"], strict=True)],
            "popup": [_popup_html(row) for _, row in v.iterrows()],
        },
        geometry=v.geometry.values, crs=v.crs,
    )
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
        x=("geometry", lambda g: g.iloc[0].x), y=("geometry", lambda g: g.iloc[0].y),
        operators=("operator", lambda s: ", ".join(sorted(set(s)))),
        technologies=("technology", lambda s: ", ".join(sorted(set(s)))),
        owner=("tower_owner", "first"), first_op=("operator", "first"),
    )
    tg = folium.FeatureGroup(name="Towers", show=True)
    for sid, t in towers.iterrows():
        folium.CircleMarker(
            [t["y"], t["x"]], radius=3, color=OPERATOR_COLOURS.get(t["first_op"], "#000000"),
            fill=True, fill_opacity=0.9, weight=1,
            tooltip=html.escape(f"{sid}: {t['operators']} ({t['technologies']}), "
                                f"owner {t['owner']}"),
        ).add_to(tg)
    tg.add_to(m)

    if ftth_nodes is not None and len(ftth_nodes):
        nodes = ftth_nodes.to_crs(4326)
        og = folium.FeatureGroup(name="FTTH: OLTs", show=True)
        sg = folium.FeatureGroup(name="FTTH: splitters", show=False)
        for nid, n in nodes.iterrows():
            is_olt = n["node_type"] == "olt"
            label = (f"OLT {nid} ({n['operator']})" if is_olt else
                     f"splitter {nid}: {n['ports_used']}/{n['ports']} ports used")
            folium.CircleMarker(
                [n.geometry.y, n.geometry.x], radius=5 if is_olt else 2,
                color="#6a3d9a" if is_olt else "#b15928", fill=True, weight=1,
                tooltip=html.escape(label),
            ).add_to(og if is_olt else sg)
        og.add_to(m)
        sg.add_to(m)
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
