"""The files of a plan (``W/plan/``), written into a staging folder and swapped into place
whole: a failed write leaves the previous plan, never half of a new one.

* ``plan_sites.csv`` and the ``sites`` layer of ``plan.gpkg``: the selected works, ranked;
* ``plan_cells.csv``: their cells in the cell-table format (``vncoverage add-sites`` reads
  it: the closed loop);
* ``plan_candidates.csv``: every candidate, selected or not, with its cost;
* ``plan_villages.csv``: per village the verdict before → after and the work that covers it;
* ``plan_unreachable.csv``: the villages no candidate can cover;
* ``plan_kpi.csv``: the KPIs before → after;
* ``plan_fibre_routes.gpkg`` (routes, new splitters) and ``plan_fibre_villages.csv``;
  ``plan_ftth_nodes.csv``: the FTTH node table with the planned splitters (a run with it
  as ``[inputs] ftth_nodes`` gives the plan's FTTH verdicts);
* ``plan.kml``: sites and routes for field teams; ``plan_map.html``: the map;
* ``plan_report.md``: the summary in the planner's language.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..fileio import write_csv, write_text, write_vector
from ..i18n import localise, number, tr
from ..results import Results
from .candidates import cells_table
from .fibre_plan import FibrePlan, nodes_with_plan
from .run import MobilePlan, Plan

__all__ = ["plan_report", "write_plan"]

SITE_COLUMNS = ("rank", "candidate_id", "kind", "operator", "tenant", "tower_id", "lon",
                "lat", "ground_m", "height_m", "cost_vnd", "shared", "new_bts",
                "villages_gained", "people_gained", "basis")


def _sites(mp: MobilePlan) -> gpd.GeoDataFrame:
    sel = mp.candidates[mp.candidates["selected"]].sort_values("rank")
    ll = sel.to_crs("EPSG:4326")
    sel = sel.assign(lon=np.round(ll.geometry.x, 6), lat=np.round(ll.geometry.y, 6))
    cols = [c for c in SITE_COLUMNS if c in sel]
    return gpd.GeoDataFrame(sel[cols], geometry=ll.geometry.values, crs="EPSG:4326")


def ftth_nodes_table(nodes: gpd.GeoDataFrame, fp: FibrePlan) -> pd.DataFrame:
    """The FTTH node table with the plan's splitters, in the input format (lon/lat, WGS
    84): ``[inputs] ftth_nodes`` of a run that builds the fibre plan."""
    both = nodes_with_plan(nodes, fp)
    ll = both.to_crs("EPSG:4326")
    out = pd.DataFrame(both.drop(columns="geometry")).reset_index()
    out["lon"] = ll.geometry.x.to_numpy()
    out["lat"] = ll.geometry.y.to_numpy()
    cols = ["node_id", "node_type", "operator", "olt_id", "lon", "lat", "ports",
            "ports_used", "name"]
    return out[[c for c in cols if c in out]]


def _kml_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A layer for GDAL's KML driver: WGS 84, a ``Name`` (what Google Earth labels)."""
    out = gdf.to_crs("EPSG:4326")
    key = next((c for c in ("candidate_id", "route_id") if c in out), None)
    if key is not None:
        out = out.assign(Name=out[key].astype(str))
    return out


def _bn(v: float | None, lang: str) -> str:
    """VND in billions, as the language writes numbers."""
    return number(v / 1e9, lang, 1) if v is not None and np.isfinite(v) else "–"


def _pct(v: float, lang: str) -> str:
    return f"{number(100 * v, lang, 1)} %"


def _md(df: pd.DataFrame, lang: str) -> list[str]:
    if not len(df):
        return ["–", ""]
    cols = list(df.columns)
    rows = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [number(v, lang, 1) if isinstance(v, float) else str(v) for v in r]
        rows.append("| " + " | ".join(cells) + " |")
    return [*rows, ""]


def _mobile_lines(mp: MobilePlan, lang: str) -> list[str]:
    sel = mp.candidates[mp.candidates["selected"]]
    kinds = sel["kind"].value_counts()
    sol = mp.solution
    lines = ["- " + tr("plan_mobile_head", lang, target=_pct(mp.target, lang),
                       new=int(kinds.get("new_tower", 0) + kinds.get("village_tower", 0)),
                       coloc=int(kinds.get("colocation", 0)),
                       upgrade=int(kinds.get("upgrade", 0)),
                       cost=_bn(float(sel["cost_vnd"].sum()), lang)),
             "- " + tr("plan_solver", lang, status=sol.status, cost=_bn(sol.cost, lang),
                       bound=_bn(sol.bound, lang),
                       gap=(f"{number(100 * sol.gap, lang, 2)} %"
                            if sol.gap is not None and np.isfinite(sol.gap) else "–"),
                       greedy=_bn(sol.greedy_cost, lang), time=number(sol.time_s, lang, 1))]
    if sol.status == "infeasible":
        lines.append("- " + tr("plan_not_reached", lang,
                               reach=int(len(mp.villages) - len(mp.unreachable))))
    if sol.message:
        lines.append(f"- {sol.message}")
    lines += ["", f"## {tr('plan_kpi', lang)}", "", *_md(mp.kpis.reset_index(), lang),
              f"## {tr('plan_sites', lang)}", ""]
    show = [c for c in ("rank", "candidate_id", "kind", "operator", "height_m", "cost_vnd",
                        "villages_gained", "people_gained", "shared") if c in sel]
    lines += _md(sel.sort_values("rank")[show].head(50), lang)
    lines += [f"## {tr('plan_unreachable', lang)}", "",
              *_md(mp.unreachable.reset_index().head(50), lang)]
    return lines


