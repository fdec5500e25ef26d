"""Notes in both languages: :class:`vncoverage.i18n.Message`, the note table, the report's
"Ghi chú" section, the map's FTTH method, and notes kept by a workspace."""

from __future__ import annotations

import ast
import dataclasses
import json
import pickle
import re
import string
from pathlib import Path

import numpy as np
import pytest
from noisy_world import build_noisy_world

import vncoverage
from vncoverage import fibre, i18n
from vncoverage.config import Config, load_config
from vncoverage.fileio._tables import ENCODING_NAMES
from vncoverage.fileio.admin import LEVELS
from vncoverage.i18n import Message, localise, match_how
from vncoverage.names import PAIR_STAGES
from vncoverage.outputs.webmap import results_map
from vncoverage.outputs.writer import write_outputs
from vncoverage.pipeline import run
from vncoverage.plan.candidates import KINDS
from vncoverage.workspace import run_workspace
from vncoverage.workspace.caches import DirReadCache

PACKAGE = Path(vncoverage.__file__).parent

#: Notes the noisy world must make (tests/noisy_world.py).
NOISY_KEYS = {
    "villages.repaired", "villages.spellings_unified", "villages.no_centres",
    "rows.repeated", "owner.not_operator", "names.read_as", "dates.day_first",
    "table.read_as", "inputs.no_settlements", "dem.holes", "dem.beyond_edge",
    "extents.cells_dropped", "run.unknown_pixels", "ftth.note_straight", "ftth.not_covered",
    "remote.no_towns", "remote.no_roads", "towers.same_tower",
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --------------------------------------------------------------------------------------
# the note table


@pytest.mark.parametrize("key", sorted(i18n._NOTES))
def test_every_note_has_both_languages_with_the_same_placeholders(key):
    vi, en = i18n._NOTES[key]
    assert vi.strip() and en.strip()
    assert _fields(vi) == _fields(en)


def _config_keys() -> set[str]:
    """``section.key`` of every setting of the configuration (``kpi.same_tower_m``): text
    shaped like a note key, which is none."""
    cfg = Config()
    return {f"{section.name}.{f.name}" for section in dataclasses.fields(cfg)
            if dataclasses.is_dataclass(part := getattr(cfg, section.name))
            for f in dataclasses.fields(part)}


def _message_keys() -> tuple[set[str], set[str]]:
    """The keys the package's code gives :class:`Message` (literal first arguments, and
    every string constant shaped like a key of a namespace the table uses) and the
    prefixes of the keys it builds with an f-string."""
    namespaces = {k.split(".", 1)[0] for k in i18n._NOTES}
    shaped = re.compile(r"^(" + "|".join(map(re.escape, namespaces)) + r")\.[a-z0-9_\-]+$")
    settings = _config_keys()
    files = re.compile(r"\.(json|csv|gpkg|tif|tiff|vnca|parquet|html|md|png|kml|toml|xlsx|py)$")
    keys: set[str] = set()
    prefixes: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "i18n.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and shaped.match(node.value) and not files.search(node.value) \
                    and node.value not in settings:
                keys.add(node.value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Message" \
                    and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    keys.add(first.value)
                elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0],
                                                                       ast.Constant):
                    prefixes.add(first.values[0].value)
    return keys, prefixes


def test_every_key_used_in_the_code_is_in_the_note_table():
    keys, prefixes = _message_keys()
    assert len(keys) > 80
    assert sorted(keys - set(i18n._NOTES)) == []
    # the families of keys built from codes: every code has its sentence
    family = {"level.": list(LEVELS), "levels.": list(LEVELS),
              "ftth_reason.": list(fibre.REASONS), "encoding.": list(ENCODING_NAMES),
              "candidates.kind.": list(KINDS)}
    assert prefixes <= set(family), prefixes
    for prefix, codes in family.items():
        for code in codes:
            assert f"{prefix}{code}" in i18n._NOTES, (prefix, code)
    for how in (*PAIR_STAGES, "alias", "admin_names"):
        assert isinstance(match_how(how), Message), how
    # and the table has no sentence that nothing uses
    built = {k for k in i18n._NOTES if any(k.startswith(p) for p in (*family, "how."))}
    assert sorted(set(i18n._NOTES) - keys - built) == []


