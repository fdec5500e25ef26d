"""Vietnamese place names: Unicode clean-up and tolerant matching (operator and technology
labels are :mod:`vncoverage.operators`').

Real files write the same district or commune in many ways (DOMAIN.md, "Lạng Sơn"): composed
(NFC) or decomposed (NFD) diacritics, ``Ð`` (U+00D0, Icelandic eth) or ``D`` for ``Đ``
(U+0110), missing tone marks (``Bac Son``), the administrative prefix written out, abbreviated
or left out (``Huyện Bắc Sơn``, ``H. Bắc Sơn``, ``Bắc Sơn``), and the tone mark of ``oa``,
``oe``, ``uy`` on either vowel (``Hoà`` / ``Hòa``; both spellings are in official use, see
Decision 240/QĐ of 1984 and the 2003 textbook convention). This module turns each name into
a comparable form and matches names against a list of known names in stages, from exact to
tolerant, never guessing between two candidates:

1. ``exact``: equal after :func:`clean_text` (NFC, ``Ð``/``ð`` to ``Đ``/``đ``, spaces);
2. ``normalised``: equal ignoring case, punctuation and the position of the tone mark;
3. ``prefix``: equal once an administrative prefix present on one side only is dropped
   (two different prefixes, e.g. ``Thị trấn X`` and ``Xã X``, are different units and
   never match);
4. ``missing marks``: the name is the candidate with some diacritics left out (``Bac Son``,
   ``Văn Quan`` written ``Van Quan``, ``Dinh Lap``), never with different ones; a name
   written with tone marks keeps its tones (no mark is then the level tone: ``Tân Lập``
   does not match ``Tấn Lập``), optionally with stage 3;
5. ``alias``: listed in an explicit alias table (renamed units, pre-/post-2025 names);
6. ``wrong mark`` (only with ``match_names(..., wrong_mark=True)``): exactly one syllable
   carries another tone or vowel mark than the candidate's, or loses its tone in a name
   written with tones (``Văn Quán``, ``Lộc Binh``, ``Bình Giá`` for ``Văn Quan``, ``Lộc
   Bình``, ``Bình Gia``), every other syllable matching as in stage 4; optionally with
   stage 3 (``prefix, wrong mark``). Its letters must be the candidate's: ``Văn Lang`` is
   never ``Văn Quan``.

A name matching two different candidates at the first stage where it matches at all is
``ambiguous``; one matching none gets up to three suggestions. Every match other than
``exact`` is "fuzzy" and must be listed to the user (:func:`describe_matches`).

:func:`pair_stage` tells the stage at which one name matches one candidate, from
``exact`` (identical as written) through ``cleaned`` (identical after :func:`clean_text`)
and the stages above to ``letters`` (the same letters, every diacritic ignored), for
callers that check uniqueness over a whole list and confirm tolerant pairs by other means
(the boundary layers, by their geometry: :mod:`vncoverage.fileio.admin`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "PAIR_STAGES",
    "NameMatch",
    "clean_text",
    "closest_names",
    "describe_matches",
    "fold",
    "match_names",
    "name_keys",
    "pair_stage",
    "strip_prefix",
    "unify_names",
]

#: Vietnamese tone marks as Unicode combining characters: huyền, sắc, ngã, hỏi, nặng.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
#: Letters often typed in place of Đ / đ (eth, African D).
_D_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110",
                               "\u0256": "\u0111"})
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_PUNCT = re.compile(r"[\s.,;:\-_/()'\"]+")

#: Administrative prefixes (as folded words) and the kind they stand for. Abbreviations as
#: used in Vietnamese administrative writing (TP., TX., H., TT., X., P., Q.).
ADMIN_PREFIXES: dict[tuple[str, ...], str] = {
    ("tinh",): "tỉnh",
    ("thanh", "pho"): "thành phố", ("tp",): "thành phố",
    ("thi", "xa"): "thị xã", ("tx",): "thị xã",
    ("huyen",): "huyện", ("h",): "huyện",
    ("quan",): "quận", ("q",): "quận",
    ("thi", "tran"): "thị trấn", ("tt",): "thị trấn",
    ("xa",): "xã", ("x",): "xã",
    ("phuong",): "phường", ("p",): "phường",
}
_PREFIX_SPELLING = {  # the fully marked spelling of each prefix word sequence
    ("tinh",): "tỉnh", ("thanh", "pho"): "thành phố", ("thi", "xa"): "thị xã",
    ("huyen",): "huyện", ("quan",): "quận", ("thi", "tran"): "thị trấn", ("xa",): "xã",
    ("phuong",): "phường",
}

def clean_text(value: object) -> str:
    """NFC-normalise a text, replace look-alikes of ``Đ``/``đ`` and collapse white space.

    ``None`` and NaN give ``""``. This is what every name read from a file goes through
    before it is stored or compared.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_D_LOOKALIKES)
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower case without any diacritic (``Đ`` -> ``d``), for loose comparison only."""
    out = unicodedata.normalize("NFD", clean_text(text).casefold().replace("đ", "d"))
    return "".join(ch for ch in out if not unicodedata.combining(ch))


@dataclass(frozen=True)
class _Word:
    """One syllable: letters with their shape marks (â ă ê ô ơ ư đ), its tone mark, and the
    bare letters."""

    shape: str
    tone: str
    folded: str = field(compare=False)

    def covered_by(self, other: _Word, *, strict_tone: bool = False) -> bool:
        """True when this syllable is ``other`` with some diacritics left out. With
        ``strict_tone`` the tone must be the same (no tone mark is itself a tone, thanh
        ngang, in a name whose writer typed tone marks)."""
        if len(self.shape) != len(other.shape) or self.folded != other.folded:
            return False
        if (self.tone or strict_tone) and self.tone != other.tone:
            return False
        for a, b in zip(self.shape, other.shape, strict=True):
            if a != b and a != fold(b):
                # a keeps some marks of b: all of a's marks must be b's
                ma = set(unicodedata.normalize("NFD", a)[1:])
                mb = set(unicodedata.normalize("NFD", b)[1:])
                if fold(a) != fold(b) or not ma <= mb:
                    return False
        return True


@dataclass(frozen=True)
class _Name:
    prefix: str | None
    words: tuple[_Word, ...]
    full: tuple[_Word, ...]  # with the prefix words

    @property
    def loose(self) -> str:
        return " ".join(w.folded for w in self.words)

    @property
    def flat(self) -> str:
        """The folded words with the prefix's."""
        return " ".join(w.folded for w in self.full)

    @property
    def toned(self) -> bool:
        """Whether the writer typed tone marks (then a syllable without one is level)."""
        return any(w.tone for w in self.full)