def plan_report(plan: Plan, lang: str) -> str:
    """The plan's summary (Markdown)."""
    lines = [f"# {tr('plan_title', lang)}", ""]
    if plan.mobile is not None:
        lines += _mobile_lines(plan.mobile, lang)
    fp = plan.fibre
    if fp is not None:
        lines += ["- " + tr("plan_fibre_head", lang, target=_pct(fp.target_share, lang),
                            km=number(fp.length_m / 1000, lang, 1),
                            splitters=int(fp.new_splitters["n_splitters"].sum())
                            if "n_splitters" in fp.new_splitters else len(fp.new_splitters),
                            cost=_bn(fp.cost_vnd, lang)),
                  f"  FTTH {number(fp.kpi_before, lang, 1)} % → {number(fp.kpi_after, lang, 1)} %",
                  "", *_md(fp.unreachable.head(50), lang)]
    lines += [f"## {tr('plan_costs', lang)}", "", *_md(plan.costs.table.reset_index(), lang)]
    if plan.notes:
        lines += [f"## {tr('plan_notes', lang)}", "",
                  *[f"- {localise(n, lang)}" for n in plan.notes], ""]
    return "\n".join(lines) + "\n"


def _map(plan: Plan, results: Results, path: Path) -> None:
    """An HTML map of the planned sites, the fibre routes and the unreachable villages."""
    vil = results.villages
    centre = gpd.GeoSeries(gpd.points_from_xy(vil["centre_x"], vil["centre_y"]),
                           crs=results.inputs.villages.crs).to_crs("EPSG:4326")
    m = folium.Map(location=[float(centre.y.mean()), float(centre.x.mean())], zoom_start=9,
                   tiles=None)
    if plan.mobile is not None:
        sites = _sites(plan.mobile)
        layer = folium.FeatureGroup(name="plan sites")
        for _, r in sites.iterrows():
            folium.CircleMarker([r.geometry.y, r.geometry.x], radius=5,
                                popup=f"{r['rank']}. {r['candidate_id']} ({r['kind']})",
                                color="#c00" if r["kind"] in ("new_tower", "village_tower")
                                else "#06c").add_to(layer)
        layer.add_to(m)
    if plan.fibre is not None and len(plan.fibre.routes):
        folium.GeoJson(plan.fibre.routes.to_crs("EPSG:4326")[["route_id", "geometry"]],
                       name="fibre routes").add_to(m)
    folium.LayerControl().add_to(m)
    m.save(str(path))


def write_plan(plan: Plan, results: Results, folder: str | Path, *,
               lang: str = "vi") -> list[Path]:
    """Write the plan's files into ``folder`` (replaced whole; module docstring)."""
    folder = Path(folder)
    stage = folder.with_name(folder.name + ".staging")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    gpkg: dict[str, gpd.GeoDataFrame] = {}
    if plan.mobile is not None:
        mp = plan.mobile
        sites = _sites(mp)
        write_csv(stage / "plan_sites.csv", pd.DataFrame(sites.drop(columns="geometry")),
                  index=False)
        write_csv(stage / "plan_cells.csv", cells_table(mp.cells), index=False)
        cand = mp.candidates.drop(columns="geometry")
        write_csv(stage / "plan_candidates.csv", pd.DataFrame(cand), index=False)
        write_csv(stage / "plan_villages.csv", mp.villages)
        write_csv(stage / "plan_unreachable.csv", mp.unreachable)
        write_csv(stage / "plan_kpi.csv", mp.kpis)
        gpkg["sites"] = sites
    fp = plan.fibre
    if fp is not None:
        write_csv(stage / "plan_fibre_villages.csv", fp.villages)
        if results.inputs.ftth_nodes is not None:
            write_csv(stage / "plan_ftth_nodes.csv",
                      ftth_nodes_table(results.inputs.ftth_nodes, fp), index=False)
        layers = {"routes": fp.routes}
        if len(fp.new_splitters):
            layers["new_splitters"] = fp.new_splitters
        write_vector(stage / "plan_fibre_routes.gpkg", layers)
        if len(fp.routes):
            gpkg["fibre_routes"] = fp.routes.to_crs("EPSG:4326")
    if gpkg:
        write_vector(stage / "plan.gpkg", gpkg)
        write_vector(stage / "plan.kml", {k: _kml_ready(v) for k, v in gpkg.items()},
                     driver="KML")
    write_text(stage / "plan_report.md", plan_report(plan, lang))
    _map(plan, results, stage / "plan_map.html")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.replace(old)
    stage.replace(folder)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(folder.iterdir())
