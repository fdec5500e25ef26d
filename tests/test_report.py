"""The planner's report: Markdown and HTML, Vietnamese and English, escaped, printable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from planner_world import XSS_NAMES, build_planner_world

from vncoverage.config import load_config
from vncoverage.outputs.report import (
    ReportContext,
    kpi_text_table,
    markdown_report,
    render_markdown,
    report_tables,
)
from vncoverage.outputs.report_html import html_report
from vncoverage.outputs.writer import write_outputs
from vncoverage.pipeline import run


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    w = build_planner_world(root / "world")
    res = run(load_config(w.config), progress=False)
    paths = write_outputs(res, root / "out", map_html=False)
    return res, root / "out", paths


def _ctx(res, villages, lang="vi"):
    return ReportContext(cfg=res.cfg, kpis=res.kpis, villages=villages,
                         by_district=res.by_district, by_commune_2025=res.by_commune_2025,
                         checksums=res.inputs.checksums, notes=res.notes, timings=res.timings,
                         n_cells=res.n_cells, lang=lang)


def _villages(out):
    import geopandas as gpd

    v = gpd.read_file(out / "villages.gpkg", layer="villages").set_index("village_id")
    v["remote_gap"] = v["remote_gap"].astype(bool)
    return v


def test_outputs_written(written):
    _, out, paths = written
    names = {p.relative_to(out).as_posix() for p in paths}
    assert {"report.md", "report.html", "figures/kpi_progress.png",
            "figures/district_coverage.png", "figures/gap_map.png"} <= names
    assert "map.html" not in names


def test_markdown_vi_default_with_english_headings(written):
    _, out, _ = written
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Báo cáo phủ sóng theo thôn")
    # Vietnamese headings carry the English title
    for en in ("KPIs against the plan", "Villages without mobile broadband coverage",
               "Provenance", "Remote villages without coverage"):
        assert en in md
    assert "Thôn có băng rộng di động" in md and "chưa đạt" in md
    assert "(figures/gap_map.png)" in md and "sha256" in md
    # the gap in villages, not only in %
    assert re.search(r"\| 1 thôn \|", md)
    # the remote gap and its rule
    assert "vùng sâu" in md and "1 km" in md


def test_markdown_english(written):
    res, out, _ = written
    md = markdown_report(cfg=res.cfg, kpis=res.kpis, villages=_villages(out),
                         by_district=res.by_district, by_commune_2025=res.by_commune_2025,
                         checksums=res.inputs.checksums, notes=res.notes, timings=res.timings,
                         n_cells=res.n_cells, lang="en")
    assert md.startswith("# Village coverage report")
    assert "Báo cáo" not in md and "· KPIs" not in md
    assert "Villages with mobile broadband" in md and "not met" in md
    assert "1 villages" in md or "1 village" in md


def test_tables_numbers(written):
    res, out, _ = written
    v = _villages(out)
    t = report_tables(_ctx(res, v, "en"))
    kpi = t["kpis"]
    first = dict(zip(kpi.header, kpi.rows[0], strict=True))
    assert first["current"] == f"{100 * 15 / 16:.1f} %" and first["gap (units)"] == "1 villages"
    unc = t["uncovered"]
    assert len(unc.rows) == 1 and unc.rows[0][0] == "V04"
    assert unc.rows[0][1] == XSS_NAMES["V04"]  # raw in the table; escaped by the renderer
    assert len(t["remote"].rows) == 1
    assert [r[0] for r in t["districts"].rows] == ["Huyện Chi Lăng", "Huyện Văn Quan"]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_escaped_self_contained_and_printable(written):
    _, out, _ = written
    page = (out / "report.html").read_text(encoding="utf-8")
    p = _Collector()
    p.feed(page)
    tags = [t for t, _ in p.tags]
    assert "script" not in tags and "svg" not in tags
    assert not [a for t, a in p.tags if t == "img" and not a.get("src", "").startswith(
        "data:image/png;base64,")]
    assert sum(t == "img" for t in tags) == 3
    text = "".join(p.text)
    assert XSS_NAMES["V04"] in text  # shown as text
    assert "@media print" in page and "break-before: page" in page
    assert "<thead>" in page and 'lang="vi"' in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch


def test_html_english(written):
    res, out, _ = written
    page = html_report(_ctx(res, _villages(out), "en"))
    assert 'lang="en"' in page and "KPIs against the plan" in page
    assert "Chỉ tiêu so với kế hoạch" not in page


def test_terminal_table_unchanged(written):
    res, _, _ = written
    text = kpi_text_table(res.kpis)
    assert text.splitlines()[0].startswith("KPI") and "Villages with mobile broadband" in text


def test_area_table_counts_remote_gaps(written):
    res, out, _ = written
    v = _villages(out)
    t = report_tables(_ctx(res, v, "vi"))["districts"]
    col = t.header.index("Thôn chưa có sóng, vùng sâu xa")
    by = {r[0]: r[col] for r in t.rows}
    assert by == {"Huyện Chi Lăng": "1", "Huyện Văn Quan": "0"}
    assert isinstance(res.by_district, pd.DataFrame)


class _Section(HTMLParser):
    """The text of every table cell inside ``<section id=...>``, row by row."""

    def __init__(self, section: str):
        super().__init__()
        self.section, self.inside, self.depth = section, False, 0
        self.rows: list[list[str]] = []
        self.heading = ""
        self._tag = ""

    def handle_starttag(self, tag, attrs):
        if tag == "section" and dict(attrs).get("id") == self.section:
            self.inside = True
        if not self.inside:
            return
        self._tag = tag
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "section":
            self.inside = False
        self._tag = ""

    def handle_data(self, data):
        if self.inside and self._tag in ("td", "th"):
            self.rows[-1][-1] += data
        elif self.inside and self._tag in ("h2", "span"):
            self.heading += data


def test_html_shows_the_uncertainty_sensitivity_table(written):
    """With the uncertainty on, report.html has the sensitivity table report.md has (both
    languages); without it (the module's run), no such section."""
    import dataclasses

    from vncoverage.config import UncertaintyConfig
    from vncoverage.i18n import tr

    res, out, _ = written
    assert 'id="uncertainty"' not in (out / "report.html").read_text(encoding="utf-8")
    unc = run(dataclasses.replace(res.cfg, uncertainty=UncertaintyConfig(enabled=True,
                                                                         draws=50)),
              progress=False)
    for lang in ("vi", "en"):
        ctx = _ctx(unc, unc.villages, lang)
        sens = report_tables(ctx)["sensitivity"]
        assert len(sens.rows) == 6  # one KPI with an interval: six cases
        p = _Section("uncertainty")
        p.feed(html_report(ctx))
        assert tr("sec_uncertainty", lang) in p.heading
        assert [[c.strip() for c in r] for r in p.rows] == [sens.header, *sens.rows]
        md = render_markdown(ctx)
        assert f"## {ctx.heading('sec_uncertainty')}" in md
        assert all(f"| {r[-1]} |" in md for r in sens.rows)
