"""KPI arithmetic on a hand-made case."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from vncoverage.config import KpiConfig
from vncoverage.kpi import bts_inventory, compute_kpis, summarise_by_area
from vncoverage.towers import same_tower_ids


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
    # the targets' rows first, in their order; then the computed rows without a target
    # (the 2G/3G service rows, "not computed" without 2G/3G layers)
    assert list(k.index[:len(TARGETS)]) == list(TARGETS.index)
    extra = k.iloc[len(TARGETS):]
    assert set(extra.index) == {"mobile_service_villages", "service_2g3g_only_people",
                                "service_2g3g_only_villages"}
    assert extra["status"].str.startswith("not computed").all()


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


def _two_codes(dx_m: float) -> gpd.GeoDataFrame:
    """One mast numbered twice: VT0001 (Viettel) and MF0107 (MobiFone) ``dx_m`` apart, each
    owned by its operator; VN0050 (VNPT) alone 2 km away. Every BTS is new."""
    rows = [("VT0001", "Viettel", 0.0), ("MF0107", "MobiFone", dx_m), ("VN0050", "VNPT", 2e3)]
    return gpd.GeoDataFrame({
        "site_id": [r[0] for r in rows], "operator": [r[1] for r in rows],
        "technology": ["4G"] * 3, "commissioned": [dt.date(2024, 5, 1)] * 3,
        "tower_owner": [r[1] for r in rows],
    }, geometry=[Point(680_000 + r[2], 2_410_000) for r in rows], crs="EPSG:32648")


def _shared(cells: gpd.GeoDataFrame, kpi: KpiConfig) -> pd.Series:
    k = compute_kpis(_villages(1, 0, 0, 1), cells, None, kpi,
                     same_tower_ids(cells, kpi.same_tower_m))
    return k.loc["shared_new_bts"]


def test_two_codes_8_m_apart_are_one_shared_tower():
    cells, kpi = _two_codes(8.0), KpiConfig()
    bts = bts_inventory(cells, kpi, same_tower_ids(cells, kpi.same_tower_m))
    assert bts.loc[("VT0001", "Viettel", "4G"), "shared"]
    assert bts.loc[("MF0107", "MobiFone", "4G"), "shared"]
    assert bts.loc[("MF0107", "MobiFone", "4G"), "tower_id"] == "MF0107"
    assert not bts.loc[("VN0050", "VNPT", "4G"), "shared"]
    shared = _shared(cells, kpi)
    assert shared["achieved"] == 2 and shared["total"] == 3
    assert shared["current"] == pytest.approx(200.0 / 3)
    assert "sites within 30 m are one tower (1 group(s) of several site ids)" in shared["detail"]
    # the same cells counted site id by site id: no shared BTS
    assert _shared(cells, KpiConfig(same_tower_m=0.0))["achieved"] == 0
    assert compute_kpis(_villages(1, 0, 0, 1), cells, None, kpi).loc[
        "shared_new_bts", "achieved"] == 0


def test_two_codes_40_m_apart_are_two_towers():
    shared = _shared(_two_codes(40.0), KpiConfig())
    assert shared["achieved"] == 0 and shared["total"] == 3
    assert "sites within 30 m are one tower (0 group(s) of several site ids)" in shared["detail"]


def test_chain_of_codes_is_one_tower():
    # VT0001 - MF0107 - VN0050 each 25 m from the next (50 m end to end): one tower
    cells = _two_codes(25.0)
    cells.loc[2, "geometry"] = Point(680_050, 2_410_000)
    kpi = KpiConfig()
    bts = bts_inventory(cells, kpi, same_tower_ids(cells, kpi.same_tower_m))
    assert set(bts["tower_id"]) == {"MF0107"} and bts["shared"].all()
    assert _shared(cells, kpi)["achieved"] == 3


def test_neutral_owner_of_one_code_makes_its_tower_shared():
    # Viettel alone under two codes 10 m apart; one code names a tower company as owner
    cells = _two_codes(10.0)
    cells.loc[1, ["operator", "tower_owner"]] = ["Viettel", "Tháp Chung JSC"]
    kpi = KpiConfig()
    bts = bts_inventory(cells, kpi, same_tower_ids(cells, kpi.same_tower_m))
    assert bts.loc[("VT0001", "Viettel", "4G"), "shared"]
    assert not bts_inventory(cells, kpi).loc[("VT0001", "Viettel", "4G"), "shared"]


def test_zero_distance_reproduces_site_id_towers():
    # CELLS' four sites at one point: 0 m gives the site-id numbers, 30 m one tower
    cells = gpd.GeoDataFrame(CELLS, geometry=[Point(680_000, 2_410_000)] * len(CELLS),
                             crs="EPSG:32648")
    old = bts_inventory(CELLS, KpiConfig())
    kpi0 = KpiConfig(same_tower_m=0.0)
    ids0 = same_tower_ids(cells, 0.0)
    pd.testing.assert_frame_equal(bts_inventory(cells, kpi0, ids0), old)
    assert (old["tower_id"] == old.index.get_level_values("site_id")).all()
    vil = _villages(90, 6, 4, 93)
    k_old = compute_kpis(vil, CELLS, TARGETS, KpiConfig())
    k0 = compute_kpis(vil, cells, TARGETS, kpi0, ids0)
    cols = ["current", "achieved", "total", "gap_units", "status"]
    pd.testing.assert_frame_equal(k0[cols], k_old[cols])
    assert "only equal site_id is one tower ([kpi] same_tower_m = 0)" in k0.loc[
        "shared_new_bts", "detail"]
    assert "sites not grouped by distance" in k_old.loc["shared_new_bts", "detail"]
    k30 = compute_kpis(vil, cells, TARGETS, KpiConfig(), same_tower_ids(cells, 30.0))
    assert k30.loc["shared_new_bts", "achieved"] == 4


def test_tower_ids_must_fit_the_cells_and_the_distance():
    cells = _two_codes(8.0)
    with pytest.raises(ValueError, match="no tower for site"):
        bts_inventory(cells, KpiConfig(), pd.Series({"VT0001": "VT0001"}))
    with pytest.raises(ValueError, match="same_tower_m is 0"):
        bts_inventory(cells, KpiConfig(same_tower_m=0.0), same_tower_ids(cells, 30.0))
