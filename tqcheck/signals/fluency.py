"""Fluency: a language model of the target language reads the MT; surprising words are suspects.

Scores (see ``tqcheck.signals.surprisal`` for why they are normalised this way): ``fluency.mean``,
``fluency.p90``, ``fluency.max_z``, ``fluency.log_tokens``. Spans: words whose surprisal spikes within
their sentence, with the token surprisals as evidence; except words a language model finds surprising
only because it has rarely seen them (``NOT_SUSPECT``: numbers, links, handles and hashtags, month and
weekday names, and text copied verbatim from the source such as names and ids). On the bio dev data
(fr-en) such spikes land on a human error 2 % of the time (7 of 330), the others 18 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tqcheck.model import Category, EngineInfo, Flag, Segment, Severity, Span
from tqcheck.signals._common import EngineSlot, group_indices, token_scores
from tqcheck.signals.base import EMPTY, SignalOutput
from tqcheck.signals.surprisal import sentence_scores, spike_words
from tqcheck.text.spanclass import span_classes

#: Span classes (``tqcheck.text.spanclass``) whose surprisal says nothing about the MT.
NOT_SUSPECT = frozenset({"number", "link", "date", "copied"})


class FluencySignal:
    name = "fluency"

    def __init__(self, lm: EngineSlot, *, cache: Any = None) -> None:
        self.lm = lm
        self.cache = cache

    @property
    def engines(self) -> tuple[EngineInfo, ...]:
        return self.lm.used()

    def applies(self, segment: Segment) -> bool:
        return bool(segment.mt.strip()) and bool(segment.target_lang)

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        out: list[SignalOutput] = [EMPTY] * len(segments)
        groups = group_indices(segments, lambda s: s.target_lang if self.applies(s) else None)
        for lang, idx in groups.items():
            lm = self.lm.get(None, lang)
            if lm is None:
                continue
            scored = token_scores(self.cache, lm, [segments[i].mt for i in idx], lang=lang)
            for i, tokens in zip(idx, scored):
                out[i] = self._output(segments[i], tokens)
        return out

    def _output(self, segment: Segment, tokens: Sequence[Any]) -> SignalOutput:
        text = segment.mt
        scores = sentence_scores(self.name, tokens)
        flags = []
        for word, surprisal, z in spike_words(text, tokens):
            if span_classes(text, word.start, word.end, lang=segment.target_lang,
                            source=segment.source) & NOT_SUSPECT:
                continue
            flags.append(Flag(
                self.name, Severity.MINOR, Category.NON_FLUENT,
                f"“{word.text}” reads oddly here: the language model finds it unlikely in this sentence",
                Span(word.start, word.end),
                {"kind": "surprisal_spike", "surprisal": round(surprisal, 3), "probability":
                 float(f"{math.exp(-surprisal):.3g}"), "z": round(z, 2),
                 "tokens": [[t.text, round(t.logprob, 3)] for t in tokens
                            if t.end > word.start and t.start < word.end]},
                confidence=round(z, 3)))
        return SignalOutput(scores, {}, tuple(flags))
