"""District and 2025-commune boundary layers paired with the villages' names
(:mod:`vncoverage.fileio.admin`): degraded names of public datasets, geometry, admin_names."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from vncoverage import load_config, sample_data_dir
from vncoverage.config import Config, InputsConfig
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs
from vncoverage.fileio.admin import match_admin_layers
from vncoverage.names import strip_prefix
from vncoverage.pipeline import run

X0, Y0 = 650_000.0, 2_420_000.0  # EPSG:32648, near Lạng Sơn
SIDE_M = 10_000.0  # side of a district square, m
FAR_M = 200_000.0  # how far the "elsewhere" squares lie, m


def _square(k: int, *, far: bool = False) -> box:
    x = X0 + k * SIDE_M + (FAR_M if far else 0.0)
    return box(x, Y0, x + SIDE_M, Y0 + SIDE_M)


def _villages(units: list[str], level: str = "district") -> gpd.GeoDataFrame:
    """Three small villages inside square k for each unit k."""
    rows = []
    for k, unit in enumerate(units):
        for j in range(3):
            x = X0 + k * SIDE_M + 1_000 + j * 3_000
            rows.append({"village_id": f"V{k}-{j}", "district": unit if level == "district"
                         else "D", "commune_2025": unit if level == "commune_2025" else "C",
                         "geometry": box(x, Y0 + 1_000, x + 2_000, Y0 + 3_000)})
    return gpd.GeoDataFrame(rows, crs=32648).set_index("village_id")


def _layer(names: list[str], squares: list[int], *, far: bool = False,
           short: bool = True) -> gpd.GeoDataFrame:
    data: dict[str, list[str]] = {"name": names}
    if short:
        data["short_name"] = [strip_prefix(n) for n in names]
    return gpd.GeoDataFrame(data, geometry=[_square(k, far=far) for k in squares], crs=32648)


def _match(villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None, *,
           communes: gpd.GeoDataFrame | None = None, admin_names: Path | None = None,
           ) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, list[Problem],
                      list[str]]:
    problems: list[Problem] = []
    notes: list[str] = []
    inp = InputsConfig(boundaries=Path("b.gpkg"), admin_names=admin_names)
    d, c = match_admin_layers(inp, villages, districts, communes, problems, notes)
    return d, c, problems, notes


#: Villages' district -> the name a public dataset writes, one of each kind of damage.
DEGRADED = {
    "Lạng Sơn": "Thanh pho Lang Son",  # every mark and the prefix written without marks
    "Tràng Định": "Huyen Trang Dinh",
    "Văn Lãng": "Van Lang",
    "Văn Quan": "Văn Quán",  # a wrong tone on one syllable
    "Bình Gia": "Huyện Bình Giá",
    "Bắc Sơn": "Bắc Son",  # one mark lost
    "Lộc Bình": "Lộc Binh",  # one tone lost in a name written with tones
    "Chi Lăng": "Chi Lang",
    "Đình Lập": "\u00d0ình Lập",  # eth for Đ
    "Hữu Lũng": "Huyện Hữu Lũng",  # the prefix only
    "Cao Lộc": "Cao Lộc",  # exact
}
HOW = {"Lạng Sơn": "prefix, missing marks", "Văn Quan": "wrong mark",
       "Bình Gia": "prefix, wrong mark", "Bắc Sơn": "missing marks",
       "Lộc Bình": "wrong mark", "Đình Lập": "cleaned", "Văn Lãng": "missing marks"}


@pytest.mark.parametrize("far", [False, True], ids=["geometry", "names only"])
def test_degraded_names_are_paired_with_notes(far: bool):
    units = list(DEGRADED)
    order = list(reversed(range(len(units))))  # the layer in another order than the units
    layer = _layer([DEGRADED[units[k]] for k in order], order, far=far, short=False)
    d, _, problems, notes = _match(_villages(units), layer)
    assert problems == []
    assert d is not None
    assert list(d["name"]) == [units[k] for k in order]
    assert list(d["name_in_file"]) == [DEGRADED[units[k]] for k in order]
    note = next(n for n in notes if "paired with the villages' spelling" in n)
    for unit, how in HOW.items():
        assert f"'{DEGRADED[unit]}' -> '{unit}' ({how})" in note, unit
    assert "'Cao Lộc' ->" not in note  # exact pairs are not listed
    assert not any("dropped" in n for n in notes)


def test_short_name_takes_the_villages_spelling_without_prefix():
    villages = _villages(["Thành phố Lạng Sơn", "Văn Quan"])
    layer = gpd.GeoDataFrame({"name": ["TP. Lang Son", "Huyen Van Quan"],
                              "short_name": ["Lang Son", "Van Quan"],
                              "town_lon": [106.7, 106.5]},
                             geometry=[_square(0), _square(1)], crs=32648)
    d, _, problems, _ = _match(villages, layer)
    assert problems == [] and d is not None
    assert list(d["name"]) == ["Thành phố Lạng Sơn", "Văn Quan"]
    assert list(d["short_name"]) == ["Lạng Sơn", "Văn Quan"]
    assert list(d["name_in_file"]) == ["TP. Lang Son", "Huyen Van Quan"]
    assert list(d["town_lon"]) == [106.7, 106.5]


@pytest.mark.parametrize("names", [["Van Quan", "Van Lang"], ["VĂN QUAN", "VAN LANG"],
                                   ["Văn Quán", "Văn Lang"], ["Huyện Van Quan", "H. Van Lang"]])
@pytest.mark.parametrize("far", [False, True], ids=["geometry", "names only"])
def test_van_quan_and_van_lang_never_swapped(names: list[str], far: bool):
    villages = _villages(["Văn Lãng", "Văn Quan"])  # Văn Lãng in square 0
    d, _, problems, _ = _match(villages, _layer(names, [1, 0], far=far))
    assert problems == [] and d is not None
    assert dict(zip(d["name_in_file"], d["name"], strict=True)) == {
        names[0]: "Văn Quan", names[1]: "Văn Lãng"}


def test_names_the_geometry_contradicts_are_problems():
    villages = _villages(["Văn Lãng", "Văn Quan"])
    layer = _layer(["Van Lang", "Van Quan"], [1, 0])  # names on the wrong squares
    d, _, problems, _ = _match(villages, layer)
    assert d is None
    assert len(problems) == 2
    text = "\n".join(p.render() for p in problems)
    assert "the names and the geometry disagree" in text
    assert "'Văn Quan' (3 villages) has no polygon" in text
    assert "3 of its 3 villages lie in 'Van Lang'" in text


def test_geometry_decides_an_ambiguous_pair():
    villages = _villages(["Tấn Lập", "Tân Lập"])
    layer = _layer(["Tan Lap", "Tan Lap", "Tân Lập"], [1, 0, 5], far=False)
    layer.loc[2, "geometry"] = _square(0, far=True)  # a namesake elsewhere in the country
    d, _, problems, notes = _match(villages, layer)
    assert problems == [] and d is not None
    assert list(d["name"]) == ["Tân Lập", "Tấn Lập"]  # the feature holding its villages
    note = next(n for n in notes if "paired with the villages' spelling" in n)
    assert "the geometry decides: it holds 3 of its 3 villages" in note
    dropped = next(n for n in notes if "dropped" in n)
    assert "'Tân Lập' (named like 'Tân Lập' or 'Tấn Lập')" in dropped


def test_one_wrong_tone_matching_two_units_is_decided_by_the_geometry():
    villages = _villages(["Tấn Lập", "Tân Lập"])
    d, _, problems, _ = _match(villages, _layer(["Tận Lập"], [1]))
    assert [p.value for p in problems] == ["Tấn Lập"]  # no polygon left for it
    assert d is not None and list(d["name"]) == ["Tân Lập"]


def test_ambiguous_pair_without_geometry_is_a_problem():
    villages = _villages(["Tấn Lập", "Tân Lập"])
    d, _, problems, _ = _match(villages, _layer(["Tan Lap", "Tan Lap"], [0, 1], far=True))
    assert d is None and len(problems) == 2
    assert all("the geometry does not decide" in p.message for p in problems)


def test_missing_unit_is_a_problem_naming_the_closest_polygons():
    villages = _villages(["Đình Lập", "Lộc Bình"])
    layer = _layer(["Huyện Đình Lâm", "Lộc Bình", "Ba Chẽ"], [0, 1, 2])
    d, _, problems, _ = _match(villages, layer)
    assert len(problems) == 1
    p = problems[0]
    assert p.value == "Đình Lập" and p.file == "b.gpkg (layer 'districts')"
    assert "no name of the layer matches it, the closest are 'Huyện Đình Lâm'" in p.message
    assert "'Huyện Đình Lâm' holds 3 of its 3 villages" in p.message
    assert "admin_names" in p.fix
    assert d is not None and list(d["name"]) == ["Lộc Bình"]


def test_same_letters_other_marks_need_the_geometry():
    villages = _villages(["Bắc Sơn"])
    d, _, problems, notes = _match(villages, _layer(["Bạc Sòn"], [0]))  # two wrong tones
    assert problems == [] and d is not None and list(d["name"]) == ["Bắc Sơn"]
    assert "'Bạc Sòn' -> 'Bắc Sơn' (letters)" in notes[0]
    d, _, problems, _ = _match(villages, _layer(["Bạc Sòn"], [0], far=True))
    assert d is None and "by its letters alone" in problems[0].message


def test_neighbouring_units_are_dropped_with_a_note():
    villages = _villages(["Văn Quan", "Chi Lăng"])
    layer = _layer(["Chi Lăng", "Ba Chẽ", "Van Quan", "Tiên Yên"], [1, 3, 0, 4])
    d, _, problems, notes = _match(villages, layer)
    assert problems == [] and d is not None
    assert list(d["name"]) == ["Chi Lăng", "Văn Quan"]
    dropped = next(n for n in notes if "dropped" in n)
    assert "dropped 2 polygon(s)" in dropped
    assert "2 holding no village and matching no villages' name: 'Ba Chẽ', 'Tiên Yên'" \
        in dropped


def test_commune_layer_is_paired_too():
    villages = _villages(["Xã Tràng Định", "Phường Hữu Long"], level="commune_2025")
    communes = _layer(["Xa Trang Dinh", "Phường Hữu Lòng"], [0, 1], short=False)
    _, c, problems, notes = _match(villages, None, communes=communes)
    assert problems == [] and c is not None
    assert list(c["name"]) == ["Xã Tràng Định", "Phường Hữu Long"]
    assert "'Phường Hữu Lòng' -> 'Phường Hữu Long' (wrong mark)" in notes[0]


def test_layer_without_names_is_a_problem():
    villages = _villages(["Văn Quan"])
    layer = gpd.GeoDataFrame({"ten": ["Văn Quan"]}, geometry=[_square(0)], crs=32648)
    d, _, problems, _ = _match(villages, layer)
    assert d is None and "no 'name' column" in problems[0].message


def test_admin_names_pairs_explicitly(tmp_path: Path):
    villages = _villages(["Lạng Sơn", "Văn Quan", "Văn Lãng"])
    layer = _layer(["Kỳ Lừa", "Van Quan", "Van Lang"], [0, 1, 2])
    table = tmp_path / "admin_names.csv"
    table.write_text("level,layer_name,name\ndistrict,Kỳ Lừa,Lạng Sơn\n"
                     "district,Kỳ Lừa,Lạng Sơn\n", encoding="utf-8")
    d, _, problems, notes = _match(villages, layer)
    assert [p.value for p in problems] == ["Lạng Sơn"]  # no name matches: a problem
    d, _, problems, notes = _match(villages, layer, admin_names=table)
    assert problems == [] and d is not None
    assert list(d["name"]) == ["Lạng Sơn", "Văn Quan", "Văn Lãng"]
    assert any("'Kỳ Lừa' -> 'Lạng Sơn' (admin_names)" in n for n in notes)
    assert any("row(s) 3 repeat an earlier pair" in n for n in notes)


def test_explicit_pairs_win_over_matching(tmp_path: Path):
    villages = _villages(["Văn Quan", "Văn Lãng"])
    layer = _layer(["Van Lang", "Van Quan"], [0, 1])  # names swapped in the layer
    table = tmp_path / "admin_names.csv"
    table.write_text("Cấp;Tên trong lớp;Tên\nhuyện;Van Lang;Văn Quan\n"
                     "huyện;Van Quan;Văn Lãng\n", encoding="utf-8")
    d, _, problems, notes = _match(villages, layer, admin_names=table)
    assert problems == [] and d is not None
    assert list(d["name"]) == ["Văn Quan", "Văn Lãng"]
    assert any("'Van Lang' -> 'Văn Quan' (admin_names)" in n for n in notes)
    assert any("columns mapped" in n and "'Tên trong lớp' -> layer_name" in n for n in notes)


def test_explicit_pair_the_geometry_contradicts_is_noted(tmp_path: Path):
    villages = _villages(["Văn Quan", "Văn Lãng"])
    table = tmp_path / "admin_names.csv"
    table.write_text("level,layer_name,name\ndistrict,Old name,Văn Lãng\n", encoding="utf-8")
    d, _, problems, notes = _match(villages, _layer(["Van Quan", "Old name"], [1, 0]),
                                   admin_names=table)
    assert [p.value for p in problems] == ["Văn Quan"]  # its villages lie in 'Old name'
    assert d is not None and list(d["name"]) == ["Văn Lãng"]
    assert any("row 2: 'Old name' paired with the district 'Văn Lãng' although 3 of its 3 "
               "villages lie in 'Van Quan'" in n for n in notes)


def test_wrong_admin_names_entries_are_problems(tmp_path: Path):
    villages = _villages(["Văn Quan", "Văn Lãng"])
    layer = _layer(["Van Quan", "Van Lang"], [0, 1])
    table = tmp_path / "admin_names.csv"
    table.write_text("level,layer_name,name\n"
                     "district,Van Quan,Văn Quann\n"  # no such villages' unit
                     "district,Van Quam,Văn Quan\n"  # no such polygon
                     "province,Van Lang,Văn Lãng\n"  # no such level
                     "district,,Văn Lãng\n"
                     "commune_2025,Xã A,Xã A\n", encoding="utf-8")  # no commune layer
    _, _, problems, _ = _match(villages, layer, admin_names=table)
    got = {(p.row, p.column): p for p in problems}
    assert set(got) == {(2, "name"), (3, "layer_name"), (4, "level"), (5, "layer_name"),
                        (6, "layer_name")}
    assert all(p.file == str(table) for p in problems)
    assert "no village names the district 'Văn Quann'" in got[(2, "name")].message
    assert "closest: 'Văn Quan'" in got[(2, "name")].fix
    assert "closest: 'Van Quan'" in got[(3, "layer_name")].fix
    assert got[(4, "level")].value == "province"
    assert "has no layer 'communes_2025'" in got[(6, "layer_name")].message


# the bundled sample with the district names of a careless public dataset

SAMPLE_DEGRADED = {
    "Thành phố Lạng Sơn": "Thanh pho Lang Son", "Huyện Tràng Định": "Huyen Trang Dinh",
    "Huyện Văn Lãng": "Huyen Van Lang", "Huyện Chi Lăng": "Chi Lang",
    "Huyện Văn Quan": "Huyện Văn Quán", "Huyện Bình Gia": "Huyện Bình Giá",
    "Huyện Hữu Lũng": "Huyện Hữu Lủng", "Huyện Cao Lộc": "Huyện Cao Lốc",
    "Huyện Bắc Sơn": "Huyện Bắc Son", "Huyện Lộc Bình": "Huyện Lộc Binh",
    "Huyện Đình Lập": "Huyện \u00d0ình Lập",
}


def _fast(cfg: Config) -> Config:
    """The config with free-space 4G only, within 2 km of each site (a few seconds' run;
    a third of the villages are then not covered, so the verdicts vary)."""
    return dataclasses.replace(cfg, radio=dataclasses.replace(
        cfg.radio, model="fspl", technologies=["4G"],
        max_radius_m={**cfg.radio.max_radius_m, "4G": 2_000.0}))


@pytest.fixture(scope="module")
def sample_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Config]:
    """The sample's config and a copy reading a boundaries file whose district names are
    degraded (:data:`SAMPLE_DEGRADED`; ``short_name`` likewise, without the prefix)."""
    cfg = _fast(load_config(sample_data_dir() / "config.toml"))
    assert cfg.inputs.boundaries is not None
    gpkg = tmp_path_factory.mktemp("degraded") / "boundaries.gpkg"
    shutil.copy(cfg.inputs.boundaries, gpkg)
    layer = gpd.read_file(gpkg, layer="districts")
    assert set(layer["name"]) == set(SAMPLE_DEGRADED)
    layer["name"] = layer["name"].map(SAMPLE_DEGRADED)
    layer["short_name"] = layer["name"].str.replace(  # the prefix cut as written
        r"^(Huyện|Huyen|Thanh pho) ", "", regex=True)
    assert "\u00d0ình Lập" in set(layer["short_name"])
    pyogrio.write_dataframe(layer, gpkg, layer="districts", driver="GPKG")
    assert list(gpd.read_file(gpkg, layer="districts")["name"]) == list(layer["name"])
    degraded = dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs,
                                                                   boundaries=gpkg))
    return cfg, degraded


def test_sample_with_degraded_district_names_loads_the_same_layer(
        sample_pair: tuple[Config, Config]):
    clean, degraded = (load_inputs(c) for c in sample_pair)
    assert clean.districts is not None and degraded.districts is not None
    assert list(degraded.districts["name"]) == list(clean.districts["name"])
    assert list(degraded.districts["short_name"]) == list(clean.districts["short_name"])
    assert set(clean.districts["name"]) == set(clean.villages["district"])
    assert list(degraded.districts["name_in_file"]) == [
        SAMPLE_DEGRADED[n] for n in clean.districts["name_in_file"]]
    note = next(n for n in degraded.notes if "paired with the villages' spelling" in n)
    # the short_name pairs best: its spelling is listed
    for layer_name, unit, how in (("Văn Quán", "Văn Quan", "wrong mark"),
                                  ("Bình Giá", "Bình Gia", "wrong mark"),
                                  ("Lộc Binh", "Lộc Bình", "wrong mark"),
                                  ("Bắc Son", "Bắc Sơn", "missing marks"),
                                  ("Chi Lang", "Chi Lăng", "missing marks"),
                                  ("\u00d0ình Lập", "Đình Lập", "cleaned")):
        assert f"'{layer_name}' -> '{unit}' ({how})" in note
    assert not any("paired with the villages' spelling" in n for n in clean.notes)


def test_sample_unit_without_polygon_is_refused_until_paired_in_admin_names(
        sample_pair: tuple[Config, Config], tmp_path: Path):
    _, degraded = sample_pair
    assert degraded.inputs.boundaries is not None
    gpkg = tmp_path / "boundaries.gpkg"
    shutil.copy(degraded.inputs.boundaries, gpkg)
    layer = gpd.read_file(gpkg, layer="districts")
    layer["name"] = layer["name"].replace({"Thanh pho Lang Son": "Thị xã Kỳ Lừa"})
    layer = layer.drop(columns="short_name")
    pyogrio.write_dataframe(layer, gpkg, layer="districts", driver="GPKG")
    cfg = dataclasses.replace(degraded, inputs=dataclasses.replace(degraded.inputs,
                                                                   boundaries=gpkg))
    with pytest.raises(InputDataError) as err:
        load_inputs(cfg)
    msg = str(err.value)
    assert "1 problem" in msg and "the villages' district 'Lạng Sơn' (" in msg
    assert "'Thị xã Kỳ Lừa' holds" in msg
    table = tmp_path / "admin_names.csv"
    table.write_text("level,layer_name,name\ndistrict,Thị xã Kỳ Lừa,Lạng Sơn\n",
                     encoding="utf-8")
    inp = load_inputs(dataclasses.replace(cfg, inputs=dataclasses.replace(
        cfg.inputs, admin_names=table)))
    assert inp.districts is not None and inp.districts["name"].iloc[0] == "Lạng Sơn"
    assert "admin_names" in inp.checksums


def test_sample_with_degraded_district_names_gives_the_same_results(
        sample_pair: tuple[Config, Config]):
    clean, degraded = (run(c, progress=False) for c in sample_pair)
    pd.testing.assert_frame_equal(degraded.villages, clean.villages)
    pd.testing.assert_frame_equal(degraded.kpis, clean.kpis)
    pd.testing.assert_frame_equal(degraded.by_district, clean.by_district)
    pd.testing.assert_frame_equal(degraded.by_commune_2025, clean.by_commune_2025)
    assert clean.towns is not None and degraded.towns is not None
    assert list(degraded.towns.index) == list(clean.towns.index)
    # the gap map labels the towns as the district tables name the districts
    labels = [list(r.inputs.districts.loc[r.towns.index, "short_name"])
              for r in (clean, degraded) if r.inputs.districts is not None and r.towns is not None]
    assert labels[1] == labels[0] and set(labels[1]) == set(clean.by_district.index)
