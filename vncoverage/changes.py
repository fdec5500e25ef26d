"""What changed between two runs of a workspace: cells, village verdicts, KPIs."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .coverage import LayerUpdate
from .villages import touches

__all__ = ["CHANGE_VERDICTS", "Changes", "compute_changes"]


@dataclass(frozen=True)
class Changes:
    """What an update changed: cells, villages whose verdict changed, KPIs before -> after."""

    cells: pd.DataFrame
    villages: pd.DataFrame
    kpis: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.cells.empty


#: Verdict columns compared between runs, with the technology label they stand for.
CHANGE_VERDICTS = {"verdict_mbb_any": "mobile broadband (4G/5G)", "verdict_4g_any": "4G",
                   "verdict_5g_any": "5G"}


def compute_changes(before_verdicts: pd.DataFrame | None, before_kpis: pd.DataFrame | None,
                    *, update: LayerUpdate | None, villages: pd.DataFrame, kpis: pd.DataFrame,
                    cells: gpd.GeoDataFrame, old_cells: gpd.GeoDataFrame | None,
                    box: pd.DataFrame) -> Changes | None:
    """Villages whose verdict changed (per technology, with population and the cells that
    caused it), the KPIs before and after, and the cells added, changed or removed.

    ``before_verdicts`` holds the previous run's verdict columns per village and
    ``before_kpis`` its KPI table; ``update`` is what the layer update did, ``villages``,
    ``kpis`` and ``cells`` this run's results, ``old_cells`` the previous cell table and
    ``box`` the villages' pixel boxes (:func:`~vncoverage.villages.village_pixel_bounds`
    with centres and household clusters, the same boxes that chose the villages to
    summarise again). None (nothing to compare) when there was no update.
    """
    if before_verdicts is None or before_kpis is None or update is None or update.empty:
        return None
    upd = update
    rows = []
    for kind, ids in (("added", upd.added), ("changed", upd.changed),
                      ("removed", upd.removed)):
        src = old_cells if kind == "removed" and old_cells is not None else cells
        for cid in ids:
            c = src.loc[cid]
            rows.append({"cell_id": cid, "change": kind, "site_id": c.get("site_id"),
                         "operator": c["operator"], "technology": c["technology"],
                         "frequency_mhz": c["frequency_mhz"]})
    cells = pd.DataFrame(rows)
    va, vb = villages, before_verdicts.reindex(villages.index)
    cause_hits = {cid: np.logical_or.reduce([touches(box, w) for w in wins])
                  for cid, wins in upd.windows_by_cell.items()}
    pos = {vid: k for k, vid in enumerate(va.index)}
    vrows = []
    for col, label in CHANGE_VERDICTS.items():
        if col not in va.columns:
            continue
        old = vb[col] if col in vb.columns else pd.Series("", index=va.index)
        diff = va.index[(old.fillna("") != va[col]).to_numpy()]
        for vid in diff:
            causes = sorted(cid for cid, hit in cause_hits.items() if hit[pos[vid]])
            vrows.append({"village_id": vid, "name": va.at[vid, "name"],
                          "district": va.at[vid, "district"],
                          "commune_2025": va.at[vid, "commune_2025"]
                          if "commune_2025" in va.columns else "",
                          "population": va.at[vid, "population"], "technology": label,
                          "verdict_before": old.get(vid, ""), "verdict_after": va.at[vid, col],
                          "cells": " ".join(causes)})
    villages = pd.DataFrame(vrows, columns=["village_id", "name", "district", "commune_2025",
                                            "population", "technology", "verdict_before",
                                            "verdict_after", "cells"])
    if len(villages):
        villages = villages.sort_values(["technology", "population"], ascending=[True, False])
    kb, ka = before_kpis, kpis
    kpis = pd.DataFrame({"kpi": ka.index, "before": kb["current"].reindex(ka.index).to_numpy(),
                         "after": ka["current"].to_numpy()}).dropna(subset=["after"])
    kpis["change_pts"] = kpis["after"] - kpis["before"]
    return Changes(cells=cells, villages=villages, kpis=kpis)


