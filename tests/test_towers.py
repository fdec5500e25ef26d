"""Sites that are one tower under several codes (``towers.same_tower_ids``) and the tower
inventory, on tiny cell tables built in code."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from vncoverage.towers import (
    same_tower_groups,
    same_tower_ids,
    same_tower_note,
    site_points,
    towers_from_cells,
)

X0, Y0 = 680_000.0, 2_410_000.0  # EPSG:32648, near Lạng Sơn


def _cells(sites: list[tuple[str, str, float, float]], crs: str = "EPSG:32648",
           owners: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Two cells per (site_id, operator, dx_m, dy_m), at (X0 + dx, Y0 + dy), owned by the
    operator unless ``owners`` (site_id -> owner) says otherwise."""
    owners = owners or {}
    rows = [{"cell_id": f"{op}-{sid}-{k}", "site_id": sid, "operator": op,
             "technology": "4G", "tower_owner": owners.get(sid, op),
             "geometry": Point(X0 + dx, Y0 + dy)}
            for sid, op, dx, dy in sites for k in (1, 2)]
    return gpd.GeoDataFrame(rows, crs=crs).set_index("cell_id")


def test_two_codes_8_m_apart_are_one_tower():
    cells = _cells([("VT0001", "Viettel", 0, 0), ("MF0107", "MobiFone", 8, 0),
                    ("VN0050", "VNPT", 500, 0)])
    ids = same_tower_ids(cells, 30.0)
    assert ids.to_dict() == {"MF0107": "MF0107", "VN0050": "VN0050", "VT0001": "MF0107"}
    assert ids.name == "tower_id" and ids.index.name == "site_id"


def test_two_codes_40_m_apart_are_two_towers():
    cells = _cells([("VT0001", "Viettel", 0, 0), ("MF0107", "MobiFone", 0, 40)])
    ids = same_tower_ids(cells, 30.0)
    assert (ids == ids.index.to_series()).all()
    assert same_tower_groups(cells, ids).empty
    assert same_tower_note(cells, ids, 30.0) == []


def test_chain_within_the_distance_is_one_tower():
    # A-B 25 m, B-C 25 m: A and C are 50 m apart, still one tower (single linkage)
    cells = _cells([("C", "VNPT", 50, 0), ("A", "Viettel", 0, 0), ("B", "MobiFone", 25, 0),
                    ("D", "Viettel", 80, 0)])
    ids = same_tower_ids(cells, 30.0)
    # D is 30 m from C: "within" includes the distance itself
    assert set(ids) == {"A"}
    assert set(same_tower_ids(cells, 29.0)) == {"A", "D"}
    groups = same_tower_groups(cells, same_tower_ids(cells, 29.0))
    assert list(groups.index) == ["A"]
    g = groups.loc["A"]
    assert g["site_ids"] == "A, B, C" and g["n_sites"] == 3
    assert g["operators"] == "MobiFone, VNPT, Viettel"
    assert g["max_distance_m"] == pytest.approx(50.0)


def test_zero_distance_keeps_every_site_id():
    # two codes at the very same point stay two towers with same_tower_m = 0
    cells = _cells([("VT0001", "Viettel", 0, 0), ("MF0107", "MobiFone", 0, 0)])
    assert (same_tower_ids(cells, 0.0) == ["MF0107", "VT0001"]).all()
    assert set(same_tower_ids(cells, 30.0)) == {"MF0107"}
    with pytest.raises(ValueError, match="same_tower_m"):
        same_tower_ids(cells, -1.0)


def test_tower_ids_do_not_depend_on_row_order():
    sites = [(f"S{k:03d}", ["Viettel", "VNPT", "MobiFone"][k % 3], 12.0 * (k // 2),
              300.0 * (k % 2)) for k in range(12)]
    cells = _cells(sites)
    shuffled = cells.sample(frac=1.0, random_state=7)
    a, b = same_tower_ids(cells, 15.0), same_tower_ids(shuffled, 15.0)
    pd.testing.assert_series_equal(a, b)
    # the smallest site id of each group names it
    assert set(a) == {"S000", "S001"}


def test_sites_are_placed_at_their_first_cell_and_degrees_are_refused():
    cells = _cells([("A", "Viettel", 0, 0), ("B", "VNPT", 10, 0)])
    pts = site_points(cells)
    assert list(pts.index) == ["A", "B"] and pts.loc["B"].x == pytest.approx(X0 + 10)
    pd.testing.assert_series_equal(
        pts.x, gpd.GeoSeries(towers_from_cells(cells).geometry.to_numpy(),
                             index=pts.index).x)
    geographic = cells.set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(ValueError, match="projected"):
        same_tower_ids(geographic, 30.0)


def test_note_lists_groups_largest_distance_first():
    # A and B name one owner; C and D each their own (said in the note)
    cells = _cells([("A", "Viettel", 0, 0), ("B", "MobiFone", 8, 0),
                    ("C", "VNPT", 1000, 0), ("D", "Viettel", 1000, 20),
                    ("E", "VNPT", 5000, 0)], owners={"B": "Viettel"})
    ids = same_tower_ids(cells, 30.0)
    assert same_tower_groups(cells, ids)["owners"].to_dict() == {"A": "Viettel",
                                                                 "C": "VNPT, Viettel"}
    (note,) = same_tower_note(cells, ids, 30.0)
    assert "sites within 30 m" in note and "4 site ids form 2 tower(s)" in note
    first = note.index("C + D (VNPT, Viettel; 20 m; owners differ: VNPT, Viettel)")
    assert first < note.index("A + B (MobiFone, Viettel; 8 m)")
    assert "E" not in note.split(":", 1)[1]
    (short,) = same_tower_note(cells, ids, 30.0, max_listed=1)
    assert "C + D" in short and "A + B" not in short and "... and 1 more" in short


def test_groups_refuse_tower_ids_of_other_cells():
    cells = _cells([("A", "Viettel", 0, 0), ("B", "MobiFone", 8, 0)])
    with pytest.raises(ValueError, match="no tower for site"):
        same_tower_groups(cells, pd.Series({"A": "A"}))
