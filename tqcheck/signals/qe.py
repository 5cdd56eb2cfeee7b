"""The learned QE signal: multilingual-e5-small fine-tuned on human MQM labels (tqcheck/data/qe).

Scores per segment: ``qe.score`` (probability of a major or critical error, from the sentence
head), ``qe.quality`` (normalised quality, higher is better) and ``qe.max_token_bad`` (the highest
token error probability). Candidate flags: runs of MT tokens the token head tags as errors, with the
token probabilities as evidence. The fusion decides what they are worth; the severity here is the
model's own guess (major when the span's major probability is at least 0.5).

Works with a source (cross-lingual QE) and without one (target-only). The model is loaded on the
first ``compute``; importing this module imports no torch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

from tqcheck.model import Category, EngineInfo, Flag, Segment, Severity, Span
from tqcheck.signals.base import EMPTY, SignalOutput


class QESignal:
    """Sentence risk and error spans from the learned QE model."""

    name = "qe"

    def __init__(self, *, weights_dir: str | Path | None = None, threshold: float | None = None,
                 batch_size: int = 16, predictor: Any = None) -> None:
        self.weights_dir = Path(weights_dir) if weights_dir else None
        self.threshold = threshold
        self.batch_size = batch_size
        self._predictor = predictor
        self._revision: str | None = None

    @property
    def _folder(self) -> Path:
        from tqcheck.qe.predict import SHIPPED_DIR

        return self.weights_dir or SHIPPED_DIR

    @property
    def engines(self) -> tuple[EngineInfo, ...]:
        from tqcheck import __version__
        from tqcheck.qe.base import MODEL_ID
        from tqcheck.qe.model import WEIGHTS_FILE

        if self._revision is None:
            weights = self._folder / WEIGHTS_FILE
            if weights.is_file():
                self._revision = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
        revision = self._revision
        return (EngineInfo(role="qe", name="tqcheck-qe", model_id=MODEL_ID, revision=revision,
                           version=__version__),)

    def applies(self, segment: Segment) -> bool:
        return bool(segment.mt.strip())

    def predictor(self) -> Any:
        if self._predictor is None:
            from tqcheck.qe.predict import QEPredictor

            options: dict[str, Any] = {"batch_size": self.batch_size}
            if self.threshold is not None:
                options["threshold"] = self.threshold
            self._predictor = QEPredictor.load(self._folder, **options)
        return self._predictor

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        out: list[SignalOutput] = [EMPTY] * len(segments)
        idx = [i for i, s in enumerate(segments) if self.applies(s)]
        if not idx:
            return out
        sources = [segments[i].source if segments[i].source and segments[i].source.strip() else None
                   for i in idx]
        preds = self.predictor().predict(mts=[segments[i].mt for i in idx], sources=sources)
        for i, src, pred in zip(idx, sources, preds):
            flags = tuple(self._flag(segments[i], src is not None, span) for span in pred.spans)
            scores = {
                f"{self.name}.score": pred.p_major,
                f"{self.name}.quality": pred.quality,
                f"{self.name}.max_token_bad": max((t.p_bad for t in pred.tokens), default=0.0),
            }
            out[i] = SignalOutput(scores=scores, flags=flags)
        return out

    def _flag(self, segment: Segment, has_source: bool, span: Any) -> Flag:
        text = segment.mt[span.start : span.end]
        severity = Severity.MAJOR if span.p_major >= 0.5 else Severity.MINOR
        category = Category.MISTRANSLATION if has_source else Category.NON_FLUENT
        return Flag(
            check=self.name,
            severity=severity,
            category=category,
            message=f"the QE model tags {text!r} as an error (p={span.p_bad:.2f})",
            span=Span(span.start, span.end),
            evidence={
                "p_bad": round(span.p_bad, 4),
                "p_major": round(span.p_major, 4),
                "tokens": [
                    {"text": t.text, "start": t.start, "end": t.end, "p_bad": round(t.p_bad, 4),
                     "p_major": round(t.p_major, 4)}
                    for t in span.tokens
                ],
            },
            confidence=span.p_bad,
        )
