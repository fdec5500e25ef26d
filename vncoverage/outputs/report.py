"""The planner's report: content shared by the Markdown (:func:`markdown_report`) and the HTML
(:func:`vncoverage.report_html.html_report`) renderings, in Vietnamese or English.

Sections: KPIs against the plan (baseline Q2/2023, current, target 2025, gap in percentage
points and in villages), per-district and per-2025-commune tables, charts and a static map of
the gaps, the remote gaps and their rule, the villages without coverage by population, method,
notes and provenance (inputs, parameters, versions). In Vietnamese, section headings carry
their English title in parentheses, so that partners can find their way.

Pure text generation; writing is :mod:`vncoverage.fileio`'s job.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import rasterio
import shapely

from .. import __version__
from ..calibration import Calibration, before_after
from ..changes import Changes
from ..config import Config
from ..errors import InputDataError
from ..explain import explanation_href
from ..fileio.measurements import read_corrections
from ..i18n import (
    DEFAULT_LANG,
    Message,
    check_lang,
    column_label,
    localise,
    number,
    tr,
    verdict_label,
)
from ..kpi import NO_2G3G_STATUS
from ..uncertainty import BIAS_SENSITIVITY_DB, RESOLUTION_EFFECT_PTS, UNCALIBRATED_COLUMN
from ..villages import COVERED

__all__ = ["ReportContext", "ReportTable", "calibration_tables", "kpi_text_table",
           "markdown_report", "report_tables"]

_STATUS_KEYS = {"met": "status_met", "not met": "status_not_met",
                "reported statistic, not computed": "status_statistic",
                "no data": "status_no_data", "no target": "status_no_target",
                "not computed (fibre-only run)": "status_not_run_fibre_only",
                "not computed (mobile-only run)": "status_not_run_mobile_only",
                "not computed (no 2G/3G layers)": "status_no_2g3g"}


def _fmt(v: object, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|")


def _kpi_rows(kpis: pd.DataFrame) -> list[list[object]]:
    rows = []
    for kid, r in kpis.iterrows():
        unit = r.get("unit") or ""
        gap_units = r.get("gap_units")
        gap = "–"
        if gap_units is not None and not pd.isna(gap_units):
            gap = f"{_fmt(r['gap_pct_points'])} pts / {int(gap_units)} {r.get('unit_name', '')}"
        rows.append([
            r.get("name_en") or kid, unit, r.get("baseline_2023"),
            r.get("current"), r.get("target_2025"), gap, r.get("status"),
        ])
    return rows


def shown_kpis(kpis: pd.DataFrame) -> pd.DataFrame:
    """The KPI rows the reports show: all but the 2G/3G service rows of a run without
    2G/3G layers (``kpi.csv`` keeps them, "not computed (no 2G/3G layers)")."""
    if "status" not in kpis:
        return kpis
    return kpis[kpis["status"].astype(str) != NO_2G3G_STATUS]


def kpi_text_table(kpis: pd.DataFrame) -> str:
    """A plain-text KPI table for the terminal (English)."""
    kpis = shown_kpis(kpis)
    header = ["KPI", "unit", "baseline 2023", "current", "target 2025", "gap", "status"]
    rows = [[_fmt(c) for c in r] for r in _kpi_rows(kpis)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    # under the table, a KPI with its uncertainty (and the uncalibrated model's value when
    # the run calibrated itself)
    extra = []
    for kid, r in kpis.iterrows():
        text = kpi_uncertainty_text(r, "en")
        if text is None:
            continue
        uncal = r.get(UNCALIBRATED_COLUMN)
        if uncal is not None and not pd.isna(uncal):
            text += f"; uncalibrated model {_value(uncal, r.get('unit') or '', 'en')}"
        extra.append(f"{r.get('name_en') or kid}: {text}")
    return "\n".join(out + (["", *extra] if extra else []))


# --------------------------------------------------------------------------------------
# shared content


@dataclass
class ReportTable:
    """A rendered-agnostic table: header and rows of display strings (not escaped).

    ``numeric`` flags the columns to right-align; ``note`` is shown under the table.
    """

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    note: str = ""


@dataclass
class ReportContext:
    """Everything the report shows, computed once for both renderings."""

    cfg: Config
    kpis: pd.DataFrame
    villages: pd.DataFrame
    by_district: pd.DataFrame
    by_commune_2025: pd.DataFrame
    checksums: Mapping[str, str]
    notes: Sequence[str]
    timings: Mapping[str, float]
    n_cells: Mapping[str, int]
    lang: str = DEFAULT_LANG
    uncovered_limit: int = 100
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())
    #: Changes since the previous run of a workspace (:mod:`vncoverage.changes`), if any.
    changes: Changes | None = None
    #: The analyses the run made (:attr:`vncoverage.results.Results.analyses`).
    analyses: tuple[str, ...] = ("mobile", "fibre")
    #: The calibration the run made itself (:attr:`vncoverage.results.Results.calibration`).
    calibration: Calibration | None = None
    #: The villages that lose mobile service at the run's switch-off (``[run]
    #: switch_off``: :func:`vncoverage.villages.switch_off_villages`), or None.
    switch_off: pd.DataFrame | None = None

    @property
    def mobile(self) -> bool:
        """Whether the run computed mobile coverage (else no coverage sections)."""
        return "mobile" in self.analyses

    def analyses_lines(self) -> list[str]:
        """What the run computed and what it did not, when not every analysis (none for a
        full run)."""
        missing = [a for a in ("mobile", "fibre") if a not in self.analyses]
        if not missing:
            return []

        def name(a: str) -> str:
            return Message("analysis.mobile" if a == "mobile" else "analysis.fibre").render(
                self.lang)

        return [tr("analyses_run", self.lang, ran=", ".join(map(name, self.analyses))),
                tr("analyses_not_run", self.lang, missing=", ".join(map(name, missing)))]

    @property
    def remote_town_m(self) -> float:
        """The remote-gap threshold from the district town, m (configuration)."""
        return self.cfg.coverage.remote_town_m

    @property
    def remote_road_m(self) -> float:
        """The remote-gap threshold from a road, m (configuration)."""
        return self.cfg.coverage.remote_road_m

    def heading(self, key: str) -> str:
        """A section heading; in Vietnamese with the English title in parentheses."""
        text = tr(key, self.lang)
        return f"{text} · {tr(key, 'en')}" if self.lang != "en" else text

    def note_lines(self) -> list[str]:
        """The notes in the report's language (each a :class:`~vncoverage.i18n.Message`
        rendered; other text as it is)."""
        return [localise(n, self.lang) for n in self.notes]

    def kpi_details(self) -> list[tuple[str, str]]:
        """``(kpi_id, detail)`` of the KPIs with a detail, in the report's language."""
        # from the column, not from iterrows: a row whose values are all text (a KPI not
        # computed) would come back as a string row and its Message as plain English
        details = self.kpis["detail"] if "detail" in self.kpis.columns else pd.Series()
        return [(str(kid), localise(detail, self.lang)) for kid, detail in details.items()
                if isinstance(detail, str) and detail]


