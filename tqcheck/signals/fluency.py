"""Fluency: a language model of the target language reads the MT; surprising words are suspects.

Scores (see ``tqcheck.signals.surprisal`` for why they are normalised this way): ``fluency.mean``,
``fluency.p90``, ``fluency.max_z``, ``fluency.log_tokens``. Spans: words whose surprisal spikes within
their sentence, with the token surprisals as evidence.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from tqcheck.model import Category, EngineInfo, Flag, Segment, Severity, Span
from tqcheck.signals._common import EngineSlot, group_indices, token_scores
from tqcheck.signals.base import EMPTY, SignalOutput
from tqcheck.signals.surprisal import sentence_scores, spike_words


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
                out[i] = self._output(segments[i].mt, tokens)
        return out

    def _output(self, text: str, tokens: Sequence[Any]) -> SignalOutput:
        scores = sentence_scores(self.name, tokens)
        flags = []
        for word, surprisal, z in spike_words(text, tokens):
            flags.append(Flag(
                self.name, Severity.MINOR, Category.NON_FLUENT,
                f"the language model finds “{word.text}” unexpected here "
                f"(probability {math.exp(-surprisal):.2g}, {z:.1f} spreads above this sentence's median)",
                Span(word.start, word.end),
                {"kind": "surprisal_spike", "surprisal": round(surprisal, 3), "probability":
                 float(f"{math.exp(-surprisal):.3g}"), "z": round(z, 2),
                 "tokens": [[t.text, round(t.logprob, 3)] for t in tokens
                            if t.end > word.start and t.start < word.end]},
                confidence=round(z, 3)))
        return SignalOutput(scores, {}, flags)
