"""Engine protocols: what the signals ask of a translator, a language model and an embedder.

Signals depend on these protocols only, never on a backend, so that a backend can be swapped by name
in configuration and tests can plug in fakes that implement the same protocol. Engines never import
signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tqcheck.model import EngineInfo

if TYPE_CHECKING:  # numpy is only needed for the type of embeddings
    import numpy as np


@dataclass(frozen=True)
class TokenScore:
    """One token of a text with its character offsets and its log-probability (natural log).

    ``surprisal`` is ``-logprob`` in nats; a high surprisal marks a token a model did not expect.
    """

    start: int
    end: int
    text: str
    logprob: float

    @property
    def surprisal(self) -> float:
        return -self.logprob


TokenScores = tuple[TokenScore, ...]


@runtime_checkable
class Translator(Protocol):
    """Translates batches of sentences between the language pairs it supports."""

    info: EngineInfo

    def supports(self, source_lang: str, target_lang: str) -> bool: ...

    def translate(
        self, texts: Sequence[str], *, source_lang: str, target_lang: str
    ) -> list[str]: ...


@runtime_checkable
class ScoringTranslator(Translator, Protocol):
    """A translator that can also score a given translation under forced decoding."""

    def score(
        self,
        *,
        sources: Sequence[str],
        targets: Sequence[str],
        source_lang: str,
        target_lang: str,
    ) -> list[TokenScores]: ...


@runtime_checkable
class LanguageModel(Protocol):
    """Gives each token of a text its log-probability given the tokens before it."""

    info: EngineInfo

    def supports(self, lang: str) -> bool: ...

    def token_scores(self, texts: Sequence[str], *, lang: str) -> list[TokenScores]: ...


@runtime_checkable
class Embedder(Protocol):
    """Maps sentences of any supported language into one vector space (L2-normalised rows)."""

    info: EngineInfo

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...
