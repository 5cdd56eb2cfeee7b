"""Measure the engines ``auto`` picks for a language pair on the caller's sentences.

Figures quoted for tqcheck's engines come from here (``tqcheck engines --pair fr-en --bench
FILE``), so anyone can reproduce them on their own machine. Loading is timed apart from running,
the engine cache is not used, and nothing is printed: the caller formats the rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tqcheck.engines.registry import load_engine, resolve_spec


def _row(role: str, spec: str, task: str, items: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {"role": role, "engine": spec, "task": task, "items": items,
            "seconds": round(seconds, 3),
            "per_second": round(items / seconds, 2) if seconds > 0 else None, **extra}


def bench_pair(source_lang: str, target_lang: str, sentences: Sequence[str], *,
               specs: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Time each role's engine for ``source_lang -> target_lang`` on ``sentences``.

    The reference model translates the sentences; its output stands in for the MT, which the
    back-translator translates back, the language model scores and the embedder embeds (with the
    sources). ``specs`` overrides ``auto`` per role (``reference_model``, ``back_translator``,
    ``lm``, ``embedder``).
    """
    specs = dict(specs or {})
    sentences = [s for s in sentences if s.strip()]
    rows: list[dict[str, Any]] = []
    outputs = list(sentences)

    reference = resolve_spec("translator", specs.get("reference_model", "auto"),
                             source_lang=source_lang, target_lang=target_lang)
    if reference:
        engine = load_engine("translator", reference)
        started = time.perf_counter()
        engine.translate(sentences[:1], source_lang=source_lang, target_lang=target_lang)
        rows.append(_row("reference_model", reference, "load + first sentence", 1,
                         time.perf_counter() - started))
        started = time.perf_counter()
        outputs = engine.translate(sentences, source_lang=source_lang, target_lang=target_lang)
        rows.append(_row("reference_model", reference, f"translate {source_lang}->{target_lang}",
                         len(sentences), time.perf_counter() - started))

    back = resolve_spec("translator", specs.get("back_translator", "auto"),
                        source_lang=target_lang, target_lang=source_lang)
    if back and reference:
        engine = load_engine("translator", back)
        engine.translate(outputs[:1], source_lang=target_lang, target_lang=source_lang)
        started = time.perf_counter()
        engine.translate(outputs, source_lang=target_lang, target_lang=source_lang)
        rows.append(_row("back_translator", back, f"translate {target_lang}->{source_lang}",
                         len(outputs), time.perf_counter() - started))

    lm_spec = resolve_spec("lm", specs.get("lm", "auto"), source_lang=source_lang,
                           target_lang=target_lang)
    if lm_spec and reference:
        lm = load_engine("lm", lm_spec)
        warm = bool(getattr(lm, "_converted_ready", lambda: None)())
        started = time.perf_counter()
        lm.token_scores(outputs[:1], lang=target_lang)
        rows.append(_row("lm", lm_spec, "load + first sentence", 1, time.perf_counter() - started,
                         note="warm (converted model cached)" if warm else "cold"))
        started = time.perf_counter()
        scored = lm.token_scores(outputs, lang=target_lang)
        seconds = time.perf_counter() - started
        tokens = sum(len(s) for s in scored)
        rows.append(_row("lm", lm_spec, "token scores", len(outputs), seconds,
                         tokens=tokens, tokens_per_second=round(tokens / seconds, 1)))

    embedder_spec = resolve_spec("embedder", specs.get("embedder", "auto"),
                                 source_lang=source_lang, target_lang=target_lang)
    if embedder_spec:
        embedder = load_engine("embedder", embedder_spec)
        started = time.perf_counter()
        embedder.embed(sentences[:1])
        rows.append(_row("embedder", embedder_spec, "load + first sentence", 1,
                         time.perf_counter() - started))
        texts = sentences + (outputs if reference else [])
        started = time.perf_counter()
        embedder.embed(texts)
        rows.append(_row("embedder", embedder_spec, "embed", len(texts),
                         time.perf_counter() - started))
    return rows
