"""Cross-lingual similarity: cosine of multilingual sentence embeddings of the source and the MT.

A sentence-level signal only (``crosslingual.cosine``): an embedding cannot say which words differ.
It catches what word matching misses: an MT about something else entirely, or half a sentence lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqcheck.model import EngineInfo, Segment
from tqcheck.signals._common import EngineSlot, embed, group_indices
from tqcheck.signals.base import EMPTY, SignalOutput


class CrossLingualSignal:
    name = "crosslingual"

    def __init__(self, embedder: EngineSlot, *, cache: Any = None) -> None:
        self.embedder = embedder
        self.cache = cache

    @property
    def engines(self) -> tuple[EngineInfo, ...]:
        return self.embedder.used()

    def applies(self, segment: Segment) -> bool:
        return bool(segment.source and segment.source.strip() and segment.mt.strip())

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        import numpy as np

        out: list[SignalOutput] = [EMPTY] * len(segments)
        groups = group_indices(segments, lambda s: (s.source_lang, s.target_lang) if self.applies(s) else None)
        for (src, tgt), idx in groups.items():
            embedder = self.embedder.get(src, tgt)
            if embedder is None:
                continue
            texts = [segments[i].source or "" for i in idx] + [segments[i].mt for i in idx]
            vectors = embed(self.cache, embedder, texts)
            a, b = vectors[: len(idx)], vectors[len(idx):]
            norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
            cos = (a * b).sum(axis=1) / np.where(norms == 0, 1.0, norms)
            for i, value in zip(idx, cos):
                out[i] = SignalOutput({f"{self.name}.cosine": float(value)})
        return out
