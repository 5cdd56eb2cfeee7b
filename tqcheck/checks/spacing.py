"""Spacing around punctuation, language-aware: what a copy editor fixes first and a metric never sees.

Rules (Fluency/Punctuation, minor; the span is exactly the offending whitespace, or the punctuation
mark where a space is missing):

* runs of two or more spaces between words;
* leading or trailing whitespace (not flagged when the source has it too);
* a space before ``,`` and ``.`` (every language), before ``;`` ``:`` ``!`` ``?`` (not in French,
  where a space is expected), before a closing bracket or after an opening one. When the mark is
  followed by another stray space and a closing quote (``country , "``) the two spaces are one
  error: one flag spanning from the first space to the second;
* a stray space between sentence punctuation and a closing straight quote (``Mexico! " Send``),
  after an opening curly quote or before a closing one (not around French guillemets);
* a missing space after sentence punctuation (``countries.The``, ``food,and``);
* French targets (``target_lang`` fr; fr-CA only for ``:``): a missing space before ``;`` ``:``
  ``!`` ``?`` and ``»`` or after ``«``; with ``french_nbsp=True`` also a breaking space there
  (typography wants a narrow no-break space U+202F, or U+00A0);
* English targets: a space between a number and ``%``, and French guillemets (Locale convention).

With no target language, marks whose spacing differs between French and English (``; : ! ?``)
are only judged when language identification says the MT is not French. URLs, e-mails, handles,
hashtags and placeholders are left alone. Chinese, Japanese and Thai targets are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tqcheck.checks._text import base_lang, masked, region
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity

_H = r"[ \t\u00a0\u202f\u2009]"  # horizontal whitespace
_MULTI_SPACE = re.compile(r"(?<=\S)" + _H + r"{2,}(?=\S)")
_LEADING = re.compile(r"^" + _H + r"+")
_TRAILING = re.compile(r"(?<!" + _H + r")" + _H + r"+$")  # tried once per run of spaces, not per space
# A space, then a closing mark; optionally a second space and a closing quote.
_BEFORE_MARK = re.compile(
    r"(?<=[^\s])(?P<sp>" + _H + r"+)(?P<mark>[,.;:!?)\]}])(?P<quote>" + _H + r"+(?:\"(?=\s|$|[)\]},.;:!?])|”))?"
)
_AFTER_OPEN = re.compile(r"(?P<mark>[(\[{“])(?P<sp>" + _H + r"+)(?=\S)")
_BEFORE_CURLY_CLOSE = re.compile(r"(?<=\S)(?P<sp>" + _H + r"+)”")
_PUNCT_SPACE_QUOTE = re.compile(r"(?<=[.,!?;:…])(?P<sp>" + _H + r"+)\"(?=\s|$|[)\]},.;:!?])")
_MISSING_AFTER_STOP = re.compile(r"(?<=[^\W\d_]{2})(?P<mark>[.!?])(?=[A-Z][a-z])")
_MISSING_AFTER_COMMA = re.compile(r"(?<=[^\W\d_])(?P<mark>[,;])(?=[^\W\d_])")
_FR_NO_SPACE_BEFORE = re.compile(r"(?<=[^\s\u00a0\u202f(\[«\"“'’;:!?])(?P<mark>[;:!?»])")
_FR_NO_SPACE_AFTER = re.compile(r"(?P<mark>«)(?=[^\s\u00a0\u202f])")
_FR_BREAKING_BEFORE = re.compile(r"(?<=\S)(?P<sp>[ \t]+)(?P<mark>[;:!?»])")
_FR_BREAKING_AFTER = re.compile(r"(?P<mark>«)(?P<sp>[ \t]+)")
_PERCENT = re.compile(r"(?<=\d)(?P<sp>" + _H + r"+)%")
_GUILLEMETS = re.compile(r"[«»]")

_SKIP_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my"})
_FRENCH_STYLE = frozenset({"fr"})
#: Marks whose preceding space differs between French and other languages.
_FRENCH_MARKS = frozenset(";:!?")


class _Taken:
    """The characters already inside a reported span: a span overlapping one is not reported again.

    A mark per character rather than a list of spans, so that each test costs the length of the
    span, not the number of flags so far (a line of 10,000 stray spaces made that quadratic)."""

    def __init__(self, length: int) -> None:
        self._marks = bytearray(length + 1)

    def claim(self, start: int, end: int) -> bool:
        """Take ``[start, end)`` unless a character of it is taken already."""
        if self._marks.find(1, start, max(end, start + 1)) >= 0:
            return False
        self._marks[start:end] = b"\x01" * (end - start)
        return True


def _is_french(segment: Segment, text: str) -> bool | None:
    lang = base_lang(segment.target_lang)
    if lang is not None:
        return lang in _FRENCH_STYLE
    from tqcheck.text.langid import detect_language

    detected, confidence = detect_language(text, ("en", "fr", "de", "es", "it", "pt", "nl"))
    if detected is None or confidence < 0.5:
        return None
    return detected == "fr"


class SpacingCheck(Check):
    name = "spacing"
    severity = Severity.MINOR
    category = Category.PUNCTUATION
    description = "double spaces, spaces before punctuation, missing spaces, French typography"

    def __init__(self, *, french_nbsp: bool = False, edges: bool = True) -> None:
        super().__init__(french_nbsp=french_nbsp, edges=edges)
        self.french_nbsp = french_nbsp
        self.edges = edges

    def run(self, segment: Segment) -> Iterator[Flag]:
        mt = segment.mt
        lang = base_lang(segment.target_lang)
        if not mt.strip() or lang in _SKIP_LANGS:
            return
        # Same length as the MT, with URLs & co. turned into letters: offsets stay valid.
        text = masked(mt, fill="x")
        flags: list[Flag] = []
        taken = _Taken(len(text))

        def add(start: int, end: int, message: str, **kw) -> None:
            if not taken.claim(start, end):
                return
            evidence = {"text": mt[max(0, start - 12):end + 12], **kw.pop("evidence", {})}
            flags.append(self.flag(message, (start, end), evidence=evidence, **kw))

        french: bool | None | str = "unknown"

        def french_target() -> bool | None:
            nonlocal french
            if french == "unknown":
                french = _is_french(segment, mt)
            return french  # type: ignore[return-value]

        for match in _BEFORE_MARK.finditer(text):
            mark = match.group("mark")
            start, end = match.span("sp")
            after = text[match.end("mark"):match.end("mark") + 1]
            if mark == "." and (after in (".", "…") or after.isalnum()
                                or text[match.end("mark"):match.end("mark") + 2] == " ."
                                or text[start - 1] == "."):  # the space follows a non-space
                continue  # " ..." and ". . ." ellipses, " .5", " .NET"
            if mark == ":" and (after.isdigit() or after in ":/"):
                continue
            if mark in _FRENCH_MARKS:
                is_fr = french_target()
                if is_fr is None:
                    continue
                if is_fr and not (mark != ":" and region(segment.target_lang) == "CA"):
                    continue
            if match.group("quote"):
                quote_end = match.end("quote") - 1
                add(start, quote_end, f"space before {mark!r} and before the closing quote",
                    evidence={"suggestion": mark + text[quote_end]})
            else:
                add(start, end, f"space before {mark!r}", evidence={"suggestion": mark})
        for match in _PUNCT_SPACE_QUOTE.finditer(text):
            start, end = match.span("sp")
            add(start, end, "space between punctuation and the quote mark")
        for match in _AFTER_OPEN.finditer(text):
            start, end = match.span("sp")
            add(start, end, f"space after {match.group('mark')!r}")
        for match in _BEFORE_CURLY_CLOSE.finditer(text):
            start, end = match.span("sp")
            add(start, end, "space before the closing quote '”'")
        for match in _MULTI_SPACE.finditer(text):
            add(match.start(), match.end(), f"{match.end() - match.start()} spaces in a row",
                evidence={"suggestion": " "})
        if self.edges:
            source = segment.source
            for pattern, where in ((_LEADING, "leading"), (_TRAILING, "trailing")):
                edge = pattern.search(mt)
                if edge and not (source and pattern.search(source)):
                    add(edge.start(), edge.end(), f"{where} whitespace")
        for pattern in (_MISSING_AFTER_STOP, _MISSING_AFTER_COMMA):
            for match in pattern.finditer(text):
                start, end = match.span("mark")
                add(start, end, f"no space after {match.group('mark')!r}")

        if lang in _FRENCH_STYLE:
            yield from flags
            yield from self._french(segment, text, taken)
            return
        if lang == "en":
            for match in _PERCENT.finditer(text):
                start, end = match.span("sp")
                add(start, end, "space before '%' (English writes 50%)",
                    category=Category.LOCALE_CONVENTION)
            for match in _GUILLEMETS.finditer(text):
                add(match.start(), match.end(),
                    f"French quotation mark {match.group()!r} in an English text",
                    category=Category.LOCALE_CONVENTION)
        yield from flags

    def _french(self, segment: Segment, text: str, taken: _Taken) -> Iterator[Flag]:
        canadian = region(segment.target_lang) == "CA"
        mt = segment.mt
        for match in _FR_NO_SPACE_BEFORE.finditer(text):
            mark = match.group("mark")
            start, end = match.span("mark")
            if canadian and mark != ":" and mark != "»":
                continue
            nxt = text[end:end + 1]
            if mark == ":" and (nxt.isdigit() or nxt in "/:"):
                continue
            if mark in ";:" and nxt in ")(-":
                continue  # emoticon
            if not taken.claim(start, end):
                continue
            yield self.flag(f"French typography: a (narrow) no-break space is expected before {mark!r}",
                            (start, end), evidence={"text": mt[max(0, start - 12):end + 12],
                                                    "suggestion": "\u202f" + mark})
        for match in _FR_NO_SPACE_AFTER.finditer(text):
            start, end = match.span("mark")
            yield self.flag("French typography: a (narrow) no-break space is expected after '«'",
                            (start, end), evidence={"text": mt[max(0, start - 12):end + 12],
                                                    "suggestion": "«\u202f"})
        if self.french_nbsp:
            for pattern in (_FR_BREAKING_BEFORE, _FR_BREAKING_AFTER):
                for match in pattern.finditer(text):
                    start, end = match.span("sp")
                    if not taken.claim(start, end):
                        continue
                    yield self.flag(
                        f"French typography: a breaking space around {match.group('mark')!r} "
                        "(use a narrow no-break space U+202F)", (start, end),
                        evidence={"text": mt[max(0, start - 12):end + 12]})
