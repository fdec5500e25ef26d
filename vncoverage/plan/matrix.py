"""Which village points each candidate work brings to "covered", by the run's own rule.

A village's mobile-broadband verdict reads its points (:func:`vncoverage.pointlevels.
village_points`: the centre, the household clusters or, without clusters, the pixels of its
polygon): a point is covered when the best 4G/5G level there, less the location margin,
reaches the threshold of that cell's technology — exactly the pixel rule of the layers, on
the pixel that holds the point. The village is *covered* when its centre is and the covered
share of its points' weight reaches ``[coverage] covered_population_share``
(:func:`vncoverage.uncertainty.verdict_draws` with no error is that rule).

The planner needs, per candidate, the points it would newly cover:

* the levels of the existing cells at the points (the run's point matrix when the
  uncertainty collected it, else :func:`~vncoverage.pointlevels.levels_at_points`);
* the levels of every candidate's cells at the points, computed by the same engine
  (:func:`~vncoverage.pointlevels.levels_at_points` with ``only_points``: the per-pixel
  profiles to those pixels only, identical values, a fraction of the time);
* a point counts for a candidate when one of its cells covers it and no existing cell does
  (only new coverage counts).

The verdicts before and after a selection are computed with the same rule on the union of
the existing and selected cells (:func:`village_codes`), so the plan's prediction is what a
run with those cells computes (the closed-loop check of ``vncoverage plan``).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from ..clutter import ClutterGrid
from ..config import Config
from ..coverage import dem_fingerprint
from ..datatypes import Dem
from ..fileio import write_bytes
from ..pointlevels import PointLevels, VillagePoints, levels_at_points
from ..uncertainty import (
    Errors,
    layer_matrix,
    required_dbm,
    verdict_draws,
)

__all__ = ["CoverageMatrix", "coverage_matrix", "merged_levels", "point_margins",
           "village_codes"]


def _site_index(cells: pd.DataFrame) -> dict[str, int]:
    return {str(s): k for k, s in enumerate(sorted(set(cells["site_id"].astype(str))))}


def point_margins(levels: PointLevels, cells: pd.DataFrame, cfg: Config, points: VillagePoints,
                  operator: str = "any") -> tuple[np.ndarray, np.ndarray]:
    """Per point, the best margin (dB) of the mobile-broadband layer of ``operator`` over the
    cells of ``levels`` (-inf where none reaches) and whether the point is unknown when not
    covered (the layer rule, :func:`vncoverage.uncertainty.layer_matrix`)."""
    lm = layer_matrix(levels, cells, cfg.radio, points, _site_index(cells), operator=operator)
    best = np.full(points.n_points, -np.inf)
    has = np.diff(lm.ptr) > 0
    if len(lm.margin_db):
        starts = lm.ptr[:-1][has]
        best[has] = np.maximum.reduceat(lm.margin_db, starts)
    return best, lm.unknown


def village_codes(levels: PointLevels, cells: pd.DataFrame, cfg: Config, points: VillagePoints,
                  operator: str = "any") -> np.ndarray:
    """The verdict code of every village (:data:`vncoverage.uncertainty.V_COVERED`, ...)
    from the levels at its points: the run's rule with no error."""
    lm = layer_matrix(levels, cells, cfg.radio, points, _site_index(cells), operator=operator)
    n_sites = int(lm.site.max()) + 1 if len(lm.site) else 1
    err = Errors.fixed(n_sites, len(points.village_ids), points.n_points)
    return verdict_draws(points, lm, err, cfg.coverage.covered_population_share)[:, 0]


def merged_levels(a: PointLevels, b: PointLevels) -> PointLevels:
    """The point matrix of the cells of ``a`` and ``b`` together (disjoint cell ids, same
    points), entries sorted by point then cell as :class:`PointLevels` requires."""
    if a.n_points != b.n_points:
        raise ValueError("the two matrices have different points")
    if set(a.cell_ids) & set(b.cell_ids):
        raise ValueError("the two matrices share cell ids")
    ids = sorted([*a.cell_ids, *b.cell_ids])
    pos = {c: k for k, c in enumerate(ids)}
    ma = np.array([pos[c] for c in a.cell_ids], np.int64)
    mb = np.array([pos[c] for c in b.cell_ids], np.int64)
    point = np.concatenate([a.point, b.point]).astype(np.int64)
    cell = np.concatenate([ma[a.cell] if len(a.cell) else a.cell.astype(np.int64),
                           mb[b.cell] if len(b.cell) else b.cell.astype(np.int64)])
    level = np.concatenate([a.level_dbm, b.level_dbm])
    order = np.lexsort((cell, point))
    return PointLevels(a.n_points, ids, point[order], cell[order], level[order])


