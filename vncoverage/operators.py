"""Mobile operators and radio technologies as files write them: aliases of the operators'
names and their mobile network codes, names of the radio technologies with or without a
band, and the operating bands used in Vietnam.

Everything here is pure text handling (no pandas): :mod:`vncoverage.fileio` applies it to
the cell and FTTH node tables, reports what it changed and refuses what it cannot read.

Operators
    :data:`KNOWN_OPERATORS` lists Vietnam's licensed mobile operators (with the spellings
    operators' and provinces' files use, DOMAIN.md "Operators and identifiers"), the mobile
    virtual network operators and the main fixed broadband (FTTH) providers.
    :func:`identify_operator` says which of them a label names, and whether it is one of
    the configured operators (``[kpi] operators``).
Technologies
    :func:`parse_technology` reads ``4G``, ``LTE``, ``LTE1800``, ``LTE-FDD``, ``NR3500``,
    ``n78``, ``B3``, ``UMTS2100``, ``GSM900``, ``L1800``, ``U2100`` ... A label that names a
    band or a frequency carries the bands of :data:`BANDS` it names, against which a row's
    carrier frequency is checked (:meth:`TechnologyLabel.fits`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .names import clean_text, fold

__all__ = [
    "BANDS",
    "KNOWN_OPERATORS",
    "MCC_VIETNAM",
    "NOMINAL_BANDS",
    "OPERATOR_ALIASES",
    "TECHNOLOGY_ALIASES",
    "Band",
    "KnownOperator",
    "OperatorName",
    "TechnologyLabel",
    "canonical_operator",
    "canonical_technology",
    "closest_operators",
    "fixed_providers",
    "identify_operator",
    "operator_key",
    "parse_technology",
]


# --------------------------------------------------------------------------------------
# operators


@dataclass(frozen=True)
class KnownOperator:
    """An operator the tool knows by name.

    Attributes
    ----------
    name
        The spelling the tool writes (and the configuration's default list uses).
    kind
        ``"mobile"``: a licensed mobile network operator with its own radio network;
        ``"mvno"``: a licensed mobile virtual network operator (no radio network of its
        own); ``"fixed"``: a fixed broadband (FTTH) provider.
    aliases
        Other spellings, compared after :func:`operator_key` (case, diacritics, spaces and
        punctuation do not matter: ``VNPT (VinaPhone)`` is ``vnpt vinaphone``).
    mnc
        Mobile network codes under Vietnam's mobile country code 452 (ITU-T E.212).
    """

    name: str
    kind: Literal["mobile", "mvno", "fixed"]
    aliases: tuple[str, ...] = ()
    mnc: tuple[str, ...] = ()

    @property
    def licensed(self) -> bool:
        """A mobile operator (network or virtual), as opposed to a fixed provider."""
        return self.kind != "fixed"


#: Vietnam's mobile country code (ITU-T E.212, list of mobile country codes, annex to ITU
#: Operational Bulletin No. 1117).
MCC_VIETNAM = "452"

#: Operators known by name. Mobile network codes under MCC 452 as assigned in the ITU-T
#: E.212 list of mobile network codes (annex to ITU Operational Bulletin No. 1111, position
#: 2016-10-31) and given in DOMAIN.md ("Operators and identifiers"): 01 MobiFone,
#: 02 VinaPhone (VNPT), 04 Viettel, 05 Vietnamobile, 07 Gmobile. Codes once used by networks
#: closed since (03 S-Fone, 06 and 08 EVNTelecom) are not read as any operator. Wintel (brand
#: Reddi) and Indochina Telecom (brand I-Telecom, itel) are virtual operators without
#: network codes of their own. Aliases: the labels of DOMAIN.md and the companies' own
#: names and abbreviations (VMS is MobiFone's former company name, Vietnam Mobile Telecom
#: Services; VNM, GTL are the short codes of Vietnamobile and GTel Mobile).
KNOWN_OPERATORS: tuple[KnownOperator, ...] = (
    KnownOperator("Viettel", "mobile",
                  ("viettel", "viettel telecom", "viettel mobile", "viettel group", "vtl",
                   "tap doan viettel"), ("04",)),
    KnownOperator("VNPT", "mobile",
                  ("vnpt", "vinaphone", "vina phone", "vnpt vinaphone", "vinaphone vnpt",
                   "vnp"), ("02",)),
    KnownOperator("MobiFone", "mobile",
                  ("mobifone", "mobiphone", "mbf", "vms", "vms mobifone", "mobifone vms"),
                  ("01",)),
    KnownOperator("Vietnamobile", "mobile",
                  ("vietnamobile", "vietnam mobile", "vnm", "ht mobile"), ("05",)),
    KnownOperator("Gmobile", "mobile",
                  ("gmobile", "g mobile", "gtel", "gtel mobile", "gtl"), ("07",)),
    KnownOperator("Wintel", "mvno", ("wintel", "reddi", "mobicast")),
    KnownOperator("I-Telecom", "mvno", ("i telecom", "itel", "indochina telecom")),
    KnownOperator("FPT Telecom", "fixed", ("fpt telecom", "fpt")),
    KnownOperator("CMC Telecom", "fixed", ("cmc telecom", "cmc", "cmc ti")),
    KnownOperator("SCTV", "fixed", ("sctv",)),
    KnownOperator("VTVcab", "fixed", ("vtvcab", "vtv cab")),
)


def operator_key(text: str) -> str:
    """An operator label for comparison: folded (lower case, no diacritics) and without
    spaces or punctuation (``VNPT (VinaPhone)`` -> ``vnptvinaphone``)."""
    return re.sub(r"[^0-9a-z]+", "", fold(text))


#: Alias key (:func:`operator_key`) -> operator name, from :data:`KNOWN_OPERATORS`.
OPERATOR_ALIASES: dict[str, str] = {
    operator_key(a): op.name for op in KNOWN_OPERATORS for a in (op.name, *op.aliases)
}
_BY_NAME = {op.name: op for op in KNOWN_OPERATORS}
_BY_MNC = {m: op for op in KNOWN_OPERATORS for m in op.mnc}
_MCC_MNC = re.compile(MCC_VIETNAM + r"(\d{2})")


@dataclass(frozen=True)
class OperatorName:
    """What an operator label in a file names.

    Attributes
    ----------
    text
        The label as written (cleaned: NFC, spaces).
    name
        The configured spelling (``status == "configured"``), the known operator's name
        (``"licensed"``, ``"fixed"``), or ``text`` itself (``"unknown"``).
    status
        ``"configured"``: one of the configured operators; ``"licensed"``: a licensed
        mobile operator that is not configured; ``"fixed"``: a fixed broadband provider
        that is not configured; ``"unknown"``: none of these.
    code
        The MCC-MNC the label was read from (``"452-04"``), else ``""``.
    """

    text: str
    name: str
    status: Literal["configured", "licensed", "fixed", "unknown"]
    code: str = ""

    @property
    def changed(self) -> bool:
        """The label is not written as :attr:`name`."""
        return self.name != self.text


def _known(key: str) -> tuple[KnownOperator | None, str]:
    """The known operator a key names, by alias or MCC-MNC code, and the code."""
    name = OPERATOR_ALIASES.get(key)
    if name is not None:
        return _BY_NAME[name], ""
    m = _MCC_MNC.fullmatch(key)
    if m is not None and m.group(1) in _BY_MNC:
        return _BY_MNC[m.group(1)], f"{MCC_VIETNAM}-{m.group(1)}"
    return None, ""


def identify_operator(value: object, operators: Sequence[str]) -> OperatorName:
    """Which operator a label names: one of ``operators`` (the configured spellings,
    matched ignoring case, diacritics, spaces and punctuation, or through the aliases and
    mobile network codes of :data:`KNOWN_OPERATORS`), another known operator, or none.

    Mobile network codes are read as ``452-04``, ``452 04`` or ``45204`` (MCC 452, Vietnam,
    and the two-digit MNC).
    """
    return _identify_operator(clean_text(value), tuple(operators))


@lru_cache(maxsize=4096)
def _identify_operator(text: str, operators: tuple[str, ...]) -> OperatorName:
    key = operator_key(text)
    for op in operators:
        if key and key == operator_key(op):
            return OperatorName(text, op, "configured")
    known, code = _known(key)
    if known is None:
        return OperatorName(text, text, "unknown")
    for op in operators:
        if _known(operator_key(op))[0] is known:
            return OperatorName(text, op, "configured", code)
    return OperatorName(text, known.name, "licensed" if known.licensed else "fixed", code)


def canonical_operator(value: object, operators: Sequence[str]) -> tuple[str, bool]:
    """The configured spelling of an operator name, tolerating case, spaces, the aliases
    and the mobile network codes of :data:`KNOWN_OPERATORS`. Returns ``(name, changed)``;
    names of no configured operator come back cleaned but otherwise unchanged (they may be
    other operators or tower companies: :func:`identify_operator` tells which)."""
    got = identify_operator(value, operators)
    if got.status == "configured":
        return got.name, got.changed
    return got.text, False


def closest_operators(value: object, operators: Sequence[str], *, n: int = 3,
                      cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` of the configured ``operators`` whose names or aliases are most like
    ``value`` (difflib ratio at least ``cutoff``), best first."""
    key = operator_key(clean_text(value))
    candidates: dict[str, str] = {}
    for op in operators:
        known, _ = _known(operator_key(op))
        for alias in (op, *(known.aliases if known is not None else ())):
            candidates.setdefault(operator_key(alias), op)
    out: list[str] = []
    for match in difflib.get_close_matches(key, list(candidates), n=4 * n, cutoff=cutoff):
        if candidates[match] not in out:
            out.append(candidates[match])
    return out[:n]


def fixed_providers() -> list[str]:
    """Names of the known fixed broadband providers."""
    return [op.name for op in KNOWN_OPERATORS if op.kind == "fixed"]


# --------------------------------------------------------------------------------------
# radio technologies and bands


@dataclass(frozen=True)
class Band:
    """One operating band.

    Attributes
    ----------
    name
        ``B3`` (E-UTRA), ``n78`` (NR), ``UMTS I``, ``GSM 900``.
    technology
        ``2G``, ``3G``, ``4G`` or ``5G``.
    number
        The band's number in its specification (``None`` for GSM).
    ranges_mhz
        ``(low, high)`` frequency ranges, MHz: uplink and downlink of an FDD band, the one
        range of a TDD band.
    """

    name: str
    technology: str
    number: int | None
    ranges_mhz: tuple[tuple[float, float], ...]

    @property
    def span_mhz(self) -> tuple[float, float]:
        """From the lowest to the highest frequency of the band, MHz (an FDD band's duplex
        gap included: files write a band's nominal frequency, e.g. 1800 for B3)."""
        return (min(lo for lo, _ in self.ranges_mhz), max(hi for _, hi in self.ranges_mhz))

    def fits(self, freq_mhz: float) -> bool:
        """Whether a carrier frequency lies within :attr:`span_mhz`."""
        lo, hi = self.span_mhz
        return lo <= freq_mhz <= hi

    def describe(self) -> str:
        """``B3 (1710-1785 / 1805-1880 MHz)``."""
        return f"{self.name} (" + " / ".join(f"{lo:g}-{hi:g}" for lo, hi in self.ranges_mhz) \
            + " MHz)"


#: Operating bands used, or auctioned, in Vietnam, with their frequency ranges (uplink,
#: downlink; one range for TDD), MHz:
#:
#: * GSM: 3GPP TS 45.005 clause 2, "Frequency bands and channel arrangement" (E-GSM 900,
#:   which contains P-GSM 900, and DCS 1800);
#: * UMTS: 3GPP TS 25.101 Table 5.0, "UTRA FDD frequency bands" (I: 2100, VIII: 900);
#: * LTE: 3GPP TS 36.101 Table 5.5-1, "E-UTRA operating bands";
#: * NR: 3GPP TS 38.101-1 Table 5.2-1, "NR operating bands in FR1".
#:
#: Use in Vietnam (DOMAIN.md, "Operators"): 2G on 900 and 1800 MHz, 3G on 2100 MHz (and
#: 900), 4G mostly on 1800 and 2100 MHz (B3, B1), Viettel also 700 MHz (B28); 5G Viettel
#: 2500-2600 MHz (n41), VNPT 3700-3800 MHz and MobiFone 3800-3900 MHz (n77; n78 up to 3800).
#: The other 2.3 and 2.6 GHz bands (B7, B38, B40, B41) and 4G on 900 MHz (B8) are the IMT
#: bands of the same ranges.
BANDS: tuple[Band, ...] = (
    Band("GSM 900", "2G", None, ((880.0, 915.0), (925.0, 960.0))),
    Band("DCS 1800", "2G", None, ((1710.0, 1785.0), (1805.0, 1880.0))),
    Band("UMTS I", "3G", 1, ((1920.0, 1980.0), (2110.0, 2170.0))),
    Band("UMTS VIII", "3G", 8, ((880.0, 915.0), (925.0, 960.0))),
    Band("B1", "4G", 1, ((1920.0, 1980.0), (2110.0, 2170.0))),
    Band("B3", "4G", 3, ((1710.0, 1785.0), (1805.0, 1880.0))),
    Band("B7", "4G", 7, ((2500.0, 2570.0), (2620.0, 2690.0))),
    Band("B8", "4G", 8, ((880.0, 915.0), (925.0, 960.0))),
    Band("B28", "4G", 28, ((703.0, 748.0), (758.0, 803.0))),
    Band("B38", "4G", 38, ((2570.0, 2620.0),)),
    Band("B40", "4G", 40, ((2300.0, 2400.0),)),
    Band("B41", "4G", 41, ((2496.0, 2690.0),)),
    Band("n41", "5G", 41, ((2496.0, 2690.0),)),
    Band("n77", "5G", 77, ((3300.0, 4200.0),)),
    Band("n78", "5G", 78, ((3300.0, 3800.0),)),
)
_BAND = {b.name: b for b in BANDS}

#: The frequency a label names (``LTE1800``: 1800 MHz) -> the bands it stands for, per
#: technology. ``3500`` and ``3700`` are the 3.5 GHz range (C band) of n77 and n78.
NOMINAL_BANDS: dict[tuple[str, int], tuple[str, ...]] = {
    ("2G", 900): ("GSM 900",), ("2G", 1800): ("DCS 1800",),
    ("3G", 900): ("UMTS VIII",), ("3G", 2100): ("UMTS I",),
    ("4G", 700): ("B28",), ("4G", 900): ("B8",), ("4G", 1800): ("B3",),
    ("4G", 2100): ("B1",), ("4G", 2300): ("B40",), ("4G", 2600): ("B7", "B38", "B41"),
    ("5G", 2600): ("n41",), ("5G", 3500): ("n78", "n77"), ("5G", 3700): ("n77", "n78"),
}

#: Other names of the radio technologies (folded, without spaces or punctuation), for
#: labels without a band.
TECHNOLOGY_ALIASES: dict[str, str] = {
    "2g": "2G", "gsm": "2G", "gprs": "2G", "edge": "2G", "2ggsm": "2G", "gsm2g": "2G",
    "3g": "3G", "umts": "3G", "wcdma": "3G", "hspa": "3G", "hspa+": "3G", "3gumts": "3G",
    "umts3g": "3G", "3gwcdma": "3G", "wcdma3g": "3G",
    "4g": "4G", "lte": "4G", "ltea": "4G", "lteadvanced": "4G", "4glte": "4G", "lte4g": "4G",
    "ltefdd": "4G", "fddlte": "4G", "ltetdd": "4G", "tddlte": "4G", "4gltefdd": "4G",
    "4gltetdd": "4G",
    "5g": "5G", "nr": "5G", "5gnr": "5G", "nr5g": "5G",
}
#: Prefixes naming a technology before a band or frequency (``LTE1800``, ``L1800``, ``n78``).
_FAMILIES: dict[str, str] = {
    **TECHNOLOGY_ALIASES, "egsm": "2G", "pgsm": "2G", "dcs": "2G", "g": "2G", "u": "3G",
    "l": "4G", "n": "5G",
}
_FAMILY_ORDER = sorted(_FAMILIES, key=len, reverse=True)
_REST = re.compile(r"(band|b|n)?(\d+|[ivx]+)(mhz)?")
_ROMAN = {"i": 1, "v": 5, "x": 10}


@dataclass(frozen=True)
class TechnologyLabel:
    """A technology label read from a file.

    Attributes
    ----------
    technology
        ``2G``, ``3G``, ``4G`` or ``5G``.
    carries
        The band or frequency the label names as written (``"1800 MHz"``, ``"band 3"``),
        ``""`` for a bare technology.
    bands
        The bands of :data:`BANDS` it names; empty when it names none (``carries`` then
        says which unknown band or frequency it names).
    nominal_mhz
        The frequency the label names, MHz (``LTE1800``: 1800), else ``None``.
    """

    technology: str
    carries: str = ""
    bands: tuple[Band, ...] = ()
    nominal_mhz: int | None = None

    @property
    def unknown_band(self) -> bool:
        """The label names a band or frequency that is not in :data:`BANDS`."""
        return bool(self.carries) and not self.bands

    def fits(self, freq_mhz: float) -> bool:
        """Whether a carrier frequency lies in one of the label's bands (or is the
        frequency the label names). True for a label without a band."""
        if not self.carries:
            return True
        return freq_mhz == self.nominal_mhz or any(b.fits(freq_mhz) for b in self.bands)

    def describe(self) -> str:
        """``4G``, or ``4G, B3`` for a label with a band."""
        if not self.bands:
            return self.technology
        return f"{self.technology}, " + " or ".join(b.name for b in self.bands)


def _roman(text: str) -> int | None:
    """A Roman numeral of I, V and X (UMTS band numbers), else None."""
    total = 0
    for i, ch in enumerate(text):
        v = _ROMAN[ch]
        total += -v if i + 1 < len(text) and _ROMAN[text[i + 1]] > v else v
    return total if 0 < total < 40 else None


def _with_band(tech: str, marker: str, number: str) -> TechnologyLabel | None:
    """The label of ``tech`` followed by ``number`` (a band number, Roman for UMTS, or a
    frequency in MHz); ``marker`` is ``band``, ``b``, ``n`` or empty."""
    if number.isdigit():
        value = int(number)
    else:
        roman = _roman(number) if tech == "3G" else None
        if roman is None:
            return None
        value = roman
    if marker == "n" and tech != "5G":
        return None
    if not marker and value >= 400:  # a frequency: LTE1800, NR3500, GSM900
        names = NOMINAL_BANDS.get((tech, value), ())
        return TechnologyLabel(tech, f"{value} MHz", tuple(_BAND[n] for n in names), value)
    bands = tuple(b for b in BANDS if b.technology == tech and b.number == value)
    return TechnologyLabel(tech, f"band {number.upper() if tech == '3G' else value}", bands)


def parse_technology(value: object) -> TechnologyLabel | None:
    """Read a technology label: ``4G``, ``LTE``, ``LTE-FDD``, ``4G/LTE``, ``5G NR``, with or
    without a band or frequency (``LTE1800``, ``LTE 1800``, ``LTE B3``, ``B3``, ``NR3500``,
    ``n78``, ``UMTS2100``, ``UMTS band I``, ``GSM900``, ``DCS1800``, and the vendors' short
    forms ``G900``, ``U2100``, ``L1800``, ``N3500``). ``None`` when it is none of these.

    A number of 400 or more is a frequency in MHz (:data:`NOMINAL_BANDS`), a smaller one a
    band number (``B3``, ``n78``; Roman numerals for UMTS).
    """
    return _parse_technology(clean_text(value))


@lru_cache(maxsize=1024)
def _parse_technology(text: str) -> TechnologyLabel | None:
    key = re.sub(r"[\s\-_/().,]+", "", fold(text))
    if key in TECHNOLOGY_ALIASES:
        return TechnologyLabel(TECHNOLOGY_ALIASES[key])
    m = re.fullmatch(r"(band|b)(\d+)", key)
    if m is not None:  # a band alone is an E-UTRA band (B3)
        return _with_band("4G", m.group(1), m.group(2))
    for family in _FAMILY_ORDER:
        if not key.startswith(family):
            continue
        rest = _REST.fullmatch(key[len(family):])
        if rest is None:
            continue
        got = _with_band(_FAMILIES[family], rest.group(1) or "", rest.group(2))
        if got is not None:
            return got
    return None


def canonical_technology(value: object) -> str | None:
    """``2G``, ``3G``, ``4G`` or ``5G`` for the usual names (``LTE``, ``NR``, ``UMTS``,
    ``GSM``, ``4g``, ``LTE1800``, ``n78`` ...), ``None`` otherwise (see
    :func:`parse_technology`)."""
    got = parse_technology(value)
    return None if got is None else got.technology