@lru_cache(maxsize=65536)
def _words(text: str) -> tuple[_Word, ...]:
    out = []
    for raw in _PUNCT.split(clean_text(text).casefold()):
        if not raw:
            continue
        nfd = unicodedata.normalize("NFD", raw)
        tones = "".join(sorted(ch for ch in nfd if ch in TONE_MARKS))
        shape = unicodedata.normalize("NFC", "".join(ch for ch in nfd if ch not in TONE_MARKS))
        out.append(_Word(shape, tones, fold(shape)))
    return tuple(out)


@lru_cache(maxsize=65536)
def _parse(text: str) -> _Name:
    words = _words(text)
    folded = tuple(w.folded for w in words)
    for n in (2, 1):
        head = folded[:n]
        if len(words) > n and head in ADMIN_PREFIXES:
            spelled = _PREFIX_SPELLING.get(head)
            if spelled is not None:  # a written-out prefix may not carry other marks
                ref = _words(spelled)
                if not all(w.covered_by(r) for w, r in zip(words[:n], ref, strict=True)):
                    continue
            return _Name(ADMIN_PREFIXES[head], words[n:], words)
    return _Name(None, words, words)


@dataclass(frozen=True)
class NameMatch:
    """How one name was matched.

    Attributes
    ----------
    value
        The name as given (cleaned).
    match
        The known name it matched, or ``None``.
    how
        ``exact``, ``normalised``, ``prefix``, ``missing marks``, ``prefix, missing marks``,
        ``alias``, ``ambiguous`` or ``none``.
    scheme
        For matches against several lists (e.g. pre-2025 and 2025 communes): which one.
    candidates
        The candidates of an ambiguous match, or suggestions for a name that matched nothing.
    """

    value: str
    match: str | None
    how: str
    scheme: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def fuzzy(self) -> bool:
        """Matched, but not exactly: must be listed to the user."""
        return self.match is not None and self.how != "exact"


