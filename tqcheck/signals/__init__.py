"""Model signals, built from configuration: which engine each role uses, resolved per language pair.

| signal | engine role (config key) | what it says |
|---|---|---|
| ``roundtrip`` | ``back_translator`` | back-translation vs source; lost source words on MT spans |
| ``pseudo_reference`` | ``reference_model`` | MT vs the reference model's translation |
| ``forced`` | ``reference_model`` (if it can score) | MT tokens improbable under forced decoding |
| ``fluency`` | ``lm`` | language-model surprisal spikes |
| ``homograph`` | ``back_translator`` and ``lm`` | target-only: an MT word that reads better as a word its source language spells alike |
| ``crosslingual`` | ``embedder`` | embedding cosine of source and MT |
| ``qe`` | ``qe`` | the learned QE model (``tqcheck.qe``): sentence risk and tagged spans |
| ``reference`` | none (a human reference) | sentence chrF/chrF++/BLEU/TER |

Engines load on first use; a role set to ``none`` builds no signal, and a role that resolves to
nothing for a language pair yields ``EMPTY`` for those segments (its ``engines`` say so).
"""  # noqa: E501 - a table, one row a line

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tqcheck.config import CheckConfig
from tqcheck.signals._common import EngineSlot, Resolver
from tqcheck.signals.base import EMPTY, Signal, SignalOutput

if TYPE_CHECKING:
    from tqcheck.engines.cache import EngineCache

__all__ = ["build_signals", "Signal", "SignalOutput", "EMPTY", "EngineSlot"]


def build_signals(config: CheckConfig, *, cache: EngineCache | None = None,
                  resolver: Resolver | None = None) -> list[Signal]:
    """The signals a configuration asks for, in a fixed order (the order of their scores in reports)."""
    from tqcheck.signals.crosslingual import CrossLingualSignal
    from tqcheck.signals.fluency import FluencySignal
    from tqcheck.signals.forced import ForcedDecodingSignal
    from tqcheck.signals.homograph import HomographSignal
    from tqcheck.signals.pseudo_reference import PseudoReferenceSignal
    from tqcheck.signals.reference import ReferenceSignal
    from tqcheck.signals.roundtrip import RoundTripSignal

    engines = config.engines
    signals: list[Any] = []

    # Options every engine may take (the registry drops those a backend does not accept).
    options = {"device": engines.device, "dtype": engines.dtype, "beam_size": engines.beam_size,
               "revision": engines.revision}

    def slot(role: str, spec: str, label: str) -> EngineSlot:
        return EngineSlot(role, spec, label=label, resolver=resolver, options=options)

    back = slot("translator", engines.back_translator, "back_translator")
    lm = slot("lm", engines.lm, "lm")
    if engines.back_translator != "none":
        signals.append(RoundTripSignal(back, cache=cache))
    if engines.reference_model != "none":
        reference = slot("translator", engines.reference_model, "reference_model")
        signals.append(PseudoReferenceSignal(reference, cache=cache))
        signals.append(ForcedDecodingSignal(reference, cache=cache))
    if engines.lm != "none":
        signals.append(FluencySignal(lm, cache=cache))
    if engines.back_translator != "none" and engines.lm != "none":
        signals.append(HomographSignal(back, lm, cache=cache))
    if engines.embedder != "none":
        signals.append(CrossLingualSignal(slot("embedder", engines.embedder, "embedder"), cache=cache))
    qe = _qe_signal(engines.qe, cache)
    if qe is not None:
        signals.append(qe)
    if config.metrics:
        signals.append(ReferenceSignal())
    return signals


def _qe_signal(spec: str, cache: Any = None) -> Any:
    """The learned QE signal: ``auto`` uses the shipped weights when they are installed (and stands
    aside silently when not); any other spec is a weights directory, and a missing one is an error
    at first use."""
    if spec == "none":
        return None
    from tqcheck.signals.qe import QESignal

    if spec == "auto":
        from tqcheck.qe.prediction import SHIPPED_DIR  # torch-free

        return QESignal(cache=cache) if any(SHIPPED_DIR.glob("*.safetensors")) else None
    return QESignal(weights_dir=spec, cache=cache)
