"""Operator and technology labels as operators' files write them."""

from __future__ import annotations

import pytest

from vncoverage.operators import (
    BANDS,
    KNOWN_OPERATORS,
    NOMINAL_BANDS,
    canonical_operator,
    canonical_technology,
    closest_operators,
    identify_operator,
    parse_technology,
)

OPS = ("Viettel", "VNPT", "MobiFone")


def test_operators_and_technologies():
    ops = ("Viettel", "VNPT", "MobiFone")
    assert canonical_operator("VinaPhone", ops) == ("VNPT", True)
    assert canonical_operator(" mobifone", ops) == ("MobiFone", True)
    assert canonical_operator("Viettel", ops) == ("Viettel", False)
    assert canonical_operator("Vietnamobile", ops) == ("Vietnamobile", False)
    assert canonical_operator("VinaPhone", ("Viettel",)) == ("VinaPhone", False)
    for v, t in (("LTE", "4G"), ("4g", "4G"), ("5G NR", "5G"), ("WCDMA", "3G"), ("GSM", "2G"),
                 ("LTE-A", "4G"), ("6G", None), ("", None)):
        assert canonical_technology(v) == t


# --------------------------------------------------------------------------------------
# operators


@pytest.mark.parametrize(("label", "name", "code"), [
    ("VNPT (VinaPhone)", "VNPT", ""), ("VinaPhone", "VNPT", ""), ("VNP", "VNPT", ""),
    ("vnpt-vinaphone", "VNPT", ""), ("Viettel Telecom", "Viettel", ""), ("VTL", "Viettel", ""),
    ("Tập đoàn Viettel", "Viettel", ""), ("MBF", "MobiFone", ""), ("VMS", "MobiFone", ""),
    ("Mobifone", "MobiFone", ""), ("MOBIFONE", "MobiFone", ""),
    ("452-01", "MobiFone", "452-01"), ("452-02", "VNPT", "452-02"),
    ("452-04", "Viettel", "452-04"), ("45204", "Viettel", "452-04"),
    ("452 04", "Viettel", "452-04"), ("452/02", "VNPT", "452-02"),
])
def test_aliases_and_network_codes_of_configured_operators(label: str, name: str, code: str):
    got = identify_operator(label, OPS)
    assert (got.name, got.status, got.code, got.changed) == (name, "configured", code, True)
    assert canonical_operator(label, OPS) == (name, True)


@pytest.mark.parametrize(("label", "name", "code"), [
    ("452-05", "Vietnamobile", "452-05"), ("45205", "Vietnamobile", "452-05"),
    ("Vietnamobile", "Vietnamobile", ""), ("VNM", "Vietnamobile", ""),
    ("452-07", "Gmobile", "452-07"), ("G-Mobile", "Gmobile", ""), ("GTel", "Gmobile", ""),
    ("Reddi", "Wintel", ""), ("Wintel", "Wintel", ""), ("iTel", "I-Telecom", ""),
])
def test_licensed_operators_not_configured(label: str, name: str, code: str):
    got = identify_operator(label, OPS)
    assert (got.name, got.status, got.code) == (name, "licensed", code)
    assert canonical_operator(label, OPS) == (got.text, False)  # not a configured one
    # once configured, under any of its spellings, it is read as the configured spelling
    assert identify_operator(label, (*OPS, name)).status == "configured"


def test_configured_spelling_wins_over_the_known_name():
    ops = ("Viettel", "VinaPhone", "Mobifone")
    assert identify_operator("VNPT", ops).name == "VinaPhone"
    assert identify_operator("452-02", ops).name == "VinaPhone"
    assert identify_operator("MBF", ops).name == "Mobifone"
    assert identify_operator("vinaphone", ops).name == "VinaPhone"


@pytest.mark.parametrize("label", ["452-06", "452-03", "452-4", "45204x", "Vietel", "ABC",
                                   "Vietnam Towers JSC", "4520"])
def test_unknown_labels_stay_as_written(label: str):
    got = identify_operator(label, OPS)
    assert (got.name, got.status, got.changed) == (label, "unknown", False)


def test_fixed_broadband_providers():
    got = identify_operator("FPT", OPS)
    assert (got.name, got.status) == ("FPT Telecom", "fixed")
    assert identify_operator("FPT Telecom", OPS).status == "fixed"
    assert not any(op.mnc for op in KNOWN_OPERATORS if op.kind != "mobile")


def test_closest_configured_operators():
    assert closest_operators("Vietel", OPS) == ["Viettel"]
    assert closest_operators("Vinafone", OPS)[0] == "VNPT"  # through the alias VinaPhone
    assert closest_operators("Mobiphon", OPS) == ["MobiFone"]
    assert closest_operators("Vietnam Towers JSC", OPS) == []


def test_network_codes_are_unique():
    codes = [m for op in KNOWN_OPERATORS for m in op.mnc]
    assert len(codes) == len(set(codes))
    assert {m: op.name for op in KNOWN_OPERATORS for m in op.mnc} == {
        "01": "MobiFone", "02": "VNPT", "04": "Viettel", "05": "Vietnamobile", "07": "Gmobile"}


