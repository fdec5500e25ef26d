"""Villages given as points (or as names with place points) instead of polygons: Voronoi
cells clipped to their commune, commune matching, pairing by name, and a whole run."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from click.testing import CliRunner
from conftest import X0, Y0, build_world
from pyproj import CRS
from rasterio.windows import from_bounds
from shapely.geometry import Point, Polygon, box

from vncoverage.cli import main
from vncoverage.config import InputsConfig
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import sample_data_dir
from vncoverage.fileio.village_points import pair_by_names, read_village_points
from vncoverage.i18n import Message

WORKING = CRS.from_epsg(32648)

#: Two communes of one district: an L-shaped one (concave: a plain Voronoi cell would
#: cross into the other) and the square filling the L's corner.
L_SHAPE = Polygon([(X0, Y0 - 6000), (X0 + 6000, Y0 - 6000), (X0 + 6000, Y0 - 3000),
                   (X0 + 3000, Y0 - 3000), (X0 + 3000, Y0), (X0, Y0)])
SQUARE = box(X0 + 3000, Y0 - 3000, X0 + 6000, Y0)

#: (village_id, name, commune as the list writes it, x, y); "Xa Na Pha" lacks its marks.
VILLAGES = [
    ("T01", "Thôn Nà Pha", "Xã Nà Phạ", X0 + 1000, Y0 - 1000),
    ("T02", "Thôn Khuổi Slung", "Xa Na Pha", X0 + 1000, Y0 - 5000),
    ("T03", "Bản Pác Cáp", "Nà Phạ", X0 + 5000, Y0 - 5000),
    ("T04", "Thôn Còn Quan", "Xã Nà Phạ", X0 + 2500, Y0 - 3500),
    ("T05", "Thôn Bó Củng", "Xã Tân Lập", X0 + 4500, Y0 - 1500),
]


def _communes(path: Path, districts: tuple[str, str] = ("Huyện Văn Quan",) * 2) -> Path:
    gpd.GeoDataFrame({"commune_id": ["C01", "C02"], "name": ["Xã Nà Phạ", "Xã Tân Lập"],
                      "district": list(districts), "district_id": ["D1", "D1"]},
                     geometry=[L_SHAPE, SQUARE], crs=32648).to_crs(4326).to_file(
        path, layer="communes", driver="GPKG")
    return path


def _points_frame(rows=VILLAGES) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"village_id": [r[0] for r in rows], "name": [r[1] for r in rows],
         "commune": [r[2] for r in rows], "district": ["Văn Quan"] * len(rows),
         "population": [300 + 10 * k for k in range(len(rows))],
         "households": [70 + k for k in range(len(rows))]},
        geometry=[Point(r[3], r[4]) for r in rows], crs=32648).to_crs(4326)


def _read(tmp_path: Path, points: Path, districts: tuple[str, str] = ("Huyện Văn Quan",) * 2,
          **kw) -> tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None, list[Problem],
                         list[Message]]:
    bpath = _communes(tmp_path / "communes.gpkg", districts)
    inp = InputsConfig(boundaries=bpath, village_points=points, **kw)
    problems: list[Problem] = []
    notes: list[Message] = []
    vil, centres = read_village_points(inp, bpath, WORKING, problems, notes)
    return vil, centres, problems, notes


def _check_tiling(vil: gpd.GeoDataFrame) -> None:
    communes = {"Xã Nà Phạ": L_SHAPE, "Xã Tân Lập": SQUARE}
    for commune, grp in vil.groupby("commune"):
        poly = communes[commune]
        for g in grp.geometry:  # every cell inside its commune
            assert g.difference(poly).area <= 1e-6 * poly.area
        union = shapely.union_all(grp.geometry.to_numpy())
        assert abs(union.area - poly.area) <= 1e-6 * poly.area
        assert abs(sum(g.area for g in grp.geometry) - poly.area) <= 1e-6 * poly.area


def test_points_layer_gives_voronoi_cells_that_tile_each_commune(tmp_path):
    pts = tmp_path / "thon.gpkg"
    _points_frame().to_file(pts, layer="thon", driver="GPKG")
    vil, centres, problems, notes = _read(tmp_path, pts)
    assert problems == []
    assert vil is not None and centres is not None
    assert list(vil.index) == ["T01", "T02", "T03", "T04", "T05"]
    assert (vil["geom_method"] == "voronoi").all()
    _check_tiling(vil)
    # the one village of the square commune is the whole commune
    assert vil.loc["T05"].geometry.symmetric_difference(SQUARE).area < 1e-3
    # each cell holds its own point, which is the village's centre
    for vid, r in zip(vil.index, VILLAGES, strict=True):
        assert vil.loc[vid].geometry.contains(centres.loc[vid])
        assert centres.loc[vid].distance(Point(r[3], r[4])) < 1e-3
    # the L commune's corner cell never crosses into the square commune
    assert vil.loc["T04"].geometry.intersection(SQUARE).area < 1e-6
    # commune spelled without marks / prefix: read as the layer's name, noted
    assert set(vil["commune"]) == {"Xã Nà Phạ", "Xã Tân Lập"}
    assert vil.loc["T01", "commune_id"] == "C01" and vil.loc["T05", "commune_id"] == "C02"
    joined = " ".join(notes)
    assert "'Xa Na Pha' read as 'Xã Nà Phạ'" in joined
    assert "5 villages: areas built as Voronoi cells of their points clipped to their commune" \
        in joined
    assert list(vil[["population", "households"]].iloc[0]) == [300, 70]


def test_csv_with_vietnamese_headers_and_lonlat_gives_the_same_cells(tmp_path):
    ll = _points_frame()
    table = pd.DataFrame({"Mã thôn": ll["village_id"], "Tên thôn": ll["name"],
                          "Xã": ll["commune"], "Huyện": ll["district"],
                          "Kinh độ": ll.geometry.x.round(7), "Vĩ độ": ll.geometry.y.round(7),
                          "Dân số": ll["population"], "Số hộ": ll["households"]})
    csv = tmp_path / "thon.csv"
    csv.write_bytes(table.to_csv(index=False, sep=";").encode("utf-8-sig"))
    vil, _, problems, notes = _read(tmp_path, csv)
    assert problems == []
    assert vil is not None
    _check_tiling(vil)
    pts = tmp_path / "thon.gpkg"
    _points_frame().to_file(pts, layer="thon", driver="GPKG")
    ref, _, _, _ = _read(tmp_path, pts)
    assert ref is not None
    for vid in ref.index:  # coordinates rounded to 1e-7 degrees: within a centimetre
        assert ref.loc[vid].geometry.symmetric_difference(vil.loc[vid].geometry).area < 50.0
    assert (vil["geom_method"] == "voronoi").all()
    assert any("'Tên thôn' -> name" in n for n in notes)  # how the table was read


def test_a_point_layer_with_vietnamese_field_names(tmp_path):
    """The layer's fields are named through the shared alias table (the village-points kind
    of ``_tables.TABLE_ALIASES``): ``Loại`` is the village's kind here."""
    frame = _points_frame().rename(columns={"village_id": "Mã thôn", "name": "Tên thôn",
                                            "commune": "Xã", "district": "Huyện",
                                            "population": "Dân số", "households": "Số hộ"})
    frame["Loại"] = ["thôn", "thôn", "bản", "thôn", "tổ dân phố"]
    pts = tmp_path / "thon.gpkg"
    frame.to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, _ = _read(tmp_path, pts)
    assert problems == []
    assert vil is not None and list(vil.index) == ["T01", "T02", "T03", "T04", "T05"]
    assert vil.loc["T05", "kind"] == "tổ dân phố" and vil.loc["T05", "population"] == 340
    assert vil.loc["T05", "commune"] == "Xã Tân Lập"


