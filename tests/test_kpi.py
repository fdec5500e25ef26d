"""KPI arithmetic on a hand-made case."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from vncoverage.config import KpiConfig
from vncoverage.kpi import bts_inventory, compute_kpis, summarise_by_area


def _villages(n_cov: int, n_weak: int, n_none: int, n_ftth: int) -> pd.DataFrame:
    verdicts = ["covered"] * n_cov + ["lõm sóng"] * n_weak + ["trắng sóng"] * n_none
    n = len(verdicts)
    return pd.DataFrame({
        "verdict_mbb_any": verdicts,
        "ftth_covered": [True] * n_ftth + [False] * (n - n_ftth),
        "population": [100] * n,
        "pop_share_mbb_any": [1.0] * n_cov + [0.5] * n_weak + [0.0] * n_none,
        "district": ["A"] * (n // 2) + ["B"] * (n - n // 2),
        "ftth_households": [25] * n, "ftth_households_passed": [10] * n,
    }, index=pd.Index([f"V{i}" for i in range(n)], name="village_id"))


CELLS = pd.DataFrame({
    # T1: Viettel + VNPT on one tower, both new -> 2 shared BTS
    # T2: MobiFone alone, new, owned by a tower company -> shared
    # T3: Viettel alone, new -> not shared; T4: VNPT alone, old -> not new
    "site_id": ["T1", "T1", "T1", "T2", "T3", "T3", "T4"],
    "operator": ["Viettel", "Viettel", "VNPT", "MobiFone", "Viettel", "Viettel", "VNPT"],
    "technology": ["4G", "4G", "4G", "4G", "4G", "3G", "4G"],
    "commissioned": [dt.date(2024, 1, 1), dt.date(2022, 1, 1), dt.date(2023, 9, 1),
                     dt.date(2025, 3, 1), dt.date(2024, 6, 1), dt.date(2024, 6, 1),
                     dt.date(2019, 1, 1)],
    "tower_owner": ["Viettel", "Viettel", "Viettel", "Tháp Chung JSC", "Viettel", "Viettel",
                    "VNPT"],
})

TARGETS = pd.DataFrame({
    "name_vi": ["a", "b", "c", "d"], "name_en": ["MBB", "FTTH", "Shared", "Speed"],
    "unit": ["%", "%", "%", "Mbps"], "baseline_2023": [92, 87, 16, 34.41],
    "target_2025": [98, 95, 30, 42], "computed": [True, True, True, False],
}, index=pd.Index(["mobile_broadband_villages", "ftth_villages", "shared_new_bts",
                   "mobile_download_mbps"], name="kpi_id"))


def test_bts_inventory():
    bts = bts_inventory(CELLS, KpiConfig())
    # T1/Viettel/4G was first commissioned in 2022: not new
    assert not bts.loc[("T1", "Viettel", "4G"), "new"]
    assert bts.loc[("T1", "VNPT", "4G"), "new"] and bts.loc[("T1", "VNPT", "4G"), "shared"]
    assert bts.loc[("T2", "MobiFone", "4G"), "shared"]
    assert not bts.loc[("T3", "Viettel", "3G"), "shared"]


def test_kpi_arithmetic():
    vil = _villages(90, 6, 4, 93)  # 100 villages
    k = compute_kpis(vil, CELLS, TARGETS, KpiConfig())
    mbb = k.loc["mobile_broadband_villages"]
    assert mbb["current"] == pytest.approx(90.0)
    assert mbb["gap_units"] == 8  # ceil(0.98 * 100) - 90
    assert mbb["gap_pct_points"] == pytest.approx(8.0)
    assert mbb["status"] == "not met"
    ftth = k.loc["ftth_villages"]
    assert ftth["current"] == pytest.approx(93.0) and ftth["gap_units"] == 2
    shared = k.loc["shared_new_bts"]
    # new BTS: T1/VNPT/4G, T2/MobiFone/4G, T3/Viettel/4G, T3/Viettel/3G -> 2 shared of 4
    assert shared["total"] == 4 and shared["achieved"] == 2
    assert shared["current"] == pytest.approx(50.0) and shared["status"] == "met"
    assert shared["gap_units"] == 0
    assert k.loc["mobile_download_mbps", "status"] == "reported statistic, not computed"
    assert list(k.index) == list(TARGETS.index)


def test_weak_villages_can_count_as_covered():
    vil = _villages(90, 6, 4, 93)
    k = compute_kpis(vil, CELLS, TARGETS, KpiConfig(count_weak_as_covered=True))
    assert k.loc["mobile_broadband_villages", "current"] == pytest.approx(96.0)
    assert k.loc["mobile_broadband_villages", "gap_units"] == 2


def test_gap_in_villages_for_1676():
    # DOMAIN.md: with 1,676 villages, 98 % allows at most 33 uncovered
    vil = _villages(1676 - 40, 0, 40, 1676)
    k = compute_kpis(vil, CELLS, TARGETS, KpiConfig())
    assert k.loc["mobile_broadband_villages", "gap_units"] == 40 - 33


def test_summarise_by_area():
    g = summarise_by_area(_villages(3, 1, 0, 2), "district")
    assert g.loc["A", "villages"] == 2 and g.loc["B", "mbb_lom_song"] == 1
    assert g.loc["B", "mbb_population_covered_pct"] == pytest.approx(75.0)
    assert g.loc["A", "ftth_covered_pct"] == pytest.approx(100.0)