# --------------------------------------------------------------------------------------
# technologies and bands


@pytest.mark.parametrize(("label", "tech", "bands"), [
    ("LTE", "4G", ()), ("LTE-FDD", "4G", ()), ("FDD-LTE", "4G", ()), ("LTE TDD", "4G", ()),
    ("4G LTE", "4G", ()), ("4G/LTE", "4G", ()), ("5G NR", "5G", ()), ("NR", "5G", ()),
    ("LTE1800", "4G", ("B3",)), ("LTE 1800", "4G", ("B3",)), ("LTE-1800", "4G", ("B3",)),
    ("LTE1800MHz", "4G", ("B3",)), ("4G 1800", "4G", ("B3",)), ("L1800", "4G", ("B3",)),
    ("LTE2100", "4G", ("B1",)), ("LTE700", "4G", ("B28",)),
    ("LTE2600", "4G", ("B7", "B38", "B41")),
    ("B3", "4G", ("B3",)), ("Band 28", "4G", ("B28",)), ("LTE B1", "4G", ("B1",)),
    ("NR3500", "5G", ("n78", "n77")), ("N3500", "5G", ("n78", "n77")),
    ("5G 2600", "5G", ("n41",)), ("n78", "5G", ("n78",)), ("N78", "5G", ("n78",)),
    ("NR n41", "5G", ("n41",)), ("5G n77", "5G", ("n77",)),
    ("UMTS2100", "3G", ("UMTS I",)), ("WCDMA 900", "3G", ("UMTS VIII",)),
    ("U2100", "3G", ("UMTS I",)), ("UMTS band I", "3G", ("UMTS I",)),
    ("UMTS B8", "3G", ("UMTS VIII",)),
    ("GSM900", "2G", ("GSM 900",)), ("GSM 1800", "2G", ("DCS 1800",)),
    ("DCS1800", "2G", ("DCS 1800",)), ("E-GSM 900", "2G", ("GSM 900",)),
    ("G900", "2G", ("GSM 900",)),
])
def test_technology_labels(label: str, tech: str, bands: tuple[str, ...]):
    got = parse_technology(label)
    assert got is not None
    assert got.technology == tech
    assert tuple(b.name for b in got.bands) == bands
    assert not got.unknown_band
    assert canonical_technology(label) == tech


@pytest.mark.parametrize("label", ["6G", "LTE-X", "GSM-R", "1800", "WiMAX", "n", "L", "lte n3"])
def test_not_technologies(label: str):
    assert parse_technology(label) is None


@pytest.mark.parametrize(("label", "carries"), [("LTE800", "800 MHz"), ("n79", "band 79"),
                                                ("B20", "band 20"), ("UMTS1900", "1900 MHz"),
                                                ("GSM band 3", "band 3")])
def test_bands_not_in_the_table_are_flagged(label: str, carries: str):
    got = parse_technology(label)
    assert got is not None and got.unknown_band and got.carries == carries


@pytest.mark.parametrize(("label", "inside", "outside"), [
    ("LTE1800", (1800, 1710, 1845.5, 1880), (2100, 1700, 1881, 900)),
    ("B3", (1800, 1850), (2140,)),
    ("LTE2100", (2100, 2140, 1950), (1800, 2600)),
    ("LTE700", (700, 780, 703), (900, 690)),
    ("NR3500", (3500, 3700, 3800, 3850), (2600, 3200, 4300)),
    ("n78", (3300, 3500, 3800), (3850, 2600)),
    ("n77", (3850, 4200), (4300,)),
    ("5G 2600", (2600, 2550), (3500,)),
    ("GSM900", (900, 947.6, 890), (1800, 870)),
    ("DCS1800", (1800, 1710.2), (900,)),
    ("UMTS2100", (2100, 2112.4), (900, 1800)),
])
def test_band_fits_frequency(label: str, inside: tuple[float, ...], outside: tuple[float, ...]):
    got = parse_technology(label)
    assert got is not None
    assert all(got.fits(f) for f in inside), [f for f in inside if not got.fits(f)]
    assert not any(got.fits(f) for f in outside), [f for f in outside if got.fits(f)]
    assert parse_technology("LTE").fits(100)  # type: ignore[union-attr]  # no band: no check


def test_band_table():
    by_name = {b.name: b for b in BANDS}
    assert len(by_name) == len(BANDS)
    # TS 36.101 Table 5.5-1 / TS 38.101-1 Table 5.2-1: a few known edges
    assert by_name["B3"].ranges_mhz == ((1710, 1785), (1805, 1880))
    assert by_name["B1"].ranges_mhz == ((1920, 1980), (2110, 2170))
    assert by_name["B28"].ranges_mhz == ((703, 748), (758, 803))
    assert by_name["n78"].ranges_mhz == ((3300, 3800),)
    assert by_name["n41"].span_mhz == (2496, 2690)
    for band in BANDS:
        assert all(lo < hi for lo, hi in band.ranges_mhz)
    for (tech, mhz), names in NOMINAL_BANDS.items():
        assert all(by_name[n].technology == tech for n in names)
        assert any(by_name[n].fits(mhz) for n in names) or (tech == "4G" and mhz == 700)