def _kpi_name(kid: object, r: pd.Series, lang: str) -> str:
    name = r.get("name_vi") if lang == "vi" else r.get("name_en")
    if not isinstance(name, str) or not name:
        name = r.get("name_en") if isinstance(r.get("name_en"), str) else str(kid)
    return str(name)


def _unit_name(r: pd.Series, lang: str) -> str:
    u = str(r.get("unit_name") or "")
    return {"villages": tr("villages", lang), "BTS": tr("bts", lang)}.get(u, u)


def _value(v: float | None, unit: object, lang: str) -> str:
    """A KPI value (a number, or missing) in ``unit`` as ``lang`` writes it."""
    if v is None or pd.isna(v):
        return "–"
    digits = 1 if str(unit).strip() == "%" else 2
    text = number(v, lang, digits)
    return f"{text} %" if str(unit).strip() == "%" else text


def _has_interval(r: pd.Series) -> bool:
    v = r.get("interval_90_low")
    return v is not None and not pd.isna(v)


def _basis_label(r: pd.Series, lang: str) -> str:
    """``uncalibrated`` / ``calibrated`` (the Monte Carlo's error model), in ``lang``."""
    basis = str(r.get("uncertainty_basis") or "")
    return tr("unc_calibrated" if basis.startswith("calibrated") else "unc_uncalibrated", lang)


def kpi_uncertainty_text(r: pd.Series, lang: str) -> str | None:
    """A computed KPI with its uncertainty (:mod:`vncoverage.uncertainty`), e.g.
    ``93.0 % (90 %: 89.1–95.4 %), P(≥ 98 %) = 0.01 · uncalibrated``; None without it."""
    if not _has_interval(r):
        return None
    unit = r.get("unit") or ""
    pct = str(unit).strip() == "%"
    args = {"current": _value(r.get("current"), unit, lang),
            "lo": number(r.get("interval_90_low"), lang, 1 if pct else 2),
            "hi": _value(r.get("interval_90_high"), unit, lang)}
    tgt = r.get("target_2025")
    if tgt is not None and not pd.isna(tgt) and not pd.isna(r.get("p_target_met")):
        whole = float(tgt) == round(float(tgt))
        target = number(tgt, lang, 0 if whole else 1) + (" %" if pct else "")
        text = tr("unc_value", lang, **args, target=target,
                  p=number(r.get("p_target_met"), lang, 2))
    else:
        text = tr("unc_value_no_target", lang, **args)
    return f"{text} · {_basis_label(r, lang)}"


