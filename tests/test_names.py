"""Vietnamese names: NFC clean-up and tolerant matching of district and commune names."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vncoverage.names import (
    clean_text,
    describe_matches,
    fold,
    match_names,
    unify_names,
)

#: The 11 district-level units of Lạng Sơn before July 2025 (DOMAIN.md).
DISTRICTS = ["Thành phố Lạng Sơn", "Huyện Tràng Định", "Huyện Văn Lãng", "Huyện Văn Quan",
             "Huyện Bình Gia", "Huyện Bắc Sơn", "Huyện Hữu Lũng", "Huyện Chi Lăng",
             "Huyện Cao Lộc", "Huyện Lộc Bình", "Huyện Đình Lập"]


def test_clean_text_nfc_eth_and_spaces():
    nfd = unicodedata.normalize("NFD", "Đình Lập")
    assert nfd != "Đình Lập"
    assert clean_text(nfd) == "Đình Lập"
    assert clean_text("\u00d0ình\u00a0 Lập ") == "Đình Lập"  # Ð (eth) for Đ, NBSP
    assert clean_text(None) == "" and clean_text(float("nan")) == ""
    assert fold("Đình Lập") == "dinh lap"


@pytest.mark.parametrize(("value", "match", "how"), [
    ("Huyện Đình Lập", "Huyện Đình Lập", "exact"),
    (unicodedata.normalize("NFD", "Huyện Đình Lập"), "Huyện Đình Lập", "exact"),
    ("Huyện Ðình Lập", "Huyện Đình Lập", "exact"),  # eth: cleaned
    ("HUYỆN ĐÌNH LẬP", "Huyện Đình Lập", "normalised"),
    ("H. Đình Lập", "Huyện Đình Lập", "normalised"),
    ("Đình Lập", "Huyện Đình Lập", "prefix"),
    ("Lạng Sơn", "Thành phố Lạng Sơn", "prefix"),
    ("TP. Lạng Sơn", "Thành phố Lạng Sơn", "normalised"),
    ("Huyen Dinh Lap", "Huyện Đình Lập", "missing marks"),
    ("Dinh Lap", "Huyện Đình Lập", "prefix, missing marks"),
    ("Bac Son", "Huyện Bắc Sơn", "prefix, missing marks"),
    ("Huu Lung", "Huyện Hữu Lũng", "prefix, missing marks"),
    ("Lộc Binh", "Huyện Lộc Bình", "none"),  # written with tones: 'Binh' is level tone
    ("Loc Binh", "Huyện Lộc Bình", "prefix, missing marks"),
    ("Thị xã Bắc Sơn", None, "none"),  # another kind of unit
    ("Bắc Sơm", None, "none"),
])
def test_match_district_names(value: str, match: str | None, how: str):
    m = match_names([value], DISTRICTS)[clean_text(value)]
    if how == "none":
        assert m.match is None and m.how == "none"
    else:
        assert (m.match, m.how) == (match, how)
        assert m.fuzzy == (how != "exact")


def test_tone_mark_placement():
    m = match_names(["Xã Hoà Bình", "Xã Thuý Hà"], ["Xã Hòa Bình", "Xã Thúy Hà"])
    assert m["Xã Hoà Bình"].match == "Xã Hòa Bình" and m["Xã Hoà Bình"].how == "normalised"
    assert m["Xã Thuý Hà"].match == "Xã Thúy Hà"


def test_ambiguous_and_suggestions():
    cands = ["Xã Tân Lập", "Xã Tấn Lập", "Thị trấn Na Sầm", "Xã Na Sầm"]
    m = match_names(["Tan Lap", "Na Sầm", "Xã Tân Lâp", "Xa Na Sam", "TT Na Sam"], cands)
    assert m["Tan Lap"].how == "ambiguous"
    assert set(m["Tan Lap"].candidates) == {"Xã Tân Lập", "Xã Tấn Lập"}
    assert m["Na Sầm"].how == "ambiguous"  # could be the town or the commune
    assert m["Xa Na Sam"].match == "Xã Na Sầm"  # the prefix decides
    assert m["TT Na Sam"].match == "Thị trấn Na Sầm"
    assert m["Xã Tân Lâp"].match is None and "Xã Tân Lập" in m["Xã Tân Lâp"].candidates


def test_pre_and_post_2025_schemes_and_aliases():
    cands = {"2025": ["Phường Lương Văn Tri", "Xã Bắc Sơn"],
             "pre-2025": ["Phường Tam Thanh", "Thị trấn Bắc Sơn"]}
    m = match_names(["Tam Thanh", "Bắc Sơn", "Thi tran Bac Son", "Phường Cũ"], cands,
                    aliases={"Phường Cũ": "Phường Lương Văn Tri"})
    assert (m["Tam Thanh"].match, m["Tam Thanh"].scheme) == ("Phường Tam Thanh", "pre-2025")
    assert (m["Bắc Sơn"].match, m["Bắc Sơn"].scheme) == ("Xã Bắc Sơn", "2025")  # first scheme
    assert m["Thi tran Bac Son"].match == "Thị trấn Bắc Sơn"
    assert (m["Phường Cũ"].match, m["Phường Cũ"].how) == ("Phường Lương Văn Tri", "alias")
    lines = describe_matches(m, "commune")
    assert "commune 'Tam Thanh' read as 'Phường Tam Thanh' (prefix, pre-2025 name)" in lines
    assert len(lines) == 4


def test_unify_names_keeps_distinct_units_apart():
    values = (["Huyện Bắc Sơn"] * 3 + ["Bắc Sơn"] * 5 + ["BAC SON", "Bac Son", "Xã Tân Lập",
                                                          "Xã Tấn Lập", "Tan Lap"])
    m = unify_names(values)
    assert {m[v].match for v in ("Huyện Bắc Sơn", "Bắc Sơn", "BAC SON", "Bac Son")} == {
        "Bắc Sơn"}  # the majority spelling
    assert m["Xã Tân Lập"].match == "Xã Tân Lập" and m["Xã Tấn Lập"].match == "Xã Tấn Lập"
    assert m["Tan Lap"].how == "ambiguous"


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(DISTRICTS), st.sampled_from(["NFC", "NFD"]), st.booleans(),
       st.booleans(), st.booleans())
def test_any_degraded_spelling_finds_its_district(name: str, form: str, strip: bool,
                                                  upper: bool, no_prefix: bool):
    """Dropping every mark, the prefix, changing case or Unicode form never matches another
    district."""
    v = name.split(" ", 2 if name.startswith("Thành") else 1)[-1] if no_prefix else name
    if strip:
        v = fold(v)
    if upper:
        v = v.upper()
    v = unicodedata.normalize(form, v)
    assert match_names([v], DISTRICTS)[clean_text(v)].match == name
