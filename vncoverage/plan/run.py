"""A plan on a run's results (:func:`make_plan`): the works that reach the targets.

1. village points and the existing cells' levels at them (the run's point matrix when its
   uncertainty collected it, else computed; the verdicts from them are checked equal to
   the run's);
2. candidates (:mod:`.candidates`) and their cells, the coverage matrix (:mod:`.matrix`);
3. the mixed-integer programme and the greedy baseline (:mod:`.solve`);
4. the verdicts and KPIs after the selected works, computed by the run's rule on the union
   of the existing and the planned cells (what ``vncoverage add-sites`` of the plan's cells
   and a new run compute: the closed loop);
5. the fibre plan (:mod:`.fibre_plan`) when the run has the FTTH analysis.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..clutter import ClutterGrid
from ..config import Config
from ..errors import InputDataError, Problem
from ..fileio.measurements import apply_corrections, read_corrections
from ..i18n import Message
from ..kpi import compute_kpis
from ..pointlevels import PointLevels, VillagePoints, levels_at_points
from ..results import Results
from ..towers import same_tower_ids
from ..uncertainty import (
    V_COVERED,
    V_LOM,
    V_TRANG,
    V_UNKNOWN,
    ok_codes,
    uncertainty_points,
)
from .candidates import candidate_cells, generate_candidates
from .costs import CostTable, read_cost_table
from .fibre_plan import FibrePlan, plan_fibre
from .matrix import CoverageMatrix, coverage_matrix, merged_levels, village_codes
from .solve import (
    CoverProblem,
    Solution,
    covered_points,
    covered_villages,
    solve_max_coverage,
    solve_min_cost,
)

log = logging.getLogger(__name__)

__all__ = ["MobilePlan", "Plan", "make_plan", "plan_targets"]

#: Verdict codes -> the run's verdict texts.
VERDICTS = {V_COVERED: "covered", V_LOM: "lõm sóng", V_TRANG: "trắng sóng",
            V_UNKNOWN: "unknown"}


@dataclass(frozen=True)
class MobilePlan:
    """The mobile part of a plan.

    ``candidates``: every candidate with ``selected``, ``rank`` (1 = most villages per VND
    among the selected), ``villages_gained`` / ``people_gained`` (villages it alone brings
    to covered, in rank order); ``cells``: the selected candidates' cells (the run's cell
    table schema: what ``vncoverage add-sites`` reads); ``villages``: per village the
    verdict before and after and the candidate that covers its centre; ``kpis``: the KPI
    table before and after; ``unreachable``: villages no candidate can bring to covered.
    """

    candidates: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    villages: pd.DataFrame
    kpis: pd.DataFrame
    solution: Solution
    unreachable: pd.DataFrame
    target: float
    required: int
    operator: str


@dataclass(frozen=True)
class Plan:
    """A whole plan: the mobile works, the fibre routes, the cost table, notes, timings."""

    mobile: MobilePlan | None
    fibre: FibrePlan | None
    costs: CostTable
    notes: tuple[Message | str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


def plan_targets(cfg: Config, results: Results) -> tuple[float, float]:
    """The mobile and FTTH targets (shares): ``[plan]`` when set, else the 2025 targets of
    the run's KPI table, else the plan's 98 % and 95 %."""
    def target(key: float | None, kpi_id: str, default: float) -> float:
        if key is not None:
            return float(key)
        k = results.kpis
        if "target_2025" in k and kpi_id in k.index:
            v = pd.to_numeric(pd.Series([k.at[kpi_id, "target_2025"]]), errors="coerce").iloc[0]
            if pd.notna(v):
                return float(v) / 100.0
        return default
    return (target(cfg.plan.target_mobile, "mobile_broadband_villages", 0.98),
            target(cfg.plan.target_fibre, "ftth_villages", 0.95))


def _existing_levels(cfg: Config, results: Results, points: VillagePoints) -> PointLevels:
    """The existing cells' levels at the village points: the run's matrix, or computed."""
    lev = results.point_levels
    if lev is not None and lev.n_points == points.n_points:
        return lev
    inp = results.inputs
    assert inp.cells is not None and inp.dem is not None
    clutter = _clutter(cfg, results)
    return levels_at_points(inp.cells, inp.dem, cfg.radio, points.x, points.y, clutter=clutter)


def _clutter(cfg: Config, results: Results) -> ClutterGrid | None:
    lc = results.inputs.landcover
    return ClutterGrid.from_landcover(lc, cfg.radio.rx_height_m) if lc is not None else None


def _problem(mat: CoverageMatrix, points: VillagePoints, cand: gpd.GeoDataFrame,
             before: np.ndarray, cfg: Config, population: np.ndarray,
             groups: np.ndarray | None) -> CoverProblem:
    """The solver's problem: weights as the verdict rule counts them (an unknown pixel
    leaves the share's denominator: weight 0, conservative)."""
    weight = points.weight.astype(float).copy()
    weight[mat.unknown_before & (points.kind != 1)] = 0.0  # 1: CLUSTER
    centre = np.zeros(points.n_points, bool)
    centre[points.centre[points.centre >= 0]] = True
    weight[centre] = 0.0
    share = 0.0 if cfg.kpi.count_weak_as_covered else cfg.coverage.covered_population_share
    return CoverProblem(
        cost=cand["cost_vnd"].to_numpy(float), new_bts=cand["new_bts"].to_numpy(int),
        shared=cand["shared"].to_numpy(bool), covers=mat.covers,
        point_village=points.village.astype(np.int64), point_weight=weight,
        point_centre=centre, point_covered=mat.covered_before,
        village_weight=population, village_covered=np.isin(before, ok_codes(cfg.kpi)),
        share=share, village_group=groups)