def uncertainty_note(ctx: ReportContext) -> str:
    """Under the KPI table: how the intervals were made and the sensitivity (empty without
    them)."""
    lang = ctx.lang
    for _, r in ctx.kpis.iterrows():
        if _has_interval(r):
            unit = r.get("unit") or ""
            rest = str(r.get("uncertainty_basis") or "").partition(";")[2].strip()
            text = f"{_basis_label(r, lang)}; {rest}" if rest else _basis_label(r, lang)
            note = tr("unc_note", lang, basis=text,
                      minus=_value(r.get("kpi_at_bias_minus_2db"), unit, lang),
                      plus=_value(r.get("kpi_at_bias_plus_2db"), unit, lang),
                      res=number(RESOLUTION_EFFECT_PTS, lang, 1))
            clutter = r.get("kpi_without_clutter")
            if clutter is not None and not pd.isna(clutter):
                note += tr("unc_note_clutter", lang, value=_value(clutter, unit, lang))
            return note
    return ""


def sensitivity_table(ctx: ReportContext) -> ReportTable | None:
    """Per KPI with an interval: the median map, the 90 % interval, the KPI at ±2 dB of
    province-wide bias, the documented effect of the DEM resolution and the KPI without
    clutter (when the run applied a land cover); None without intervals."""
    lang = ctx.lang
    rows: list[list[str]] = []
    for kid, r in ctx.kpis.iterrows():
        if not _has_interval(r):
            continue
        unit = r.get("unit") or ""
        name = _kpi_name(kid, r, lang)
        clutter = r.get("kpi_without_clutter")
        rows += [
            [name, tr("sens_median", lang), _value(r.get("current"), unit, lang)],
            [name, tr("sens_interval", lang, basis=_basis_label(r, lang)),
             f"{_value(r.get('interval_90_low'), unit, lang)} – "
             f"{_value(r.get('interval_90_high'), unit, lang)}"],
            [name, tr("sens_bias", lang, bias=f"−{BIAS_SENSITIVITY_DB:g}"),
             _value(r.get("kpi_at_bias_minus_2db"), unit, lang)],
            [name, tr("sens_bias", lang, bias=f"+{BIAS_SENSITIVITY_DB:g}"),
             _value(r.get("kpi_at_bias_plus_2db"), unit, lang)],
            [name, tr("sens_resolution", lang),
             tr("sens_resolution_value", lang, pts=RESOLUTION_EFFECT_PTS)],
            [name, tr("sens_clutter", lang),
             _value(clutter, unit, lang) if clutter is not None and not pd.isna(clutter)
             else tr("sens_no_clutter", lang)],
        ]
        uncal = r.get(UNCALIBRATED_COLUMN)
        if uncal is not None and not pd.isna(uncal):  # the run calibrated itself
            rows.append([name, tr("sens_uncalibrated", lang), _value(uncal, unit, lang)])
    if not rows:
        return None
    return ReportTable([tr("col_kpi", lang), tr("col_case", lang), tr("col_value", lang)],
                       rows, [False, False, True])


def kpi_report_table(ctx: ReportContext) -> ReportTable:
    """The KPI table: baseline, current, target, gap in % points and in units, status; a
    KPI with an interval (:mod:`vncoverage.uncertainty`) shows it beside its value, and
    the table's note says how it was made."""
    lang = ctx.lang
    rows: list[list[str]] = []
    for kid, r in ctx.kpis.iterrows():
        unit = r.get("unit") or ""
        gap_pct = gap_units = "–"
        gu = r.get("gap_units")
        if gu is not None and not pd.isna(gu):
            gap_pct = number(r.get("gap_pct_points"), lang, 1)
            gap_units = f"{number(gu, lang)} {_unit_name(r, lang)}"
        status = str(r.get("status") or "")
        status = tr(_STATUS_KEYS[status], lang) if status in _STATUS_KEYS else status
        rows.append([_kpi_name(kid, r, lang), str(unit) if not pd.isna(unit) else "",
                     _value(r.get("baseline_2023"), unit, lang),
                     kpi_uncertainty_text(r, lang) or _value(r.get("current"), unit, lang),
                     _value(r.get("target_2025"), unit, lang), gap_pct, gap_units, status])
    header = [tr(k, lang) for k in ("col_kpi", "col_unit", "col_baseline", "col_current",
                                    "col_target", "col_gap_pct", "col_gap_units", "col_status")]
    return ReportTable(header, rows, [False, False, True, True, True, True, True, False],
                       note=uncertainty_note(ctx))


def summary_lines(ctx: ReportContext) -> list[tuple[str, str]]:
    """What a planner reads first: each computed KPI against its target, and the remote
    gaps, as ``(text, kind)`` with kind ``met``, ``gap`` or ``remote``."""
    lang = ctx.lang
    out = [(line, "notrun") for line in ctx.analyses_lines()]
    for kid, r in ctx.kpis.iterrows():
        gu = r.get("gap_units")
        if pd.isna(r.get("current")) or gu is None or pd.isna(gu):
            continue
        unit = r.get("unit") or ""
        args = {"name": _kpi_name(kid, r, lang), "current": _value(r["current"], unit, lang),
                "target": _value(r.get("target_2025"), unit, lang),
                "gap": number(gu, lang), "unit": _unit_name(r, lang)}
        met = int(gu) == 0
        out.append((tr("summary_kpi_met" if met else "summary_kpi", lang, **args),
                    "met" if met else "gap"))
    v = ctx.villages
    if "remote_gap" in v.columns and "verdict_mbb_any" in v.columns:
        gaps = int((v["verdict_mbb_any"] != COVERED).sum())
        out.append((tr("summary_remote", lang, remote=number(int(v["remote_gap"].sum()), lang),
                       gaps=number(gaps, lang)), "remote"))
    if ctx.switch_off is not None:  # the run assumes a switch-off ([run] switch_off)
        so = ctx.switch_off
        people = so["population"].sum() if "population" in so.columns else 0
        out.append((tr("summary_switch_off", lang, techs="/".join(ctx.cfg.run.switch_off),
                       n=number(len(so), lang), people=number(people, lang)), "gap"))
    return out


