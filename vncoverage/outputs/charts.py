"""Static charts and maps for the report (matplotlib, Agg; no pyplot, no global state).

Each ``*_figure`` function returns a :class:`matplotlib.figure.Figure`; :func:`figure_png`
renders one to PNG bytes. Nothing here touches a path: the report embeds the bytes and
:mod:`vncoverage.outputs.writer` writes them.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from ..i18n import DEFAULT_LANG, number, tr, verdict_label
from ..villages import COVERED, LOM_SONG, TRANG_SONG, UNKNOWN

__all__ = [
    "district_coverage_figure",
    "figure_png",
    "gap_map_figure",
    "kpi_progress_figure",
]

_VERDICT_FILL = {COVERED: "#d9d9d9", LOM_SONG: "#fdae61", TRANG_SONG: "#d73027",
                 UNKNOWN: "#969696"}
_BAR_COLOURS = {COVERED: "#1a9850", LOM_SONG: "#fdae61", TRANG_SONG: "#d73027",
                UNKNOWN: "#969696"}


def figure_png(fig: Figure, *, dpi: int = 150) -> bytes:
    """Render a figure to PNG bytes (Agg)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": "vncoverage"})
    return buf.getvalue()


def _is_pct(unit: object) -> bool:
    return str(unit).strip() == "%"


def kpi_progress_figure(kpis: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> Figure:
    """Progress to the 2025 target of every computed percentage KPI: baseline (grey),
    current (green when met, orange otherwise) and the target (black tick)."""
    rows = kpis[kpis["current"].notna() & kpis["target_2025"].notna()
                & kpis["unit"].map(_is_pct)] if len(kpis) else kpis
    n = max(len(rows), 1)
    fig = Figure(figsize=(7.5, 0.9 + 0.75 * n))
    ax = fig.add_subplot()
    name_col = "name_vi" if lang == "vi" else "name_en"
    for k, (kid, r) in enumerate(rows.iloc[::-1].iterrows()):
        label = r.get(name_col) if isinstance(r.get(name_col), str) else str(kid)
        base, cur, tgt = (float(r["baseline_2023"]) if pd.notna(r["baseline_2023"]) else math.nan,
                          float(r["current"]), float(r["target_2025"]))
        met = cur >= tgt - 1e-9
        if not math.isnan(base):
            ax.barh(k + 0.18, base, height=0.3, color="#bdbdbd",
                    label=tr("chart_baseline", lang) if k == 0 else None)
        ax.barh(k - 0.18, cur, height=0.3, color="#1a9850" if met else "#f46d43",
                label=tr("chart_current", lang) if k == 0 else None)
        ax.plot([tgt, tgt], [k - 0.42, k + 0.42], color="black", lw=2.2,
                label=tr("chart_target", lang) if k == 0 else None)
        ax.text(max(min(cur, 100), tgt) + 1.5, k - 0.18, f"{number(cur, lang, 1)} %",
                va="center", fontsize=8)
        ax.text(-2, k, _wrap(str(label), 34), ha="right", va="center", fontsize=8.5)
    ax.set_xlim(0, 112)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks([])
    ax.set_xlabel("%")
    ax.set_title(tr("chart_progress_title", lang), fontsize=11, loc="left", pad=22)
    ax.spines[["top", "right", "left"]].set_visible(False)
    if len(rows):
        ax.legend(loc="lower left", fontsize=8, frameon=False, ncols=3,
                  bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2)
    fig.subplots_adjust(left=0.36, right=0.97)
    return fig


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def district_coverage_figure(
    by_district: pd.DataFrame, *, target_pct: float | None = None, lang: str = DEFAULT_LANG
) -> Figure:
    """Share of villages per verdict in each district (stacked bars, % of villages), with
    the 2025 target as a dashed line."""
    g = by_district.copy()
    parts = [("mbb_covered", COVERED), ("mbb_lom_song", LOM_SONG),
             ("mbb_trang_song", TRANG_SONG), ("mbb_unknown", UNKNOWN)]
    parts = [(c, v) for c, v in parts if c in g.columns]
    n = max(len(g), 1)
    fig = Figure(figsize=(7.5, 1.0 + 0.32 * n))
    ax = fig.add_subplot()
    if len(g) and parts:
        pct = g[[c for c, _ in parts]].div(g["villages"].where(g["villages"] > 0), axis=0) * 100
        order = pct[parts[0][0]].sort_values(ascending=True).index
        pct = pct.loc[order]
        left = np.zeros(len(pct))
        y = np.arange(len(pct))
        for col, verdict in parts:
            vals = pct[col].fillna(0).to_numpy()
            ax.barh(y, vals, left=left, color=_BAR_COLOURS[verdict], height=0.7,
                    label=verdict_label(verdict, lang))
            left += vals
        ax.set_yticks(y, [str(i) for i in order], fontsize=8)
        gaps = (g.loc[order, "villages"] - g.loc[order, parts[0][0]]).to_numpy()
        for yy, gap in zip(y, gaps, strict=True):
            if gap > 0:
                ax.text(101, float(yy), f"−{number(gap, lang)}", va="center", fontsize=7.5,
                        color="#b2182b")
        lo = max(0.0, float(pct[parts[0][0]].min()) - 5.0)
        ax.set_xlim(min(lo, 80.0), 106)
    if target_pct is not None and math.isfinite(target_pct):
        ax.axvline(target_pct, color="black", ls="--", lw=1.2,
                   label=f"{tr('chart_target', lang)} ({number(target_pct, lang)} %)")
    ax.set_xlabel(tr("chart_share_villages", lang))
    ax.set_title(tr("chart_district_title", lang), fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.8 / n), ncols=5, fontsize=8,
              frameon=False)
    return fig