def test_unknown_commune_is_a_problem_with_candidates(tmp_path):
    rows = [*VILLAGES[:4], ("T05", "Thôn Bó Củng", "Xã Tân Lạc", X0 + 4500, Y0 - 1500)]
    pts = tmp_path / "thon.geojson"
    _points_frame(rows).to_file(pts, driver="GeoJSON")
    vil, _, problems, _ = _read(tmp_path, pts)
    assert vil is None
    assert len(problems) == 1
    err = InputDataError(problems)
    text = str(err)
    assert "Thôn Bó Củng" in text and "Xã Tân Lạc" in text and "Xã Tân Lập" in text
    assert problems[0].row == 5 and problems[0].column == "commune"


@pytest.mark.parametrize("other", ["Van Quan", "H. Văn Quan", "VĂN QUAN", "Huyện Van Quan"])
def test_a_district_spelt_two_ways_in_the_communes_layer_is_one_district(tmp_path, other):
    """The communes layer writes the district of one commune another way: the villages of
    that commune (district 'Văn Quan' in the list) find it, and a note says so."""
    pts = tmp_path / "thon.gpkg"
    _points_frame().to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, notes = _read(tmp_path, pts, districts=("Văn Quan", other))
    assert problems == []
    assert vil is not None
    assert vil.loc["T05", "commune"] == "Xã Tân Lập" and vil.loc["T05", "commune_id"] == "C02"
    _check_tiling(vil)
    said = [str(n) for n in notes if n.key == "vpoints.districts_unified"]
    assert said and (f"'{other}' read as 'Văn Quan'" in said[0]
                     or f"'Văn Quan' read as '{other}'" in said[0]), notes