#: The columns of :func:`switch_off_report_table`.
_SWITCH_OFF_COLUMNS = ("name", "commune", "district", "population", "technologies_today",
                       "operator_today", "nearest_4g_site_id", "nearest_4g_site_m")


def switch_off_report_table(ctx: ReportContext) -> ReportTable | None:
    """The villages that lose mobile service at the run's switch-off (largest population
    first, at most ``uncovered_limit``), or None without a switch-off."""
    so = ctx.switch_off
    if so is None:
        return None
    lang = ctx.lang
    cols = [c for c in _SWITCH_OFF_COLUMNS if c in so.columns]
    rows = []
    for vid, r in so.head(ctx.uncovered_limit).iterrows():
        row = [str(vid)]
        for c in cols:
            val = r[c]
            if c == "nearest_4g_site_m":
                row.append(f"{number(float(val) / 1000, lang, 1)} km" if pd.notna(val)
                           else "–")
            elif c == "population":
                row.append(number(val, lang))
            else:
                row.append("" if pd.isna(val) else str(val))
        rows.append(row)
    header = [column_label("village_id", lang),
              *(column_label(c, lang).replace("(m)", "(km)") for c in cols)]
    note = (tr("switch_off_more", lang, n=number(len(so) - ctx.uncovered_limit, lang))
            if len(so) > ctx.uncovered_limit else "")
    return ReportTable(header, rows, [False, *(c in ("population", "nearest_4g_site_m")
                                               for c in cols)], note)


_GROUP_COLUMNS = ["villages", "population", "mbb_covered", "mbb_lom_song", "mbb_trang_song",
                  "mbb_covered_pct", "mbb_population_covered_pct", "ftth_covered_pct",
                  "remote_gaps"]


def area_report_table(ctx: ReportContext, g: pd.DataFrame, index_label: str) -> ReportTable:
    """A per-district or per-commune table, with the remote gaps counted per unit."""
    lang = ctx.lang
    g = g.copy()
    v = ctx.villages
    by = g.index.name  # the column of the villages the table groups by
    if "remote_gap" in v.columns and isinstance(by, str) and by in v.columns:
        g["remote_gaps"] = v.groupby(by)["remote_gap"].sum().reindex(g.index).fillna(0)
    cols = [c for c in _GROUP_COLUMNS if c in g.columns]
    rows = []
    for idx, r in g.iterrows():
        cells = [str(idx)]
        for c in cols:
            cells.append(number(r[c], lang, 1 if c.endswith("_pct") else 0))
        rows.append(cells)
    return ReportTable([index_label, *(column_label(c, lang) for c in cols)], rows,
                 [False, *([True] * len(cols))])


def uncovered_table(ctx: ReportContext, *, remote_only: bool = False) -> ReportTable:
    """Villages without mobile broadband coverage (or only the remote ones), by population."""
    lang = ctx.lang
    v = ctx.villages
    if "verdict_mbb_any" not in v.columns:  # no mobile analysis
        return ReportTable([], [], [])
    bad = v[v["verdict_mbb_any"] != COVERED]
    if remote_only:
        bad = bad[bad["remote_gap"].astype(bool)] if "remote_gap" in bad else bad.iloc[:0]
    bad = bad.sort_values("population", ascending=False)
    limit = ctx.uncovered_limit
    cols = ["village_id", "name", "commune", "district", "population", "verdict_mbb_any",
            "pop_share_mbb_any", "best_dbm_centre_4g", "nearest_site_m"]
    if remote_only:
        cols = [*cols[:6], "town_distance_m", "road_distance_m"]
    elif "remote_gap" in v.columns:
        cols.append("remote_gap")
    cols = [c for c in cols if c == "village_id" or c in bad.columns]
    rows = [[_uncovered_cell(c, vid if c == "village_id" else r[c], lang) for c in cols]
            for vid, r in bad.head(limit).iterrows()]
    if not remote_only:  # the id links to the village's explanation (HTML report)
        for row, vid in zip(rows, bad.head(limit).index, strict=True):
            row[0] = _ExplainedId(str(vid))
    header = []
    for c in cols:
        label = column_label(c, lang)
        if c in ("nearest_site_m", "town_distance_m", "road_distance_m"):
            label = label.replace("(m)", "(km)")
        header.append(label)
    numeric = [c in ("population", "pop_share_mbb_any", "best_dbm_centre_4g", "nearest_site_m",
                     "town_distance_m", "road_distance_m") for c in cols]
    note = (tr("uncovered_more", lang, n=number(len(bad) - limit, lang))
            if len(bad) > limit else "")
    if not remote_only and len(bad):
        note = " ".join(n for n in (note, tr("uncovered_explain", lang)) if n)
    return ReportTable(header, rows, numeric, note)