def _selected_cells(cells: gpd.GeoDataFrame, cand: gpd.GeoDataFrame,
                    selected: np.ndarray) -> gpd.GeoDataFrame:
    ids = set(cand["candidate_id"].to_numpy(str)[selected])
    return cells[cells["candidate_id"].astype(str).isin(ids)]


def _codes_with(cfg: Config, results: Results, points: VillagePoints, existing: PointLevels,
                mat: CoverageMatrix, cells: gpd.GeoDataFrame, chosen: gpd.GeoDataFrame,
                operator: str) -> np.ndarray:
    """The verdict codes with the ``chosen`` cells added (the run's rule)."""
    inp_cells = results.inputs.cells
    assert inp_cells is not None
    if not len(chosen):
        return village_codes(existing, inp_cells, cfg, points, operator)
    keep = np.isin(np.asarray(mat.levels.cell_ids, object)[mat.levels.cell],
                   chosen.index.astype(str).to_numpy())
    sub = PointLevels(mat.levels.n_points, list(mat.levels.cell_ids), mat.levels.point[keep],
                      mat.levels.cell[keep], mat.levels.level_dbm[keep])
    both = merged_levels(existing, sub)
    table = pd.concat([inp_cells.drop(columns="geometry"),
                       cells.drop(columns="geometry")], sort=False)
    return village_codes(both, table, cfg, points, operator)


def _ranked(cand: gpd.GeoDataFrame, sol: Solution, prob: CoverProblem) -> gpd.GeoDataFrame:
    """The selected candidates in greedy order of villages gained per VND (the order a
    phased roll-out would build them), with what each adds at its turn (the solver's
    village rule, :func:`~vncoverage.plan.solve.covered_villages`)."""
    out = cand.copy()
    out["selected"] = sol.selected
    out["rank"] = 0
    out["villages_gained"] = 0
    out["people_gained"] = 0.0
    chosen = [int(k) for k in np.flatnonzero(sol.selected)]
    built = np.zeros(len(sol.selected), bool)
    done = covered_villages(prob, built)
    for rank in range(1, len(chosen) + 1):
        best, best_score, best_new = -1, -math.inf, np.zeros(0, np.int64)
        for k in chosen:
            built[k] = True
            new = np.flatnonzero(covered_villages(prob, built) & ~done)
            points = int(covered_points(prob, built).sum())  # ties: more points first
            built[k] = False
            score = (len(new) + 1e-6 * points) / max(prob.cost[k], 1.0)
            if score > best_score:
                best, best_score, best_new = k, score, new
        built[best] = True
        done[best_new] = True
        out.iloc[best, out.columns.get_loc("rank")] = rank
        out.iloc[best, out.columns.get_loc("villages_gained")] = len(best_new)
        out.iloc[best, out.columns.get_loc("people_gained")] = float(
            prob.village_weight[best_new].sum())
        chosen.remove(best)
    return out


