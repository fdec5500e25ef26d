"""``vncoverage import opencellid``: OpenCelliD's CSV layout (no header in the public dumps,
a header in the API's downloads; plain or gzipped) to a site list that ``[inputs] sites``
reads. Files generated here, in that exact layout; no download."""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from pyproj import CRS

from vncoverage.cli import main
from vncoverage.config import load_config
from vncoverage.errors import InputDataError
from vncoverage.fileio import sample_data_dir
from vncoverage.fileio.opencellid import OCID_COLUMNS, read_opencellid, study_area_wgs84
from vncoverage.fileio.sites import read_sites

GEOD = pyproj.Geod(ellps="WGS84")

#: Two places inside the sample's villages (Lạng Sơn city and Lộc Bình), one outside the
#: study area (Hà Nội).
A = (106.7600, 21.8500)
B = (106.9400, 21.6900)
HANOI = (105.8500, 21.0300)


def _at(p: tuple[float, float], east_m: float = 0.0, north_m: float = 0.0
        ) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(p[0], p[1], 90.0, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return round(lon, 6), round(lat, 6)


def _row(radio: str, mcc: int, net: int, cell: int, pos: tuple[float, float],
         samples: int = 5, rng: int = 1000) -> list[object]:
    # radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,
    # averageSignal
    return [radio, mcc, net, 10123, cell, 0, pos[0], pos[1], rng, samples, 1, 1459813040,
            1704067200, 0]


def _rows() -> list[list[object]]:
    rows = [
        # Viettel at A: LTE and GSM cells scattered within 120 m -> one site 2G/4G
        _row("LTE", 452, 4, 1, _at(A, 40, 0)), _row("LTE", 452, 4, 2, _at(A, -60, 30)),
        _row("LTE", 452, 4, 3, _at(A, 0, -80), samples=20), _row("GSM", 452, 4, 4, A),
        # Viettel at B: a chain of three cells 250 m apart -> one site (single linkage)
        _row("LTE", 452, 4, 5, B), _row("LTE", 452, 4, 6, _at(B, 250)),
        _row("NR", 452, 4, 7, _at(B, 500)),
        # VNPT (MNC 02) at A: its own site
        _row("UMTS", 452, 2, 8, _at(A, 10, 10)), _row("LTE", 452, 2, 9, _at(A, 20, 0)),
        # MobiFone (MNC 01) 5G at B
        _row("NR", 452, 1, 10, _at(B, 0, 3000)),
        # dropped: Vietnamobile (not configured), closed S-Fone, unknown MNC, CDMA
        _row("LTE", 452, 5, 11, A), _row("LTE", 452, 5, 12, B), _row("GSM", 452, 3, 13, A),
        _row("LTE", 452, 99, 14, A), _row("CDMA", 452, 4, 15, A),
        # outside the study area, and another country
        _row("LTE", 452, 4, 16, HANOI), _row("LTE", 310, 410, 17, A),
    ]
    return rows


def _write(path: Path, *, header: bool) -> Path:
    lines = [",".join(OCID_COLUMNS)] if header else []
    lines += [",".join(str(v) for v in r) for r in _rows()]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cfg():
    return load_config(sample_data_dir() / "config.toml")


def test_the_study_area_is_the_villages_grown_by_the_largest_radius(cfg):
    lon0, lat0, lon1, lat1 = study_area_wgs84(cfg)
    # the sample's villages: 106.12-107.33 E, 21.35-22.44 N; radius 10 km (~0.1 degree)
    assert 105.9 < lon0 < 106.05 and 107.4 < lon1 < 107.5
    assert 21.15 < lat0 < 21.3 and 22.5 < lat1 < 22.65
    assert not (lon0 <= HANOI[0] <= lon1)


@pytest.mark.parametrize(("name", "header"), [("cells.csv", False), ("cells.csv.gz", False),
                                              ("cells_api.csv", True),
                                              ("cells_api.csv.gz", True)])
def test_sites_from_the_cells_with_or_without_header_plain_or_gzipped(tmp_path, cfg, name,
                                                                     header):
    src = _write(tmp_path / name, header=header)
    sites, s = read_opencellid(src, bbox=study_area_wgs84(cfg), operators=cfg.kpi.operators)
    assert (s.rows, s.other_mcc, s.outside, s.kept) == (17, 1, 1, 10)
    assert s.per_operator == {"MobiFone": 1, "VNPT": 2, "Viettel": 7}
    reasons = {m.key: (str(m), n) for m, n in s.dropped}
    assert reasons["opencellid.not_configured"] == (
        "operators not in [kpi] operators: 452-05 Vietnamobile (2) (add them to the config "
        "to keep them)", 2)
    assert reasons["opencellid.closed_mnc"][1] == 1
    assert reasons["opencellid.unknown_mnc"] == (
        "MNC not in Vietnam's table of codes (ITU-T E.212): 452-99 (1)", 1)
    assert reasons["opencellid.cdma"][1] == 1
    assert len(sites) == s.sites == 4
    by = sites.set_index("site_id")
    assert list(by.index) == ["OCID-01-1", "OCID-02-1", "OCID-04-1", "OCID-04-2"]
    assert by.loc["OCID-04-1", "technologies"] == "2G/4G"
    assert by.loc["OCID-04-1", "n_cells"] == 4 and by.loc["OCID-04-1", "samples"] == 35
    assert by.loc["OCID-04-2", "technologies"] == "4G/5G"  # the chain, one site
    assert by.loc["OCID-04-2", "n_cells"] == 3
    assert by.loc["OCID-02-1", ["operator", "technologies"]].tolist() == ["VNPT", "3G/4G"]
    # the samples-weighted centre: the cell with 20 samples pulls it south
    _, _, d = GEOD.inv(A[0], A[1], by.loc["OCID-04-1", "lon"], by.loc["OCID-04-1", "lat"])
    assert 20 < d < 80
    assert set(by["source"]) == {"opencellid"}
    assert all("hundreds of metres off" in n for n in by["position_note"])
    assert by.loc["OCID-04-1", "first_seen"] == "2016-04-04"
    assert by.loc["OCID-04-1", "last_seen"] == "2024-01-01"
    assert "crowd-sourced estimates" in s.notes[0]


def test_a_shorter_cluster_distance_splits_the_chain(tmp_path, cfg):
    src = _write(tmp_path / "c.csv", header=False)
    sites, s = read_opencellid(src, bbox=study_area_wgs84(cfg), operators=cfg.kpi.operators,
                               cluster_m=100.0)
    viettel = sites[sites["operator"] == "Viettel"]
    assert len(viettel) == 4  # A's cells lie within 100 m of each other; B's chain splits
    assert s.sites == 6


def test_the_command_writes_a_site_list_the_sites_loader_expands(tmp_path):
    src = _write(tmp_path / "452.csv.gz", header=False)
    out = tmp_path / "sites.csv"
    res = CliRunner().invoke(main, ["import", "opencellid", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "read 17 rows" in res.output and "outside the study area" in res.output
    assert "wrote 4 sites" in res.output and "452-99 (1)" in res.output
    assert "kept: 10 cells (MobiFone 1, VNPT 2, Viettel 7)" in res.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # CSV UTF-8 (Excel)
    assert not list(tmp_path.glob("*.tmp*"))
    problems: list = []
    notes: list = []
    cells = read_sites(out, working_crs=CRS.from_epsg(32648), problems=problems, notes=notes)
    assert problems == []
    # 2G/4G + 4G/5G Viettel, 3G/4G VNPT, 5G MobiFone: 7 site technologies x 3 sectors
    assert len(cells) == 21
    assert cells.loc["OCID-04-2-5G-1", "frequency_mhz"] == 2550  # Viettel's n41 default
    assert any(n.key == "sites.crowd_sourced" and "4 sites from OpenCelliD" in n
               for n in notes)
    vi = CliRunner().invoke(main, ["import", "opencellid", str(src), "--out", str(out),
                                   "--lang", "vi"])
    assert "lệch hàng trăm mét" in vi.output


def test_a_file_not_in_the_layout_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b\n1;2\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["import", "opencellid", str(bad), "--out",
                                    str(tmp_path / "s.csv")])
    assert res.exit_code == 2 and "not an OpenCelliD CSV" in res.output
    assert not (tmp_path / "s.csv").exists()


# --------------------------------------------------------------------------------------
# villages given as points: the study area is theirs, not the whole communes layer's

#: A commune far from A (about 60 km north-east), in the same communes layer.
FAR = (107.3000, 22.3500)


def _point_villages_config(root: Path) -> Path:
    """Two communes (6 km squares, UTM 48N) around A and around FAR; two village points in
    A's commune only, given as a lon/lat table; radius 5 km for 4G, 15 km (default) for
    2G."""
    utm = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
    squares = []
    for lon, lat in (A, FAR):
        x, y = utm.transform(lon, lat)
        squares.append(shapely.box(x - 3000, y - 3000, x + 3000, y + 3000))
    gpd.GeoDataFrame({"commune_id": ["C01", "C02"], "name": ["Xã Nà Phạ", "Xã Tân Lập"],
                      "district": ["Văn Quan", "Bình Gia"]}, geometry=squares,
                     crs=32648).to_file(root / "communes.gpkg", layer="communes",
                                        driver="GPKG")
    v1, v2 = _at(A, -1000, 500), _at(A, 1500, -800)
    pd.DataFrame({"Tên thôn": ["Thôn Nà Pha", "Bản Pác Cáp"], "Xã": ["Nà Phạ", "Nà Phạ"],
                  "Huyện": ["Văn Quan", "Văn Quan"], "Kinh độ": [v1[0], v2[0]],
                  "Vĩ độ": [v1[1], v2[1]]}).to_csv(root / "thon.csv", index=False)
    cfg = root / "config.toml"
    cfg.write_text('[inputs]\nboundaries = "communes.gpkg"\nvillage_points = "thon.csv"\n\n'
                   '[radio]\ntechnologies = ["4G"]\nmax_radius_m = { "4G" = 5000.0 }\n',
                   encoding="utf-8")
    return cfg


def test_with_village_points_the_study_area_is_their_communes_not_the_whole_layer(
        tmp_path):
    cfg = load_config(_point_villages_config(tmp_path))
    lon0, lat0, lon1, lat1 = study_area_wgs84(cfg)
    # A's commune (6 km) grown by the largest radius (15 km, 2G's default) on each side
    utm = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
    back = pyproj.Transformer.from_crs(32648, 4326, always_xy=True)
    x, y = utm.transform(*A)
    want = back.transform_bounds(x - 18000, y - 18000, x + 18000, y + 18000,
                                 densify_pts=21)
    assert np.allclose((lon0, lat0, lon1, lat1), want, atol=1e-6)
    assert not (lon0 <= FAR[0] <= lon1 and lat0 <= FAR[1] <= lat1)
    # the command keeps the cells at A, drops those of the far commune as outside
    rows = [_row("LTE", 452, 4, 1, A), _row("LTE", 452, 4, 2, FAR),
            _row("LTE", 452, 2, 3, _at(FAR, 500))]
    src = tmp_path / "452.csv"
    src.write_text("\n".join(",".join(str(v) for v in r) for r in rows) + "\n",
                   encoding="utf-8")
    out = tmp_path / "sites.csv"
    res = CliRunner().invoke(main, ["import", "opencellid", str(src), "--config",
                                    str(tmp_path / "config.toml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote 1 sites" in res.output or "wrote 1 site" in res.output, res.output
    sites = pd.read_csv(out, encoding="utf-8-sig")
    assert list(sites["site_id"]) == ["OCID-04-1"]


def test_village_points_that_cannot_be_used_are_the_problem(tmp_path):
    """The study area of unusable village points is not guessed from the communes."""
    root = _point_villages_config(tmp_path)
    (tmp_path / "thon.csv").write_text("Tên thôn,Xã,Kinh độ,Vĩ độ\nThôn Nà Pha,Xã Không Có,"
                                       f"{A[0]},{A[1]}\n", encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        study_area_wgs84(load_config(root))
    assert "commune 'Xã Không Có'" in str(err.value)