class _ExplainedId(str):
    """A village id (``str``: the id itself, for the Markdown report and comparisons) that
    the HTML report shows as a link to the page ``vncoverage explain`` writes beside it
    (jinja's autoescape renders ``__html__``)."""

    def __html__(self) -> str:
        return (f'<a href="{html.escape(explanation_href(str(self)))}">'
                f"{html.escape(str(self))}</a>")


def _uncovered_cell(column: str, val: Any, lang: str) -> str:
    """One cell of :func:`uncovered_table` as ``lang`` writes it.

    Parameters
    ----------
    column
        The column: ``village_id`` or a column of the village table.
    val
        The village's id (``village_id``) or its value in ``column`` (of any type, by
        column; missing values possible).
    lang
        ``"vi"`` or ``"en"``.
    """
    if column == "verdict_mbb_any":
        return verdict_label(str(val), lang)
    if column == "pop_share_mbb_any":
        return f"{number(100 * float(val), lang)} %"
    if column in ("nearest_site_m", "town_distance_m", "road_distance_m"):
        return f"{number(float(val) / 1000, lang, 1)} km" if pd.notna(val) else "–"
    if column == "best_dbm_centre_4g":
        return number(val, lang, 1)
    if column == "remote_gap":
        return tr("yes", lang) if bool(val) else ""
    if column == "population":
        return number(val, lang)
    return "" if pd.isna(val) else str(val)


def remote_rule(ctx: ReportContext) -> str:
    """The remote-gap rule in words, or why it was not evaluated."""
    v = ctx.villages
    evaluated = any(c in v.columns and v[c].notna().any()
                    for c in ("town_distance_m", "road_distance_m"))
    if not evaluated:
        return tr("remote_not_evaluated", ctx.lang)
    return tr("remote_rule", ctx.lang, town_km=ctx.remote_town_m / 1000,
              road_km=ctx.remote_road_m / 1000)


def method_lines(ctx: ReportContext) -> list[str]:
    lang = ctx.lang
    r, f = ctx.cfg.radio, ctx.cfg.ftth
    radii = ", ".join(f"{t} {number(r.max_radius_m[t] / 1000, lang, 0)} km"
                      for t in r.technologies)
    cells = ", ".join(f"{k}: {number(n, lang)}" for k, n in ctx.n_cells.items())
    if not ctx.mobile:  # no propagation: the FTTH rule only
        return [tr("method_ftth", lang, drop=f.drop_reach_m, gpon=f.gpon_reach_m / 1000,
                   rule=f.rule, share=f.household_share), *_geom_method_lines(ctx)]
    return [
        tr("method_model", lang, model=r.model, radii=radii, rx=r.rx_height_m, k=r.k_factor),
        tr("method_antenna", lang, h=r.h_beamwidth_deg, v=r.v_beamwidth_deg,
           fb=r.front_to_back_db),
        tr("method_rsrp", lang),
        tr("method_ftth", lang, drop=f.drop_reach_m, gpon=f.gpon_reach_m / 1000, rule=f.rule,
           share=f.household_share),
        tr("method_cells", lang, cells=cells),
        *_geom_method_lines(ctx),
        *_dem_model_lines(ctx),
    ]


#: The notes saying what the DEM's heights are (surface or terrain model), repeated in the
#: method (:func:`vncoverage.fileio.dem_tiles.model_note`).
_DEM_MODEL_NOTES = ("dem.surface_model", "dem.terrain_model")


def _dem_model_lines(ctx: ReportContext) -> list[str]:
    """Whether the DEM is a surface model (trees, roofs) and what that does to coverage,
    from the loader's note ([inputs] dem_surface_model, or guessed from the tile names);
    none when nothing is known."""
    texts = [localise(n, ctx.lang) for n in ctx.notes
             if isinstance(n, Message) and n.key in _DEM_MODEL_NOTES]
    return [t[:1].upper() + t[1:] + "." for t in texts]


def _geom_method_lines(ctx: ReportContext) -> list[str]:
    """How the village areas were made, when some are not given polygons (villages given as
    points: Voronoi cells clipped to their commune, ``geom_method``); none otherwise."""
    v = ctx.villages
    if "geom_method" not in v.columns:
        return []
    n_voronoi = int((v["geom_method"] == "voronoi").sum())
    if not n_voronoi:
        return []
    return [tr("method_geom", ctx.lang, voronoi=number(n_voronoi, ctx.lang),
               n=number(len(v), ctx.lang))]