def _same(a: tuple[_Word, ...], b: tuple[_Word, ...]) -> bool:
    return a == b


def _covered(a: tuple[_Word, ...], b: tuple[_Word, ...], *, strict_tone: bool = False) -> bool:
    return len(a) == len(b) and all(x.covered_by(y, strict_tone=strict_tone)
                                    for x, y in zip(a, b, strict=True))


def _one_wrong(a: tuple[_Word, ...], b: tuple[_Word, ...], *, strict_tone: bool) -> bool:
    """The same letters, and exactly one syllable of ``a`` not covered by ``b``'s (another
    tone or vowel mark, or a lost tone when ``strict_tone``)."""
    if len(a) != len(b) or any(x.folded != y.folded for x, y in zip(a, b, strict=True)):
        return False
    return sum(not x.covered_by(y, strict_tone=strict_tone)
               for x, y in zip(a, b, strict=True)) == 1


def _stage(v: _Name, c: _Name, stage: str) -> bool:
    both = v.prefix == c.prefix
    compatible = both or v.prefix is None or c.prefix is None
    if stage == "normalised":
        return _same(v.full, c.full) or (both and _same(v.words, c.words))
    if stage == "prefix":
        return compatible and _same(v.words, c.words)
    if stage == "letters":
        return v.flat == c.flat or (compatible and v.loose == c.loose)
    strict = v.toned
    test = _one_wrong if stage.endswith("wrong mark") else _covered
    if stage in ("missing marks", "wrong mark"):
        return (test(v.full, c.full, strict_tone=strict)
                or (both and test(v.words, c.words, strict_tone=strict)))
    if stage in ("prefix, missing marks", "prefix, wrong mark"):
        return compatible and test(v.words, c.words, strict_tone=strict)
    raise ValueError(stage)  # pragma: no cover


_STAGES = ("normalised", "prefix", "missing marks", "prefix, missing marks")
_WRONG_MARK_STAGES = ("wrong mark", "prefix, wrong mark")

#: The stages of :func:`pair_stage`, from the strictest to the most tolerant.
PAIR_STAGES = ("exact", "cleaned", *_STAGES, *_WRONG_MARK_STAGES, "letters")


def match_names(
    values: Iterable[object],
    candidates: Iterable[str] | Mapping[str, Iterable[str]],
    *,
    aliases: Mapping[str, str] | None = None,
    wrong_mark: bool = False,
) -> dict[str, NameMatch]:
    """Match each distinct value to one known name, tolerantly (see the module docstring).

    Parameters
    ----------
    values
        Names to match (e.g. the district column of a statistics table).
    candidates
        The known names, or several lists of them by scheme (e.g. ``{"2025": [...],
        "pre-2025": [...]}``); at each stage the first scheme with a unique match wins.
    aliases
        Extra ``{other name: known name}`` pairs (renamed or merged units); compared after
        the normalised stage.
    wrong_mark
        Also try, last, the ``wrong mark`` stages (one syllable with another tone or vowel
        mark); off by default.

    Returns
    -------
    dict
        ``{clean value: NameMatch}`` for every distinct non-empty value.
    """
    schemes: dict[str | None, list[str]]
    if isinstance(candidates, Mapping):
        schemes = {str(k): [clean_text(c) for c in v] for k, v in candidates.items()}
    else:
        schemes = {None: [clean_text(c) for c in candidates]}
    parsed = {s: [(c, _parse(c)) for c in dict.fromkeys(x for x in names if x)]
              for s, names in schemes.items()}
    alias_keys = {_parse(k).full: clean_text(v) for k, v in (aliases or {}).items()}
    out: dict[str, NameMatch] = {}
    for raw in values:
        value = clean_text(raw)
        if not value or value in out:
            continue
        out[value] = _match_one(value, schemes, parsed, alias_keys,
                                stages=_STAGES + _WRONG_MARK_STAGES if wrong_mark else _STAGES)
    return out


