"""The learned QE signal: multilingual-e5-small fine-tuned on human MQM labels (tqcheck/data/qe).

Scores per segment: ``qe.score`` (probability of a major or critical error, from the sentence
head), ``qe.quality`` (normalised quality, higher is better) and ``qe.max_token_bad`` (the highest
token error probability). Candidate flags: runs of MT tokens the token head tags as errors, with the
token probabilities as evidence. The fusion decides what they are worth; the severity here is the
model's own guess (major when the span's major probability is at least 0.5).

Works with a source (cross-lingual QE) and without one (target-only). Predictions go through the
engine cache (keyed by the weights' hash, the source and the MT; spans are decoded from the cached
token probabilities with the threshold in force), so a re-check of an unchanged feed loads no model.
The model is loaded on the first ``compute`` that misses the cache; importing this module imports no
torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqcheck.model import Category, EngineInfo, Flag, Segment, Severity, Span
from tqcheck.signals.base import EMPTY, SignalOutput


class QESignal:
    """Sentence risk and error spans from the learned QE model."""

    name = "qe"

    def __init__(self, *, weights_dir: str | Path | None = None, threshold: float | None = None,
                 batch_size: int = 16, predictor: Any = None, cache: Any = None) -> None:
        self.weights_dir = Path(weights_dir) if weights_dir else None
        self.threshold = threshold
        self.batch_size = batch_size
        self.cache = cache
        self._predictor = predictor
        self._revision: str | None = None

    @property
    def _folder(self) -> Path:
        from tqcheck.qe.prediction import SHIPPED_DIR

        return self.weights_dir or SHIPPED_DIR

    @property
    def engines(self) -> tuple[EngineInfo, ...]:
        from tqcheck import __version__
        from tqcheck.qe.base import MODEL_ID
        from tqcheck.qe.prediction import WEIGHTS_FILE

        if self._revision is None:
            weights = self._folder / WEIGHTS_FILE
            if weights.is_file():
                self._revision = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
        from tqcheck.engines.hf_common import with_precision

        revision = with_precision(self._revision, self._bf16())
        return (EngineInfo(role="qe", name="tqcheck-qe", model_id=MODEL_ID, revision=revision,
                           version=__version__),)

    def _bf16(self) -> bool:
        """Whether the predictor runs under bf16 autocast (the precision it was trained and measured in)."""
        from tqcheck.engines.hf_common import uses_bf16_autocast

        return bool(getattr(self._predictor, "bf16", uses_bf16_autocast("cpu")))

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
        sources = [segments[i].source if (segments[i].source or "").strip() else None for i in idx]
        preds = self._predict([segments[i].mt for i in idx], sources)
        for i, src, pred in zip(idx, sources, preds):
            flags = tuple(self._flag(segments[i], src is not None, span) for span in pred.spans)
            scores = {
                f"{self.name}.score": pred.p_major,
                f"{self.name}.quality": pred.quality,
                f"{self.name}.max_token_bad": max((t.p_bad for t in pred.tokens), default=0.0),
            }
            out[i] = SignalOutput(scores=scores, flags=flags)
        return out

    def span_threshold(self) -> float:
        """The token probability from which tokens join a span: the one given, else the weights'
        ``span_threshold`` (read without loading the model)."""
        if self.threshold is not None:
            return self.threshold
        if self._predictor is not None:
            return float(self._predictor.threshold)
        from tqcheck.qe.prediction import META_FILE

        meta = json.loads((self._folder / META_FILE).read_text(encoding="utf-8"))
        return float(meta.get("span_threshold", 0.5))

    def _predict(self, mts: list[str], sources: list[str | None]) -> list[Any]:
        """Predictions for (source, MT) pairs, through the engine cache when there is one. What is
        cached is the model's raw output (sentence scores, token probabilities); spans are decoded
        from it here, so a cold and a warm run give the same predictions."""
        from tqcheck.engines.cache import cached_outputs, text_key
        from tqcheck.qe.prediction import QEPrediction, TokenTag, decode_spans

        if self.cache is None or not self.cache.enabled:
            return self.predictor().predict(mts=mts, sources=sources)

        def compute(idx: list[int]) -> list[dict[str, Any]]:
            preds = self.predictor().predict(mts=[mts[i] for i in idx], sources=[sources[i] for i in idx])
            return [{"p": p.p_major, "q": p.quality, "t": [[t.start, t.end, t.p_bad, t.p_major] for t in p.tokens]}
                    for p in preds]

        keys = [text_key("source", src, mt) if src is not None else text_key("target-only", mt)
                for mt, src in zip(mts, sources)]
        raw = cached_outputs(self.cache, self.engines[0], "qe", "", "", keys, compute,
                             lambda record: json.dumps(record).encode(), json.loads)
        threshold = self.span_threshold()
        out = []
        for mt, item in zip(mts, raw):
            tags = tuple(TokenTag(int(s), int(e), mt[int(s):int(e)], float(b), float(m)) for s, e, b, m in item["t"])
            out.append(QEPrediction(float(item["p"]), float(item["q"]), tags, decode_spans(mt, tags, threshold)))
        return out

    def _flag(self, segment: Segment, has_source: bool, span: Any) -> Flag:
        text = segment.mt[span.start : span.end]
        severity = Severity.MAJOR if span.p_major >= 0.5 else Severity.MINOR
        category = Category.MISTRANSLATION if has_source else Category.NON_FLUENT
        return Flag(
            check=self.name,
            severity=severity,
            category=category,
            message=f"“{text}” may be wrong: the learned quality model marks it",
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
