"""The planner's report in Markdown: KPIs, districts, 2025 communes, uncovered villages,
method and provenance. Pure text generation; writing is :mod:`vncoverage.io`'s job."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from . import __version__
from .config import Config

__all__ = ["kpi_text_table", "markdown_report"]


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


def _md_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


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


def kpi_text_table(kpis: pd.DataFrame) -> str:
    """A plain-text KPI table for the terminal."""
    header = ["KPI", "unit", "baseline 2023", "current", "target 2025", "gap", "status"]
    rows = [[_fmt(c) for c in r] for r in _kpi_rows(kpis)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


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
) -> str:
    """The whole report as Markdown."""
    r, f = cfg.radio, cfg.ftth
    parts = [f"# Village coverage report: {cfg.study.name}", ""]
    parts += [
        f"vncoverage {__version__}. Mobile broadband means 4G or 5G. A village is *covered* "
        "when the signal at its centre (cultural house) and over at least "
        f"{cfg.coverage.covered_population_share:.0%} of its settled population reaches "
        f"{r.rsrp_threshold_dbm['4G']:g} dBm RSRP at {r.location_probability:.0%} of locations "
        f"(σ = {r.location_sigma_db:g} dB, margin {r.location_margin_db:.1f} dB); "
        "*lõm sóng* when the centre is covered but not enough of the settled area; "
        "*trắng sóng* when the centre has no usable signal.",
        "",
        "## KPIs against the plan (2023–2025)",
        "",
        _md_table(["KPI", "unit", "baseline Q2/2023", "current", "target 2025", "gap",
                   "status"], _kpi_rows(kpis)),
        "",
    ]
    details = [f"- **{kid}**: {row['detail']}" for kid, row in kpis.iterrows()
               if isinstance(row.get("detail"), str) and row.get("detail")]
    parts += [*details, ""]

    def group_section(title: str, g: pd.DataFrame) -> list[str]:
        cols = ["villages", "population", "mbb_covered", "mbb_lom_song", "mbb_trang_song",
                "mbb_covered_pct", "mbb_population_covered_pct", "ftth_covered_pct"]
        cols = [c for c in cols if c in g.columns]
        header = ["", *(c.replace("_", " ") for c in cols)]
        rows = [[idx, *(g.at[idx, c] for c in cols)] for idx in g.index]
        return [f"## {title}", "", _md_table(header, rows), ""]

    parts += group_section("By district (before 1 July 2025)", by_district)
    parts += group_section("By commune (from 1 July 2025)", by_commune_2025)

    bad = villages[villages["verdict_mbb_any"] != "covered"].sort_values(
        "population", ascending=False)
    parts += [f"## Villages without mobile broadband coverage ({len(bad)})", ""]
    if len(bad):
        cols = ["name", "commune", "district", "population", "verdict_mbb_any",
                "pop_share_mbb_any", "best_dbm_centre_4g"]
        cols = [c for c in cols if c in bad.columns]
        rows = [[vid, *(row[c] for c in cols)] for vid, row in bad.head(uncovered_limit).iterrows()]
        parts += [_md_table(["village_id", *cols], rows), ""]
        if len(bad) > uncovered_limit:
            parts += [f"… and {len(bad) - uncovered_limit} more in `villages.gpkg` / "
                      "`villages.csv`.", ""]
    parts += [
        "## Method",
        "",
        f"- Propagation model: `{r.model}` on the DEM, radius per technology "
        + ", ".join(f"{t} {r.max_radius_m[t] / 1000:g} km" for t in r.technologies)
        + f"; receiver {r.rx_height_m:g} m above ground; k = {r.k_factor:.3f}.",
        f"- Antennas: 3GPP TR 36.814 sector pattern, {r.h_beamwidth_deg:g}° horizontal, "
        f"{r.v_beamwidth_deg:g}° vertical beamwidth, front-to-back {r.front_to_back_db:g} dB.",
        "- RSRP is per resource element: EIRP − 10·log10(12·N_RB) + antenna gain − path loss.",
        f"- FTTH: drop reach {f.drop_reach_m:g} m, GPON reach {f.gpon_reach_m / 1000:g} km, "
        f"rule `{f.rule}` (household share {f.household_share:.0%}).",
        "- Cells computed: " + ", ".join(f"{k}: {v}" for k, v in n_cells.items()) + ".",
        "",
        "## Notes",
        "",
        *(f"- {n}" for n in notes),
        "",
        "## Provenance",
        "",
        _md_table(["input", "sha256"], [[k, v] for k, v in checksums.items()]),
        "",
        f"Configuration: `{cfg.source}`." if cfg.source else "Configuration: defaults.",
        "",
        "Stage timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()) + ".",
        "",
    ]
    return "\n".join(parts)
