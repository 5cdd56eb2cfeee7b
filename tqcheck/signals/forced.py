"""Forced decoding: the reference model scores the MT token by token, given the source.

Only for a reference model that can score (``ScoringTranslator``: transformers seq2seq, CTranslate2).
Scores: ``forced.mean`` / ``.p90`` / ``.max_z`` / ``.log_tokens`` over token surprisal (as fluency,
see ``tqcheck.signals.surprisal``) and ``forced.min_logprob``. Spans: words the translation model
finds improbable as a rendering of this source, with their token log-probabilities as evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tqcheck.model import Category, EngineInfo, Flag, Segment, Severity, Span
from tqcheck.signals._common import EngineSlot, forced_scores, group_indices
from tqcheck.signals.base import EMPTY, SignalOutput
from tqcheck.signals.surprisal import sentence_scores, spike_words


class ForcedDecodingSignal:
    name = "forced"

    def __init__(self, translator: EngineSlot, *, cache: Any = None) -> None:
        self.translator = translator
        self.cache = cache

    @property
    def engines(self) -> tuple[EngineInfo, ...]:
        return self.translator.used()

    def applies(self, segment: Segment) -> bool:
        return bool(segment.source and segment.source.strip() and segment.mt.strip()
                    and segment.source_lang and segment.target_lang)

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        out: list[SignalOutput] = [EMPTY] * len(segments)
        groups = group_indices(segments, lambda s: (s.source_lang, s.target_lang) if self.applies(s) else None)
        for (src, tgt), idx in groups.items():
            engine = self.translator.get(src, tgt)
            if engine is None or not callable(getattr(engine, "score", None)):
                continue
            scored = forced_scores(self.cache, engine, [segments[i].source or "" for i in idx],
                                   [segments[i].mt for i in idx], source_lang=src, target_lang=tgt)
            for i, tokens in zip(idx, scored):
                out[i] = self._output(segments[i].mt, tokens)
        return out

    def _output(self, text: str, tokens: Sequence[Any]) -> SignalOutput:
        scores = sentence_scores(self.name, tokens)
        if tokens:
            scores[f"{self.name}.min_logprob"] = min(t.logprob for t in tokens)
        flags = [
            Flag(self.name, Severity.MINOR, Category.MISTRANSLATION,
                 f"“{word.text}” is an unlikely translation here: the reference model would not choose it",
                 Span(word.start, word.end),
                 {"kind": "improbable_under_reference_model", "probability": float(f"{math.exp(-surprisal):.3g}"),
                  "z": round(z, 2),
                  "tokens": [[t.text, round(t.logprob, 3)] for t in tokens
                             if t.end > word.start and t.start < word.end]},
                 confidence=round(z, 3))
            for word, surprisal, z in spike_words(text, tokens)
        ]
        return SignalOutput(scores, {}, tuple(flags))
