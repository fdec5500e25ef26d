"""Static charts for the report: matplotlib figures rendered to PNG without pyplot."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from vncoverage.outputs.charts import (
    district_coverage_figure,
    figure_png,
    gap_map_figure,
    kpi_progress_figure,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _kpis():
    return pd.DataFrame({
        "name_vi": ["Thôn có sóng", "Thôn có cáp quang", "Tốc độ"],
        "name_en": ["Villages with MBB", "Villages with FTTH", "Speed"],
        "unit": ["%", "%", "Mbps"], "baseline_2023": [92.0, 87.0, 34.4],
        "current": [95.2, 96.0, np.nan], "target_2025": [98.0, 95.0, 42.0],
    }, index=pd.Index(["mbb", "ftth", "speed"], name="kpi_id"))


def test_kpi_progress_png():
    fig = kpi_progress_figure(_kpis(), lang="vi")
    ax = fig.axes[0]
    assert "Tiến độ" in ax.get_title(loc="left")
    texts = [t.get_text() for t in ax.texts]
    assert any("Thôn có sóng" in t for t in texts) and not any("Tốc độ" in t for t in texts)
    assert figure_png(fig).startswith(PNG)
    assert figure_png(kpi_progress_figure(_kpis().iloc[:0], lang="en")).startswith(PNG)


def test_district_coverage_png():
    g = pd.DataFrame({"villages": [10, 4], "mbb_covered": [9, 4], "mbb_lom_song": [1, 0],
                      "mbb_trang_song": [0, 0], "mbb_unknown": [0, 0]},
                     index=pd.Index(["Huyện A", "Huyện B"], name="district"))
    fig = district_coverage_figure(g, target_pct=98.0, lang="en")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Huyện A", "Huyện B"]
    assert any(t.get_text() == "−1" for t in ax.texts)  # one village short in A
    assert figure_png(fig).startswith(PNG)


def test_gap_map_png():
    v = gpd.GeoDataFrame({"verdict_mbb_any": ["covered", "lõm sóng", "trắng sóng"],
                          "remote_gap": [False, False, True]},
                         geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000),
                                   box(2000, 0, 3000, 1000)], crs=32648)
    towns = gpd.GeoSeries(gpd.points_from_xy([500.0], [500.0]), crs=32648)
    fig = gap_map_figure(v, towns=towns, town_labels=["Town"],
                         towers=gpd.GeoSeries(gpd.points_from_xy([1500.0], [500.0]), crs=32648),
                         title="Test", lang="vi")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Test"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == [
        "Có sóng", "Lõm sóng", "Trắng sóng"]
    assert figure_png(fig, dpi=60).startswith(PNG)