def test_districts_that_differ_only_by_marks_stay_apart_and_are_named(tmp_path):
    """'Tân Lập' and 'Tấn Lập' are two districts (both fully marked): kept apart, the note
    names both; a village writing 'Tan Lap' (either) looks among every commune."""
    rows = [(*r[:2], "Nà Phạ" if r[0] != "T05" else "Tân Lập", *r[3:]) for r in VILLAGES]
    frame = _points_frame(rows)
    frame["district"] = ["Tân Lập", "Tân Lập", "Tan Lap", "Tân Lập", "Tấn Lập"]
    pts = tmp_path / "thon.gpkg"
    frame.to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, notes = _read(tmp_path, pts, districts=("Tân Lập", "Tấn Lập"))
    assert problems == []
    assert vil is not None
    assert list(vil["commune_id"]) == ["C01", "C01", "C01", "C01", "C02"]
    said = [str(n) for n in notes if n.key == "vpoints.districts_apart"]
    assert said and ("'Tân Lập' / 'Tấn Lập'" in said[0] or "'Tấn Lập' / 'Tân Lập'" in said[0])
    assert not any(n.key == "vpoints.districts_unified" for n in notes)


def test_a_commune_of_another_district_is_named_as_such(tmp_path):
    pts = tmp_path / "thon.gpkg"
    _points_frame().to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, _ = _read(tmp_path, pts, districts=("Văn Quan", "Bình Gia"))
    assert vil is None and len(problems) == 1
    p = problems[0]
    assert p.row == 5 and p.column == "commune" and p.value == "Xã Tân Lập"
    assert ("commune 'Xã Tân Lập' is not among the communes of district 'Văn Quan' in the "
            "communes layer, which has it in district 'Bình Gia'") in p.message
    assert "district" in p.fix


def test_point_outside_its_commune_and_two_villages_at_one_point(tmp_path):
    rows = [*VILLAGES[:4], ("T05", "Thôn Bó Củng", "Xã Tân Lập", X0 + 1000, Y0 - 5000),
            ("T06", "Thôn Nà Lầu", "Xã Nà Phạ", X0 + 1000, Y0 - 1000)]
    pts = tmp_path / "thon.gpkg"
    _points_frame(rows).to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, _ = _read(tmp_path, pts)
    assert vil is None
    msgs = [p.message for p in problems]
    outside = [m for m in msgs if "outside its commune" in m]
    assert len(outside) == 1 and "Thôn Bó Củng" in outside[0]
    assert "2,828 m outside its commune 'Xã Tân Lập'; it lies in Xã Nà Phạ" in outside[0]
    same = [m for m in msgs if "same point" in m]
    assert len(same) == 1 and "Thôn Nà Pha" in same[0] and "Thôn Nà Lầu" in same[0]


def test_ids_are_built_when_the_list_has_none(tmp_path):
    pts = tmp_path / "thon.gpkg"
    _points_frame().drop(columns="village_id").to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, notes = _read(tmp_path, pts)
    assert problems == []
    assert vil is not None
    assert list(vil.index) == ["C01-01", "C01-02", "C01-03", "C01-04", "C02-01"]
    assert any("ids of 5 villages are built" in n for n in notes)


