"""The interactive gap map: layers, legend, popups, escaping, offline use, assets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from planner_world import XSS_NAMES, build_planner_world

from vncoverage.config import load_config
from vncoverage.coverage import ANY
from vncoverage.datatypes import Raster
from vncoverage.i18n import tr
from vncoverage.outputs.webmap import (
    CDN_PACKAGES,
    asset_path,
    gap_map,
    map_asset_urls,
    rsrp_png,
)
from vncoverage.pipeline import run
from vncoverage.towers import towers_from_cells

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    w = build_planner_world(tmp_path_factory.mktemp("webmap") / "world")
    res = run(load_config(w.config), progress=False)
    assert "remote_gap" in res.villages.columns  # computed once, by the run
    return res, res.villages


def _render(results, **kw) -> str:
    res, v = results
    lay = res.layers.get("4G", ANY)
    m = gap_map(v, res.inputs.cells, res.inputs.ftth_nodes, towers=res.towers,
                remote_town_m=15_000.0, remote_road_m=1_000.0, title="Tiny <world>",
                fibre_roads=res.fibre_roads, ftth_unreached=res.ftth_unreached,
                rsrp=Raster(lay.best_dbm, res.inputs.dem.transform, res.inputs.dem.crs),
                rsrp_threshold_dbm=-110.0, rsrp_margin_db=10.25,
                districts=res.inputs.districts, communes_2025=res.inputs.communes_2025, **kw)
    return m.get_root().render()


@pytest.fixture(scope="module")
def page_vi(results) -> str:
    return _render(results)


def _payload(page: str) -> dict:
    """The map's data: the JSON script element its layers' script parses."""
    m = re.search(r'<script type="application/json" id="(vnc-data-[0-9a-f]+)">(.*?)</script>',
                  page, re.S)
    assert m is not None and f"document.getElementById({json.dumps(m.group(1))})" in page
    return json.loads(m.group(2))


def test_input_strings_are_escaped_everywhere(page_vi):
    for raw in XSS_NAMES.values():
        assert raw not in page_vi
    for tag in ("<script>alert", "<img src=x", "<svg onload"):
        assert tag not in page_vi
    assert "<world>" not in page_vi and "Tiny &lt;world&gt;" in page_vi
    names = {f["properties"]["i"]: f["properties"]["n"]
             for f in _payload(page_vi)["villages"]["features"]}
    assert names["V01"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert names["V04"].startswith("&quot;&gt;&lt;svg")


def test_layers_legend_scale_and_search(page_vi):
    for key in ("layer_verdict", "layer_popshare", "layer_ftth", "layer_remote", "layer_olt",
                "layer_splitters", "layer_rsrp", "layer_districts", "layer_communes",
                "layer_unreached"):
        assert json.dumps(tr(key, "vi"))[1:-1] in page_vi.encode("ascii", "backslashreplace"
                                                                 ).decode() or \
            tr(key, "vi") in page_vi, key
    for op in ("Viettel", "VNPT"):
        assert tr("layer_towers", "vi", operator=op) in page_vi or \
            json.dumps(tr("layer_towers", "vi", operator=op))[1:-1] in page_vi
    assert "L.control.layers" in page_vi
    assert "L.control.scale" in page_vi
    assert "L.Control.Search" in page_vi
    legend = " ".join(s["html"] for s in _payload(page_vi)["legend"])
    for label in ("Có sóng", "Lõm sóng", "Trắng sóng", "RSRP"):
        assert label in legend


def test_popups_carry_the_village_figures(page_vi):
    feats = {f["properties"]["i"]: f["properties"] for f in
             _payload(page_vi)["villages"]["features"]}
    h = feats["V06"]["h"]
    assert "Thôn Nà 6" in h and "Dân số" in h and "Trạm 4G/5G gần nhất" in h
    assert "Viettel" in h and "Cáp quang FTTH" in h and "km" in h
    remote = feats["V04"]
    assert remote["r"] == 1 and "Vùng sâu, xa" in remote["h"]
    assert sum(f["r"] for f in feats.values()) == 1


def test_english(results):
    page = _render(results, lang="en")
    assert "Villages: 4G/5G verdict" in page and "Population" in page
    assert "Thôn: kết luận" not in page
    with pytest.raises(ValueError, match="language"):
        _render(results, lang="fr")


def test_no_tiles_by_default_and_every_asset_has_a_local_copy(page_vi, results):
    assert "L.tileLayer" not in page_vi
    urls = map_asset_urls(page_vi)
    assert urls and all(asset_path(u, "nm") is not None for u in urls), urls
    assert not any("awesome" in u or "glyphicons" in u or "fontawesome" in u for u in urls)
    with_tiles = _render(results, tiles="OpenStreetMap")
    assert "L.tileLayer" in with_tiles


def test_asset_path():
    nm = Path("/x/node_modules")
    assert asset_path("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js", nm) == \
        nm / "leaflet/dist/leaflet.js"
    assert asset_path("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/images/layers.png?v=1",
                      nm) == nm / "leaflet/dist/images/layers.png"
    assert asset_path("https://code.jquery.com/jquery-3.7.1.min.js", nm) == \
        nm / "jquery/dist/jquery.min.js"
    assert asset_path("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/../../etc/passwd", nm) is None
    assert asset_path("https://tile.openstreetmap.org/1/1/1.png", nm) is None


def test_npm_manifest_pins_the_cdn_versions():
    manifest = json.loads((ROOT / "tests/web/package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "tests/web/package-lock.json").read_text(encoding="utf-8"))
    wanted = {pkg: version for pkg, version, _ in CDN_PACKAGES.values()}
    assert manifest["dependencies"] == wanted
    for pkg, version in wanted.items():
        assert lock["packages"][f"node_modules/{pkg}"]["version"] == version


def test_rsrp_overlay_is_web_mercator_png(results):
    res, _ = results
    lay = res.layers.get("4G", ANY)
    png, bounds = rsrp_png(Raster(lay.best_dbm, res.inputs.dem.transform,
                                  res.inputs.dem.crs), max_px=64)
    import io

    img = imread(io.BytesIO(png))
    assert max(img.shape[:2]) <= 64 and img.shape[2] == 4
    (south, west), (north, east) = bounds
    assert 21 < south < north < 23 and 106 < west < east < 108
    alpha = img[..., 3]
    assert (alpha > 0).any()  # the site's surroundings are drawn


def test_towers_from_cells(results):
    res, _ = results
    t = res.towers
    # the inventory, plus the tower each site belongs to ([kpi] same_tower_m)
    assert t.drop(columns="tower_id").equals(towers_from_cells(res.inputs.cells))
    assert t["tower_id"].tolist() == ["S1", "S2"]
    assert list(t.index) == ["S1", "S2"]
    assert t.loc["S1", "n_cells"] == 3 and t.loc["S1", "operators"] == "Viettel"
    assert t.crs == res.inputs.cells.crs


def test_map_html_size_is_reasonable(page_vi):
    assert len(page_vi.encode("utf-8")) < 500_000
    assert re.search(r"<title>Tiny &lt;world&gt;</title>", page_vi)
    assert np.isfinite(len(page_vi))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_splitter_tooltip_and_village_popup_say_why_not(results, lang):
    """In the planner world the splitters and every village centre are off the short
    road: the splitters are drawn not usable, their tooltip (from the run's splitter
    table) says why, and each village's popup says why it has no FTTH, in the map's
    language."""
    from vncoverage.i18n import ftth_reason_label
    from vncoverage.outputs.webmap import results_map

    res, _ = results
    page = results_map(res, lang=lang).get_root().render()
    payload = _payload(page)
    spec = payload["points"]["splitters"]
    table = res.ftth.splitters
    assert set(table["unusable_reason"]) == {"off the road network"}
    why = tr("splitter_unusable", lang,
             reason=ftth_reason_label("off the road network", lang))
    rows = {r[3]: r for r in spec["rows"]}
    assert set(rows) == set(table.index)
    for node_id, r in rows.items():
        assert r[2] == 1  # the colour of a splitter not usable
        assert spec["lookup"]["11"][r[11]] == why
        assert r[4:6] == [str(table.loc[node_id, "ports_used"]),
                          str(table.loc[node_id, "ports"])]
        assert r[6] == "OLT1" and r[7] == "–"  # no route to the OLT
    assert spec["tip"].startswith(tr("tip_splitter_full", lang, id="{3}", lat="{0}",
                                     lon="{1}", olt="{6}", route="{7}", snap="{8}",
                                     used="{4}", ports="{5}", free="{9}", left="{10}",
                                     status="{11}")[:20])
    feats = {f["properties"]["i"]: f["properties"] for f in payload["villages"]["features"]}
    assert res.villages.loc["V06", "ftth_reason"] == "off the road network"
    assert (f"{tr('pop_ftth_why', lang)}: <b>"
            f"{ftth_reason_label('off the road network', lang)}</b>") in feats["V06"]["h"]
    unreached = {r[3] for r in payload["points"]["unreached"]["rows"]}
    assert any(t.endswith(f". {tr('pop_ftth_why', lang)}: "
                          f"{ftth_reason_label('off the road network', lang)}")
               for t in unreached), unreached
    other = "vi" if lang == "en" else "en"
    assert ftth_reason_label("off the road network", other) not in page
