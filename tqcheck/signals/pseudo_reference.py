"""Pseudo-reference: an independent model translates the source; the MT is compared with its wording.

Scores: ``pseudo_reference.chrf``, ``.bleu``, ``.ter`` (MT vs the pseudo-reference) and
``pseudo_reference.unmatched`` (share of MT content words found nowhere in the pseudo-reference).

Spans: the token diff (``difflib`` on folded words) gives the MT regions that differ from the
pseudo-reference and the pseudo-reference's wording for each; a differing MT content word that also
matches no word anywhere in the pseudo-reference (so not merely reordered or inflected) is a candidate,
adjacent ones merged into one span. The evidence is what the reference model wrote instead; where that
wording holds words that are not the target language's (a word the engine passed through, a pivot
language's word), the message says the reference model could not translate the part rather than quote
them as its proposal.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from tqcheck.model import Category, Flag, Segment, Severity, Span
from tqcheck.signals._common import (
    TranslatorSignal,
    group_indices,
    merge_runs,
    translate,
)
from tqcheck.signals._lexicon import non_words
from tqcheck.signals.base import EMPTY, SignalOutput
from tqcheck.text.langid import language_name
from tqcheck.text.wordalign import MatchLevel, best_match, is_content, words


class PseudoReferenceSignal(TranslatorSignal):
    name = "pseudo_reference"

    def applies(self, segment: Segment) -> bool:
        return bool(segment.source and segment.source.strip() and segment.mt.strip()
                    and segment.source_lang and segment.target_lang
                    and segment.source_lang != segment.target_lang)

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        out: list[SignalOutput] = [EMPTY] * len(segments)
        groups = group_indices(segments, lambda s: (s.source_lang, s.target_lang) if self.applies(s) else None)
        for (src, tgt), idx in groups.items():
            engine = self.translator.get(src, tgt)
            if engine is None:
                continue
            refs = translate(self.cache, engine, [segments[i].source or "" for i in idx],
                             source_lang=src, target_lang=tgt)
            for i, ref in zip(idx, refs):
                out[i] = self.compare(segments[i], ref, tgt)
        return out

    def compare(self, segment: Segment, pseudo: str, lang: str) -> SignalOutput:
        mt = segment.mt
        scores = {f"{self.name}.{k}": v for k, v in self.metrics.score(mt, pseudo, lang=lang).items()}
        mt_words, ref_words = words(mt), words(pseudo)
        content = [i for i, w in enumerate(mt_words) if is_content(w, lang)]
        unmatched = {i for i in content if best_match(mt_words[i].text, ref_words)[0] < MatchLevel.STEM}
        scores[f"{self.name}.unmatched"] = len(unmatched) / len(content) if content else 0.0

        matcher = difflib.SequenceMatcher(a=[w.norm for w in mt_words], b=[w.norm for w in ref_words],
                                          autojunk=False)
        flags: list[Flag] = []
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            if tag not in ("replace", "delete"):
                continue
            hits = [(mt_words[i].start, mt_words[i].end) for i in range(a0, a1) if i in unmatched]
            if not hits:
                continue
            instead = pseudo[ref_words[b0].start:ref_words[b1 - 1].end] if b1 > b0 else ""
            untranslated = non_words(instead, lang)
            for start, end in merge_runs(hits, mt, max_gap=4):
                text = mt[start:end]
                evidence: dict[str, Any] = {"pseudo_reference": pseudo, "reference_wording": instead,
                                            "kind": "differs_from_reference_model"}
                if untranslated:
                    evidence["reference_non_words"] = untranslated
                flags.append(Flag(self.name, Severity.MINOR, Category.MISTRANSLATION,
                                  _message(text, instead, untranslated, lang), Span(start, end), evidence,
                                  confidence=float(sum(1 for i in unmatched
                                                       if start <= mt_words[i].start < end))))
        return SignalOutput(scores, {"pseudo_reference": pseudo}, tuple(flags))


def _message(text: str, instead: str, untranslated: Sequence[str], lang: str) -> str:
    """One sentence for the copy editor: what the reference model wrote instead of the MT's ``text``,
    unless its wording holds words that are not ``lang``'s, which it could not translate itself."""
    if not instead:
        return f"the reference model has nothing for “{text}”"
    if not untranslated:
        return f"the reference model wrote “{instead}” where the MT has “{text}”"
    quoted = ", ".join(f"“{w}”" for w in untranslated)
    verb = "is" if len(untranslated) == 1 else "are"
    return (f"the reference model has other words than “{text}” here, but it could not translate this part "
            f"itself: {quoted} {verb} not {language_name(lang)}")