def parameter_table(ctx: ReportContext) -> ReportTable:
    """The parameters a result depends on (provenance)."""
    c = ctx.cfg
    r = c.radio
    rows = [
        ["study.working_crs", c.study.working_crs],
        ["radio.model", r.model],
        ["radio.technologies", ", ".join(r.technologies)],
        ["radio.max_radius_m", ", ".join(f"{t} {r.max_radius_m[t]:g}" for t in r.technologies)],
        ["radio.rsrp_threshold_dbm", ", ".join(f"{t} {r.rsrp_threshold_dbm[t]:g}"
                                               for t in r.technologies)],
        ["radio.location_sigma_db / location_probability",
         f"{r.location_sigma_db:g} dB / {r.location_probability:g} "
         f"(margin {r.location_margin_db:.2f} dB)"],
        ["radio.rx_height_m", f"{r.rx_height_m:g}"],
        ["coverage.covered_population_share", f"{c.coverage.covered_population_share:g}"],
        ["ftth.drop_reach_m / gpon_reach_m", f"{c.ftth.drop_reach_m:g} / {c.ftth.gpon_reach_m:g}"],
        ["ftth.rule / household_share", f"{c.ftth.rule} / {c.ftth.household_share:g}"],
        ["kpi.plan_start … plan_end", f"{c.kpi.plan_start} … {c.kpi.plan_end}"],
        ["kpi.count_weak_as_covered", str(c.kpi.count_weak_as_covered)],
        ["remote gap: town / road distance (m)",
         f"{ctx.remote_town_m:g} / {ctx.remote_road_m:g}"],
    ]
    if c.calibration.corrections is not None:
        rows.append(["calibration.corrections", calibration_provenance(c)])
    if ctx.calibration is not None:
        cc = ctx.calibration.corrections
        rows.append(["calibration.measurements",
                     f"{c.calibration.measurements}: sha256 {cc.measurements_sha256}, n = "
                     f"{cc.n} ({cc.n_sites} sites), global offset "
                     f"{cc.global_offset_db:+.2f} dB, residual σ {cc.sigma_db:.2f} dB; seed "
                     f"{c.calibration.seed}, {c.calibration.folds} folds"])
    return ReportTable([tr("col_parameter", ctx.lang), tr("col_value", ctx.lang)], rows,
                 [False, False])


def calibration_provenance(cfg: Config) -> str:
    """The calibration the run used (``[calibration] corrections``): the file, the
    measurement file's sha256, n, the σ fitted, the global offset and the held-out RMSE."""
    path = cfg.calibration.corrections
    try:
        c = read_corrections(path) if path is not None else None
    except InputDataError:
        c = None
    if c is None:
        return f"{path} (unreadable)"
    cv = c.cv
    return (f"{path}: measurements sha256 {c.measurements_sha256}, n = {c.n} "
            f"({c.n_sites} sites), global offset {c.global_offset_db:+.2f} dB, "
            f"{len(c.groups)} operator/band offset(s), residual σ {c.sigma_db:.2f} dB; "
            f"held-out-site RMSE {float(cv.get('rmse_before_db', math.nan)):.2f} → "
            f"{float(cv.get('rmse_after_db', math.nan)):.2f} dB")


def input_table(ctx: ReportContext) -> ReportTable:
    rows = []
    for key, digest in ctx.checksums.items():
        p = (getattr(ctx.cfg.inputs, key, None) if key not in ("corrections", "measurements")
             else getattr(ctx.cfg.calibration, key))
        rows.append([key, str(p) if p is not None else "", digest])
    return ReportTable([tr("col_input", ctx.lang), tr("path", ctx.lang), "sha256"], rows,
                 [False, False, False])


def _db(v: float, lang: str, signed: bool = False) -> str:
    """A value in dB to 0.01 (``+`` before a positive one when ``signed``)."""
    text = number(v, lang, 2)
    return f"+{text}" if signed and v == v and v > 0 else text


def calibration_tables(ctx: ReportContext) -> dict[str, ReportTable]:
    """The calibration the run made itself: its provenance (file, sha256, points, sites,
    global offset ± standard error, the operator / band offsets, σ) and the before / after
    table of the residuals (bias, RMSE, σ; all points and held-out sites); none without."""
    cal, lang = ctx.calibration, ctx.lang
    if cal is None:
        return {}
    c = cal.corrections
    prov = [[tr("cal_file", lang), f"{c.measurements_file} (sha256 {c.measurements_sha256})"],
            [tr("cal_points", lang), f"{number(c.n, lang)} / {number(c.n_sites, lang)}"],
            [tr("cal_global", lang), f"{_db(c.global_offset_db, lang, True)} ± "
                                     f"{_db(c.global_offset_se_db, lang)} dB"],
            *[[tr("cal_group", lang, group=f"{g.operator} {g.technology} {g.band}",
                  n=number(g.n, lang), sites=number(g.n_sites, lang)),
               f"{_db(g.offset_db, lang, True)} dB"] for g in c.groups],
            [tr("cal_sigma", lang), f"{_db(c.sigma_db, lang)} dB ({_db(c.site_sigma_db, lang)}"
                                    f", {_db(c.point_sigma_db, lang)})"]]
    ba = before_after(cal)
    labels = {"all": tr("cal_row_all", lang),
              "held_out": tr("cal_row_held_out", lang, folds=int(c.cv.get("folds", 0)))}
    cols = ["bias_before", "bias_after", "rmse_before", "rmse_after", "sigma_before",
            "sigma_after"]
    rows = [[labels[str(k)], number(int(r["n"]), lang),
             *(_db(r[col], lang, col.startswith("bias")) for col in cols)]
            for k, r in ba.iterrows()]
    header = [tr("col_residuals", lang), tr("col_n", lang),
              *(tr(f"col_{col}", lang) for col in cols)]
    return {"calibration": ReportTable([tr("col_parameter", lang), tr("col_value", lang)],
                                       prov, [False, False]),
            "calibration_before_after": ReportTable(header, rows, [False, *[True] * 7],
                                                    note=tr("cal_before_after_note", lang))}


