"""KPIs of the provincial plan: baseline, current (computed), target, gap.

Computed KPIs (DOMAIN.md):

* ``mobile_broadband_villages`` - share of villages whose mobile-broadband verdict (4G or
  5G, any operator) is "covered" (plus "lõm sóng" if ``count_weak_as_covered``);
* ``ftth_villages`` - share of villages whose FTTH verdict is covered;
* ``shared_new_bts`` - among BTS commissioned in the plan period, the share on a shared
  tower: a tower hosting more than one operator, or owned by a neutral tower company.
  A BTS is one operator's technology on one tower (the unit of the province's BTS
  statistics), commissioned at the date of its first cell.

Gaps are given in percentage points and in units (villages or BTS): how many more villages
must be covered to reach the target, ``ceil(target * N) - covered``.
"""

from __future__ import annotations

import math

import pandas as pd

from .config import KpiConfig
from .villages import COVERED, LOM_SONG, TRANG_SONG, UNKNOWN

__all__ = ["bts_inventory", "compute_kpis", "summarise_by_area"]


def bts_inventory(cells: pd.DataFrame, kpi: KpiConfig) -> pd.DataFrame:
    """One row per BTS (site, operator, technology) with ``commissioned``, ``new`` (in the
    plan period) and ``shared`` (tower hosting > 1 operator or neutral owner)."""
    keyed = pd.DataFrame({"site_id": cells["site_id"], "operator": cells["operator"],
                          "technology": cells["technology"],
                          "commissioned": pd.to_datetime(cells["commissioned"]),
                          "tower_owner": cells["tower_owner"]})
    g = keyed.groupby(["site_id", "operator", "technology"], sort=True)
    bts = g.agg(commissioned=("commissioned", "min"), tower_owner=("tower_owner", "first"))
    ops_per_site = cells.groupby("site_id")["operator"].nunique()
    site = bts.index.get_level_values("site_id")
    multi = ops_per_site.reindex(site).to_numpy() > 1
    owners = cells.groupby("site_id")["tower_owner"].first().reindex(site).fillna("")
    neutral = (~owners.isin(kpi.operators) & (owners != "")).to_numpy()
    bts["shared"] = multi | neutral
    comm = pd.to_datetime(bts["commissioned"])
    bts["new"] = (comm >= pd.Timestamp(kpi.plan_start)) & (comm <= pd.Timestamp(kpi.plan_end))
    return bts


def _gap_units(target_pct: float, n: int, achieved: int) -> int:
    return max(0, math.ceil(target_pct / 100.0 * n - 1e-9) - achieved)