def test_commune_by_id_and_a_district_is_required(tmp_path):
    frame = _points_frame().drop(columns="commune")
    frame["commune_id"] = ["C01", "C01", "C01", "C01", "C02"]
    pts = tmp_path / "thon.gpkg"
    frame.to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, _ = _read(tmp_path, pts)
    assert problems == []
    assert vil is not None and list(vil["commune"]) == ["Xã Nà Phạ"] * 4 + ["Xã Tân Lập"]
    frame.loc[4, "commune_id"] = "C09"
    frame.to_file(pts, layer="thon", driver="GPKG")
    _, _, problems, _ = _read(tmp_path, pts)
    assert [p.message for p in problems] == [
        "village 'Thôn Bó Củng': commune_id 'C09' is not in the communes layer"]
    # neither the list nor the communes layer names the district: refused
    bpath = _communes(tmp_path / "communes.gpkg")
    gpd.read_file(bpath, layer="communes").drop(columns="district").to_file(
        tmp_path / "nodistrict.gpkg", layer="communes", driver="GPKG")
    _points_frame().drop(columns="district").to_file(pts, layer="thon", driver="GPKG")
    problems = []
    inp = InputsConfig(boundaries=tmp_path / "nodistrict.gpkg", village_points=pts)
    vil, _ = read_village_points(inp, tmp_path / "nodistrict.gpkg", WORKING, problems, [])
    assert vil is None and "no district for 5 village(s)" in problems[0].message


def test_missing_communes_layer_names_the_layers_there_are(tmp_path):
    pts = tmp_path / "thon.gpkg"
    _points_frame().to_file(pts, layer="thon", driver="GPKG")
    vil, _, problems, _ = _read(tmp_path, pts, communes_layer="xa")
    assert vil is None
    assert any("no commune layer 'xa'" in p.message and "communes" in p.fix for p in problems)


def test_pairing_by_name_is_unique_and_tolerant():
    villages = ["Thôn Nà Pha", "Thôn Khuổi Slung", "Bản Pác Cáp", "Thôn Còn Quan"]
    places = ["Bản Nà Pha", "Khuoi Slung", "Pac Cap", "Nà Phạ", "Còn Quán"]
    pairs, ambiguous = pair_by_names(villages, places)
    # 'Thôn Nà Pha' = 'Bản Nà Pha' (prefix dropped, same marks) before 'Nà Phạ' (wrong mark)
    assert pairs[0][0] == 0
    assert pairs[1][:2] == (1, "missing marks") and pairs[1][2]
    assert pairs[2][0] == 2
    assert pairs[3][0] == 4 and pairs[3][1] == "wrong mark"
    assert ambiguous == {}
    # two places equally close: no guess
    pairs, ambiguous = pair_by_names(["Thôn Nà Pha"], ["Bản Na Pha", "Xóm Na Pha"])
    assert pairs == {} and ambiguous == {0: [0, 1]}


def test_names_only_table_with_place_points(tmp_path):
    names = pd.DataFrame({"village_id": [r[0] for r in VILLAGES],
                          "name": [r[1] for r in VILLAGES],
                          "commune": [r[2] for r in VILLAGES],
                          "district": ["Văn Quan"] * len(VILLAGES)})
    table = tmp_path / "thon.csv"
    names.to_csv(table, index=False)
    # OSM-like places: other prefixes, lost marks, no commune tag; one village missing,
    # one place of another commune with the missing village's name, one outside every commune
    places = gpd.GeoDataFrame(
        {"name": ["Bản Nà Pha", "Khuoi Slung", "Pác Cáp", "Bó Củng", "Còn Quan Mới",
                  "Còn Quan", "Nà Lạn"],
         "place": ["hamlet", "village", "hamlet", "village", "hamlet", "hamlet", "village"]},
        geometry=[Point(r[3], r[4]) for r in VILLAGES[:3]]
        + [Point(X0 + 4500, Y0 - 1500), Point(X0 + 2500, Y0 - 3500),
           Point(X0 + 4000, Y0 - 2000), Point(X0 - 3000, Y0)], crs=32648).to_crs(4326)
    gj = tmp_path / "places.geojson"
    places.to_file(gj, driver="GeoJSON")
    vil, _, problems, notes = _read(tmp_path, table, place_points=gj)
    assert vil is None  # T04's name has no place in its commune ('Còn Quan' is in C02)
    assert len(problems) == 1
    p = problems[0]
    assert "Thôn Còn Quan" in p.message and "Xã Nà Phạ" in p.message
    assert "Còn Quan Mới" in p.message  # the candidate left in its commune
    assert p.row == 5 and p.column == "name"
    # fix the table: name the village as its place is named
    names.loc[3, "name"] = "Thôn Còn Quan Mới"
    names.to_csv(table, index=False)
    vil, centres, problems, notes = _read(tmp_path, table, place_points=gj)
    assert problems == []
    assert vil is not None and centres is not None
    _check_tiling(vil)
    assert centres.loc["T02"].distance(Point(X0 + 1000, Y0 - 5000)) < 1e-3
    note = next(n for n in notes if n.key == "vpoints.places")
    assert "the points of 5/5 villages come from the places file" in note
    assert "1 place(s) outside every commune ignored" in note
    assert "village 'Thôn Khuổi Slung' (Xã Nà Phạ) = place 'Khuoi Slung' (missing marks, " \
        "village prefix dropped)" in note
    assert note.render("vi") != str(note)