def _match_one(
    value: str,
    schemes: Mapping[str | None, list[str]],
    parsed: Mapping[str | None, list[tuple[str, _Name]]],
    alias_keys: Mapping[tuple[_Word, ...], str],
    *,
    stages: Sequence[str] = _STAGES,
) -> NameMatch:
    for scheme, names in schemes.items():
        if value in names:
            return NameMatch(value, value, "exact", scheme)
    v = _parse(value)
    for stage in stages:
        if stage == "prefix" and v.full in alias_keys:
            target = alias_keys[v.full]
            for scheme, names in schemes.items():
                if target in names:
                    return NameMatch(value, target, "alias", scheme)
        for scheme, cands in parsed.items():
            hits = list(dict.fromkeys(c for c, p in cands if _stage(v, p, stage)))
            if len(hits) == 1:
                return NameMatch(value, hits[0], stage, scheme)
            if len(hits) > 1:
                return NameMatch(value, None, "ambiguous", scheme, tuple(hits))
    hints = _hints(v, [c for cands in parsed.values() for c in cands])
    return NameMatch(value, None, "none", None, tuple(hints))


def _hints(v: _Name, cands: Iterable[tuple[str, _Name]], *, n: int = 3,
           cutoff: float = 0.75) -> list[str]:
    """Up to ``n`` candidates whose folded name (without prefix) is close to ``v``'s."""
    pool: dict[str, list[str]] = {}
    for c, p in cands:
        pool.setdefault(p.loose, []).append(c)
    close = difflib.get_close_matches(v.loose, list(pool), n=n, cutoff=cutoff)
    return list(dict.fromkeys(c for k in close for c in pool[k]))[:n]