def test_the_ftth_reasons_of_a_note_are_the_codes_in_english_and_the_labels_in_vietnamese():
    for code in fibre.REASONS:
        m = Message(f"ftth_reason.{code}")
        assert m == code and m.render("vi") == i18n.ftth_reason_label(code, "vi")


# --------------------------------------------------------------------------------------
# Message


def test_a_message_is_its_english_text_and_knows_its_key_params_and_source():
    m = Message("coords.reprojected", source=Path("data/cells.csv"), file="data/cells.csv",
                n=np.int64(1234), crs="EPSG:4756 (VN-2000)")
    assert isinstance(m, str)
    assert m == "data/cells.csv: 1,234 row(s) in EPSG:4756 (VN-2000) reprojected to WGS 84"
    assert "reprojected" in m and "; ".join([m, "x"]).endswith("; x")
    assert (m.key, m.source, m.params["n"]) == ("coords.reprojected", "data/cells.csv", 1234)
    assert type(m.params["n"]) is int
    assert m.render("en") == str(m)
    # numbers the way Vietnamese writes them; file names and EPSG codes untouched
    assert m.render("vi") == ("data/cells.csv: 1.234 dòng theo EPSG:4756 (VN-2000) được "
                              "chuyển sang WGS 84")
    with pytest.raises(ValueError):
        m.render("fr")


def test_nested_messages_and_lists_render_in_the_language():
    m = Message("villages.overlap", label="v.gpkg", n=2, more=" ...", pairs=[
        Message("villages.overlap_pair", a="V01", b="V02", ha=62.5),
        Message("villages.overlap_pair", a="V03", b="V04", ha=np.float64(1.25))])
    assert m == ("v.gpkg: 2 pair(s) of villages overlap (area counted in both): "
                 "V01/V02 (62.5 ha), V03/V04 (1.2 ha) ...")
    assert m.render("vi").endswith("V01/V02 (62,5 ha), V03/V04 (1,2 ha) ...")
    tech = Message("tech.bands", technology="4G", bands=["B3", "B1"])
    assert (tech, tech.render("vi")) == ("4G, B3 or B1", "4G, B3 hoặc B1")


def test_unknown_keys_and_missing_parameters_are_errors():
    with pytest.raises(KeyError):
        Message("no.such.key")
    with pytest.raises(KeyError):
        Message("coords.reprojected", file="x.csv")
    with pytest.raises(TypeError):
        Message("coords.reprojected", file="x.csv", n=1, crs=object())


def test_a_message_survives_json_and_pickle():
    m = Message("admin.fuzzy_pairs", source="b.gpkg", label="b.gpkg (layer 'districts')",
                n=1, level=Message("level.district"),
                lines=[Message("admin.pair", layer_name="Bac Son", unit="Bắc Sơn",
                               how=match_how("missing marks"))])
    for back in (Message.from_json(json.loads(json.dumps(m.to_json()))),
                 pickle.loads(pickle.dumps(m))):
        assert isinstance(back, Message) and back == m
        assert (back.key, back.source, back.render("vi")) == (m.key, m.source, m.render("vi"))
        assert isinstance(back.params["lines"][0], Message)
    assert "thiếu dấu" in m.render("vi") and "(missing marks)" in m


@pytest.mark.parametrize("kept", ["an English note of an older version", {"key": "x.y"},
                                  {"key": "run.no_ftth", "params": {}, "source": 3}, None])
def test_what_is_not_a_serialised_message_is_refused(kept):
    with pytest.raises(ValueError):
        Message.from_json(kept)


def test_localise_leaves_plain_text_alone():
    assert localise("plain", "vi") == "plain"
    assert localise(Message("run.no_ftth"), "vi").startswith("không có tệp nút FTTH")


# --------------------------------------------------------------------------------------
# the noisy world: report, map, workspace


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    root = tmp_path_factory.mktemp("noisy")
    w = build_noisy_world(root / "world")
    return w, run(load_config(w.config), progress=False)


def _notes_section(md: str) -> list[str]:
    body = md.split("## Ghi chú · Notes\n", 1)[1] if "## Ghi chú" in md else \
        md.split("## Notes\n", 1)[1]
    return [line[2:] for line in body.split("\n## ", 1)[0].splitlines()
            if line.startswith("- ")]