def versions() -> dict[str, str]:
    """Versions of vncoverage and of the libraries its numbers depend on."""
    return {"vncoverage": __version__, "numpy": np.__version__,
            "rasterio": rasterio.__version__, "GDAL": rasterio.__gdal_version__,
            "shapely": shapely.__version__, "GEOS": shapely.geos_version_string}


def change_tables(ctx: ReportContext, limit: int = 200) -> dict[str, ReportTable]:
    """The changes since the previous run: KPIs before -> after, the cells added, changed or
    removed, and the villages whose verdict changed (largest population first)."""
    ch = ctx.changes
    if ch is None:
        return {}
    lang = ctx.lang
    kpis = ReportTable([tr("col_kpi", lang), tr("col_before", lang), tr("col_after", lang),
                  tr("col_change_pts", lang)],
                 [[str(r["kpi"]), number(r["before"], lang, 1), number(r["after"], lang, 1),
                   number(r["change_pts"], lang, 1)] for _, r in ch.kpis.iterrows()],
                 [False, True, True, True])
    cells = ReportTable([tr("col_cell", lang), tr("col_change", lang), tr("col_operator", lang),
                   tr("col_technology", lang)],
                  [[str(r["cell_id"]), tr(f"change_{r['change']}", lang), str(r["operator"]),
                    str(r["technology"])] for _, r in ch.cells.iterrows()],
                  [False, False, False, False])
    v = ch.villages.head(limit)
    villages = ReportTable([tr("col_village", lang), column_label("district", lang),
                      tr("col_population", lang), tr("col_technology", lang),
                      tr("col_before", lang), tr("col_after", lang), tr("col_cells", lang)],
                     [[str(r["name"]), str(r["district"]), number(r["population"], lang),
                       str(r["technology"]), verdict_label(str(r["verdict_before"]), lang),
                       verdict_label(str(r["verdict_after"]), lang),
                       str(r["cells"])] for _, r in v.iterrows()],
                     [False, False, True, False, False, False, False],
                     note=(tr("changes_more", lang, n=len(ch.villages) - limit)
                           if len(ch.villages) > limit else ""))
    return {"change_kpis": kpis, "change_cells": cells, "change_villages": villages}


def report_tables(ctx: ReportContext) -> dict[str, ReportTable]:
    """Every table of the report, by section key."""
    lang = ctx.lang
    return {
        "kpis": kpi_report_table(ctx),
        "districts": area_report_table(ctx, ctx.by_district, column_label("district", lang)),
        "communes": area_report_table(ctx, ctx.by_commune_2025, column_label("commune_2025", lang)),
        "uncovered": uncovered_table(ctx),
        "remote": uncovered_table(ctx, remote_only=True),
        "parameters": parameter_table(ctx),
        "inputs": input_table(ctx),
        **change_tables(ctx),
        **({"sensitivity": sens} if (sens := sensitivity_table(ctx)) is not None else {}),
        **calibration_tables(ctx),
    }