def closest_names(value: object, candidates: Iterable[object], *, n: int = 3,
                  cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` of the (cleaned) ``candidates`` closest to ``value``, comparing letters
    without diacritics, case or administrative prefix (:mod:`difflib` ratio at least
    ``cutoff``), best first: suggestions for a name that matches nothing."""
    cands = [(c, _parse(c)) for c in dict.fromkeys(clean_text(x) for x in candidates) if c]
    return _hints(_parse(clean_text(value)), cands, n=n, cutoff=cutoff)


def pair_stage(value: object, candidate: object) -> str | None:
    """The first of :data:`PAIR_STAGES` at which ``value`` matches ``candidate``, or None.

    ``exact``: identical as written; ``cleaned``: identical after :func:`clean_text` (NFC,
    ``Ð`` for ``Đ``, white space); then the stages of :func:`match_names` (module
    docstring), the ``wrong mark`` ones included; last ``letters``: the same letters with
    every diacritic ignored (``Bác Sõn`` for ``Bắc Sơn``), prefixes compatible. This compares
    one pair only: whether another candidate matches as well, and whether a tolerant pair
    (``letters`` above all) is right, is the caller's to check.
    """
    raw = "" if value is None else str(value)
    cand = clean_text(candidate)
    if not cand:
        return None
    if raw == cand:
        return "exact"
    text = clean_text(value)
    if text == cand:
        return "cleaned"
    v, c = _parse(text), _parse(cand)
    if not v.full or (v.loose != c.loose and v.flat != c.flat):
        return None
    return next((s for s in PAIR_STAGES[2:] if _stage(v, c, s)), None)


def name_keys(value: object) -> tuple[str, ...]:
    """The folded forms of a name, without and with its prefix: two names can match at a
    stage of :func:`pair_stage` only if they share one (to index long candidate lists)."""
    v = _parse(clean_text(value))
    return tuple(dict.fromkeys((v.loose, v.flat)))


_WORD = re.compile(r"[^\s.,;:\-_/()'\"]+")


def strip_prefix(value: object) -> str:
    """The (cleaned) name without its administrative prefix, as written otherwise:
    ``Huyện Văn Quan`` -> ``Văn Quan``, ``TP. Lạng Sơn`` -> ``Lạng Sơn``; a name without
    prefix is returned cleaned."""
    text = clean_text(value)
    v = _parse(text)
    n = len(v.full) - len(v.words)
    if n == 0:
        return text
    starts = [m.start() for m in _WORD.finditer(text)]
    return text[starts[n]:] if len(starts) > n else text


def describe_matches(matches: Mapping[str, NameMatch], what: str) -> list[str]:
    """One line per fuzzy match, e.g. ``district 'Bac Son' read as 'Bắc Sơn' (missing
    marks)``."""
    lines = []
    for m in matches.values():
        if m.fuzzy:
            scheme = f", {m.scheme} name" if m.scheme else ""
            lines.append(f"{what} '{m.value}' read as '{m.match}' ({m.how}{scheme})")
    return lines


def _marks(text: str) -> int:
    return sum(1 for ch in unicodedata.normalize("NFD", text) if unicodedata.combining(ch)) + \
        text.count("đ") + text.count("Đ")


def unify_names(values: Sequence[object]) -> dict[str, NameMatch]:
    """Group the spellings of one name inside one column and pick one spelling per group.

    Spellings that match each other tolerantly (``Bắc Sơn``, ``Huyện Bắc Sơn``, ``Bac Son``,
    ``BẮC SƠN``) are the same unit: each maps to the most frequent fully marked spelling.
    Two fully marked spellings that differ in a diacritic (``Tân Lập``, ``Tấn Lập``) or in
    their prefix (``Thị trấn Na Sầm``, ``Xã Na Sầm``) stay apart; a spelling that could
    belong to either is reported ``ambiguous`` and left as it is.

    Returns
    -------
    dict
        ``{clean value: NameMatch}``; ``match`` is the chosen spelling (``how="exact"`` when
        it is the value itself).
    """
    counts = Counter(clean_text(v) for v in values)
    counts.pop("", None)
    # most marks first (a fully marked spelling is never "missing marks" of a bare one),
    # then the most frequent, then the longest (with its prefix), then alphabetical
    order = sorted(counts, key=lambda s: (-_marks(s), -counts[s], -len(s), s))
    heads: list[tuple[str, _Name]] = []
    group: dict[str, str] = {}
    out: dict[str, NameMatch] = {}
    for value in order:
        if heads:
            m = _match_one(value, {None: [h for h, _ in heads]}, {None: heads}, {})
            if m.match is not None:
                group[value] = m.match
                continue
            if m.how == "ambiguous":
                out[value] = m
                continue
        heads.append((value, _parse(value)))
        group[value] = value
    # spell each group the way most of its rows do, among spellings with every mark
    for head, hp in heads:
        members = [v for v, g in group.items() if g == head]
        full = [v for v in members if _covered(hp.words, _parse(v).words)]
        best = max(full, key=lambda s: (counts[s], len(s), s))
        bp = [(best, _parse(best))]
        for v in members:
            out[v] = (NameMatch(v, best, "exact") if v == best
                      else _match_one(v, {None: [best]}, {None: bp}, {}))
    return out
