"""Reference metrics: sacrebleu scores of the MT against a human reference, when one is given.

``ReferenceSignal`` gives sentence chrF, chrF++, BLEU (effective order) and TER per segment
(``reference.chrf``...). They are reported, not fused into the risk: a desk checking new MT has no
reference, and a risk that leans on one would not carry over. ``CorpusMetrics`` accumulates the
corpus-level scores of a run with their sacrebleu signatures, so every number can be reproduced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqcheck.model import EngineInfo, Segment
from tqcheck.signals._common import SentenceMetrics
from tqcheck.signals.base import EMPTY, SignalOutput

_NAMES = ("chrf", "chrf++", "bleu", "ter")


class ReferenceSignal:
    name = "reference"
    engines: tuple[EngineInfo, ...] = ()

    def __init__(self) -> None:
        self.metrics = SentenceMetrics()

    def applies(self, segment: Segment) -> bool:
        return segment.reference is not None and bool(segment.reference.strip())

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        return [
            SignalOutput({f"{self.name}.{k}": v for k, v in
                          self.metrics.score(s.mt, s.reference or "", lang=s.target_lang, names=_NAMES).items()})
            if self.applies(s) else EMPTY
            for s in segments
        ]


class CorpusMetrics:
    """Corpus chrF, chrF++, BLEU and TER over the (hypothesis, reference) pairs added so far.

    Keeps each metric's sufficient statistics summed (n-gram matches and totals, character n-gram
    counts, edits and reference lengths), not the texts: sacrebleu's corpus score is a function of
    their sums, so the memory of a run stays flat in the feed's length, and the figures equal
    ``metric.corpus_score(all hypotheses, [all references])`` (a test checks it).
    """

    def __init__(self, *, lang: str | None = None) -> None:
        self.lang = lang
        self.count = 0
        self._sums: dict[str, Any] = {}

    def add(self, hypothesis: str, reference: str) -> None:
        import numpy as np

        for name, metric in self._corpus().items():
            stats = np.asarray(metric._extract_corpus_statistics([hypothesis], [[reference]]), dtype=float)
            stats = stats.sum(axis=0) if stats.ndim > 1 else stats
            self._sums[name] = stats if name not in self._sums else self._sums[name] + stats
        self.count += 1

    def result(self) -> dict[str, float]:
        if not self.count:
            return {}
        return {name: round(float(metric._compute_score_from_stats(list(self._sums[name])).score), 4)
                for name, metric in self._corpus().items()}

    def _corpus(self) -> dict[str, Any]:
        if not hasattr(self, "_corpus_metrics"):
            from sacrebleu.metrics import BLEU, CHRF, TER

            from tqcheck.signals._common import _bleu_tokenizer

            tok = _bleu_tokenizer(self.lang)
            self._corpus_metrics = {"chrf": CHRF(), "chrf++": CHRF(word_order=2), "bleu": BLEU(tokenize=tok),
                                    "ter": TER(asian_support=tok != "13a")}
        return self._corpus_metrics

    def signatures(self) -> dict[str, str]:
        """sacrebleu signatures; empty before any pair was added (sacrebleu needs the reference count)."""
        if not self.count:
            return {}
        return {name: str(metric.get_signature()) for name, metric in self._corpus().items()}
