"""map.html and report.html in a real browser: headless Chromium driven by Playwright.

Debian's ``chromium`` is used through ``executable_path`` (``playwright install`` is never
needed). The libraries folium loads from CDNs are served from a local npm install
(``make assets`` -> ``.cache/web/node_modules``, see ``tests/web/package.json``); any other
request (tiles, fonts, data...) is aborted and fails the test, which proves the pages need
nothing from the network. Screenshots and a PDF print go to the test's tmp dir.

Without Chromium, Playwright or the assets the tests are skipped, unless ``CI`` is set: then
they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from planner_world import XSS_NAMES, build_planner_world

from vncoverage.cli import main
from vncoverage.i18n import tr
from vncoverage.outputs.webmap import CDN_PACKAGES, asset_path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = Path(os.environ.get("VNCOVERAGE_WEB_ASSETS",
                                   ROOT / ".cache" / "web" / "node_modules"))


def _chromium() -> str | None:
    for cand in (os.environ.get("VNCOVERAGE_CHROMIUM"), shutil.which("chromium"),
                 "/usr/bin/chromium"):
        if cand and Path(cand).is_file():
            return cand
    return None


def _missing() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[test]')")
    if _chromium() is None:
        missing.append("Chromium (apt-get install chromium, or set VNCOVERAGE_CHROMIUM)")
    for package, version, _ in CDN_PACKAGES.values():
        manifest = NODE_MODULES / package / "package.json"
        try:
            found = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            found = None
        if found != version:
            missing.append(f"npm package {package}@{version} in {NODE_MODULES} (make assets)")
    return missing


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    missing = _missing()
    if missing:
        msg = "missing " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the browser test must run, but it is {msg}",
                        pytrace=False)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True,
                                     args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    world = build_planner_world(root / "world")
    out = root / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(world.config), "--out", str(out),
                                    "--no-progress"])
    assert res.exit_code == 0, res.output
    return out


@dataclass
class Watch:
    """What a page did: console errors, uncaught exceptions, dialogs, refused requests."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"dialogs opened (script ran): {self.dialogs}"
        assert self.refused == [], f"requests to the network: {self.refused}"


def _open(browser: Any, path: Path, *, width: int = 1400, height: int = 900
          ) -> tuple[Any, Any, Watch]:
    ctx = browser.new_context(viewport={"width": width, "height": height},
                              service_workers="block")
    # Leaflet's 2D transforms: headless Chromium's software compositor can capture a
    # screenshot before it has rastered all tiles of a 3D-transformed layer (partly blank
    # maps); nothing else changes for the map.
    ctx.add_init_script("window.L_DISABLE_3D = true;")
    page = ctx.new_page()
    watch = Watch()
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
            return
        local = asset_path(url, NODE_MODULES)
        if local is not None and local.is_file():
            watch.served.append(url)
            r.fulfill(path=str(local))
            return
        watch.refused.append(url)
        r.abort()

    ctx.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return ctx, page, watch


def _village_point(page: Any, village_id: str) -> tuple[float, float]:
    """Page coordinates of a point inside a village polygon (its interior point)."""
    return tuple(page.evaluate("""(id) => {
        const api = window.vncoverage; let layer = null;
        api.layers.verdict.eachLayer(l => { if (l.feature.properties.i === id) layer = l; });
        api.map.fitBounds(layer.getBounds(), {animate: false, maxZoom: 14});
        const p = api.map.latLngToContainerPoint(layer.getCenter());
        const box = api.map.getContainer().getBoundingClientRect();
        return [p.x + box.left, p.y + box.top];
    }""", village_id))


def _settle(page: Any) -> None:
    """Wait for the end of zoom animations and popup fade-ins (for screenshots)."""
    page.wait_for_function("""() => { const m = window.vncoverage.map;
        return !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress) &&
            Array.from(document.querySelectorAll('.leaflet-popup'))
                 .every(p => getComputedStyle(p).opacity === '1'); }""")
    page.wait_for_timeout(400)


def _shot(page: Any, path: Path, **kw: Any) -> None:
    page.screenshot(path=str(path), **kw)