# --------------------------------------------------------------------------------------
# Markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md(table: ReportTable) -> list[str]:
    align = [("---:" if (table.numeric[i] if i < len(table.numeric) else False) else "---")
             for i in range(len(table.header))]
    lines = ["| " + " | ".join(_md_cell(h) for h in table.header) + " |",
             "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in table.rows]
    if table.note:
        lines += ["", table.note]
    return [*lines, ""]


def markdown_report(
    *,
    cfg: Config,
    kpis: pd.DataFrame,
    villages: pd.DataFrame,
    by_district: pd.DataFrame,
    by_commune_2025: pd.DataFrame,
    checksums: Mapping[str, str],
    notes: Sequence[str],
    timings: Mapping[str, float],
    n_cells: Mapping[str, int],
    uncovered_limit: int = 100,
    lang: str = DEFAULT_LANG,
    figures: Mapping[str, str] | None = None,
) -> str:
    """The whole report as Markdown.

    Parameters
    ----------
    lang
        ``"vi"`` (default) or ``"en"``.
    figures
        Optional relative paths of the chart PNGs, keys ``kpi_progress``,
        ``district_coverage`` and ``gap_map``, linked from the report.
    """
    ctx = ReportContext(cfg=cfg, kpis=shown_kpis(kpis), villages=villages,
                        by_district=by_district,
                        by_commune_2025=by_commune_2025, checksums=checksums, notes=notes,
                        timings=timings, n_cells=n_cells, lang=check_lang(lang),
                        uncovered_limit=uncovered_limit)
    return render_markdown(ctx, figures=figures)


def _strip_tags(text: str) -> str:
    return text.replace("<b>", "**").replace("</b>", "**")


def _mobile_gap_sections(ctx: ReportContext, tables: Mapping[str, ReportTable]) -> list[str]:
    """The villages without coverage and the remote gaps, in Markdown."""
    parts: list[str] = []
    n_bad = uncovered_count(ctx)
    parts += [f"## {ctx.heading('sec_uncovered')} ({n_bad})", ""]
    if n_bad:
        parts += _md(tables["uncovered"])
    n_remote = len(tables["remote"].rows)
    parts += [f"## {ctx.heading('sec_remote')} ({n_remote})", "", remote_rule(ctx), ""]
    if n_remote:
        parts += _md(tables["remote"])
    return parts


def uncovered_count(ctx: ReportContext) -> int:
    """Villages whose mobile-broadband verdict is not covered (0 without the mobile
    analysis)."""
    v = ctx.villages
    return int((v["verdict_mbb_any"] != COVERED).sum()) if "verdict_mbb_any" in v else 0


def render_markdown(ctx: ReportContext, *, figures: Mapping[str, str] | None = None) -> str:
    """Markdown rendering of a :class:`ReportContext`."""
    lang, cfg, r = ctx.lang, ctx.cfg, ctx.cfg.radio
    tables = report_tables(ctx)
    figures = figures or {}
    intro = tr("report_intro", lang, share=cfg.coverage.covered_population_share,
               thr=r.rsrp_threshold_dbm["4G"], prob=r.location_probability,
               sigma=r.location_sigma_db, margin=r.location_margin_db)
    parts = [f"# {tr('report_title', lang, study=cfg.study.name)}", "",
             tr("generated", lang, date=ctx.generated, version=__version__), "",
             *([_strip_tags(intro), ""] if ctx.mobile else []),
             f"## {ctx.heading('sec_summary')}", "",
             *(f"- {line}" for line, _ in summary_lines(ctx)), "",
             f"## {ctx.heading('sec_kpis')}", "", *_md(tables["kpis"])]
    details = [f"- **{kid}**: {detail}" for kid, detail in ctx.kpi_details()]
    parts += [*details, ""]
    charts = [(k, figures[k]) for k in ("kpi_progress", "district_coverage") if k in figures]
    if charts:
        parts += [f"## {ctx.heading('sec_charts')}", ""]
        parts += [f"![{k}]({p})" for k, p in charts] + [""]
    if "gap_map" in figures:
        parts += [f"## {ctx.heading('sec_gap_map')}", "", f"![gap_map]({figures['gap_map']})",
                  ""]
    if "calibration" in tables:
        parts += [f"## {ctx.heading('sec_calibration')}", "",
                  tr("cal_intro", lang, link="[calibration/report.md](calibration/report.md)"),
                  "", *_md(tables["calibration"]), *_md(tables["calibration_before_after"])]
    if "sensitivity" in tables:
        parts += [f"## {ctx.heading('sec_uncertainty')}", "", *_md(tables["sensitivity"])]
    if "change_kpis" in tables:
        parts += [f"## {ctx.heading('sec_changes')}", "", *_md(tables["change_kpis"]),
                  *_md(tables["change_cells"]), *_md(tables["change_villages"])]
    parts += [f"## {ctx.heading('sec_districts')}", "", *_md(tables["districts"])]
    parts += [f"## {ctx.heading('sec_communes')}", "", *_md(tables["communes"])]
    if ctx.mobile:
        parts += _mobile_gap_sections(ctx, tables)
    if (so_table := switch_off_report_table(ctx)) is not None:
        parts += [f"## {ctx.heading('sec_switch_off').format(techs='/'.join(cfg.run.switch_off))}"
                  f" ({len(ctx.switch_off) if ctx.switch_off is not None else 0})", "",
                  *(_md(so_table) if so_table.rows else [])]
    parts += [f"## {ctx.heading('sec_method')}", "", *(f"- {m}" for m in method_lines(ctx)), "",
              f"## {ctx.heading('sec_notes')}", "", *(f"- {n}" for n in ctx.note_lines()), "",
              f"## {ctx.heading('sec_provenance')}", "", *_md(tables["inputs"]),
              *_md(tables["parameters"]),
              (tr("prov_config", lang, path=f"`{cfg.source}`") if cfg.source
               else tr("prov_defaults", lang)), "",
              f"{tr('prov_version', lang)}: "
              + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".", "",
              tr("prov_timings", lang, timings=", ".join(
                  f"{k} {number(v, lang, 1)}" for k, v in ctx.timings.items())), ""]
    return "\n".join(parts)
