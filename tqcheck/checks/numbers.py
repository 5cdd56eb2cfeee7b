"""Numbers, dates and amounts of the source missing or changed in the MT, locale aware.

A number is read as the set of values it can denote: ``3,000`` and ``3.000`` are both 3000 (English
and continental grouping) or 3 (a decimal with three places); ``3 000`` (space, no-break space or
narrow no-break space) and ``3000`` are 3000; ``3,5`` and ``3.5`` are 3.5; ``13th``, ``13e`` and
``13`` are 13; a percentage is its number. Two numbers match when their sets meet, so the same
quantity written in the source's and the target's conventions is never flagged.

Source and MT numbers are matched one to one (as multisets: "7000, 8000 or 8000" against
"7 000, 8 000 ou 9 000" loses the 9000). What is left over is reported where it helps the copy
editor most:

* a source number and an MT number both left over are paired in order and reported as a **changed
  number** on the MT span (Accuracy/Mistranslation), with the source number in the evidence;
* a source number with no counterpart is reported on its **source span** (side SOURCE,
  Accuracy/Omission): the MT has nothing to point at;
* an MT number with no counterpart is reported on its MT span (Accuracy/Addition).

Before reporting, leftovers are reconciled with number words ("douze" / "twelve", "une centaine" /
"about 100"), scale words ("1,5 milliard" / "1.5 billion" / "1,500,000,000"), decades ("les années
80" / "the 1980s") and 24-hour times ("16h" / "4 p.m.").

Independently of the source, the MT's number format is checked against its language's convention
(Locale convention, minor): ``7,000`` in a French or German text reads as seven; ``3,5`` in an
English text is a continental decimal; no-break spaces grouping digits are not English.

Digits inside URLs, e-mails, handles, hashtags and placeholders are not numbers here, nor digits
that follow a letter ("A320", a broken handle's "LaurentRaphael1"): those are codes and names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tqcheck.checks._numwords import SCALES, word_value
from tqcheck.checks._text import base_lang, has_digit, masked
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity, Side

_SPACES = " \u00a0\u202f\u2009"
_NUMBER = re.compile(
    r"\d+(?:(?:[.,'’]|[ \u00a0\u202f\u2009](?=\d{3}(?!\d)))\d+)*"
)
_SEP = re.compile(r"[.,'’ \u00a0\u202f\u2009]")
_AFTER = re.compile(r"[ \u00a0\u202f]?([^\W\d_]+)")
_TIME_AFTER = re.compile(r"\s?(?:h(?:eures?)?\b|h\d|:\d)", re.IGNORECASE)
_PM_AFTER = re.compile(r"\s?(?:p\.?\s?m\b\.?)", re.IGNORECASE)
_DECADE_BEFORE = re.compile(r"(?:années|anni|años|anos|jahre|jaren)\s+$|['’]$", re.IGNORECASE)
_DECADE_WINDOW = 24  # "années" and its spaces: searched just before the number, not from the start
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_THOUSANDS_ALONE = re.compile(r"(?<![\d.,])\d{1,3},\d{3}(?![\d.,])")

#: Languages that write a decimal comma and group with dots or spaces.
_COMMA_DECIMAL = frozenset("fr es it pt de nl ru pl cs sk sl hr ro tr sv no nb nn da fi el hu bg uk "
                           "ca gl eu id vi".split())
_POINT_DECIMAL = frozenset("en zh ja ko th he hi ms tl".split())


@dataclass(frozen=True)
class _Num:
    start: int
    end: int
    raw: str
    values: frozenset[Decimal]
    #: The separate numbers it may also be ("24 100" may be 24 and 100; "24.10.2018" is three).
    parts: tuple[Decimal, ...] = ()


def _dec(text: str) -> Decimal:
    return Decimal(text)


def _read(raw: str) -> tuple[frozenset[Decimal], tuple[Decimal, ...]]:
    """Values a written number may denote, and the parts it splits into if it is not one number."""
    seps = _SEP.findall(raw)
    groups = _SEP.split(raw)
    if not seps:
        return frozenset({_dec(raw)}), ()
    parts = tuple(_dec(g) for g in groups)
    spaces = [s for s in seps if s in _SPACES or s in "'’"]
    marks = [s for s in seps if s in ".,"]
    grouped_ok = 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if not marks:
        if grouped_ok:
            value = _dec("".join(groups))
            # "24 100" written with an ordinary space may also be two numbers.
            return frozenset({value}), (parts if " " in seps else ())
        return frozenset(), parts
    kinds = set(marks)
    if len(kinds) == 2 or spaces:
        # "3,000.50", "3.000,50", "3 000,50": the last mark is the decimal separator.
        decimal = seps[-1]
        if decimal not in ".," or marks.count(decimal) != 1:
            return frozenset(), parts
        int_groups = groups[:-1]
        if not (1 <= len(int_groups[0]) <= 3 and all(len(g) == 3 for g in int_groups[1:])):
            return frozenset(), parts
        try:
            return frozenset({_dec("".join(int_groups) + "." + groups[-1])}), ()
        except InvalidOperation:
            return frozenset(), parts
    if len(marks) > 1:
        # "1,000,000" / "1.000.000" group; "24.10.2018" and "1.2.3" are several numbers.
        if grouped_ok:
            return frozenset({_dec("".join(groups))}), ()
        return frozenset(), parts
    before, after = groups
    as_decimal = _dec(f"{before}.{after}")
    if len(after) == 3 and 1 <= len(before) <= 3 and before != "0":
        return frozenset({_dec(before + after), as_decimal}), ()
    return frozenset({as_decimal}), ()


def _scale_word(text: str, end: int) -> int | None:
    match = _AFTER.match(text, end)
    if match is None:
        return None
    return SCALES.get(match.group(1).casefold())


def extract_numbers(text: str) -> list[_Num]:
    """Numbers of ``text`` with their possible values (URLs, handles, tags masked)."""
    plain = masked(text)
    found = []
    for match in _NUMBER.finditer(plain):
        before = plain[match.start() - 1] if match.start() else ""
        if before.isalpha() and before not in "hH":
            continue  # "A320", "LaurentRaphael1": part of a code or a name, not a quantity
        raw = match.group()
        if before in (":", "h", "H") and raw.strip("0") == "":
            continue  # the minutes of "12:00", "12h00": formatting, not a quantity
        values, parts = _read(raw)
        extra: set[Decimal] = set()
        scale = _scale_word(plain, match.end())
        if scale:
            extra.update(v * scale for v in values)
        if len(raw) == 2 and _DECADE_BEFORE.search(plain, max(0, match.start() - _DECADE_WINDOW), match.start()):
            n = int(raw)
            extra.update({Decimal(1900 + n), Decimal(2000 + n)})
        elif len(raw) == 4 and plain[match.end():match.end() + 1] in ("s",) and raw.endswith("0"):
            extra.add(Decimal(int(raw) % 100))
        if raw.isdigit() and len(raw) <= 2:
            # 24-hour and 12-hour clocks: "16h" == "4 p.m.".
            n = int(raw)
            if 13 <= n <= 23 and _TIME_AFTER.match(plain, match.end()):
                extra.add(Decimal(n - 12))
            elif 1 <= n <= 11 and _PM_AFTER.match(plain, match.end()):
                extra.add(Decimal(n + 12))
        found.append(_Num(match.start(), match.end(), raw, frozenset(values | extra), parts))
    return found


_ROMAN = re.compile(r"(?<![\w])(M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))"
                    r"(?:e|er|ème|eme|th|st|nd|rd)?(?!\w)")
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}


def _roman(numeral: str) -> int:
    total = 0
    for char, nxt in zip(numeral, numeral[1:] + " "):
        value = _ROMAN_VALUES[char]
        total += -value if nxt != " " and _ROMAN_VALUES[nxt] > value else value
    return total


def _number_words(text: str, lang: str | None) -> list[Decimal]:
    """Values written in words ("douze", "a hundred") or Roman numerals ("XIVe siècle", "Louis XIV")."""
    values = []
    for match in _WORD.finditer(text):
        value = word_value(match.group(), lang)
        if value is not None:
            values.append(value)
    for match in _ROMAN.finditer(text):
        numeral = match.group(1)
        # "I" is a pronoun and "CD", "MD" are acronyms: only Roman numerals of two letters or more
        # that are not common acronyms, or one letter with an ordinal suffix ("Xe").
        if (len(numeral) >= 2 and numeral not in ("CD", "MD", "DC", "CV", "MC", "MM", "CC", "LCD"))\
                or (numeral and match.group() != numeral):
            values.append(Decimal(_roman(numeral)))
    return values


class _Pool:
    """Items still to be matched, in order, found by key: the first one left with a key, in time
    independent of how many there are (a segment of thousands of numbers made the plain scan
    quadratic). An item is never moved; a taken one is marked and skipped."""

    def __init__(self, items: list, keys: Callable[[Any], Iterable[object]]) -> None:
        self.items = items
        self.left = [True] * len(items)
        self._by_key: dict[object, list[int]] = {}
        for i, item in enumerate(items):
            for key in keys(item):
                self._by_key.setdefault(key, []).append(i)
        self._first: dict[object, int] = {}  # per key: how many of its positions are known taken

    def first(self, key: object, skip: set[int] | None = None, cursor: dict | None = None) -> int | None:
        """The position of the first item left with ``key`` and not in ``skip``. Several calls that
        skip what they found (one attempt to match parts) share a ``cursor``, so that each resumes
        after the last item it found instead of passing them all again."""
        positions = self._by_key.get(key)
        if not positions:
            return None
        k = self._first.get(key, 0)
        while k < len(positions) and not self.left[positions[k]]:
            k += 1
        self._first[key] = k
        if cursor is not None:
            k = max(k, cursor.get(key, 0))
        for at in range(k, len(positions)):
            i = positions[at]
            if self.left[i] and (skip is None or i not in skip):
                if cursor is not None:
                    cursor[key] = at + 1
                return i
        if cursor is not None:
            cursor[key] = len(positions)
        return None

    def take(self, i: int) -> None:
        self.left[i] = False

    def remaining(self) -> list:
        return [item for item, left in zip(self.items, self.left) if left]


def _match_keys(num: _Num) -> Iterable[object]:
    return num.values or (("parts", num.parts),)


def _take(words: _Pool, wanted: frozenset[Decimal]) -> bool:
    """Take the first number word left whose value is one of ``wanted``."""
    found = [i for i in (words.first(v) for v in wanted) if i is not None]
    if not found:
        return False
    words.take(min(found))
    return True


def _match(src: list[_Num], mt: list[_Num]) -> tuple[list[_Num], list[_Num]]:
    """Leftover source and MT numbers after one-to-one matching on shared values and parts.

    Each source number, in order, takes the first MT number left that shares a value with it (or,
    when neither has a value, the same parts)."""
    mt_pool = _Pool(mt, _match_keys)
    left_src = []
    for s in src:
        found = [i for i in (mt_pool.first(key) for key in _match_keys(s)) if i is not None]
        if found:
            mt_pool.take(min(found))
        else:
            left_src.append(s)
    left_mt = mt_pool.remaining()
    # A number that may be several ("24 100", "24.10.2018") against separate numbers on the other
    # side: it matches when every part does.
    src_pool = _Pool(left_src, lambda n: n.values)
    mt_pool = _Pool(left_mt, lambda n: n.values)
    for side, other in ((src_pool, mt_pool), (mt_pool, src_pool)):
        for i, num in enumerate(side.items):
            if not num.parts or not side.left[i]:
                continue
            used: set[int] = set()
            cursor: dict = {}
            for part in num.parts:
                j = other.first(part, used, cursor)
                if j is None:
                    break
                used.add(j)
            else:
                side.take(i)
                for j in used:
                    other.take(j)
    return src_pool.remaining(), mt_pool.remaining()


def _repeats_previous(text: str, num: _Num, previous: _Num | None) -> bool:
    return previous is not None and previous.raw == num.raw and not text[previous.end:num.start].strip()


class NumbersCheck(Check):
    name = "numbers"
    severity = Severity.MAJOR
    category = Category.MISTRANSLATION
    needs_source = False  # the locale-format part works on the MT alone
    description = "numbers, dates and amounts missing, changed or added; number format of the MT"

    def __init__(self, *, locale_format: bool = True, additions: bool = True) -> None:
        super().__init__(locale_format=locale_format, additions=additions)
        self.locale_format = locale_format
        self.additions = additions

    def run(self, segment: Segment) -> Iterator[Flag]:
        mt = segment.mt
        mt_nums = extract_numbers(mt) if has_digit(mt) else []
        if self.locale_format and mt_nums:
            yield from self._locale(segment, mt_nums)
        source = segment.source
        if not source or not mt.strip():
            return
        src_nums = extract_numbers(source) if has_digit(source) else []
        if not src_nums and not mt_nums:
            return
        left_src, left_mt = _match(src_nums, mt_nums)
        if left_src:
            mt_words = _Pool(_number_words(mt, base_lang(segment.target_lang)), lambda v: (v,))
            left_src = [s for s in left_src if not _take(mt_words, s.values)]
        if left_mt:
            src_words = _Pool(_number_words(source, base_lang(segment.source_lang)), lambda v: (v,))
            left_mt = [m for m in left_mt if not _take(src_words, m.values)]
        for s, m in zip(left_src, left_mt):
            yield self.flag(
                f"number changed: the source has {s.raw!r}, the MT {m.raw!r}",
                (m.start, m.end), kind="changed",
                evidence={"source_number": s.raw, "mt_number": m.raw,
                          "source_span": [s.start, s.end]},
            )
        paired = min(len(left_src), len(left_mt))
        for s in left_src[paired:]:
            yield self.flag(
                f"number {s.raw!r} of the source is missing from the MT",
                (s.start, s.end), side=Side.SOURCE, category=Category.OMISSION, kind="missing",
                evidence={"source_number": s.raw},
            )
        if self.additions:
            before = {id(b): a for a, b in zip(mt_nums, mt_nums[1:])}
            for m in left_mt[paired:]:
                if _repeats_previous(mt, m, before.get(id(m))):
                    continue  # "since 2007 2007": a stutter, which the repeats check reports
                yield self.flag(
                    f"number {m.raw!r} of the MT is not in the source",
                    (m.start, m.end), category=Category.ADDITION, kind="added",
                    evidence={"mt_number": m.raw},
                )

    def _locale(self, segment: Segment, nums: list[_Num]) -> Iterator[Flag]:
        lang = base_lang(segment.target_lang)
        if lang is None:
            return
        copied: set[str] | None = None  # "7,000" written alone in the source, found once
        for num in nums:
            raw = num.raw
            problem = None
            if lang in _POINT_DECIMAL:
                if any(c in raw for c in "\u00a0\u202f\u2009"):
                    problem = "digits grouped with a no-break space; English groups with commas"
                elif re.fullmatch(r"\d+,\d{1,2}|\d+,\d{4,}", raw):
                    problem = "decimal comma in an English text; English writes a decimal point"
                elif re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", raw):
                    problem = "digits grouped with dots; English groups with commas"
            elif lang in _COMMA_DECIMAL:
                if re.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d+|\d{1,3}(?:,\d{3}){2,}", raw):
                    problem = "digits grouped with commas (English style)"
                elif re.fullmatch(r"\d{1,3},\d{3}", raw) and segment.source and \
                        base_lang(segment.source_lang) in _POINT_DECIMAL:
                    if copied is None:
                        copied = set(_THOUSANDS_ALONE.findall(segment.source))
                    if raw in copied:
                        problem = "English thousands separator copied from the source; it reads as a decimal"
            if problem:
                yield self.flag(
                    f"number format {raw!r}: {problem}", (num.start, num.end),
                    severity=Severity.MINOR, category=Category.LOCALE_CONVENTION, kind="format",
                    evidence={"number": raw, "target_lang": segment.target_lang},
                )