def test_map(chromium, outputs, tmp_path):
    ctx, page, watch = _open(chromium, outputs / "map.html")
    page.wait_for_function("() => window.vncoverage && window.vncoverage.layers.verdict")
    _settle(page)
    _shot(page, tmp_path / "map.png")

    # layers, legend, scale bar, search
    labels = [t.strip() for t in page.locator(
        ".leaflet-control-layers-overlays label").all_inner_texts()]
    for key in ("layer_verdict", "layer_popshare", "layer_ftth", "layer_remote", "layer_olt",
                "layer_splitters", "layer_rsrp", "layer_districts", "layer_communes"):
        assert tr(key, "vi") in labels, (key, labels)
    assert tr("layer_towers", "vi", operator="Viettel") in labels
    legend = page.locator("#vnc-legend")
    assert legend.is_visible()
    assert "Trắng sóng" in legend.inner_text() and "Lõm sóng" in legend.inner_text()
    assert page.locator(".leaflet-control-scale").is_visible()
    assert page.locator(".leaflet-control-search input").is_visible()
    n_paths = page.locator("path.leaflet-interactive").count()
    assert n_paths >= 16  # the village polygons (and tower markers) are drawn
    # district boundaries are on (drawn from the page's JSON data), communes and fibre
    # roads are drawn when switched on
    assert page.evaluate("() => window.vncoverage.layers.districts.getLayers().length") >= 1
    page.locator(".leaflet-control-layers-overlays label", has_text=tr("layer_communes", "vi")
                 ).locator("input").check()
    assert page.evaluate("() => window.vncoverage.layers.communes.getLayers().length") >= 1

    # a layer switched on shows its legend section
    page.locator(".leaflet-control-layers-overlays label", has_text=tr("layer_rsrp", "vi")
                 ).locator("input").check()
    assert "RSRP" in legend.inner_text()
    assert page.locator("img.leaflet-image-layer").count() == 1

    # click a village: its popup with name and population
    page.mouse.click(*_village_point(page, "V06"))
    popup = page.locator(".leaflet-popup-content").last
    popup.wait_for(state="visible")
    text = popup.inner_text()
    assert "Thôn Nà 6" in text and "Dân số: 450" in text and "Trạm 4G/5G gần nhất" in text
    _settle(page)
    _shot(page, tmp_path / "map_popup.png")

    # hostile names show as text and never run
    for vid in ("V01", "V02", "V04"):
        page.mouse.click(*_village_point(page, vid))
        page.wait_for_timeout(150)
        assert XSS_NAMES[vid] in popup.inner_text()
    page.locator(".leaflet-popup-close-button").last.click()
    page.mouse.move(*_village_point(page, "V02"))
    tooltip = page.locator(".leaflet-tooltip", has_text="(V02)")
    tooltip.wait_for(state="visible")
    assert tooltip.inner_text() == f"{XSS_NAMES['V02']} (V02)"

    # search by name opens the village's popup
    box = page.locator(".leaflet-control-search input")
    box.click()
    box.press_sequentially("Nà 11", delay=30)
    tip = page.locator(".search-tooltip .search-tip").first
    tip.wait_for(state="visible")
    tip.click()
    page.wait_for_function("() => document.querySelector('.leaflet-popup-content') &&"
                           " Array.from(document.querySelectorAll('.leaflet-popup-content'))"
                           ".some(p => p.innerText.includes('Thôn Nà 11'))")
    _settle(page)
    _shot(page, tmp_path / "map_search.png")

    # the remote gap layer holds the uncovered corner village
    remote = page.evaluate("() => window.vncoverage.layers.remote.getLayers()"
                           ".map(l => l.feature.properties.i)")
    assert remote == ["V04"]
    watch.check()
    assert any("leaflet" in u for u in watch.served)
    ctx.close()
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_report(chromium, outputs, tmp_path):
    ctx, page, watch = _open(chromium, outputs / "report.html", width=1100)
    assert page.locator("h1").inner_text().startswith("Báo cáo phủ sóng theo thôn")
    kpi_rows = page.locator("#kpis tbody tr")
    assert kpi_rows.count() == 4
    assert "chưa đạt" in kpi_rows.first.inner_text()
    images = page.evaluate("() => Array.from(document.images).map(i => i.naturalWidth)")
    assert len(images) == 3 and min(images) > 100
    uncovered = page.locator("#uncovered tbody").inner_text()
    assert XSS_NAMES["V04"] in uncovered
    assert page.locator("#remote tbody tr").count() == 1
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    page.pdf(path=str(tmp_path / "report.pdf"), format="A4", print_background=True)
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 4  # page breaks before the maps, districts, remote gaps and method
    watch.check()
    assert watch.served == []  # fully self-contained
    ctx.close()


def test_map_offline_with_embedded_libraries(chromium, tmp_path):
    """--web-assets embeds the libraries: the map works with every request refused."""
    world = build_planner_world(tmp_path / "world")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(world.config), "--out", str(out),
                                    "--no-progress", "--web-assets", str(NODE_MODULES)])
    assert res.exit_code == 0, res.output
    page_text = (out / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)=["']https?://[^"']+\.(?:js|css)""", page_text)
    ctx, page, watch = _open(chromium, out / "map.html")
    page.wait_for_function("() => window.vncoverage && window.vncoverage.layers.verdict")
    assert page.locator("#vnc-legend").is_visible()
    assert page.locator("path.leaflet-interactive").count() >= 16
    page.mouse.click(*_village_point(page, "V06"))
    page.locator(".leaflet-popup-content").last.wait_for(state="visible")
    assert "Thôn Nà 6" in page.locator(".leaflet-popup-content").last.inner_text()
    watch.check()
    assert watch.served == []  # nothing came from the (routed) CDN
    ctx.close()


def test_web_assets_folder_without_the_libraries_is_a_clear_error(tmp_path):
    world = build_planner_world(tmp_path / "world")
    res = CliRunner().invoke(main, ["run", "--config", str(world.config), "--out",
                                    str(tmp_path / "out"), "--no-progress", "--web-assets",
                                    str(tmp_path)])
    assert res.exit_code == 2 and "make assets" in res.output
    assert not (tmp_path / "out").exists()