def compute_kpis(
    villages: pd.DataFrame,
    cells: pd.DataFrame,
    targets: pd.DataFrame | None,
    kpi: KpiConfig,
) -> pd.DataFrame:
    """The KPI table.

    Parameters
    ----------
    villages
        Per-village results with ``verdict_mbb_any`` and (optionally) ``ftth_covered``.
    cells
        Cell inventory (for the shared-BTS KPI).
    targets
        Plan table indexed by ``kpi_id`` (baseline_2023, target_2025, computed, names);
        ``None`` gives current values only.

    Returns
    -------
    DataFrame indexed by ``kpi_id`` with ``name_vi, name_en, unit, baseline_2023,
    current, target_2025, gap_pct_points, achieved, total, gap_units, status``.
    """
    n = len(villages)
    rows: dict[str, dict[str, object]] = {}
    ok = [COVERED, LOM_SONG] if kpi.count_weak_as_covered else [COVERED]
    if "verdict_mbb_any" in villages:
        v = villages["verdict_mbb_any"]
        covered = int(v.isin(ok).sum())
        rows["mobile_broadband_villages"] = {
            "current": 100.0 * covered / n if n else math.nan, "achieved": covered, "total": n,
            "unit_name": "villages",
            "detail": (f"{int((v == COVERED).sum())} covered, {int((v == LOM_SONG).sum())} "
                       f"lõm sóng, {int((v == TRANG_SONG).sum())} trắng sóng, "
                       f"{int((v == UNKNOWN).sum())} unknown"),
        }
    if "ftth_covered" in villages:
        fc = int(villages["ftth_covered"].fillna(False).astype(bool).sum())
        rows["ftth_villages"] = {
            "current": 100.0 * fc / n if n else math.nan, "achieved": fc, "total": n,
            "unit_name": "villages",
            "detail": str(villages["ftth_method"].iloc[0]) if "ftth_method" in villages else "",
        }
    bts = bts_inventory(cells, kpi)
    new = bts[bts["new"]]
    n_new, n_shared = len(new), int(new["shared"].sum())
    rows["shared_new_bts"] = {
        "current": 100.0 * n_shared / n_new if n_new else math.nan,
        "achieved": n_shared, "total": n_new, "unit_name": "BTS",
        "detail": f"BTS commissioned {kpi.plan_start} to {kpi.plan_end}",
    }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "kpi_id"
    if targets is not None:
        t = targets.copy()
        out = t[["name_vi", "name_en", "unit", "baseline_2023", "target_2025", "computed"]].join(
            out, how="outer")
        order = [*t.index, *(k for k in out.index if k not in t.index)]
        out = out.reindex(order)
    else:
        for col in ("name_vi", "name_en", "unit", "baseline_2023", "target_2025"):
            out[col] = None
        out["computed"] = True
    out["gap_pct_points"] = out["target_2025"] - out["current"]
    gaps: list[int | None] = []
    status: list[str] = []
    for _, r in out.iterrows():
        if pd.isna(r.get("current")):
            gaps.append(None)
            status.append("reported statistic, not computed" if not r.get("computed")
                          else "no data")
            continue
        tgt = r.get("target_2025")
        if pd.isna(tgt):
            gaps.append(None)
            status.append("no target")
            continue
        gaps.append(_gap_units(float(tgt), int(r["total"]), int(r["achieved"])))
        status.append("met" if float(r["current"]) >= float(tgt) - 1e-9 else "not met")
    out["gap_units"] = gaps
    out["status"] = status
    order = ["name_vi", "name_en", "unit", "baseline_2023", "current", "target_2025",
             "gap_pct_points", "achieved", "total", "gap_units", "unit_name", "status", "detail"]
    return out[[c for c in order if c in out.columns]]


def summarise_by_area(villages: pd.DataFrame, by: str) -> pd.DataFrame:
    """Coverage per district or per 2025 commune: villages, population, mobile-broadband
    verdict counts and share, population covered, FTTH villages and households passed."""
    v = villages
    g = v.groupby(by, sort=True)
    out = pd.DataFrame({
        "villages": g.size(),
        "population": g["population"].sum(),
    })
    if "verdict_mbb_any" in v:
        counts = pd.crosstab(v[by], v["verdict_mbb_any"]).reindex(
            index=out.index, columns=[COVERED, LOM_SONG, TRANG_SONG, UNKNOWN], fill_value=0)
        counts.columns = ["mbb_covered", "mbb_lom_song", "mbb_trang_song", "mbb_unknown"]
        out = out.join(counts)
        out["mbb_covered_pct"] = 100.0 * out["mbb_covered"] / out["villages"]
        popcov = (v["population"] * v["pop_share_mbb_any"]).groupby(v[by]).sum()
        out["mbb_population_covered_pct"] = 100.0 * popcov / out["population"].where(
            out["population"] > 0)
    if "ftth_covered" in v:
        out["ftth_covered"] = g["ftth_covered"].sum().astype(int)
        out["ftth_covered_pct"] = 100.0 * out["ftth_covered"] / out["villages"]
        out["ftth_households_passed"] = g["ftth_households_passed"].sum()
        out["ftth_households"] = g["ftth_households"].sum()
    return out