@dataclass(frozen=True)
class CoverageMatrix:
    """The candidates' new coverage of the village points.

    ``covers`` (candidates x points, bool CSR): candidate ``k`` covers point ``p`` and no
    existing cell does; ``covered_before`` / ``unknown_before`` per point; ``levels``: the
    candidates' cells at the points (to merge with the existing matrix for a selection);
    ``candidate_of_cell``: the candidate position of each of those cells.
    """

    covers: sparse.csr_matrix
    covered_before: np.ndarray
    unknown_before: np.ndarray
    levels: PointLevels
    candidate_of_cell: dict[str, int]


def coverage_matrix(cand_cells: gpd.GeoDataFrame, candidate_ids: pd.Index, existing: PointLevels,
                    cells: pd.DataFrame, cfg: Config, dem: Dem, points: VillagePoints, *,
                    clutter: ClutterGrid | None = None, operator: str = "any",
                    cache_dir: Path | None = None, clutter_key: str = "") -> CoverageMatrix:
    """The :class:`CoverageMatrix` of the candidates whose cells are ``cand_cells`` (cell
    table schema, indexed by cell id, with a ``candidate_id`` column), against the existing
    ``cells`` whose levels at ``points`` are ``existing``. ``cache_dir`` (a workspace's
    ``cache/plan``): the candidates' levels are kept there under :func:`matrix_key` and
    read back when nothing they depend on changed (``clutter_key``: the land cover's
    digest when clutter is applied)."""
    before, unknown = point_margins(existing, cells, cfg, points, operator)
    covered = before >= 0.0
    key = matrix_key(cand_cells, points, cfg, dem_fingerprint(dem), clutter_key)
    lev = _cached(cache_dir, key)
    if lev is None:
        lev = levels_at_points(cand_cells, dem, cfg.radio, points.x, points.y,
                               clutter=clutter, only_points=True)
        if cache_dir is not None:
            _keep(cache_dir, key, lev)
    cand_pos = {c: k for k, c in enumerate(candidate_ids.astype(str))}
    of_cell = {str(cid): cand_pos[str(k)]
               for cid, k in cand_cells["candidate_id"].items()}
    tab = cand_cells.reindex(pd.Index(lev.cell_ids))
    tech = tab["technology"].astype(str).to_numpy()
    ops = tab["operator"].astype(str).to_numpy()
    ok_cell = np.isin(tech, ("4G", "5G")) & np.isin(tech, list(cfg.radio.technologies))
    if operator != "any":
        ok_cell &= ops == operator
    req = np.array([required_dbm(cfg.radio, t) if k else np.inf
                    for t, k in zip(tech, ok_cell, strict=True)])
    c = lev.cell
    hit = np.isfinite(lev.level_dbm) & (lev.level_dbm - req[c] >= 0.0) & ~covered[lev.point]
    owner = np.array([of_cell[i] for i in lev.cell_ids], np.int64)
    rows, cols = owner[c[hit]], lev.point[hit]
    m = sparse.csr_matrix((np.ones(len(rows), bool), (rows, cols)),
                          shape=(len(candidate_ids), points.n_points), dtype=bool)
    m.sum_duplicates()
    m.data[:] = True
    return CoverageMatrix(m, covered, unknown & ~covered, lev, of_cell)


def matrix_key(cand_cells: pd.DataFrame, points: VillagePoints, cfg: Config,
               dem_fp: str, extra: str = "") -> str:
    """A fingerprint of a coverage matrix: the candidates' cells, the points, the radio
    configuration, the DEM (and whatever ``extra`` the caller adds: land cover)."""
    cols = [c for c in cand_cells.columns if c != "geometry"]
    body = {
        "cells": pd.util.hash_pandas_object(cand_cells[cols].astype(str), index=True)
        .to_numpy().tobytes().hex(),
        "xy": hashlib.sha256(np.round(np.c_[points.x, points.y], 2).tobytes()).hexdigest(),
        "radio": repr(cfg.radio), "dem": dem_fp, "extra": extra,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


def _cached(cache_dir: Path | None, key: str) -> PointLevels | None:
    """The levels kept under ``key``, or None (absent or unreadable: recomputed)."""
    if cache_dir is None:
        return None
    path = cache_dir / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            return PointLevels(int(z["n_points"]), [str(c) for c in z["cell_ids"]],
                               z["point"], z["cell"], z["level_dbm"])
    except (OSError, KeyError, ValueError):
        return None


def _keep(cache_dir: Path, key: str, lev: PointLevels) -> None:
    """Keep ``lev`` under ``key`` (written atomically; one matrix per key)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, n_points=np.int64(lev.n_points), cell_ids=np.asarray(lev.cell_ids, dtype=str),
             point=lev.point, cell=lev.cell, level_dbm=lev.level_dbm)
    write_bytes(cache_dir / f"{key}.npz", buf.getvalue())
