"""KPIs of the provincial plan: baseline, current (computed), target, gap.

Computed KPIs (DOMAIN.md):

* ``mobile_broadband_villages`` - share of villages whose mobile-broadband verdict (4G or
  5G, any operator) is "covered" (plus "lõm sóng" if ``count_weak_as_covered``);
* ``ftth_villages`` - share of villages whose FTTH verdict is covered;
* ``shared_new_bts`` - among BTS commissioned in the plan period, the share on a shared
  tower: a tower hosting more than one operator, or owned by a neutral tower company.
  A BTS is one operator's technology on one site (the unit of the province's BTS
  statistics), commissioned at the date of its first cell. A tower is a group of sites:
  each operator numbers its own sites, so one mast may carry several ``site_id`` a few
  metres apart; the pipeline groups the sites within ``[kpi] same_tower_m``
  (:func:`vncoverage.towers.same_tower_ids`) and passes the groups in (``tower_ids``);
  without them, or with ``same_tower_m = 0``, only equal ``site_id`` is one tower. The
  KPI's ``detail`` says which rule was used.
* ``mobile_service_villages``, ``service_2g3g_only_villages``, ``service_2g3g_only_people``
  - villages with any mobile service (``verdict_service_any``), villages with service
  only through 2G/3G (``service_2g3g_only``) and the people in them; "not computed" when
  the run computed neither 2G nor 3G (:data:`SERVICE_KPI_NAMES`, README "2G/3G
  switch-off").

Gaps are given in percentage points and in units (villages or BTS): how many more villages
must be covered to reach the target, ``ceil(target * N) - covered``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from .config import KpiConfig
from .i18n import Message
from .villages import COVERED, LOM_SONG, TRANG_SONG, UNKNOWN

__all__ = ["bts_inventory", "compute_kpis", "summarise_by_area", "tower_rule"]


def _tower_of_sites(site: pd.Series, tower_ids: pd.Series | None,
                    kpi: KpiConfig) -> pd.Series:
    """The tower id of each cell's site (``site`` as text): ``tower_ids`` looked up, or the
    site itself without them. Refuses groups that do not fit the configuration."""
    if tower_ids is None:
        return site
    tower = site.map(tower_ids.set_axis(tower_ids.index.astype(str)))
    if tower.isna().any():
        missing = sorted(set(site[tower.isna()]))[:5]
        raise ValueError(f"tower_ids has no tower for site(s) {missing}: compute it from the "
                         "same cells with vncoverage.towers.same_tower_ids")
    if kpi.same_tower_m == 0 and (tower != site).any():
        raise ValueError("tower_ids groups several site ids but [kpi] same_tower_m is 0: "
                         "compute it with the configured distance")
    return tower.astype(str)


def bts_inventory(cells: pd.DataFrame, kpi: KpiConfig,
                  tower_ids: pd.Series | None = None) -> pd.DataFrame:
    """One row per BTS (site, operator, technology).

    Parameters
    ----------
    cells
        Cell inventory: ``site_id``, ``operator``, ``technology``, ``commissioned``,
        ``tower_owner``.
    kpi
        The KPI configuration (plan period, the operators, ``same_tower_m``).
    tower_ids
        The tower of each site, indexed by ``site_id``
        (:func:`vncoverage.towers.same_tower_ids` of the same cells with
        ``kpi.same_tower_m``); ``None``: every ``site_id`` is its own tower.

    Returns
    -------
    DataFrame indexed by (``site_id``, ``operator``, ``technology``) with ``commissioned``
    (first cell), ``tower_owner`` (first cell), ``tower_id``, ``new`` (commissioned in the
    plan period) and ``shared`` (its tower - all the sites of its group - hosts more than one
    operator or one of its sites names a neutral owner, i.e. not one of ``kpi.operators``).
    """
    site = cells["site_id"].astype(str)
    tower = _tower_of_sites(site, tower_ids, kpi)
    keyed = pd.DataFrame({"site_id": cells["site_id"], "operator": cells["operator"],
                          "technology": cells["technology"],
                          "commissioned": pd.to_datetime(cells["commissioned"]),
                          "tower_owner": cells["tower_owner"], "tower_id": tower})
    g = keyed.groupby(["site_id", "operator", "technology"], sort=True)
    bts = g.agg(commissioned=("commissioned", "min"), tower_owner=("tower_owner", "first"),
                tower_id=("tower_id", "first"))
    ops_per_tower = keyed.groupby("tower_id")["operator"].nunique()
    owners = keyed.groupby("site_id")["tower_owner"].first().fillna("")
    site_neutral = ~owners.isin(kpi.operators) & (owners != "")
    site_tower = keyed.groupby("site_id")["tower_id"].first()
    neutral_tower = site_neutral.groupby(site_tower).any()
    bts_tower = bts["tower_id"]
    multi = ops_per_tower.reindex(bts_tower).to_numpy() > 1
    neutral = neutral_tower.reindex(bts_tower).to_numpy(dtype=bool)
    bts["shared"] = multi | neutral
    comm = pd.to_datetime(bts["commissioned"])
    bts["new"] = (comm >= pd.Timestamp(kpi.plan_start)) & (comm <= pd.Timestamp(kpi.plan_end))
    return bts


def tower_rule(kpi: KpiConfig, tower_ids: pd.Series | None) -> Message:
    """What counted as one tower in the shared-BTS KPI, for its ``detail``: the distance and
    the number of towers made of several site ids, or that only equal ``site_id`` is one."""
    if tower_ids is None:
        return Message("kpi.rule_not_grouped")
    if kpi.same_tower_m == 0:
        return Message("kpi.rule_zero")
    sizes = tower_ids.value_counts()
    return Message("kpi.rule_distance", m=kpi.same_tower_m, n=int((sizes > 1).sum()))


def _gap_units(target_pct: float, n: int, achieved: int) -> int:
    return max(0, math.ceil(target_pct / 100.0 * n - 1e-9) - achieved)


#: The mobile-service KPIs (:func:`_service_rows`): names (Vietnamese, English); the
#: unit is % (of the villages, of the population).
SERVICE_KPI_NAMES = {
    "mobile_service_villages": ("Tỷ lệ thôn có sóng di động (2G, 3G, 4G hoặc 5G)",
                                "Villages with any mobile service (2G, 3G, 4G or 5G)"),
    "service_2g3g_only_villages": ("Tỷ lệ thôn chỉ có sóng 2G/3G (mất sóng khi tắt 2G/3G)",
                                   "Villages with mobile service only through 2G/3G "
                                   "(lost at switch-off)"),
    "service_2g3g_only_people": ("Tỷ lệ dân số ở thôn chỉ có sóng 2G/3G",
                                 "People in villages with service only through 2G/3G"),
}

#: The status of the mobile-service KPIs when the run computed neither 2G nor 3G.
NO_2G3G_STATUS = "not computed (no 2G/3G layers)"

#: The computed KPIs of each analysis (``[run] analyses``).
ANALYSIS_KPIS = {"mobile": ("mobile_broadband_villages", "shared_new_bts",
                            *SERVICE_KPI_NAMES),
                 "fibre": ("ftth_villages",)}

#: The status of a KPI whose analysis the run did not make, by the analysis the run made.
NOT_RUN_STATUS = {"fibre": "not computed (fibre-only run)",
                  "mobile": "not computed (mobile-only run)"}


def _not_run(analyses: Sequence[str]) -> dict[str, dict[str, object]]:
    """The rows of the KPIs of the analyses not in ``analyses``: no value, the status
    :data:`NOT_RUN_STATUS` (never 0 % nor "met"), a detail saying why."""
    rows: dict[str, dict[str, object]] = {}
    for a, ids in ANALYSIS_KPIS.items():
        if a in analyses:
            continue
        status = NOT_RUN_STATUS.get(analyses[0] if len(analyses) == 1 else "", "not computed")
        for kpi_id in ids:
            rows[kpi_id] = {"current": math.nan, "achieved": None, "total": None,
                            "unit_name": "BTS" if kpi_id == "shared_new_bts" else "villages",
                            "status": status,
                            "detail": Message("kpi.not_run", analysis=Message(
                                "analysis.mobile" if a == "mobile" else "analysis.fibre"))}
    return rows


def _service_rows(villages: pd.DataFrame, ok: Sequence[str]) -> dict[str, dict[str, object]]:
    """The mobile-service KPIs (:data:`SERVICE_KPI_NAMES`): villages whose
    ``verdict_service_any`` (any computed technology) is in ``ok``; villages with
    ``service_2g3g_only`` (:func:`vncoverage.villages.service_only_through` 2G and 3G) and
    their people (``population``). Without those columns (the run computed neither 2G nor
    3G): no value, the status :data:`NO_2G3G_STATUS`."""
    n = len(villages)
    if "verdict_service_any" not in villages or "service_2g3g_only" not in villages:
        return {kpi_id: {"current": math.nan, "achieved": None, "total": None,
                         "unit_name": "people" if kpi_id.endswith("people") else "villages",
                         "status": NO_2G3G_STATUS, "detail": Message("kpi.no_2g3g")}
                for kpi_id in SERVICE_KPI_NAMES}
    served = int(villages["verdict_service_any"].isin(ok).sum())
    only = villages["service_2g3g_only"].fillna(False).astype(bool)
    pop = villages["population"].fillna(0).astype(float) if "population" in villages \
        else pd.Series(0.0, index=villages.index)
    people, total = float(pop[only].sum()), float(pop.sum())
    techs = [t for t in ("2G", "3G", "4G", "5G") if f"verdict_{t.lower()}_any" in villages]
    detail = Message("kpi.detail_service", techs=", ".join(techs), n=int(only.sum()),
                     people=int(round(people)))
    return {
        "mobile_service_villages": {"current": 100.0 * served / n if n else math.nan,
                                    "achieved": served, "total": n, "unit_name": "villages",
                                    "detail": detail},
        "service_2g3g_only_villages": {"current": 100.0 * int(only.sum()) / n if n
                                       else math.nan, "achieved": int(only.sum()),
                                       "total": n, "unit_name": "villages", "detail": detail},
        "service_2g3g_only_people": {"current": 100.0 * people / total if total
                                     else math.nan, "achieved": int(round(people)),
                                     "total": int(round(total)), "unit_name": "people",
                                     "detail": detail},
    }


def _whole_targets(target: pd.Series, targets: pd.DataFrame | None) -> pd.Series:
    """``target`` (the KPI table's ``target_2025``) as the targets table wrote it: when the
    table's targets are whole numbers and only the mobile-service rows (which have no
    target) made the column a float one, the targets as integers and None there (so that
    ``kpi.csv`` writes ``98``, not ``98.0``, as before those rows)."""
    if targets is None or not pd.api.types.is_integer_dtype(targets["target_2025"]):
        return target
    others = ~target.index.isin(list(SERVICE_KPI_NAMES))
    if target[others].isna().any():
        return target
    return pd.Series([int(x) if pd.notna(x) else None for x in target], index=target.index,
                     dtype=object, name=target.name)


def compute_kpis(
    villages: pd.DataFrame,
    cells: pd.DataFrame | None,
    targets: pd.DataFrame | None,
    kpi: KpiConfig,
    tower_ids: pd.Series | None = None,
    *,
    ftth_method: str | None = None,
    analyses: Sequence[str] = ("mobile", "fibre"),
) -> pd.DataFrame:
    """The KPI table.

    Parameters
    ----------
    villages
        Per-village results with ``verdict_mbb_any`` and (optionally) ``ftth_covered``.
    cells
        Cell inventory (for the shared-BTS KPI); None without the mobile analysis.
    targets
        Plan table indexed by ``kpi_id`` (baseline_2023, target_2025, computed, names);
        ``None`` gives current values only.
    tower_ids
        The tower of each site for the shared-BTS KPI (see :func:`bts_inventory`).
    ftth_method
        How FTTH reach was measured, for the FTTH KPI's ``detail``
        (:attr:`vncoverage.fibre.FtthResult.method`); default: the villages'
        ``ftth_method`` column.
    analyses
        The analyses of the run (``"mobile"``, ``"fibre"``): the KPIs of the others
        (:data:`ANALYSIS_KPIS`) have no value and the status :data:`NOT_RUN_STATUS`
        (``not computed (fibre-only run)``), even when ``villages`` has their columns.

    Returns
    -------
    DataFrame indexed by ``kpi_id`` with ``name_vi, name_en, unit, baseline_2023,
    current, target_2025, gap_pct_points, achieved, total, gap_units, status, detail``.
    ``detail`` (object column) holds :class:`~vncoverage.i18n.Message` objects: the
    English text, which a report renders in its language.
    """
    n = len(villages)
    rows: dict[str, dict[str, object]] = {}
    ok = [COVERED, LOM_SONG] if kpi.count_weak_as_covered else [COVERED]
    if "verdict_mbb_any" in villages and "mobile" in analyses:
        v = villages["verdict_mbb_any"]
        covered = int(v.isin(ok).sum())
        rows["mobile_broadband_villages"] = {
            "current": 100.0 * covered / n if n else math.nan, "achieved": covered, "total": n,
            "unit_name": "villages",
            "detail": Message("kpi.detail_mbb", covered=int((v == COVERED).sum()),
                              lom=int((v == LOM_SONG).sum()), trang=int((v == TRANG_SONG).sum()),
                              unknown=int((v == UNKNOWN).sum())),
        }
    if "ftth_covered" in villages and "fibre" in analyses:
        fc = int(villages["ftth_covered"].fillna(False).astype(bool).sum())
        rows["ftth_villages"] = {
            "current": 100.0 * fc / n if n else math.nan, "achieved": fc, "total": n,
            "unit_name": "villages",
            "detail": (ftth_method if ftth_method is not None
                       else str(villages["ftth_method"].iloc[0]) if "ftth_method" in villages
                       else ""),
        }
    if cells is not None and "mobile" in analyses:
        bts = bts_inventory(cells, kpi, tower_ids)
        new = bts[bts["new"]]
        n_new, n_shared = len(new), int(new["shared"].sum())
        rows["shared_new_bts"] = {
            "current": 100.0 * n_shared / n_new if n_new else math.nan,
            "achieved": n_shared, "total": n_new, "unit_name": "BTS",
            "detail": Message("kpi.detail_bts", start=str(kpi.plan_start),
                              end=str(kpi.plan_end), rule=tower_rule(kpi, tower_ids)),
        }
    if "mobile" in analyses:
        rows.update(_service_rows(villages, ok))
    not_run = _not_run(tuple(a for a in ("mobile", "fibre") if a in analyses))
    rows.update(not_run)
    fixed_status = {k: r.pop("status") for k, r in rows.items() if "status" in r}
    details = {k: r.pop("detail") for k, r in rows.items()}
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
    for kpi_id, r in out.iterrows():
        if kpi_id in fixed_status:
            gaps.append(None)
            status.append(str(fixed_status[kpi_id]))
            continue
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
    for kpi_id, (name_vi, name_en) in SERVICE_KPI_NAMES.items():
        if kpi_id in out.index and not isinstance(out.at[kpi_id, "name_en"], str):
            out.loc[kpi_id, ["name_vi", "name_en", "unit"]] = [name_vi, name_en, "%"]
    out["target_2025"] = _whole_targets(out["target_2025"], targets)
    order = ["name_vi", "name_en", "unit", "baseline_2023", "current", "target_2025",
             "gap_pct_points", "achieved", "total", "gap_units", "unit_name", "status", "detail"]
    # an object column keeps the messages (a text column would keep their English only)
    out["detail"] = pd.Series(list(details.values()), index=list(details),
                              dtype=object).reindex(out.index)
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
