"""Vietnamese names: NFC clean-up and tolerant matching of district and commune names."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vncoverage.names import (
    clean_text,
    closest_names,
    describe_matches,
    fold,
    match_names,
    name_keys,
    pair_stage,
    strip_prefix,
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


@pytest.mark.parametrize(("value", "match", "how"), [
    ("Lộc Binh", "Huyện Lộc Bình", "prefix, wrong mark"),  # a tone lost
    ("Huyện Văn Quán", "Huyện Văn Quan", "wrong mark"),  # a wrong tone
    ("Văn Lăng", "Huyện Văn Lãng", "prefix, wrong mark"),  # a wrong vowel mark
    ("Van Lang", "Huyện Văn Lãng", "prefix, missing marks"),  # never Văn Quan
    ("Bạc Sòn", None, "none"),  # two syllables wrong
    ("Bắc Sơm", None, "none"),  # another letter
])
def test_wrong_mark_stage(value: str, match: str | None, how: str):
    m = match_names([value], DISTRICTS, wrong_mark=True)[clean_text(value)]
    assert (m.match, m.how) == (match, how)
    if how.endswith("wrong mark"):  # off by default
        assert match_names([value], DISTRICTS)[clean_text(value)].match is None


def test_wrong_mark_never_guesses_between_two_candidates():
    m = match_names(["Tận Lập", "Xã Tân Lâp"], ["Xã Tân Lập", "Xã Tấn Lập"], wrong_mark=True)
    assert m["Tận Lập"].how == "ambiguous"
    assert set(m["Tận Lập"].candidates) == {"Xã Tân Lập", "Xã Tấn Lập"}
    # written with tones: 'Tân' is level, one syllable off from one, two from the other
    assert m["Xã Tân Lâp"].match == "Xã Tân Lập"


@pytest.mark.parametrize(("value", "candidate", "stage"), [
    ("Đình Lập", "Đình Lập", "exact"),
    ("\u00d0ình Lập", "Đình Lập", "cleaned"),
    (unicodedata.normalize("NFD", "Đình Lập"), "Đình Lập", "cleaned"),
    ("Huyện Đình Lập", "Đình Lập", "prefix"),
    ("Bắc Son", "Bắc Sơn", "missing marks"),
    ("Văn Quán", "Văn Quan", "wrong mark"),
    ("Bạc Sòn", "Bắc Sơn", "letters"),
    ("Van Lang", "Văn Quan", None),
    ("Thị xã Bắc Sơn", "Thị trấn Bắc Sơn", None),
])
def test_pair_stage(value: str, candidate: str, stage: str | None):
    assert pair_stage(value, candidate) == stage
    if stage is not None:
        assert set(name_keys(value)) & set(name_keys(candidate))


def test_strip_prefix_and_closest_names():
    assert strip_prefix("Huyện Văn Quan") == "Văn Quan"
    assert strip_prefix("TP. Lạng Sơn") == "Lạng Sơn"
    assert strip_prefix("Thị trấn Na Sầm") == "Na Sầm"
    assert strip_prefix("Văn Quan") == "Văn Quan"
    assert strip_prefix(" Văn  Quan ") == "Văn Quan"
    assert closest_names("Đình Lập", ["Huyện Đình Lâm", "Văn Quan"]) == ["Huyện Đình Lâm"]
