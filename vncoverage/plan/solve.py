"""The site-planning optimiser: which candidate works to build (pure, no I/O).

A :class:`CoverProblem` holds the candidates (cost, BTS added, shared or not), the coverage
matrix (which village *points* - household clusters and the village centre - each
candidate brings to "covered") and today's state. A village counts as covered when its
centre is covered and the covered share of its points' weight reaches ``share`` (the run's
verdict rule, ``coverage.covered_population_share``); a village covered today stays
covered, candidates only add coverage.

Two questions, each answered by a mixed-integer programme solved with HiGHS through
:func:`scipy.optimize.milp`, with a greedy baseline beside it:

* :func:`solve_min_cost` - the cheapest set of candidates covering at least
  ``required_villages`` villages (today's and new ones);
* :func:`solve_max_coverage` - the most villages (or people) covered for a budget.

Both accept the sharing constraint (at least ``sharing`` of the new BTS on shared towers),
per-group (commune) minimum counts of covered villages, a budget, and exclusive candidate
groups (at most one candidate per group, e.g. several heights at one place).

Formulation (after the reduction of :func:`_reduce`)
----------------------------------------------------
Variables: ``x_c`` binary (candidate built), ``y_v`` binary (village newly covered),
``z_k`` continuous in [0, 1] (point cell ``k`` covered). Points of one village covered by
exactly the same candidates are merged into one cell (weights summed). Rows::

    z_k - sum_{c covers k} x_c          <= 0          (a cell is covered only if built)
    y_v - z_{centre(v)}                 <= 0          (centre not covered today)
    y_v - z_k                           <= 0          (k essential: see below)
    sum_{k in v} w_k z_k - need_v y_v   >= 0          (need_v > 0)
    sum_v y_v                           >= required - covered today   (min cost)
    sum_{v in g} y_v                    >= group_min[g] - covered today in g
    sum_c new_bts_c (shared_c - sharing) x_c >= 0    (sharing, when sharing > 0)
    sum_c cost_c x_c                    <= budget
    sum_{c in e} x_c                    <= 1          (each exclusive group e)

with ``w_k`` the cell's share of the village weight and ``need_v = share - (share of the
village's weight covered today)``. Minimise ``sum cost_c x_c`` or maximise
``sum value_v y_v``.

Why ``z`` may stay continuous: for binary ``x`` the right-hand side ``sum x_c`` is an
integer, so ``z_k`` can reach 1 exactly when some built candidate covers cell ``k`` and is
0 otherwise. Every row that involves ``z`` bounds it from above only and uses it with a
non-negative coefficient in a ``>=`` row, so for any feasible ``(x, y, z)`` the point
(x, y, z*) with ``z*_k = [k covered by x]`` is feasible too, and ``y_v = 1`` implies the
village really is covered by ``x``. Conversely a village covered by ``x`` may have
``y_v = 0`` in the solver's answer; the villages and people reported are always
recomputed from the chosen candidates (:func:`covered_villages`), so they can only be
more than the programme counted.

A cell is *essential* when the village's share cannot be reached without it (the
coverable weight minus the cell's is short of ``need_v``); its row ``y_v <= z_k`` is
implied by the share row for binary values but tightens the linear relaxation a lot
(with 90 % of the people required, most clusters of a small village are essential).

Reduction: villages no candidate set can cover (centre neither covered today nor by any
candidate, or even all candidates together do not reach the share) are dropped and
reported as ``unreachable``; candidates that cover no open point of a reachable village
are never selected (so the sharing constraint is met by works that serve the target, not
by an idle co-location bought for the ratio); a candidate is dropped when another one is
no more expensive, covers a superset of its open points, is at least as good for the
sharing constraint (and the dropped one does not help that constraint), and is compatible
with its exclusive group - swapping it in never makes a solution worse.

Limits: the coverage of a candidate is taken as independent of the others (a new site's
interference on neighbours, or two candidates only covering a point together, are not
modelled); the programme is exact for the points and rule it is given.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

Status = Literal["optimal", "time_limit", "infeasible", "greedy"]
Objective = Literal["villages", "people"]
GroupMin = Mapping[int, int] | np.ndarray | None

#: Tolerance of the share rule, the same as the run's verdict (``>= share - 1e-9``).
SHARE_TOL = 1e-9


@dataclass(frozen=True)
class CoverProblem:
    """A site-planning covering problem.

    Attributes
    ----------
    cost
        ``(n_cand,)`` float >= 0: cost of each candidate (VND).
    new_bts
        ``(n_cand,)`` int >= 0: the BTS the candidate adds (the sharing KPI counts them).
    shared
        ``(n_cand,)`` bool: those BTS are on a shared tower.
    covers
        ``(n_cand, n_points)`` boolean CSR matrix: the candidate brings the point to
        "covered".
    point_village
        ``(n_points,)`` int: village index ``0 .. n_villages-1`` of each point.
    point_weight
        ``(n_points,)`` float >= 0: weight of the point in its village's share (people).
    point_centre
        ``(n_points,)`` bool: the village's centre point (at most one per village; a
        village without one can only be covered today).
    point_covered
        ``(n_points,)`` bool: covered today (no candidate needed).
    village_weight
        ``(n_villages,)`` float: people of the village (the ``"people"`` objective).
    village_covered
        ``(n_villages,)`` bool: covered today (fixed, counted).
    share
        A village is covered when its centre is covered and the covered share of its
        points' weight is at least ``share``; a village whose weights sum to 0 counts by
        its centre only.
    village_group
        ``(n_villages,)`` int group (commune) index, for the per-group minima; ``None``
        when no minima are used.
    exclusive
        ``(n_cand,)`` int: at most one candidate is chosen per value >= 0 (negative: free).
    """

    cost: np.ndarray
    new_bts: np.ndarray
    shared: np.ndarray
    covers: sp.csr_matrix
    point_village: np.ndarray
    point_weight: np.ndarray
    point_centre: np.ndarray
    point_covered: np.ndarray
    village_weight: np.ndarray
    village_covered: np.ndarray
    share: float = 0.9
    village_group: np.ndarray | None = None
    exclusive: np.ndarray | None = None

    @property
    def n_cand(self) -> int:
        """Number of candidates."""
        return int(np.asarray(self.cost).shape[0])

    @property
    def n_villages(self) -> int:
        """Number of villages."""
        return int(np.asarray(self.village_covered).shape[0])

    def check(self) -> None:
        """Raise ``ValueError`` when the arrays do not fit together."""
        n_c, n_v = self.n_cand, self.n_villages
        n_p = int(np.asarray(self.point_village).shape[0])
        bad: list[str] = []
        for name, arr, n in (("new_bts", self.new_bts, n_c), ("shared", self.shared, n_c),
                             ("point_weight", self.point_weight, n_p),
                             ("point_centre", self.point_centre, n_p),
                             ("point_covered", self.point_covered, n_p),
                             ("village_weight", self.village_weight, n_v),
                             ("village_group", self.village_group, n_v),
                             ("exclusive", self.exclusive, n_c)):
            if arr is not None and np.asarray(arr).shape != (n,):
                bad.append(f"{name} has shape {np.asarray(arr).shape}, expected ({n},)")
        if self.covers.shape != (n_c, n_p):
            bad.append(f"covers has shape {self.covers.shape}, expected ({n_c}, {n_p})")
        pv = np.asarray(self.point_village)
        if n_p and (pv.min() < 0 or pv.max() >= n_v):
            bad.append("point_village outside 0 .. n_villages-1")
        if np.any(np.asarray(self.cost) < 0) or np.any(np.asarray(self.point_weight) < 0):
            bad.append("negative cost or point weight")
        if np.any(np.asarray(self.new_bts) < 0):
            bad.append("negative new_bts")
        if not bad and np.any(np.bincount(pv[np.asarray(self.point_centre, bool)],
                                          minlength=n_v) > 1):
            bad.append("a village has more than one centre point")
        if not 0.0 <= self.share <= 1.0:
            bad.append(f"share {self.share} outside [0, 1]")
        if bad:
            raise ValueError("CoverProblem: " + "; ".join(bad))


@dataclass(frozen=True)
class Solution:
    """The answer of a solver.

    Attributes
    ----------
    selected
        ``(n_cand,)`` bool: the candidates to build.
    cost
        Their total cost (VND).
    villages_covered
        ``(n_villages,)`` bool: villages covered after the works (today's included),
        recomputed from ``selected`` with the village rule.
    n_covered
        ``villages_covered.sum()``.
    people_covered
        ``village_weight`` summed over the covered villages.
    status
        ``"optimal"`` (proven within ``mip_rel_gap``, 1e-4 by default), ``"time_limit"``
        (the solver's best solution when its time limit stopped it - never called
        optimal, see ``gap``),
        ``"infeasible"`` (no solution; ``message`` says why) or ``"greedy"`` (the greedy
        heuristic's answer: from a ``greedy_*`` function, or the fallback when the solver
        stopped without a solution or with a worse one).
    objective
        Cost (min cost) or villages / people covered (max coverage) of this solution.
    bound
        The solver's dual bound on that objective (a lower bound on the cost, an upper
        bound on the coverage); ``None`` when there is none.
    gap
        ``|objective - bound| / |objective|`` (0 when both are 0); ``None`` without a bound.
    time_s
        Wall time of the call (greedy included).
    new_bts, shared_bts
        BTS added by the selection, and those on shared towers.
    sharing
        ``shared_bts / new_bts`` (``None`` when no BTS is added).
    greedy_cost, greedy_objective, greedy_feasible
        The greedy baseline's cost and objective side by side (``None`` when not run).
    unreachable
        Village indices no candidate set can cover (need another technology).
    max_reachable
        Most villages coverable with every candidate (today's included).
    message
        What happened, in a sentence (reason of an infeasibility, the fallback, ...).
    """

    selected: np.ndarray
    cost: float
    villages_covered: np.ndarray
    n_covered: int
    people_covered: float
    status: Status
    objective: float
    bound: float | None
    gap: float | None
    time_s: float
    new_bts: int
    shared_bts: int
    sharing: float | None
    greedy_cost: float | None = None
    greedy_objective: float | None = None
    greedy_feasible: bool | None = None
    unreachable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    max_reachable: int = 0
    message: str = ""


# --------------------------------------------------------------------------- evaluation

def covered_points(p: CoverProblem, selected: np.ndarray) -> np.ndarray:
    """Points covered today or by a selected candidate (``(n_points,)`` bool)."""
    sel = np.asarray(selected, dtype=bool)
    cov = np.asarray(p.point_covered, dtype=bool).copy()
    if sel.any():
        hit = np.asarray(p.covers[np.flatnonzero(sel)].sum(axis=0)).ravel() > 0
        cov |= hit
    return cov


def covered_villages(p: CoverProblem, selected: np.ndarray) -> np.ndarray:
    """Villages covered after building ``selected``: today's, plus those whose centre is
    covered and whose covered share of weight is at least ``p.share`` (``>= share - 1e-9``,
    the run's rule; a village with zero weight counts by its centre)."""
    n_v = p.n_villages
    pv = np.asarray(p.point_village, dtype=np.int64)
    w = np.asarray(p.point_weight, dtype=float)
    cov = covered_points(p, selected)
    total = np.bincount(pv, weights=w, minlength=n_v)
    got = np.bincount(pv, weights=w * cov, minlength=n_v)
    centre = np.asarray(p.point_centre, dtype=bool)
    centre_ok = np.zeros(n_v, dtype=bool)
    centre_ok[pv[centre & cov]] = True
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, got / np.where(total > 0, total, 1.0), 1.0)
    rule = centre_ok & (frac >= p.share - SHARE_TOL)
    return np.asarray(p.village_covered, dtype=bool) | rule


def sharing_of(p: CoverProblem, selected: np.ndarray) -> tuple[int, int]:
    """``(new BTS, new BTS on shared towers)`` of a selection."""
    sel = np.asarray(selected, dtype=bool)
    nb = np.asarray(p.new_bts, dtype=np.int64)
    return int(nb[sel].sum()), int(nb[sel & np.asarray(p.shared, dtype=bool)].sum())


def sharing_ok(p: CoverProblem, selected: np.ndarray, sharing: float) -> bool:
    """The sharing constraint ``shared BTS >= sharing * new BTS`` holds."""
    total, shared = sharing_of(p, selected)
    return shared >= sharing * total - 1e-9


def _group_counts(p: CoverProblem, villages: np.ndarray, n_groups: int) -> np.ndarray:
    if p.village_group is None:
        return np.zeros(n_groups, dtype=np.int64)
    g = np.asarray(p.village_group, dtype=np.int64)
    ok = villages & (g >= 0)
    return np.bincount(g[ok], minlength=n_groups)[:n_groups]


def _group_min_array(p: CoverProblem, group_min: GroupMin) -> np.ndarray:
    """The per-group minima as an array indexed by group (0 where none)."""
    if group_min is None:
        return np.zeros(0, dtype=np.int64)
    if p.village_group is None:
        raise ValueError("group_min needs CoverProblem.village_group")
    g = np.asarray(p.village_group, dtype=np.int64)
    n_g = int(g.max()) + 1 if g.size else 0
    if isinstance(group_min, Mapping):
        n_g = max([n_g, *[int(k) + 1 for k in group_min]])
        out = np.zeros(n_g, dtype=np.int64)
        for k, v in group_min.items():
            out[int(k)] = int(v)
        return out
    arr = np.asarray(group_min, dtype=np.int64)
    return np.pad(arr, (0, max(0, n_g - arr.size)))


# --------------------------------------------------------------------------- reduction

@dataclass
class _Reduced:
    """The problem after :func:`_reduce`, in cells and kept candidates."""

    cand: np.ndarray          # original index of each kept candidate
    C: sp.csr_matrix          # (n_kept, n_cells) bool
    cost: np.ndarray
    t: np.ndarray             # new_bts * (shared - sharing): sum t x >= 0
    excl: np.ndarray          # exclusive group of the kept candidates (-1: none)
    vill: np.ndarray          # original index of each open reachable village
    cell_village: np.ndarray  # reduced village of each cell
    cell_w: np.ndarray        # share of the village weight in the cell
    cell_centre: np.ndarray   # the cell holds the village centre
    need: np.ndarray          # share still needed beyond today (<= 0: none)
    centre_today: np.ndarray  # centre covered today
    base: np.ndarray          # (n_villages,) bool: covered without any candidate
    unreachable: np.ndarray   # original village indices
    sharing_on: bool


def _village_facts(p: CoverProblem) -> dict[str, np.ndarray]:
    n_v = p.n_villages
    pv = np.asarray(p.point_village, dtype=np.int64)
    w = np.asarray(p.point_weight, dtype=float)
    today = np.asarray(p.point_covered, dtype=bool)
    total = np.bincount(pv, weights=w, minlength=n_v)
    got = np.bincount(pv, weights=w * today, minlength=n_v)
    safe = np.where(total > 0, total, 1.0)
    need = np.where(total > 0, p.share - got / safe, 0.0)
    centre_pt = np.full(n_v, -1, dtype=np.int64)
    cidx = np.flatnonzero(np.asarray(p.point_centre, dtype=bool))
    centre_pt[pv[cidx]] = cidx
    centre_today = np.zeros(n_v, dtype=bool)
    centre_today[pv[cidx[today[cidx]]]] = True
    return {"total": total, "need": need, "centre_pt": centre_pt,
            "centre_today": centre_today, "safe": safe}


def _reduce(p: CoverProblem, sharing: float) -> _Reduced:
    """Drop unreachable villages, useless and dominated candidates; merge point cells."""
    p.check()
    n_v = p.n_villages
    pv = np.asarray(p.point_village, dtype=np.int64)
    w = np.asarray(p.point_weight, dtype=float)
    f = _village_facts(p)
    covers = sp.csr_matrix(p.covers, dtype=bool)
    open_v = ~np.asarray(p.village_covered, dtype=bool)
    free = open_v & f["centre_today"] & (f["need"] <= SHARE_TOL)
    coverable_pt = (np.asarray(covers.sum(axis=0)).ravel() > 0) & ~np.asarray(
        p.point_covered, dtype=bool)
    reach_w = np.bincount(pv, weights=w * coverable_pt, minlength=n_v) / f["safe"]
    centre_ok = f["centre_today"] | ((f["centre_pt"] >= 0)
                                     & coverable_pt[np.maximum(f["centre_pt"], 0)])
    reachable = open_v & ~free & centre_ok & (reach_w >= f["need"] - SHARE_TOL)
    unreachable = np.flatnonzero(open_v & ~free & ~reachable)
    active_pt = np.flatnonzero(coverable_pt & reachable[pv])
    sub = covers[:, active_pt].tocsr()
    useful = np.flatnonzero(np.diff(sub.indptr) > 0)
    cost = np.asarray(p.cost, dtype=float)[useful]
    nb = np.asarray(p.new_bts, dtype=float)[useful]
    t = nb * (np.asarray(p.shared, dtype=float)[useful] - sharing)
    excl = (np.asarray(p.exclusive, dtype=np.int64)[useful] if p.exclusive is not None
            else np.full(useful.size, -1, dtype=np.int64))
    sub = sub[useful]
    keep = _undominated(sub, cost, t, excl, sharing > 0)
    sub, useful, cost, t, excl = sub[keep], useful[keep], cost[keep], t[keep], excl[keep]
    vill = np.flatnonzero(reachable)
    vmap = np.full(n_v, -1, dtype=np.int64)
    vmap[vill] = np.arange(vill.size)
    C, cell_village, cell_w, cell_centre = _merge_cells(
        sub, vmap[pv[active_pt]], w[active_pt] / f["safe"][pv[active_pt]],
        np.asarray(p.point_centre, dtype=bool)[active_pt])
    return _Reduced(cand=useful, C=C, cost=cost, t=t, excl=excl, vill=vill,
                    cell_village=cell_village, cell_w=cell_w, cell_centre=cell_centre,
                    need=f["need"][vill], centre_today=f["centre_today"][vill],
                    base=np.asarray(p.village_covered, dtype=bool) | free,
                    unreachable=unreachable, sharing_on=sharing > 0)


def _undominated(sub: sp.csr_matrix, cost: np.ndarray, t: np.ndarray, excl: np.ndarray,
                 sharing_on: bool, chunk: int = 512) -> np.ndarray:
    """Mask of candidates no other candidate dominates (see the module docstring).

    ``d`` dominates ``c`` when ``cost_d <= cost_c``, ``d`` covers every point ``c``
    covers, ``d`` is free or in ``c``'s exclusive group, and (with the sharing constraint)
    ``t_d >= t_c`` and ``t_c <= 0``; among equivalent candidates the lowest index stays.
    """
    n = sub.shape[0]
    keep = np.ones(n, dtype=bool)
    if n < 2:
        return keep
    A = sub.astype(np.int32)
    size = np.diff(A.indptr)
    AT = A.T.tocsr()
    for start in range(0, n, chunk):
        ov = (A[start:start + chunk] @ AT).tocoo()
        c = ov.row + start
        d = ov.col
        m = (c != d) & (ov.data == size[c]) & (cost[d] <= cost[c])
        m &= (excl[d] < 0) | (excl[d] == excl[c])
        if sharing_on:
            m &= (t[d] >= t[c]) & (t[c] <= 0)
        c, d = c[m], d[m]
        # d strictly better somewhere, or an equivalent candidate with a lower index
        strict = (cost[d] < cost[c]) | (size[d] > size[c])
        if sharing_on:
            strict |= t[d] > t[c]
        equiv = ~strict & ((excl[c] < 0) | (excl[c] == excl[d]))
        beaten = strict | (equiv & (d < c)) | (~strict & ~equiv)
        keep[c[beaten]] = False
    return keep


def _merge_cells(sub: sp.csr_matrix, pvill: np.ndarray, pw: np.ndarray,
                 pcentre: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray,
                                               np.ndarray]:
    """Merge the points of one village covered by the same candidates into one cell."""
    csc = sub.tocsc()
    csc.sort_indices()
    keys: dict[tuple[int, bytes], int] = {}
    cell_of = np.empty(csc.shape[1], dtype=np.int64)
    for j in range(csc.shape[1]):
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        key = (int(pvill[j]), rows.tobytes())
        cell_of[j] = keys.setdefault(key, len(keys))
    n_cells = len(keys)
    first = np.zeros(n_cells, dtype=np.int64)
    first[cell_of[::-1]] = np.arange(csc.shape[1])[::-1]
    C = csc[:, first].tocsr()
    cell_village = pvill[first]
    cell_w = np.bincount(cell_of, weights=pw, minlength=n_cells)
    cell_centre = np.bincount(cell_of, weights=pcentre.astype(float), minlength=n_cells) > 0
    return C, cell_village, cell_w, cell_centre


# --------------------------------------------------------------------------- MILP

@dataclass
class _MilpResult:
    x: np.ndarray | None      # kept candidates chosen
    status: int
    fun: float | None
    bound: float | None
    message: str
    note: str = ""            # said in the Solution's message


def _rows_coverage(r: _Reduced) -> tuple[list[sp.coo_array], list[np.ndarray],
                                         list[np.ndarray]]:
    """The z <= sum x, y <= z_centre and share rows (columns: x, y, z)."""
    nc, nv, nz = r.C.shape[0], r.vill.size, r.C.shape[1]
    n = nc + nv + nz
    mats, lo, hi = [], [], []
    CT = r.C.T.tocoo()
    mats.append(sp.coo_array((np.concatenate([-np.ones(CT.nnz), np.ones(nz)]),
                              (np.concatenate([CT.row, np.arange(nz)]),
                               np.concatenate([CT.col, nc + nv + np.arange(nz)]))),
                             shape=(nz, n)))
    lo.append(np.full(nz, -np.inf))
    hi.append(np.zeros(nz))
    cen = np.flatnonzero(r.cell_centre)
    cen_v = r.cell_village[cen]
    need_c = ~r.centre_today[cen_v]
    cen, cen_v = cen[need_c], cen_v[need_c]
    # essential cells: without them the village's share cannot be reached, so y_v <= z_k
    # too (valid; a much tighter relaxation than the share row alone)
    reach = np.bincount(r.cell_village, weights=r.cell_w, minlength=nv)
    ess = np.flatnonzero(~r.cell_centre & (r.need[r.cell_village] > SHARE_TOL)
                         & (reach[r.cell_village] - r.cell_w
                            < r.need[r.cell_village] - SHARE_TOL))
    cen = np.concatenate([cen, ess])
    cen_v = np.concatenate([cen_v, r.cell_village[ess]])
    k = cen.size
    mats.append(sp.coo_array((np.concatenate([np.ones(k), -np.ones(k)]),
                              (np.tile(np.arange(k), 2),
                               np.concatenate([nc + cen_v, nc + nv + cen]))), shape=(k, n)))
    lo.append(np.full(k, -np.inf))
    hi.append(np.zeros(k))
    sv = np.flatnonzero(r.need > SHARE_TOL)
    rmap = np.full(nv, -1, dtype=np.int64)
    rmap[sv] = np.arange(sv.size)
    zc = np.flatnonzero(rmap[r.cell_village] >= 0)
    mats.append(sp.coo_array((np.concatenate([r.cell_w[zc], -r.need[sv]]),
                              (np.concatenate([rmap[r.cell_village[zc]], np.arange(sv.size)]),
                               np.concatenate([nc + nv + zc, nc + sv]))),
                             shape=(sv.size, n)))
    lo.append(np.zeros(sv.size))
    hi.append(np.full(sv.size, np.inf))
    return mats, lo, hi


def _row(n: int, cols: np.ndarray, vals: np.ndarray) -> sp.coo_array:
    return sp.coo_array((vals, (np.zeros(cols.size, dtype=np.int64), cols)), shape=(1, n))


def _rows_side(r: _Reduced, *, budget: float | None, group_req: np.ndarray,
               group_of: np.ndarray, cover_val: np.ndarray | None, cover_min: float
               ) -> tuple[list[sp.coo_array], list[np.ndarray], list[np.ndarray]]:
    """Cover target, group minima, sharing, budget and exclusive rows."""
    nc, nv, nz = r.C.shape[0], r.vill.size, r.C.shape[1]
    n = nc + nv + nz
    mats, lo, hi = [], [], []
    if cover_val is not None:
        mats.append(_row(n, nc + np.arange(nv), cover_val))
        lo.append(np.array([cover_min]))
        hi.append(np.array([np.inf]))
    for g in np.flatnonzero(group_req > 0):
        vs = np.flatnonzero(group_of == g)
        mats.append(_row(n, nc + vs, np.ones(vs.size)))
        lo.append(np.array([float(group_req[g])]))
        hi.append(np.array([np.inf]))
    if r.sharing_on and nc:
        mats.append(_row(n, np.arange(nc), r.t))
        lo.append(np.array([0.0]))
        hi.append(np.array([np.inf]))
    if budget is not None and nc:
        mats.append(_row(n, np.arange(nc), r.cost))
        lo.append(np.array([-np.inf]))
        hi.append(np.array([budget * (1 + 1e-12)]))
    groups = np.unique(r.excl[r.excl >= 0])
    for e in groups:
        cs = np.flatnonzero(r.excl == e)
        if cs.size > 1:
            mats.append(_row(n, cs, np.ones(cs.size)))
            lo.append(np.array([-np.inf]))
            hi.append(np.array([1.0]))
    return mats, lo, hi


def _run_milp(r: _Reduced, c_obj: np.ndarray, side: dict, time_limit_s: float,
              mip_rel_gap: float) -> _MilpResult:
    nc, nv, nz = r.C.shape[0], r.vill.size, r.C.shape[1]
    if nc + nv + nz == 0:      # nothing to choose (the callers checked the targets)
        return _MilpResult(x=np.zeros(0, dtype=bool), status=0, fun=0.0, bound=0.0,
                           message="nothing to choose")
    m1, l1, h1 = _rows_coverage(r)
    m2, l2, h2 = _rows_side(r, **side)
    A = sp.vstack(m1 + m2, format="csr")
    integ = np.concatenate([np.ones(nc + nv), np.zeros(nz)])
    options: dict[str, float | bool] = {"time_limit": max(time_limit_s, 0.01),
                                        "mip_rel_gap": mip_rel_gap, "presolve": True}
    res = milp(c_obj, integrality=integ, bounds=Bounds(0.0, 1.0),
               constraints=LinearConstraint(A, np.concatenate(l1 + l2),
                                            np.concatenate(h1 + h2)), options=options)
    x = None
    if res.x is not None:
        x = np.asarray(res.x[:nc]) > 0.5
    bound = getattr(res, "mip_dual_bound", None)
    fun = None if res.fun is None else float(res.fun)
    return _MilpResult(x=x, status=int(res.status), fun=fun,
                       bound=None if bound is None or not np.isfinite(bound) else float(bound),
                       message=str(res.message))


# --------------------------------------------------------------------------- shared helpers

def _expand(p: CoverProblem, r: _Reduced, x: np.ndarray) -> np.ndarray:
    sel = np.zeros(p.n_cand, dtype=bool)
    sel[r.cand[x]] = True
    return sel


def _village_values(p: CoverProblem, objective: str) -> np.ndarray:
    if objective == "villages":
        return np.ones(p.n_villages)
    if objective == "people":
        return np.asarray(p.village_weight, dtype=float)
    raise ValueError(f"objective must be 'villages' or 'people', not {objective!r}")


def _max_reach(p: CoverProblem, r: _Reduced) -> int:
    return int(r.base.sum() + r.vill.size)


def _group_need(p: CoverProblem, r: _Reduced, gmin: np.ndarray) -> tuple[np.ndarray,
                                                                          np.ndarray, str]:
    """Per group: villages still to cover by the works; reduced village group; a reason
    when even every reachable village is not enough."""
    if gmin.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(r.vill.size, dtype=np.int64), ""
    assert p.village_group is not None
    g = np.asarray(p.village_group, dtype=np.int64)
    base = _group_counts(p, r.base, gmin.size)
    reach = np.bincount(g[r.vill][g[r.vill] >= 0], minlength=gmin.size)[:gmin.size]
    req = np.maximum(gmin - base, 0)
    short = np.flatnonzero(req > reach)
    why = ""
    if short.size:
        why = "; ".join(f"group {k} needs {gmin[k]} villages, at most {base[k] + reach[k]} "
                        f"reachable" for k in short[:5])
    return req, g[r.vill], why


def _make_solution(p: CoverProblem, sel: np.ndarray, status: Status, *, kind: str,
                   values: np.ndarray | None, bound: float | None, t0: float,
                   r: _Reduced, message: str, greedy: Solution | None = None
                   ) -> Solution:
    cov = covered_villages(p, sel)
    cost = float(np.asarray(p.cost, dtype=float)[sel].sum())
    nb, sh = sharing_of(p, sel)
    if kind == "cost":
        obj = cost
    else:
        assert values is not None
        obj = float(values[cov].sum())
    gap = None
    if bound is not None and status != "infeasible":
        gap = 0.0 if abs(obj) < 1e-12 and abs(bound) < 1e-9 else abs(obj - bound) / max(
            abs(obj), 1e-12)
    return Solution(selected=sel, cost=cost, villages_covered=cov, n_covered=int(cov.sum()),
                    people_covered=float(np.asarray(p.village_weight, float)[cov].sum()),
                    status=status, objective=obj, bound=bound, gap=gap,
                    time_s=time.perf_counter() - t0, new_bts=nb, shared_bts=sh,
                    sharing=(sh / nb) if nb else None,
                    greedy_cost=None if greedy is None else greedy.cost,
                    greedy_objective=None if greedy is None else greedy.objective,
                    greedy_feasible=None if greedy is None else greedy.status != "infeasible",
                    unreachable=r.unreachable, max_reachable=_max_reach(p, r), message=message)


def _infeasible(p: CoverProblem, r: _Reduced, t0: float, kind: str,
                values: np.ndarray | None, why: str, greedy: Solution | None = None
                ) -> Solution:
    return _make_solution(p, np.zeros(p.n_cand, dtype=bool), "infeasible", kind=kind,
                          values=values, bound=None, t0=t0, r=r, message=why, greedy=greedy)


# --------------------------------------------------------------------------- min cost

def solve_min_cost(p: CoverProblem, required_villages: int, *, budget: float | None = None,
                   sharing: float = 0.0, group_min: GroupMin = None,
                   time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4) -> Solution:
    """The cheapest set of candidates covering at least ``required_villages`` villages.

    Covered villages count today's ones. Constraints: ``sum(new_bts*shared*x) >= sharing *
    sum(new_bts*x)``, ``sum(cost*x) <= budget`` (optional), per-group minimum counts of
    covered villages ``group_min`` (mapping group -> count, or an array by group; needs
    ``p.village_group``), exclusive groups. The MILP of the module docstring, solved by
    HiGHS with ``time_limit_s`` and ``mip_rel_gap``; the greedy baseline
    (:func:`greedy_min_cost`) runs first and is returned, labelled ``"greedy"``, when the
    solver stops without a solution or with a costlier one. ``"infeasible"`` says why
    (too few reachable villages, a group short of reachable villages, the budget too
    small - with the cost the target needs without it - or the sharing constraint).
    """
    t0 = time.perf_counter()
    r = _reduce(p, sharing)
    gmin = _group_min_array(p, group_min)
    greedy = _greedy(p, r, t0, kind="cost", required=required_villages, budget=budget,
                     gmin=gmin, values=None)
    req_new = required_villages - int(r.base.sum())
    group_req, group_of, why = _group_need(p, r, gmin)
    if req_new > r.vill.size:
        why = (f"{required_villages} villages required but at most {_max_reach(p, r)} can "
               f"be covered ({int(r.base.sum())} today, {r.vill.size} reachable by the "
               f"candidates, {r.unreachable.size} unreachable)" + (f"; {why}" if why else ""))
    if why:
        return _infeasible(p, r, t0, "cost", None, why, greedy)
    if req_new <= 0 and not np.any(group_req > 0):
        return _make_solution(p, np.zeros(p.n_cand, dtype=bool), "optimal", kind="cost",
                              values=None, bound=0.0, t0=t0, r=r, greedy=greedy,
                              message="the target is met today; nothing to build")
    scale = float(r.cost.max()) if r.cost.size and r.cost.max() > 0 else 1.0
    nz = r.C.shape[1]
    c_obj = np.concatenate([r.cost / scale, np.zeros(r.vill.size + nz)])
    side = {"budget": None if budget is None else budget / scale, "group_req": group_req,
            "group_of": group_of, "cover_val": np.ones(r.vill.size),
            "cover_min": float(max(req_new, 0))}
    r_scaled = _Reduced(**{**r.__dict__, "cost": r.cost / scale})
    left = time_limit_s - (time.perf_counter() - t0)
    res = _run_milp(r_scaled, c_obj, side, left, mip_rel_gap)
    bound = None if res.bound is None else res.bound * scale
    sol = _finish(p, r, res, greedy, t0, kind="cost", values=None, bound=bound,
                  retry=lambda: _why_min_cost_infeasible(p, r, budget, scale, side,
                                                         time_limit_s, t0, mip_rel_gap))
    if sol.status in ("optimal", "time_limit") and sol.n_covered < required_villages:
        # only possible for a share within the solver's feasibility tolerance (1e-7) of
        # the threshold; said, never hidden
        sol = Solution(**{**sol.__dict__, "message": (
            f"{sol.message}; the solver counted a village share within its tolerance: "
            f"{sol.n_covered} villages covered by the rule, {required_villages} "
            f"required").lstrip("; ")})
    return sol


def _why_min_cost_infeasible(p: CoverProblem, r: _Reduced, budget: float | None,
                             scale: float, side: dict,
                             time_limit_s: float, t0: float, mip_rel_gap: float) -> str:
    """The reason of an infeasible min-cost programme (re-solved without the budget)."""
    parts = [c for c, on in (("the sharing constraint", r.sharing_on),
                             ("the per-group minima", np.any(side["group_req"] > 0)),
                             ("the exclusive groups", np.any(r.excl >= 0))) if on]
    if budget is None:
        return ("no set of candidates reaches the target under "
                + (", ".join(parts) if parts else "the constraints"))
    left = time_limit_s - (time.perf_counter() - t0)
    nz = r.C.shape[1]
    c_obj = np.concatenate([r.cost / scale, np.zeros(r.vill.size + nz)])
    r_scaled = _Reduced(**{**r.__dict__, "cost": r.cost / scale})
    res2 = _run_milp(r_scaled, c_obj, {**side, "budget": None}, left, mip_rel_gap)
    if res2.x is not None and res2.fun is not None:
        cost = float(r.cost[res2.x].sum())
        word = "costs" if res2.status == 0 else "costs at most"
        return (f"the budget {budget:,.0f} is too small: reaching the target {word} "
                f"{cost:,.0f}")
    return ("no set of candidates reaches the target even without the budget"
            + (" under " + ", ".join(parts) if parts else ""))


def _finish(p: CoverProblem, r: _Reduced, res: _MilpResult, greedy: Solution, t0: float,
            *, kind: str, values: np.ndarray | None, bound: float | None,
            retry: Callable[[], str]) -> Solution:
    """Turn the solver's result into a :class:`Solution`, with the greedy fallback."""
    if res.status == 2:
        return _infeasible(p, r, t0, kind, values, retry(), greedy)
    if res.x is None:
        msg = (f"the solver stopped without a solution ({res.message}); the greedy "
               f"heuristic's answer is returned")
        return _relabel(greedy, bound, t0, msg, kind)
    sel = _expand(p, r, res.x)
    status: Status = "optimal" if res.status == 0 else "time_limit"
    sol = _make_solution(p, sel, status, kind=kind, values=values, bound=bound, t0=t0, r=r,
                         message=res.note if status == "optimal" else
                         f"stopped by the time limit, optimum not proven ({res.message})",
                         greedy=greedy)
    better_greedy = greedy.status != "infeasible" and (
        greedy.objective < sol.objective - 1e-9 if kind == "cost"
        else greedy.objective > sol.objective + 1e-9)
    if status == "time_limit" and better_greedy:
        return _relabel(greedy, bound, t0, "stopped by the time limit with a solution worse "
                        "than the greedy heuristic's, which is returned", kind)
    return sol


def _relabel(g: Solution, bound: float | None, t0: float, msg: str, kind: str) -> Solution:
    gap = None
    if bound is not None and g.status != "infeasible":
        gap = abs(g.objective - bound) / max(abs(g.objective), 1e-12)
    status: Status = "infeasible" if g.status == "infeasible" else "greedy"
    return Solution(**{**g.__dict__, "status": status, "bound": bound, "gap": gap,
                       "time_s": time.perf_counter() - t0,
                       "message": msg + (f"; {g.message}" if g.message else ""),
                       "greedy_cost": g.cost, "greedy_objective": g.objective,
                       "greedy_feasible": g.status != "infeasible"})


# --------------------------------------------------------------------------- max coverage

def solve_max_coverage(p: CoverProblem, budget: float, *, objective: Objective = "villages",
                       sharing: float = 0.0, group_min: GroupMin = None,
                       time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4,
                       cheapest: bool = True) -> Solution:
    """The most villages (``objective="villages"``) or people (``"people"``, the
    ``village_weight`` of the covered villages) covered for at most ``budget``.

    Same constraints and solver as :func:`solve_min_cost` (today's villages count in the
    objective). With ``cheapest`` and a proven optimum, a second programme finds the
    cheapest selection with that same coverage in the time left (kept only when it
    finishes), so the budget is not spent on works that add nothing.
    """
    t0 = time.perf_counter()
    values = _village_values(p, objective)
    r = _reduce(p, sharing)
    gmin = _group_min_array(p, group_min)
    greedy = _greedy(p, r, t0, kind="max", required=0, budget=budget, gmin=gmin,
                     values=values)
    group_req, group_of, why = _group_need(p, r, gmin)
    if why:
        return _infeasible(p, r, t0, "max", values, why, greedy)
    scale = float(r.cost.max()) if r.cost.size and r.cost.max() > 0 else 1.0
    nz = r.C.shape[1]
    vals = values[r.vill]
    c_obj = np.concatenate([np.zeros(r.C.shape[0]), -vals, np.zeros(nz)])
    side = {"budget": budget / scale, "group_req": group_req, "group_of": group_of,
            "cover_val": None, "cover_min": 0.0}
    r_scaled = _Reduced(**{**r.__dict__, "cost": r.cost / scale})
    res = _run_milp(r_scaled, c_obj, side, time_limit_s - (time.perf_counter() - t0),
                    mip_rel_gap)
    base_val = float(values[r.base].sum())
    bound = None if res.bound is None else base_val - res.bound
    if res.status == 0 and res.x is not None and cheapest and res.fun is not None:
        res = _cheapest_same(r_scaled, res, vals, side, t0, time_limit_s)
    sol = _finish(p, r, res, greedy, t0, kind="max", values=values, bound=bound,
                  retry=lambda: "the budget, sharing or group minima cannot all be met"
                  + (f" (greedy: {greedy.message})" if greedy.message else ""))
    return sol


def _cheapest_same(r: _Reduced, res: _MilpResult, vals: np.ndarray, side: dict,
                   t0: float, time_limit_s: float) -> _MilpResult:
    """A cheaper selection with the coverage value of ``res``: a second programme (min
    cost, coverage >= the optimum) given as long as the first took (at least 2 s, within
    the time left); its best solution is kept when cheaper, proven or not."""
    assert res.fun is not None and res.x is not None
    spent = time.perf_counter() - t0
    left = min(time_limit_s - spent, max(2.0, spent))
    if left < 0.05:
        return res
    nz = r.C.shape[1]
    target = -res.fun - 1e-6 * max(1.0, abs(res.fun))
    c_obj = np.concatenate([r.cost, np.zeros(r.vill.size + nz)])
    res2 = _run_milp(r, c_obj, {**side, "cover_val": vals, "cover_min": target}, left, 1e-6)
    if res2.x is not None and r.cost[res2.x].sum() < r.cost[res.x].sum() - 1e-12:
        note = ("" if res2.status == 0 else
                "the coverage is optimal; its cost is not proven minimal")
        return _MilpResult(x=res2.x, status=0, fun=res.fun, bound=res.bound,
                           message=res.message, note=note)
    return res


# --------------------------------------------------------------------------- greedy

def greedy_min_cost(p: CoverProblem, required_villages: int, *, budget: float | None = None,
                    sharing: float = 0.0, group_min: GroupMin = None) -> Solution:
    """Greedy baseline of :func:`solve_min_cost` (status ``"greedy"`` or, when it does not
    reach the target, ``"infeasible"`` - which does not prove the target unreachable).

    Picks by score per cost (see :class:`_Greedy`), skipping candidates over the budget and
    those that would break the sharing constraint (deferred until a shared pick makes room;
    when only deferred candidates remain, the shared candidate with the lowest cost per
    shared BTS is added to make room), then removes redundant picks, costliest first.
    """
    t0 = time.perf_counter()
    r = _reduce(p, sharing)
    return _greedy(p, r, t0, kind="cost", required=required_villages, budget=budget,
                   gmin=_group_min_array(p, group_min), values=None)


def greedy_max_coverage(p: CoverProblem, budget: float, *, objective: Objective = "villages",
                        sharing: float = 0.0, group_min: GroupMin = None) -> Solution:
    """Greedy baseline of :func:`solve_max_coverage`: picks by score per cost within the
    budget (sharing handled as in :func:`greedy_min_cost`), drops redundant picks, and
    keeps the better of that and the best single affordable candidate."""
    t0 = time.perf_counter()
    values = _village_values(p, objective)
    r = _reduce(p, sharing)
    return _greedy(p, r, t0, kind="max", required=0, budget=budget,
                   gmin=_group_min_array(p, group_min), values=values)


class _Greedy:
    """Greedy state on a reduced problem.

    Score of a candidate: ``sum_v value_v * (gain_v + done_v) / cost`` over the open
    villages it touches, where ``gain_v`` is the rise of the village's progress
    ``phi_v = (centre covered + min(1, covered share / needed share)) / 2`` and
    ``done_v`` is 1 when the candidate completes the village. ``phi`` rewards partial
    progress on a village (its centre, part of its share), so that villages needing two
    or more candidates are reached; ``done`` makes completing one worth more than
    spreading. ``value_v`` is 1 (villages) or the people (max coverage); for the min-cost
    target it is ``[target not yet met] + [village's group short of its minimum]``.
    A candidate with zero cost and a positive score comes first.

    Lazy evaluation: a priority queue holds each candidate's last score with a version
    stamp. A pick changes the score only of candidates touching the villages it made
    progress on; those are re-scored at once (their score may rise - a village made
    nearly complete - so stale values would not be upper bounds), stale entries are
    discarded when popped. When a group minimum or the target is met, every score changes
    and all are re-scored.
    """

    def __init__(self, r: _Reduced, vbase: np.ndarray, kind: str, values: np.ndarray | None,
                 required_new: int, group_req: np.ndarray, group_of: np.ndarray,
                 budget: float | None) -> None:
        self.r = r
        nz, nv = r.C.shape[1], r.vill.size
        self.kind = kind
        self.vbase = vbase                      # value of each reduced village (max)
        self.cell_cov = np.zeros(nz, dtype=bool)
        self.got = np.zeros(nv)
        self.cen = r.centre_today.copy()
        self.done = np.zeros(nv, dtype=bool)
        self.req_new = required_new
        self.group_req = group_req.copy()
        self.group_of = group_of
        self.budget = math.inf if budget is None else budget
        self.spent = 0.0
        self.balance = 0.0
        self.sel = np.zeros(r.C.shape[0], dtype=bool)
        self.banned = np.zeros(r.C.shape[0], dtype=bool)
        self.C = r.C
        cv = sp.csr_matrix((np.ones(r.C.nnz), r.C.indices, r.C.indptr), shape=r.C.shape)
        onehot = sp.csr_matrix((np.ones(nz), (np.arange(nz), r.cell_village)), shape=(nz, nv))
        self.VC = (cv @ onehot).T.tocsr()       # village -> candidates touching it
        self.version = np.zeros(r.C.shape[0], dtype=np.int64)
        self.heap: list[tuple[float, float, int, int]] = []
        self.deferred: set[int] = set()

    # progress of a village
    def _phi(self, got: np.ndarray, cen: np.ndarray, need: np.ndarray) -> np.ndarray:
        part = np.where(need > SHARE_TOL, np.minimum(1.0, got / np.maximum(need, 1e-12)), 1.0)
        return 0.5 * (cen.astype(float) + part)

    def values(self) -> np.ndarray:
        if self.kind == "max":
            v = self.vbase.copy()
            if self.group_req.size:
                short = self.group_req[np.maximum(self.group_of, 0)] > 0
                v = v + np.where(short & (self.group_of >= 0), 1.0 + v.max(initial=0.0), 0.0)
            return v
        v = np.full(self.r.vill.size, 1.0 if self.req_new > 0 else 0.0)
        if self.group_req.size:
            short = (self.group_of >= 0) & (self.group_req[np.maximum(self.group_of, 0)] > 0)
            v = v + short
        return v

    def scores(self, cands: np.ndarray) -> np.ndarray:
        """Gain (not divided by cost) of each candidate of ``cands``."""
        if cands.size == 0:
            return np.zeros(0)
        sub = self.C[cands]
        coo = sub.tocoo()
        m = ~self.cell_cov[coo.col]
        rows, cols = coo.row[m], coo.col[m]
        nv = self.r.vill.size
        v = self.r.cell_village[cols]
        key = rows.astype(np.int64) * nv + v
        uk, inv = np.unique(key, return_inverse=True)
        dw = np.bincount(inv, weights=self.r.cell_w[cols], minlength=uk.size)
        dc = np.bincount(inv, weights=self.r.cell_centre[cols].astype(float),
                         minlength=uk.size) > 0
        ur, uv = uk // nv, uk % nv
        need = self.r.need[uv]
        old = self._phi(self.got[uv], self.cen[uv], need)
        newgot = self.got[uv] + dw
        newcen = self.cen[uv] | dc
        new = self._phi(newgot, newcen, need)
        comp = newcen & (newgot >= need - SHARE_TOL)
        val = self.values()[uv] * ~self.done[uv]
        gain = val * ((new - old) + comp)
        return np.bincount(ur, weights=gain, minlength=cands.size)

    def push(self, cands: np.ndarray) -> None:
        cands = cands[~self.sel[cands] & ~self.banned[cands]]
        g = self.scores(cands)
        cost = self.r.cost[cands]
        for c, gi, ci in zip(cands.tolist(), g.tolist(), cost.tolist(), strict=True):
            self.version[c] += 1
            if gi <= 1e-12:
                continue
            key = -math.inf if ci <= 0 else -gi / ci
            heapq.heappush(self.heap, (key, ci, c, int(self.version[c])))

    def pick(self, c: int) -> bool:
        """Select ``c``; return True when the values of villages changed (re-score all)."""
        r = self.r
        self.sel[c] = True
        self.spent += r.cost[c]
        self.balance += r.t[c]
        if r.excl[c] >= 0:
            self.banned |= r.excl == r.excl[c]
        cells = r.C.indices[r.C.indptr[c]:r.C.indptr[c + 1]]
        cells = cells[~self.cell_cov[cells]]
        self.cell_cov[cells] = True
        vs = r.cell_village[cells]
        np.add.at(self.got, vs, r.cell_w[cells])
        self.cen[vs[r.cell_centre[cells]]] = True
        uv = np.unique(vs)
        newly = uv[~self.done[uv] & self.cen[uv] & (self.got[uv] >= r.need[uv] - SHARE_TOL)]
        self.done[newly] = True
        before_req, before_g = self.req_new > 0, self.group_req > 0
        self.req_new -= newly.size
        if self.group_req.size:
            gs = self.group_of[newly]
            gs = gs[gs >= 0]
            np.subtract.at(self.group_req, gs, 1)
        changed = (before_req != (self.req_new > 0)) or bool(
            np.any(before_g != (self.group_req > 0)))
        if not changed:
            touched = np.unique(self.VC[uv].indices) if uv.size else np.zeros(0, np.int64)
            self.push(touched)
        return changed

    def target_met(self) -> bool:
        return self.req_new <= 0 and not np.any(self.group_req > 0)

    def allowed(self, c: int) -> bool:
        return not self.r.sharing_on or self.balance + self.r.t[c] >= -1e-9

    def run(self) -> None:
        self.push(np.arange(self.r.C.shape[0]))
        while True:
            if self.kind == "cost" and self.target_met():
                return
            c = self._pop()
            if c is None:
                if not self._make_room():
                    return
                continue
            if not self.allowed(c):
                self.deferred.add(c)
                continue
            changed = self.pick(c)
            if self.r.t[c] > 0 and self.deferred:
                back = np.fromiter(self.deferred, dtype=np.int64)
                self.deferred.clear()
                self.push(back)
            if changed:
                self.heap.clear()
                self.deferred.clear()
                self.push(np.arange(self.r.C.shape[0]))

    def _pop(self) -> int | None:
        while self.heap:
            _, cost, c, ver = heapq.heappop(self.heap)
            if ver != self.version[c] or self.sel[c] or self.banned[c]:
                continue
            if self.spent + cost > self.budget * (1 + 1e-12):
                continue
            return c
        return None

    def _make_room(self) -> bool:
        """Add the shared candidate with the lowest cost per unit of sharing balance when
        deferred candidates (blocked by the sharing constraint) still have a gain."""
        if not self.deferred:
            return False
        r = self.r
        waiting = np.fromiter(self.deferred, dtype=np.int64)
        gains = self.scores(waiting)
        waiting = waiting[gains > 1e-12]
        if waiting.size == 0:
            return False
        left = self.budget - self.spent
        ok = (~self.sel & ~self.banned & (r.t > 0) & (r.cost <= left * (1 + 1e-12)))
        if self.kind == "max":
            ok &= r.cost <= left - r.cost[waiting].min()
        cand = np.flatnonzero(ok)
        if cand.size == 0:
            return False
        s = int(cand[np.argmin(r.cost[cand] / r.t[cand])])
        self.pick(s)
        self.deferred.clear()
        self.heap.clear()
        self.push(np.arange(r.C.shape[0]))
        return True


def _greedy_state_ok(p: CoverProblem, r: _Reduced, sel_r: np.ndarray, kind: str,
                     required: int, gmin: np.ndarray, budget: float | None) -> bool:
    sel = _expand(p, r, sel_r)
    if r.sharing_on and float(r.t[sel_r].sum()) < -1e-9:
        return False
    if budget is not None and float(r.cost[sel_r].sum()) > budget * (1 + 1e-12):
        return False
    if kind == "cost" or gmin.size:
        cov = covered_villages(p, sel)
        if kind == "cost" and int(cov.sum()) < required:
            return False
        if gmin.size and np.any(_group_counts(p, cov, gmin.size) < gmin):
            return False
    return True


def _prune(p: CoverProblem, r: _Reduced, sel_r: np.ndarray, kind: str, required: int,
           gmin: np.ndarray, budget: float | None, values: np.ndarray | None) -> np.ndarray:
    """Drop picks, costliest first, while the solution stays feasible and (max coverage)
    its value does not fall."""
    sel_r = sel_r.copy()
    if not _greedy_state_ok(p, r, sel_r, kind, required, gmin, budget):
        return sel_r
    val0 = None
    if kind == "max":
        assert values is not None
        val0 = float(values[covered_villages(p, _expand(p, r, sel_r))].sum())
    for c in sorted(np.flatnonzero(sel_r).tolist(), key=lambda i: -r.cost[i]):
        sel_r[c] = False
        keep_ok = _greedy_state_ok(p, r, sel_r, kind, required, gmin, budget)
        if keep_ok and val0 is not None:
            assert values is not None
            keep_ok = float(values[covered_villages(p, _expand(p, r, sel_r))].sum()) >= (
                val0 - 1e-9)
        if not keep_ok:
            sel_r[c] = True
    return sel_r


def _best_single(r: _Reduced, vals: np.ndarray, budget: float) -> tuple[int, float]:
    """Best single affordable candidate meeting sharing (max coverage, no group minima):
    its index and the value of the villages it completes alone (-1, 0 when none)."""
    ok = r.cost <= budget * (1 + 1e-12)
    if r.sharing_on:
        ok &= r.t >= -1e-9
    coo = r.C.tocoo()
    nv = r.vill.size
    v = r.cell_village[coo.col]
    key = coo.row.astype(np.int64) * nv + v
    uk, inv = np.unique(key, return_inverse=True)
    dw = np.bincount(inv, weights=r.cell_w[coo.col], minlength=uk.size)
    dc = np.bincount(inv, weights=r.cell_centre[coo.col].astype(float), minlength=uk.size)
    ur, uv = uk // nv, uk % nv
    comp = (r.centre_today[uv] | (dc > 0)) & (dw >= r.need[uv] - SHARE_TOL)
    tot = np.bincount(ur, weights=vals[uv] * comp, minlength=r.C.shape[0])
    tot = np.where(ok, tot, -1.0)
    if tot.size == 0 or tot.max() <= 0:
        return -1, 0.0
    best = int(np.argmax(tot))
    return best, float(tot[best])


def _greedy(p: CoverProblem, r: _Reduced, t0: float, *, kind: str, required: int,
            budget: float | None, gmin: np.ndarray, values: np.ndarray | None) -> Solution:
    group_req, group_of, why = _group_need(p, r, gmin)
    vbase = values[r.vill] if values is not None else np.ones(r.vill.size)
    g = _Greedy(r, vbase, kind, values, required - int(r.base.sum()), group_req, group_of,
                budget)
    g.run()
    sel_r = _prune(p, r, g.sel, kind, required, gmin, budget, values)
    if kind == "max" and values is not None and budget is not None and gmin.size == 0:
        best, v_s = _best_single(r, vbase, budget)
        v_g = float(values[covered_villages(p, _expand(p, r, sel_r))].sum()) - float(
            values[r.base].sum())
        if best >= 0 and v_s > v_g + 1e-9:
            sel_r = np.zeros(r.C.shape[0], dtype=bool)
            sel_r[best] = True
    ok = _greedy_state_ok(p, r, sel_r, kind, required, gmin, budget)
    status: Status = "greedy" if ok else "infeasible"
    msg = "" if ok else (why or "the greedy heuristic did not meet the target and "
                         "constraints (this does not prove them unreachable)")
    return _make_solution(p, _expand(p, r, sel_r), status, kind=kind, values=values,
                          bound=None, t0=t0, r=r, message=msg)