def test_the_noisy_world_makes_many_notes_all_messages(noisy):
    _, res = noisy
    assert all(isinstance(n, Message) for n in res.notes), \
        [n for n in res.notes if not isinstance(n, Message)]
    assert {n.key for n in res.notes} >= NOISY_KEYS
    assert isinstance(res.ftth.method, Message)


def test_vietnamese_report_has_every_note_in_vietnamese(noisy, tmp_path):
    _, res = noisy
    write_outputs(res, tmp_path, lang="vi", map_html=False)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    lines = _notes_section(md)
    assert lines == [n.render("vi") for n in res.notes]
    for line, note in zip(lines, res.notes, strict=True):
        assert line != note.render("en"), note
        assert str(note) not in md
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for note in res.notes:
        assert str(note) not in html
    # the FTTH KPI's detail is the straight-line flag, in Vietnamese too
    assert "theo đường chim bay × 1,2 (không có mạng lưới đường)" in md
    assert "straight line x 1.2" not in md and "BTS commissioned" not in md
    from vncoverage.outputs.report import shown_kpis

    for detail in shown_kpis(res.kpis)["detail"].dropna():  # the rows the report shows
        assert isinstance(detail, Message) and detail.render("vi") in md
    # the tables are the same in either language: only the text changes
    assert (tmp_path / "kpi.csv").read_text(encoding="utf-8-sig").count(
        "straight line x 1.2 (no road network)") == 1


def test_english_report_keeps_the_english_notes(noisy, tmp_path):
    _, res = noisy
    write_outputs(res, tmp_path, lang="en", map_html=False)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert _notes_section(md) == [str(n) for n in res.notes]
    assert "straight line x 1.2 (no road network)" in md


def test_map_popups_say_how_ftth_distances_were_measured(noisy):
    _, res = noisy
    vi = results_map(res, lang="vi").get_root().render()
    assert "Khoảng cách cáp quang đo theo đường chim bay × 1,2" in vi
    assert "straight line x" not in vi
    en = results_map(res, lang="en").get_root().render()
    assert "FTTH distances: straight line x 1.2 (no road network)" in en


def test_notes_kept_by_a_workspace_come_back_as_messages(tmp_path):
    w = build_noisy_world(tmp_path / "world")
    cfg = load_config(w.config)
    ws = tmp_path / "ws"
    first = run_workspace(cfg, ws, lang="vi", map_html=False).results
    # another language: outputs again, every stage and every input read from the workspace
    again = run_workspace(cfg, ws, lang="en", map_html=False)
    second = again.results
    assert first is not None and second is not None
    assert second.computed["fibre"] == "reused"
    assert second.computed["layers"].startswith("updated: 0 added, 0 changed, 0 removed")
    assert list((ws / "cache" / "inputs").glob("*.vnca"))  # the reads were kept
    for res in (first, second):
        assert all(isinstance(n, Message) for n in res.notes)
    def shown(res):
        return [(n.key, n.source, n.render("vi")) for n in res.notes
                if n.key != "workspace.run"]
    assert shown(second) == shown(first)
    assert isinstance(second.ftth.method, Message)
    assert second.inputs.formats == first.inputs.formats
    assert all(isinstance(f, Message) for f in second.inputs.formats.values())


def test_read_cache_keeps_messages_and_drops_entries_of_plain_notes(tmp_path):
    import pandas as pd

    cache = DirReadCache(tmp_path)
    note = Message("inputs.no_settlements")
    fmt = Message("table.parts", parts=["CSV", Message("encoding.cp1258")])
    cache.put("k", pd.DataFrame({"a": [1]}), [note], {"x.csv": fmt})
    _, notes, formats = cache.get("k")
    assert notes == [note] and isinstance(notes[0], Message)
    assert formats["x.csv"].render("vi") == "CSV, Windows-1258 (tiếng Việt)"
    # an entry written by an older version, its notes in English: read the file again
    from vncoverage.workspace.container import pack_arrays, unpack_arrays

    arrays, meta = unpack_arrays((tmp_path / "k.vnca").read_bytes())
    meta["notes"] = [str(note)]
    (tmp_path / "k.vnca").write_bytes(pack_arrays(arrays, meta))
    assert cache.get("k") is None
