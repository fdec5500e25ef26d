"""The main job on the bundled sample, end to end (what `make run` does)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from vncoverage.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sample") / "out"
    res = CliRunner().invoke(main, ["run", "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_prints_the_kpi_table(sample_out):
    _, output = sample_out
    for kpi in ("mobile broadband", "FTTH", "shared"):
        assert kpi in output
    assert "stage timings" in output


def test_villages_and_verdicts(sample_out):
    out, _ = sample_out
    vil = gpd.read_file(out / "villages.gpkg", layer="villages")
    assert len(vil) == 1676 and vil["village_id"].is_unique
    assert set(vil["verdict_mbb_any"]) <= {"covered", "lõm sóng", "trắng sóng", "unknown"}
    for col in [c for c in vil.columns if "share" in c]:
        assert vil[col].between(0, 1).all(), col
    # operator layers never beat the union of operators
    for op in ("viettel", "vnpt", "mobifone"):
        assert (vil[f"pop_share_mbb_{op}"] <= vil["pop_share_mbb_any"] + 1e-9).all()
    # the sample DEM has no nodata: nothing is unknown
    assert (vil["verdict_mbb_any"] != "unknown").all()
    assert vil.crs.to_epsg() == 32648


def test_kpis_are_consistent_with_villages(sample_out):
    out, _ = sample_out
    kpi = pd.read_csv(out / "kpi.csv", index_col=0)
    vil = pd.read_csv(out / "villages.csv", index_col=0)
    mbb = kpi.loc["mobile_broadband_villages"]
    covered = int((vil["verdict_mbb_any"] == "covered").sum())
    assert mbb["achieved"] == covered and mbb["total"] == 1676
    assert mbb["current"] == pytest.approx(100 * covered / 1676)
    assert mbb["gap_units"] == max(0, int(np.ceil(0.98 * 1676 - 1e-9)) - covered)
    assert kpi.loc["ftth_villages", "achieved"] == int(vil["ftth_covered"].sum())
    by_d = pd.read_csv(out / "by_district.csv", index_col=0)
    assert len(by_d) == 11 and by_d["villages"].sum() == 1676
    by_c = pd.read_csv(out / "by_commune_2025.csv", index_col=0)
    assert len(by_c) == 65 and by_c["villages"].sum() == 1676


def test_raster_and_report(sample_out):
    out, _ = sample_out
    with rasterio.open(out / "coverage_4g.tif") as src:
        band = src.read(1)
        assert src.crs.to_epsg() == 32648
    finite = band[np.isfinite(band)]
    assert finite.size > 0.5 * band.size  # most of the grid is within reach of a 4G cell
    assert -200 < np.median(finite) < -40
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Villages without mobile broadband coverage" in report
    assert "sha256" in report


def test_the_sample_on_a_local_dask_cluster(sample_out, tmp_path):
    """The main job on a LocalCluster of 2 worker processes, tiles of 256 pixels (the
    grid's 1,712 x 1,778 pixels in 49 tiles): the same tables, byte for byte, and the
    same rasters as in one process."""
    out, _ = sample_out
    dask_out = tmp_path / "dask"
    res = CliRunner().invoke(main, ["run", "--out", str(dask_out), "--no-progress",
                                    "--scheduler", "local:2", "--tile-px", "256"])
    assert res.exit_code == 0, res.output
    assert "computed on Dask (local:2)" in res.output
    for name in ("villages.csv", "kpi.csv", "by_district.csv", "by_commune_2025.csv"):
        assert (out / name).read_bytes() == (dask_out / name).read_bytes(), name
    for name in ("coverage_4g.tif", "server_4g.tif", "coverage_masks.tif"):
        with rasterio.open(out / name) as a, rasterio.open(dask_out / name) as b:
            assert np.array_equal(a.read(), b.read(), equal_nan=True), name