def _paths(geoms: Iterable[shapely.Geometry]) -> list[MplPath]:
    """Matplotlib paths (with holes) of (Multi)Polygons."""
    out: list[MplPath] = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        polys = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
        verts: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for p in polys:
            if p.geom_type != "Polygon":
                continue
            for ring in [p.exterior, *p.interiors]:
                xy = np.asarray(ring.coords)[:, :2]
                c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
                c[0] = MplPath.MOVETO
                c[-1] = MplPath.CLOSEPOLY
                verts.append(xy)
                codes.append(c)
        if verts:
            out.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
    return out


def _scale_bar(ax: object, extent: Sequence[float], lang: str) -> None:
    xmin, ymin, xmax, _ = extent
    span = (xmax - xmin) / 5
    nice = [1, 2, 5, 10, 20, 25, 50, 100]
    km = max([k for k in nice if k * 1000 <= span] or [1])
    x0, y0 = xmin + 0.04 * (xmax - xmin), ymin + 0.04 * (xmax - xmin)
    ax.add_patch(Rectangle((x0, y0), km * 1000, (xmax - xmin) / 150, color="black"))  # type: ignore[attr-defined]
    ax.text(x0 + km * 500, y0 + (xmax - xmin) / 80, f"{number(km, lang)} km",  # type: ignore[attr-defined]
            ha="center", va="bottom", fontsize=8)


def gap_map_figure(
    villages: gpd.GeoDataFrame,
    *,
    districts: gpd.GeoDataFrame | None = None,
    towns: gpd.GeoSeries | None = None,
    town_labels: Sequence[str] | None = None,
    towers: gpd.GeoSeries | None = None,
    title: str = "",
    simplify_m: float = 50.0,
    lang: str = DEFAULT_LANG,
) -> Figure:
    """A static map of the gaps, in the villages' (metric) CRS: covered villages light grey,
    lõm sóng orange, trắng sóng red, remote gaps (``remote_gap`` column) outlined in black;
    district boundaries, towns and 4G/5G towers; a scale bar."""
    fig = Figure(figsize=(7.5, 7.5))
    ax = fig.add_subplot()
    geo = villages.geometry.simplify(simplify_m)
    verdict = villages.get("verdict_mbb_any", pd.Series(UNKNOWN, index=villages.index))
    colours = [_VERDICT_FILL.get(str(v), "#969696") for v in verdict]
    paths = _paths(geo)
    ax.add_collection(PatchCollection([PathPatch(p) for p in paths], facecolors=colours,
                                      edgecolors="#ffffff", linewidths=0.15))
    if "remote_gap" in villages.columns and villages["remote_gap"].any():
        sel = villages["remote_gap"].to_numpy(bool)
        ax.add_collection(PatchCollection([PathPatch(p) for p in _paths(geo[sel])],
                                          facecolors="none", edgecolors="black",
                                          linewidths=1.1))
    if districts is not None and len(districts):
        for p in _paths(districts.geometry.simplify(simplify_m * 2)):
            ax.add_patch(PathPatch(p, facecolor="none", edgecolor="#404040", lw=0.8))
    if towers is not None and len(towers):
        ax.scatter(towers.x, towers.y, s=2.5, c="#1f78b4", lw=0, alpha=0.6,
                   label=tr("chart_towers", lang))
    if towns is not None and len(towns):
        ax.scatter(towns.x, towns.y, s=22, marker="s", c="black",
                   label=tr("chart_towns", lang))
        for x, y, lab in zip(towns.x, towns.y, town_labels or [""] * len(towns), strict=True):
            if lab:
                ax.annotate(str(lab), (x, y), xytext=(4, 3), textcoords="offset points",
                            fontsize=7.5,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                  "alpha": 0.75})
    xmin, ymin, xmax, ymax = villages.total_bounds
    pad = 0.02 * max(xmax - xmin, ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    _scale_bar(ax, (xmin, ymin, xmax, ymax), lang)
    handles = [Rectangle((0, 0), 1, 1, fc=_VERDICT_FILL[v], ec="none",
                         label=verdict_label(v, lang)) for v in (COVERED, LOM_SONG, TRANG_SONG)]
    if "remote_gap" in villages.columns:
        handles.append(Rectangle((0, 0), 1, 1, fc="none", ec="black", lw=1.1,
                                 label=tr("layer_remote", lang)))
    extra = [h for h in ax.get_legend_handles_labels()[0] if isinstance(h, PathCollection)]
    ax.legend(handles=[*handles, *extra], loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncols=3, fontsize=7.5, frameon=False)
    ax.set_title(title or tr("chart_gap_title", lang), fontsize=11, loc="left")
    return fig