def test_names_only_table_without_place_points_is_a_problem(tmp_path):
    table = tmp_path / "thon.csv"
    pd.DataFrame({"name": ["Thôn Nà Pha"], "commune": ["Xã Nà Phạ"]}).to_csv(table,
                                                                              index=False)
    vil, _, problems, _ = _read(tmp_path, table)
    assert vil is None and "no coordinates" in problems[0].message
    assert "place_points" in problems[0].fix


# --------------------------------------------------------------------------------------
# a whole run: the conftest world with its villages given as points


def _points_world(root: Path) -> Path:
    """The conftest world (16 villages of 2.5 km in rows 'Xã 0'..'Xã 3', two districts),
    its village polygons replaced by their centre points and 8 commune polygons."""
    w = build_world(root)
    vil = gpd.read_file(w.boundaries, layer="villages")
    cen = gpd.read_file(w.boundaries, layer="village_centres")
    pts = cen[["village_id", "geometry"]].merge(vil.drop(columns="geometry"), on="village_id")
    gpd.GeoDataFrame(pts, geometry="geometry", crs=cen.crs).to_file(
        root / "thon.gpkg", layer="thon", driver="GPKG")
    communes = vil.dissolve(["district", "commune"], as_index=False)[
        ["commune", "district", "commune_2025", "geometry"]].rename(columns={"commune": "name"})
    bpath = root / "communes.gpkg"
    communes.to_file(bpath, layer="communes", driver="GPKG")
    text = w.config.read_text(encoding="utf-8").replace(
        'boundaries = "boundaries.gpkg"',
        'boundaries = "communes.gpkg"\nvillage_points = "thon.gpkg"')
    w.config.write_text(text, encoding="utf-8")
    return w.config


@pytest.fixture(scope="module")
def points_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vpoints") / "world"
    cfg = _points_world(root)
    out = root / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(out),
                                    "--no-progress", "--lang", "en"])
    assert res.exit_code == 0, res.output
    return out


def test_run_writes_geom_method_and_says_it(points_run):
    out = points_run
    csv = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")
    assert len(csv) == 16 and set(csv["geom_method"]) == {"voronoi"}
    # 8 communes of two villages: each village is half its commune (2.5 km x 2.5 km)
    gpkg = gpd.read_file(out / "villages.gpkg", layer="villages")
    assert np.allclose(gpkg.to_crs(32648).area, 2500 * 2500, rtol=1e-6)
    assert csv["pop_method"].eq("household clusters").all()  # clusters matched by id
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Village areas: 16 of 16 villages are Voronoi cells of their points" in report
    assert "16 villages: areas built as Voronoi cells" in report  # the note
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "16 villages without boundaries: areas are Voronoi cells" in page
    assert "Village area: Voronoi cell of its point, clipped to its commune" in page
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "village_points" in json.dumps(manifest)


