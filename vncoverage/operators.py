"""Mobile operators and radio technologies as files write them: aliases of the operators'
names and of the technologies, to the spellings the configuration uses.

Everything here is pure text handling (no pandas): :mod:`vncoverage.fileio` applies it to
the cell and FTTH node tables and reports what it changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .names import clean_text, fold

__all__ = [
    "OPERATOR_ALIASES",
    "TECHNOLOGY_ALIASES",
    "canonical_operator",
    "canonical_technology",
]

#: Other spellings of the operators (lower case, folded). VinaPhone is VNPT's mobile brand
#: (DOMAIN.md, "Operators").
OPERATOR_ALIASES: dict[str, str] = {
    "viettel": "Viettel", "viettel telecom": "Viettel", "tap doan viettel": "Viettel",
    "vnpt": "VNPT", "vinaphone": "VNPT", "vnpt vinaphone": "VNPT", "vina phone": "VNPT",
    "mobifone": "MobiFone", "mobi fone": "MobiFone", "mobiphone": "MobiFone",
}
#: Other names of the radio technologies (folded, without spaces or dashes).
TECHNOLOGY_ALIASES: dict[str, str] = {
    "2g": "2G", "gsm": "2G", "gprs": "2G", "edge": "2G",
    "3g": "3G", "umts": "3G", "wcdma": "3G", "hspa": "3G", "hspa+": "3G",
    "4g": "4G", "lte": "4G", "ltea": "4G", "lteadvanced": "4G", "4glte": "4G",
    "5g": "5G", "nr": "5G", "5gnr": "5G", "nr5g": "5G",
}


def canonical_operator(value: object, operators: Sequence[str]) -> tuple[str, bool]:
    """The configured spelling of an operator name, tolerating case, spaces and the aliases
    of :data:`OPERATOR_ALIASES`. Returns ``(name, changed)``; unknown names come back
    cleaned but otherwise unchanged (they may be other operators or tower companies)."""
    return _canonical_operator(clean_text(value), tuple(operators))


@lru_cache(maxsize=4096)
def _canonical_operator(text: str, operators: tuple[str, ...]) -> tuple[str, bool]:
    key = " ".join(fold(text).replace("-", " ").split())
    for op in operators:
        if key == " ".join(fold(op).split()):
            return op, op != text
    alias = OPERATOR_ALIASES.get(key)
    if alias is not None and alias in operators:
        return alias, alias != text
    return text, False


def canonical_technology(value: object) -> str | None:
    """``2G``, ``3G``, ``4G`` or ``5G`` for the usual names (``LTE``, ``NR``, ``UMTS``,
    ``GSM``, ``4g`` ...), ``None`` otherwise."""
    return _canonical_technology(clean_text(value))


@lru_cache(maxsize=1024)
def _canonical_technology(text: str) -> str | None:
    key = re.sub(r"[\s\-_/]+", "", fold(text))
    return TECHNOLOGY_ALIASES.get(key)
