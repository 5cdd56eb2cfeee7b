"""Fake engines that implement tqcheck's own engine protocols (tqcheck.engines.base), for signal tests.

They translate from small tables written in the tests, so that what a signal concludes can be traced
back to what the engine 'said', line by line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tqcheck.engines.base import TokenScore
from tqcheck.model import EngineInfo
from tqcheck.text.wordalign import words


class TableTranslator:
    """Translates whole texts from ``table[(src, tgt)]``; unknown texts come back unchanged (as
    Apertium does with unknown words). Records every call."""

    def __init__(self, table: dict[tuple[str, str], dict[str, str]], name: str = "table") -> None:
        self.table = table
        self.info = EngineInfo("translator", name, model_id="test-table")
        self.calls: list[tuple[str, str, list[str]]] = []

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return (source_lang, target_lang) in self.table

    def translate(self, texts: Sequence[str], *, source_lang: str, target_lang: str) -> list[str]:
        self.calls.append((source_lang, target_lang, list(texts)))
        table = self.table[(source_lang, target_lang)]
        return [table.get(t, table.get(t.lower(), t)) for t in texts]


class ScoringTable(TableTranslator):
    """Also scores an MT under 'forced decoding': each word gets log-prob from ``logprobs``
    (default -0.5)."""

    def __init__(self, table, logprobs: dict[str, float]) -> None:
        super().__init__(table, "scoring-table")
        self.logprobs = logprobs

    def score(self, *, sources, targets, source_lang, target_lang):
        return [word_tokens(t, self.logprobs) for t in targets]


def word_tokens(text: str, logprobs: dict[str, float], default: float = -0.5) -> tuple[TokenScore, ...]:
    return tuple(TokenScore(w.start, w.end, w.text, logprobs.get(w.text, default)) for w in words(text))


class TableLM:
    """A language model whose token log-probabilities come from a table of words."""

    def __init__(self, logprobs: dict[str, float], default: float = -3.0, langs=("en", "fr")) -> None:
        self.logprobs = logprobs
        self.default = default
        self.langs = langs
        self.info = EngineInfo("lm", "table-lm", model_id="test")

    def supports(self, lang: str) -> bool:
        return lang in self.langs

    def token_scores(self, texts: Sequence[str], *, lang: str):
        return [word_tokens(t, self.logprobs, self.default) for t in texts]


class BagEmbedder:
    """Embeds a text as a normalised bag of its folded words (through a bilingual word table), so
    that a faithful translation is close to its source and an unrelated one is not."""

    def __init__(self, lexicon: dict[str, str]) -> None:
        self.lexicon = lexicon
        self.info = EngineInfo("embedder", "bag", model_id="test")
        self.vocab: dict[str, int] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            row = np.zeros(256)
            for w in words(text):
                key = self.lexicon.get(w.norm, w.norm)
                row[hash(key) % 256] += 1.0
            n = math.sqrt((row ** 2).sum()) or 1.0
            rows.append(row / n)
        return np.vstack(rows)
