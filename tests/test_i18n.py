"""The string table: both languages for every message, same placeholders, numbers written
the way each language writes them."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vncoverage import i18n
from vncoverage.i18n import LANGS, check_lang, column_label, number, tr, verdict_label


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(i18n._STRINGS))
def test_every_message_has_both_languages_with_the_same_placeholders(key):
    vi, en = i18n._STRINGS[key]
    assert vi.strip() and en.strip()
    assert _fields(vi) == _fields(en)


def test_tables_cover_both_languages():
    for table in (i18n._VERDICTS, i18n._COLUMNS, i18n._OPERATOR_SUFFIXES):
        for pair in table.values():
            assert len(pair) == len(LANGS) and all(p.strip() for p in pair)


def test_check_lang():
    assert check_lang("vi") == "vi"
    with pytest.raises(ValueError, match="vi, en"):
        check_lang("fr")
    with pytest.raises(ValueError):
        tr("yes", "fr")


def test_numbers_per_language():
    assert number(1234.56, "vi", 1) == "1.234,6"
    assert number(1234.56, "en", 1) == "1,234.6"
    assert number(-99.7, "vi", 1) == "−99,7"
    assert number(1676, "vi") == "1.676"
    for missing in (None, float("nan"), float("inf"), "abc"):
        assert number(missing, "en") == "–"


def test_tr_formats_numbers_but_not_text():
    vi = tr("method_model", "vi", model="p526", radii="4G 10 km", rx=1.5, k=4 / 3)
    assert "1,5 m" in vi and "k = 1,333" in vi and "4G 10 km" in vi
    en = tr("method_model", "en", model="p526", radii="4G 10 km", rx=1.5, k=4 / 3)
    assert "1.5 m" in en and "k = 1.333" in en
    # a value that is text is never rewritten, even when it looks like a number
    assert tr("tip_splitter", "vi", id="SPL-1.5", used=2, ports=8) == \
        "Bộ chia SPL-1.5: đã dùng 2/8 cổng"


def test_verdicts_and_columns():
    assert verdict_label("trắng sóng", "vi") == "Trắng sóng"
    assert "no signal" in verdict_label("trắng sóng", "en")
    assert verdict_label("something else", "vi") == "something else"
    assert column_label("population", "vi") == "Dân số"
    assert column_label("pop_share_mbb_viettel", "vi").endswith("Viettel")
    assert column_label("pop_share_mbb_mobifone", "en").endswith("MobiFone")
    assert column_label("not_a_known_column", "vi") == "not_a_known_column"


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 3))
def test_vi_and_en_numbers_are_the_same_number(x, digits):
    vi, en = number(x, "vi", digits), number(x, "en", digits)
    assert vi.translate(str.maketrans(",.", ".,")) == en
