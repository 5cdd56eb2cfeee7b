"""Capital letters lost in the MT: a lower-case sentence start, names written in lower case.

* With a source: the source's first letter is a capital and the MT's is not (the first word of the
  MT starts with a letter and has no capital elsewhere, so ``iPhone`` passes). Target-only: the MT
  starts with a lower-case letter although it reads as a full sentence (at least ``min_words``
  words, ending with ``.``, ``!`` or ``?``).
* With a source: a capitalised, non-initial source word appears in the MT only in lower case
  ("Paris" -> "paris"); words that languages legitimately write in either case (internet, web) are
  ignored.
* A lower-case word right after a full stop ("as needed. border"): a spurious full stop or a
  sentence glued onto another. Abbreviations ("e.g. the", "approx. five", "et al. found") are not
  sentence ends; with a source that has as many such stops, nothing is flagged. Category
  Fluency/Punctuation, since the stop is usually the error.

Fluency/Spelling (MQM's capitalisation is a spelling issue), minor; the span is the MT word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tqcheck.checks._text import fold, masked, sentence_initial_indexes
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity
from tqcheck.text.tokens import tokens_of

_EITHER_CASE = frozenset("internet web e-mail email wifi wi-fi covid ok".split())
# "word. word": a full stop after a word of two letters or more, then a lower-case word.
_STOP_LOWER = re.compile(r"(?<![.\w])(?P<before>[^\W\d_]{2,})\.[ \u00a0]+(?P<word>[a-zà-ÿ][\w'’-]*)")
#: Abbreviations after which a lower-case word is normal (English, French, Spanish, German...).
_ABBREVIATIONS = frozenset(
    "al approx ca cf ch dept dr eg etc fig figs ie incl jr mr mrs ms no nos op pp resp sr st "
    "vol vols vs viz av bd env cad apr ex hab mm mme pag sig sra ggf usw bzw evtl inkl sog vgl "
    "ibid id oz lb lbs km cm mn min max sec hr hrs yr yrs ed eds trans dir coord n p".split()
)


def _first_word(text: str):
    for tok in tokens_of(text):
        if tok.kind in ("word", "number", "url", "email", "handle", "hashtag", "placeholder"):
            return tok
    return None


class CapitalizationCheck(Check):
    name = "capitalization"
    severity = Severity.MINOR
    category = Category.SPELLING
    description = "lower-case sentence start, names lower-cased in the MT"

    def __init__(self, *, min_words: int = 4) -> None:
        super().__init__(min_words=min_words)
        self.min_words = min_words

    def run(self, segment: Segment) -> Iterator[Flag]:
        mt = segment.mt
        first = _first_word(mt)
        if first is None:
            return
        source = segment.source
        starts_lower = (first.kind == "word" and first.text[0].islower()
                        and not any(c.isupper() for c in first.text))
        if starts_lower:
            if source is not None:
                src_first = _first_word(source)
                should = src_first is not None and src_first.kind == "word" and src_first.text[0].isupper()
            else:
                stripped = mt.rstrip(" \"'”’»)")
                should = len(mt.split()) >= self.min_words and stripped[-1:] in (".", "!", "?")
            if should:
                yield self.flag(f"the MT starts with a lower-case letter: {first.text!r}",
                                (first.start, first.end), evidence={"word": first.text}, kind="lower_start")
        yield from self._stop_then_lower(mt, source)
        if not source:
            return
        src_tokens = tokens_of(source)
        initial = sentence_initial_indexes(src_tokens)
        names = {fold(t.text) for i, t in enumerate(src_tokens)
                 if t.kind == "word" and t.text[0].isupper() and i not in initial
                 and not t.text.isupper() and len(t.text) > 1}
        names -= _EITHER_CASE
        if not names:
            return
        mt_tokens = tokens_of(mt)
        present_capitalised = {fold(t.text) for t in mt_tokens if t.kind == "word" and t.text[0].isupper()}
        for tok in mt_tokens:
            if tok.kind != "word" or not tok.text.islower() or tok is first:
                continue
            key = fold(tok.text)
            if key in names and key not in present_capitalised:
                yield self.flag(f"{tok.text!r} is capitalised in the source", (tok.start, tok.end),
                                evidence={"word": tok.text}, kind="capitalised_in_source")

    def _stop_then_lower(self, mt: str, source: str | None) -> Iterator[Flag]:
        if ". " not in mt and ".\u00a0" not in mt:
            return
        text = masked(mt, fill="x")
        found = [m for m in _STOP_LOWER.finditer(text)
                 if m.group("before").casefold() not in _ABBREVIATIONS]
        if not found:
            return
        if source:
            in_source = [m for m in _STOP_LOWER.finditer(masked(source, fill="x"))
                         if m.group("before").casefold() not in _ABBREVIATIONS]
            if len(in_source) >= len(found):
                return
        for match in found:
            start, end = match.span("word")
            shown = mt[match.start():end]
            yield self.flag(
                f"lower-case word after a full stop: {shown!r} (a spurious full stop, or a "
                "sentence glued onto another)", (start, end), category=Category.PUNCTUATION,
                evidence={"text": shown}, kind="lower_after_stop",
            )