def _by_candidate(cand: gpd.GeoDataFrame, mat: CoverageMatrix, points: VillagePoints,
                  selected: np.ndarray) -> np.ndarray:
    """Per village, the selected candidate covering its centre (lowest rank), else ''."""
    ids = cand["candidate_id"].to_numpy(str)
    ranks = cand["rank"].to_numpy(int)
    out = np.full(len(points.village_ids), "", dtype=object)
    cov = mat.covers.tocsc()
    for v, p in enumerate(points.centre):
        if p < 0:
            continue
        ks = cov.indices[cov.indptr[p]:cov.indptr[p + 1]]
        ks = ks[selected[ks]]
        if len(ks):
            out[v] = ids[ks[np.argmin(ranks[ks])]]
    return out


def _kpis_after(cfg: Config, results: Results, villages_after: pd.DataFrame,
                plan_cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """The KPI table with the plan's verdicts and cells (the same :func:`compute_kpis`)."""
    inp = results.inputs
    assert inp.cells is not None
    cells = pd.concat([inp.cells, plan_cells.drop(columns=["candidate_id"], errors="ignore")],
                      sort=False)
    cells = gpd.GeoDataFrame(cells, geometry="geometry", crs=inp.cells.crs)
    towers = same_tower_ids(cells, cfg.kpi.same_tower_m)
    return compute_kpis(villages_after, cells, inp.targets, cfg.kpi, towers,
                        analyses=results.analyses)


def _group_min(prob: CoverProblem, cfg: Config, notes: list[Message | str]
               ) -> np.ndarray | None:
    """Per commune, the villages to cover (``[plan] commune_min_share`` of its villages,
    less those no candidate can reach: a requirement nothing can meet is no plan)."""
    share = cfg.plan.commune_min_share
    if share is None or prob.village_group is None:
        return None
    probe = solve_min_cost(prob, 0, time_limit_s=cfg.plan.time_limit_s)
    reach = np.ones(len(prob.village_covered), bool)
    reach[np.asarray(probe.unreachable, dtype=np.int64)] = False
    groups = prob.village_group
    n_g = int(groups.max()) + 1 if len(groups) else 0
    n = np.bincount(groups, minlength=n_g)
    can = np.bincount(groups, weights=reach, minlength=n_g).astype(np.int64)
    want = np.ceil(share * n - 1e-9).astype(np.int64)
    short = int((want > can).sum())
    if short:
        notes.append(Message("plan.commune_capped", n=short, share=share))
    return np.minimum(want, can)


def _solve(prob: CoverProblem, cfg: Config, required: int,
           notes: list[Message | str]) -> Solution:
    """The solve of ``[plan] objective``. A target beyond what every candidate together
    can reach is planned to that maximum instead (noted): the works are still worth
    knowing, and the villages left over are listed for another technology."""
    p = cfg.plan
    gmin = _group_min(prob, cfg, notes)
    if p.objective == "cost":
        sol = solve_min_cost(prob, required, budget=p.budget_vnd, sharing=p.sharing_share,
                             group_min=gmin, time_limit_s=p.time_limit_s)
        if sol.status == "infeasible" and 0 < sol.max_reachable < required:
            notes.append(Message("plan.target_capped", required=required,
                                 reach=sol.max_reachable))
            sol = solve_min_cost(prob, sol.max_reachable, budget=p.budget_vnd,
                                 sharing=p.sharing_share, group_min=gmin,
                                 time_limit_s=p.time_limit_s)
        return sol
    assert p.budget_vnd is not None
    return solve_max_coverage(prob, p.budget_vnd, objective=p.objective,
                              sharing=p.sharing_share, group_min=gmin,
                              time_limit_s=p.time_limit_s)


def plan_mobile(cfg: Config, results: Results, costs: CostTable, notes: list[Message | str],
                timings: dict[str, float], cache_dir: Path | None = None) -> MobilePlan:
    """The mobile works (module docstring, steps 1-4)."""
    inp = results.inputs
    if inp.cells is None or inp.dem is None or results.layers is None:
        raise InputDataError([Problem("config", "the mobile plan needs the mobile analysis "
                                      "(a DEM and cells)", "set [inputs] dem and cells")])
    operator = "any" if cfg.plan.mode == "neutral" else cfg.plan.mode
    t0 = time.perf_counter()
    points = uncertainty_points(inp)
    existing = _existing_levels(cfg, results, points)
    before = village_codes(existing, inp.cells, cfg, points, operator)
    _check_before(results, points, before, operator, notes)
    timings["plan_points"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    problems: list[Problem] = []
    cnotes: list[Message] = []
    cand = generate_candidates(inp, results, cfg, costs, problems=problems, notes=cnotes)
    notes.extend(cnotes)
    if problems:
        raise InputDataError(problems)
    cells = candidate_cells(cand, cfg, like=inp.cells)
    timings["plan_candidates"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    mat = coverage_matrix(_corrected(cfg, results, cells, notes),
                          pd.Index(cand["candidate_id"].astype(str)), existing,
                          inp.cells, cfg, inp.dem, points, clutter=_clutter(cfg, results),
                          operator=operator, cache_dir=cache_dir,
                          clutter_key=str(inp.checksums.get("landcover", "")))
    timings["plan_matrix"] = time.perf_counter() - t0
    vil = results.villages.reindex(points.village_ids)
    population = pd.to_numeric(vil.get("population"), errors="coerce").fillna(0).to_numpy(float)
    target, _ = plan_targets(cfg, results)
    n = len(points.village_ids)
    required = int(math.ceil(target * n - 1e-9))
    t0 = time.perf_counter()
    groups = None
    if cfg.plan.commune_min_share is not None:
        key = vil["commune"] if "commune" in vil else pd.Series("", index=vil.index)
        groups = pd.factorize(key.fillna("").astype(str))[0].astype(np.int64)
    prob = _problem(mat, points, cand, before, cfg, population, groups)
    sol = _solve(prob, cfg, required, notes)
    timings["plan_solve"] = time.perf_counter() - t0
    cand = _ranked(cand, sol, prob)
    chosen = _selected_cells(cells, cand, sol.selected)
    after = _codes_with(cfg, results, points, existing, mat, cells, chosen, operator)
    # the solver's prediction against the run's rule on the union of the cells
    differ = int((covered_villages(prob, sol.selected) != np.isin(after, ok_codes(cfg.kpi))).sum())
    if differ:
        notes.append(Message("plan.rule_mismatch", n=differ))
    table = pd.DataFrame({
        "village_id": points.village_ids,
        "name": vil.get("name"), "commune": vil.get("commune"),
        "district": vil.get("district"), "population": population,
        "before": [VERDICTS[int(c)] for c in before],
        "after": [VERDICTS[int(c)] for c in after],
        "by_candidate": _by_candidate(cand, mat, points, sol.selected),
    }).set_index("village_id")
    if "service_2g3g_only" in vil:
        # service today only through 2G/3G (lost at the switch-off): the works above keep
        # those of them that are covered after the plan
        table["service_2g3g_only"] = vil["service_2g3g_only"].to_numpy()
    vafter = results.villages.copy()
    key = "verdict_mbb_any" if operator == "any" else f"verdict_mbb_{operator.lower()}"
    vafter[key] = table["after"].reindex(vafter.index)
    if operator != "any":
        vafter["verdict_mbb_any"] = vafter["verdict_mbb_any"]
    kpis_after = _kpis_after(cfg, results, vafter, chosen)
    kpis = pd.DataFrame({"before": results.kpis["current"], "after": kpis_after["current"]})
    if "target_2025" in results.kpis:
        kpis["target_2025"] = results.kpis["target_2025"]
    unreach = _unreachable(table, cand, points, [int(i) for i in sol.unreachable])
    return MobilePlan(cand, chosen, table, kpis, sol, unreach, target, required, operator)


def _corrected(cfg: Config, results: Results, cells: gpd.GeoDataFrame,
               notes: list[Message | str]) -> gpd.GeoDataFrame:
    """The candidates' cells as the run will compute them: with the calibration's EIRP
    offsets (the run's own fit, or ``[calibration] corrections``) when the run has one.
    ``plan_cells.csv`` keeps the uncorrected EIRP (the run corrects what it reads); after
    ``add-sites`` a calibration inside the run fits again with the new cells, which can move
    the offsets a little (noted)."""
    if results.calibration is not None:
        corr = results.calibration.corrections
        notes.append(Message("plan.calibrated", n=corr.n,
                             offset=corr.global_offset_db))
        return apply_corrections(cells, corr, file=corr.measurements_file)
    if cfg.calibration.corrections is not None:
        corr = read_corrections(cfg.calibration.corrections)
        return apply_corrections(cells, corr, file=str(cfg.calibration.corrections))
    return cells


def _check_before(results: Results, points: VillagePoints, before: np.ndarray,
                  operator: str, notes: list[Message | str]) -> None:
    """The point rule's verdicts must be the run's: say so when they are not."""
    col = "verdict_mbb_any" if operator == "any" else f"verdict_mbb_{operator.lower()}"
    if col not in results.villages:
        return
    run = results.villages[col].reindex(points.village_ids).astype(str).to_numpy()
    mine = np.array([VERDICTS[int(c)] for c in before])
    diff = int((run != mine).sum())
    if diff:
        notes.append(Message("plan.before_mismatch", n=diff))


def _unreachable(table: pd.DataFrame, cand: gpd.GeoDataFrame, points: VillagePoints,
                 unreachable: Sequence[int]) -> pd.DataFrame:
    """Villages no candidate can bring to covered, with the distance from their centre to
    the nearest candidate (another technology: satellite, microwave relay)."""
    idx = np.asarray(list(unreachable), dtype=np.int64)
    if not len(idx):
        return pd.DataFrame(columns=["name", "commune", "district", "population", "before",
                                     "nearest_candidate", "nearest_candidate_m"])
    cx = points.x[points.centre[idx]]
    cy = points.y[points.centre[idx]]
    kx, ky = cand.geometry.x.to_numpy(), cand.geometry.y.to_numpy()
    if len(kx):
        d = np.hypot(cx[:, None] - kx[None, :], cy[:, None] - ky[None, :])
        j = d.argmin(axis=1)
        near, dist = cand["candidate_id"].to_numpy(str)[j], d[np.arange(len(idx)), j]
    else:
        near, dist = np.full(len(idx), ""), np.full(len(idx), np.nan)
    out = table.iloc[idx][["name", "commune", "district", "population", "before"]].copy()
    out["nearest_candidate"] = near
    out["nearest_candidate_m"] = np.round(dist, 0)
    return out


def make_plan(cfg: Config, results: Results, *, mobile: bool = True,
              fibre: bool = True, cache_dir: Path | None = None) -> Plan:
    """The plan of ``cfg``'s ``[plan]`` on ``results`` (module docstring). ``cache_dir``:
    where the candidates' levels are kept between plans (a workspace's ``cache/plan``)."""
    timings: dict[str, float] = {}
    notes: list[Message | str] = []
    costs = read_cost_table(cfg.plan.cost_table)
    mp = None
    if mobile and "mobile" in results.analyses:
        mp = plan_mobile(cfg, results, costs, notes, timings, cache_dir)
    fp = None
    if fibre and "fibre" in results.analyses and results.ftth is not None:
        t0 = time.perf_counter()
        _, target_f = plan_targets(cfg, results)
        fp = plan_fibre(cfg, results.inputs, results.ftth, costs, target_share=target_f,
                        notes=notes)
        timings["plan_fibre"] = time.perf_counter() - t0
        if mp is not None and "ftth_villages" in mp.kpis.index:
            # the FTTH KPI after the fibre plan (recomputed by the run's rule)
            mp.kpis.loc["ftth_villages", "after"] = fp.kpi_after
    return Plan(mp, fp, costs, tuple(notes), timings)


def with_plan_cells(results: Results, plan: MobilePlan) -> gpd.GeoDataFrame:
    """The run's cells and the plan's (what ``vncoverage add-sites`` of the plan gives)."""
    assert results.inputs.cells is not None
    cells = pd.concat([results.inputs.cells, plan.cells.drop(columns=["candidate_id"],
                                                              errors="ignore")])
    return gpd.GeoDataFrame(cells, geometry="geometry", crs=results.inputs.cells.crs)

