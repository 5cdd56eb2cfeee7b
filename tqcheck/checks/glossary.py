"""Glossary and do-not-translate terms (Terminology, major).

For each glossary entry whose source term occurs in the source (whole words, case-insensitive unless
the entry says otherwise, apostrophes and hyphens normalised, and with ``inflections=True`` a plural
ending ``s``/``x``/``es`` allowed on each word), the MT must contain one of the entry's target terms
(or, for a do-not-translate entry, the source term itself) at least as many times as the source has
the term. A shortfall is flagged on the source term's span (side SOURCE: the MT has no place to
point at) with the entry in the evidence. A target term the glossary marks deprecated or forbidden
(TBX ``administrativeStatus``) is flagged where it occurs in the MT.

When two entries overlap in the source ("demandeur d'asile" and "asile"), the longer one wins.
The glossary file is read when the check is built, so a bad file fails the run at once with its
file:line; see ``tqcheck.glossary`` for the formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from tqcheck.checks._text import fold
from tqcheck.checks.base import Check
from tqcheck.glossary import Glossary, GlossaryEntry, load_glossary
from tqcheck.model import Category, Flag, Segment, Severity, Side

_WORD_SPLIT = re.compile(r"\s+")
# Characters MT and glossaries write in several ways: apostrophes, hyphens (or a space for one).
_CHAR_CLASSES = {"'": "['’]", "’": "['’]", "-": "[-‐‑\\s]?", "‐": "[-‐‑\\s]?", "‑": "[-‐‑\\s]?"}


@lru_cache(maxsize=65536)
def term_pattern(term: str, case_sensitive: bool, inflections: bool) -> re.Pattern[str]:
    """A regex for ``term`` as whole words, tolerant of apostrophe, hyphen and plural variants."""
    parts = []
    for word in _WORD_SPLIT.split(term.strip()):
        piece = "".join(_CHAR_CLASSES.get(char) or re.escape(char) for char in word)
        if inflections and len(word) >= 3 and word[-1].isalpha():
            piece += r"(?:s|x|es)?"
        parts.append(piece)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", flags)


class GlossaryCheck(Check):
    name = "glossary"
    severity = Severity.MAJOR
    category = Category.TERMINOLOGY
    needs_source = True
    description = "glossary terms not translated as required, do-not-translate terms translated"

    def __init__(
        self,
        *,
        path: str | None = None,
        glossary: Glossary | None = None,
        source_lang: str | None = None,
        target_lang: str | None = None,
        inflections: bool = True,
    ) -> None:
        super().__init__(path=path, source_lang=source_lang, target_lang=target_lang,
                         inflections=inflections)
        if glossary is None:
            if not path:
                raise TypeError("the glossary check needs a glossary file: set [glossary] path "
                                "or [checks.glossary] path")
            glossary = load_glossary(path, source_lang=source_lang, target_lang=target_lang)
        self.glossary = glossary
        self.source_lang = source_lang
        self.target_lang = target_lang
        self.inflections = inflections
        self._by_pair: dict[tuple[str | None, str | None], list[tuple[str, GlossaryEntry]]] = {}

    def unavailable_reason(self, segment: Segment) -> str | None:
        if self.glossary.concepts and not self._pair(segment)[0]:
            return "a TBX glossary needs the language pair (give --source-lang/--target-lang)"
        return None

    def _pair(self, segment: Segment) -> tuple[str | None, str | None]:
        return (segment.source_lang or self.source_lang, segment.target_lang or self.target_lang)

    def _entries(self, segment: Segment) -> list[tuple[str, GlossaryEntry]]:
        """(folded first 3 letters of a source term, entry) for the segment's pair, cached."""
        pair = self._pair(segment)
        cached = self._by_pair.get(pair)
        if cached is None:
            cached = []
            for entry in self.glossary.entries_for(*pair):
                for term in entry.source_terms:
                    cached.append((fold(term)[:3], entry))
            self._by_pair[pair] = cached
        return cached

    def run(self, segment: Segment) -> Iterator[Flag]:
        source = segment.source or ""
        if not source.strip():
            return
        folded = fold(source)
        mt = segment.mt
        hits: list[tuple[int, int, str, GlossaryEntry]] = []
        seen_entries: set[int] = set()
        for prefix, entry in self._entries(segment):
            if prefix not in folded or id(entry) in seen_entries:
                continue
            seen_entries.add(id(entry))
            for term in entry.source_terms:
                pattern = term_pattern(term, entry.case_sensitive, self.inflections)
                for match in pattern.finditer(source):
                    hits.append((match.start(), match.end(), match.group(), entry))
        if not hits:
            return
        # Longest match first; a hit inside a longer one belongs to the longer entry.
        hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
        kept: list[tuple[int, int, str, GlossaryEntry]] = []
        for hit in hits:
            if not any(k[0] <= hit[0] and hit[1] <= k[1] for k in kept):
                kept.append(hit)
        by_entry: dict[int, list[tuple[int, int, str, GlossaryEntry]]] = {}
        for hit in sorted(kept):
            by_entry.setdefault(id(hit[3]), []).append(hit)
        for occurrences in by_entry.values():
            entry = occurrences[0][3]
            yield from self._check_entry(entry, occurrences, mt)

    def _check_entry(self, entry: GlossaryEntry, occurrences: list, mt: str) -> Iterator[Flag]:
        accepted = entry.accepted
        evidence = {"entry": entry.to_dict(), "origin": entry.origin}
        if entry.note:
            evidence["note"] = entry.note
        if accepted:
            spans: list[tuple[int, int]] = []
            for term in accepted:
                pattern = term_pattern(term, entry.case_sensitive, self.inflections)
                for match in pattern.finditer(mt):
                    if not any(s < match.end() and match.start() < e for s, e in spans):
                        spans.append(match.span())
            missing = len(occurrences) - len(spans)
            for start, end, text, _ in occurrences[len(occurrences) - missing:] if missing > 0 else ():
                if entry.dnt:
                    message = f"glossary: {text!r} must not be translated"
                    if entry.target_terms:
                        message += f" (or be {' / '.join(entry.target_terms)!r})"
                else:
                    message = f"glossary: {text!r} must be translated as {' / '.join(accepted)!r}"
                yield self.flag(message, (start, end), side=Side.SOURCE,
                                evidence={**evidence, "source_term": text})
        for term in entry.forbidden:
            pattern = term_pattern(term, entry.case_sensitive, self.inflections)
            for match in pattern.finditer(mt):
                use = f"; use {' / '.join(entry.target_terms)!r}" if entry.target_terms else ""
                yield self.flag(
                    f"glossary: {match.group()!r} is a deprecated translation of "
                    f"{entry.source_terms[0]!r}{use}", match.span(),
                    evidence={**evidence, "mt_term": match.group()},
                )