def _sample_area(root: Path, communes: tuple[str, ...] = ("C001", "C004", "C005")) -> Path:
    """Three communes of the bundled sample, their villages given as their centre points
    (the sample's village_centres with the villages' attributes), the communes layer as
    the commune polygons, the sample's clusters, DEM and cells cut to the area around."""
    data = sample_data_dir()
    b = data / "boundaries" / "lang_son_sample.gpkg"
    com = gpd.read_file(b, layer="communes")
    com = com[com["commune_id"].isin(communes)]
    vil = gpd.read_file(b, layer="villages")
    vil = vil[vil["commune_id"].isin(communes)]
    cen = gpd.read_file(b, layer="village_centres")
    pts = cen[["village_id", "geometry"]].merge(vil.drop(columns="geometry"), on="village_id")
    root.mkdir(parents=True)
    gpd.GeoDataFrame(pts, geometry="geometry", crs=cen.crs).to_file(
        root / "thon.gpkg", layer="thon", driver="GPKG")
    com.to_file(root / "communes.gpkg", layer="communes", driver="GPKG")
    gpd.read_file(b, layer="districts").to_file(root / "communes.gpkg", layer="districts",
                                                driver="GPKG")
    st = gpd.read_file(data / "settlements" / "settlements.gpkg", layer="clusters")
    st[st["village_id"].isin(vil["village_id"])].to_file(root / "clusters.gpkg",
                                                          layer="clusters", driver="GPKG")
    x0, y0, x1, y1 = com.to_crs(32648).total_bounds
    with rasterio.open(data / "dem" / "lang_son_dem_90m.tif") as src:
        win = from_bounds(x0 - 7000, y0 - 7000, x1 + 7000, y1 + 7000,
                          src.transform).round_offsets().round_lengths()
        arr = src.read(1, window=win)
        t = src.transform  # the window's corner, by hand (window_transform warns)
        corner = Affine(t.a, 0.0, t.c + win.col_off * t.a, 0.0, t.e, t.f + win.row_off * t.e)
        prof = src.profile | {"width": arr.shape[1], "height": arr.shape[0],
                              "transform": corner}
    with rasterio.open(root / "dem.tif", "w", **prof) as dst:
        dst.write(arr, 1)
    cells = pd.read_csv(data / "bts_sites" / "cells.csv")
    xy = gpd.GeoSeries(gpd.points_from_xy(cells["lon"], cells["lat"]), crs=4326).to_crs(32648)
    near = ((xy.x > x0 - 3000) & (xy.x < x1 + 3000) & (xy.y > y0 - 3000)
            & (xy.y < y1 + 3000)).to_numpy()
    cells[near].to_csv(root / "cells.csv", index=False)
    cfg = root / "config.toml"
    cfg.write_text('[study]\nname = "Sample, three communes"\n\n[inputs]\n'
                   'boundaries = "communes.gpkg"\nvillage_points = "thon.gpkg"\n'
                   'settlements = "clusters.gpkg"\ncells = "cells.csv"\ndem = "dem.tif"\n\n'
                   '[radio]\nmodel = "p526"\ntechnologies = ["4G"]\n'
                   'max_radius_m = { "4G" = 3000.0 }\n\n[run]\nprogress = false\n',
                   encoding="utf-8")
    return cfg


def test_run_on_sample_communes_in_vietnamese(tmp_path):
    cfg = _sample_area(tmp_path / "area")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(out),
                                    "--no-progress", "--lang", "vi"])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(out / "villages.csv", encoding="utf-8-sig")
    assert len(csv) == 20 and set(csv["geom_method"]) == {"voronoi"}
    assert set(csv["commune_id"]) == {"C001", "C004", "C005"}
    # the cells tile the three communes
    gpkg = gpd.read_file(out / "villages.gpkg", layer="villages").to_crs(32648)
    com = gpd.read_file(cfg.parent / "communes.gpkg", layer="communes").to_crs(32648)
    assert abs(gpkg.area.sum() - com.area.sum()) <= 1e-6 * com.area.sum()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Diện tích thôn: 20 trên 20 thôn là ô Voronoi quanh điểm của thôn" in report
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Diện tích thôn: ô Voronoi quanh điểm thôn, cắt theo xã" in page
    assert "20 thôn không có ranh giới" in page


def test_village_point_files_are_in_the_stage_fingerprints():
    """A changed village points / place points file must not let a workspace reuse the
    village summary or the FTTH stage; a polygon run's fingerprints ignore the keys."""
    import dataclasses

    from vncoverage import load_config, load_inputs, sample_data_dir
    from vncoverage.pipeline import stage_fingerprints

    cfg = load_config(sample_data_dir() / "config.toml")
    inputs = load_inputs(cfg)
    base = stage_fingerprints(cfg, inputs)
    for key in ("village_points", "place_points"):
        for digest in ("a" * 64, "b" * 64):
            changed = dataclasses.replace(inputs, checksums={**inputs.checksums, key: digest})
            fp = stage_fingerprints(cfg, changed)
            assert fp.villages != base.villages and fp.fibre != base.fibre
            assert fp.layers == base.layers
    assert "village_points" not in inputs.checksums
