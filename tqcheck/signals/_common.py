"""What every model signal shares: engines resolved per language pair, cached engine calls, sentence
metrics, and turning word runs into MT spans.

A feed can mix language pairs, so a signal never holds "the" engine: it holds an ``EngineSlot`` that
resolves the configured spec for each pair on first use and remembers both what it used (for the run
signature) and where nothing was available (so the signature says so, and those segments get
``EMPTY``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tqcheck.langcodes import base_lang
from tqcheck.model import EngineInfo, Segment

#: resolve(role, spec, source_lang=..., target_lang=...) -> engine or None
Resolver = Callable[..., Any]


def default_resolver(role: str, spec: str, *, source_lang: str | None, target_lang: str | None,
                     **options: Any) -> Any:
    """The engines registry's resolver, imported on first use (it may import heavy backends)."""
    from tqcheck.engines.registry import resolve

    return resolve(role, spec, source_lang=source_lang, target_lang=target_lang, **options)


class EngineSlot:
    """One engine role (``translator``, ``lm``, ``embedder``) for one configured spec, resolved lazily
    per language pair. A pair with no engine resolves to None, once, and is recorded as such."""

    def __init__(self, role: str, spec: str, *, label: str | None = None,
                 resolver: Resolver | None = None, engine: Any = None,
                 options: dict[str, Any] | None = None) -> None:
        self.role = role
        self.spec = spec
        self.options = {k: v for k, v in (options or {}).items() if v is not None}
        self.label = label or role
        self._resolver = resolver or default_resolver
        self._fixed = engine
        self._by_pair: dict[tuple[str | None, str | None], Any] = {}

    @classmethod
    def of(cls, engine: Any, *, role: str, label: str | None = None) -> EngineSlot:
        """A slot holding one given engine for every pair it supports (tests, library callers)."""
        return cls(role, "given", label=label, engine=engine)

    @property
    def off(self) -> bool:
        return self._fixed is None and self.spec == "none"

    def get(self, source_lang: str | None, target_lang: str | None) -> Any:
        key = (source_lang, target_lang)
        if key not in self._by_pair:
            self._by_pair[key] = self._resolve(source_lang, target_lang)
        return self._by_pair[key]

    def _resolve(self, source_lang: str | None, target_lang: str | None) -> Any:
        if self._fixed is not None:
            return self._fixed if _supports(self._fixed, self.role, source_lang, target_lang) else None
        if self.off:
            return None
        return self._resolver(self.role, self.spec, source_lang=source_lang, target_lang=target_lang,
                              **self.options)

    def used(self) -> tuple[EngineInfo, ...]:
        """Engines actually used so far, plus an entry per pair that had none (``name='none'``)."""
        out: dict[str, EngineInfo] = {}
        for (src, tgt), engine in self._by_pair.items():
            if engine is not None:
                info = engine.info
                out.setdefault(info.key, EngineInfo(self.label, info.name, info.model_id,
                                                    info.revision, info.version))
            else:
                pair = (tgt or "xx") if self.role == "lm" else f"{src or 'xx'}-{tgt or 'xx'}"
                out.setdefault(f"none|{pair}", EngineInfo(self.label, "none", model_id=f"no engine for {pair}"))
        return tuple(out.values())


def _supports(engine: Any, role: str, source_lang: str | None, target_lang: str | None) -> bool:
    supports = getattr(engine, "supports", None)
    if supports is None:
        return True
    if role == "lm":
        return bool(target_lang) and supports(target_lang)
    if role == "translator":
        return bool(source_lang and target_lang) and supports(source_lang, target_lang)
    return True


def group_indices(segments: Sequence[Segment], key: Callable[[Segment], Any]) -> dict[Any, list[int]]:
    groups: dict[Any, list[int]] = defaultdict(list)
    for i, segment in enumerate(segments):
        k = key(segment)
        if k is not None:
            groups[k].append(i)
    return groups


# -- engine calls, through the cache when there is one ---------------------------------------------


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def translate(cache: Any, engine: Any, texts: Sequence[str], *, source_lang: str, target_lang: str) -> list[str]:
    """Translate, asking the engine only once per distinct text (and not at all for cached ones).

    URLs, e-mail addresses and @handles go to the engine as placeholders and come back as they were
    (``tqcheck.text.protect``); a text whose placeholders the engine did not keep is translated again
    as it is."""
    from tqcheck.engines.cache import cached_translate
    from tqcheck.text.protect import mask

    if not texts:
        return []
    distinct = _unique(texts)
    masked = [mask(text) for text in distinct]
    out = cached_translate(engine, cache, [m.text for m in masked], source_lang=source_lang, target_lang=target_lang)
    restored = [m.restore(o) for m, o in zip(masked, out)]
    lost = [i for i, r in enumerate(restored) if r is None]
    if lost:
        again = cached_translate(engine, cache, [distinct[i] for i in lost], source_lang=source_lang,
                                 target_lang=target_lang)
        for i, text in zip(lost, again):
            restored[i] = text
    table = {text: r or "" for text, r in zip(distinct, restored)}
    return [table[t] for t in texts]


def token_scores(cache: Any, lm: Any, texts: Sequence[str], *, lang: str) -> list[Any]:
    from tqcheck.engines.cache import cached_token_scores

    if not texts:
        return []
    distinct = _unique(texts)
    table = dict(zip(distinct, cached_token_scores(lm, cache, distinct, lang=lang)))
    return [table[t] for t in texts]


def forced_scores(cache: Any, engine: Any, sources: Sequence[str], targets: Sequence[str], *,
                  source_lang: str, target_lang: str) -> list[Any]:
    from tqcheck.engines.cache import cached_scores

    if not sources:
        return []
    return list(cached_scores(engine, cache, sources=list(sources), targets=list(targets),
                              source_lang=source_lang, target_lang=target_lang))


def embed(cache: Any, embedder: Any, texts: Sequence[str]) -> Any:
    from tqcheck.engines.cache import cached_embed

    return cached_embed(embedder, cache, list(texts))


# -- sentence metrics --------------------------------------------------------------------------------


def _bleu_tokenizer(lang: str | None) -> str:
    lang = base_lang(lang) or ""
    return {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}.get(lang, "13a")


class SentenceMetrics:
    """sacrebleu sentence chrF, chrF++, BLEU (effective order) and TER, built once per language.

    ``normalized_ter`` tokenises punctuation before TER (tercom's ``-N``). The round trip and the
    pseudo-reference compare engine output with text typeset by other rules (French "Mexique !"
    with its space, an engine's "Mexique!"), and plain TER counts such a difference as a whole-word
    error: 100 % on two identical words. The reference signal keeps standard TER (comparable with
    published figures).

    With an engine ``cache``, scores are stored like engine outputs (keyed by sacrebleu's version,
    the metric settings, the language and both texts): TER, pure Python with shifts, costs a few
    ms a pair even with :mod:`tqcheck.text.ter`'s faster edit distance (same scores as sacrebleu's).
    """

    def __init__(self, *, normalized_ter: bool = False, cache: Any = None) -> None:
        self.normalized_ter = normalized_ter
        self.cache = cache
        self._metrics: dict[str, dict[str, Any]] = {}
        self._infos: dict[str, EngineInfo] = {}

    def _for(self, lang: str | None) -> dict[str, Any]:
        key = _bleu_tokenizer(lang)
        if key not in self._metrics:
            from sacrebleu.metrics import BLEU, CHRF

            from tqcheck.text.ter import ter_metric

            self._metrics[key] = {
                "chrf": CHRF(),
                "chrf++": CHRF(word_order=2),
                "bleu": BLEU(effective_order=True, tokenize=key) if key == "13a" else BLEU(
                    effective_order=True, tokenize=key),
                "ter": ter_metric(asian_support=key != "13a", normalized=self.normalized_ter),
            }
        return self._metrics[key]

    def score(self, hypothesis: str, reference: str, *, lang: str | None,
              names: Sequence[str] = ("chrf", "bleu", "ter")) -> dict[str, float]:
        if self.cache is None or not self.cache.enabled:
            return self._score(hypothesis, reference, lang=lang, names=names)
        import json

        from tqcheck.engines.cache import cached_outputs, text_key

        (out,) = cached_outputs(self.cache, self._info(lang, names), "sentence", lang or "", "",
                                [text_key(hypothesis, reference)],
                                lambda _: [self._score(hypothesis, reference, lang=lang, names=names)],
                                lambda scores: json.dumps(scores).encode(), json.loads)
        return dict(out)

    def _info(self, lang: str | None, names: Sequence[str]) -> EngineInfo:
        """What computes these scores, for the cache key: sacrebleu's version, the metrics and their
        settings, the tokenizer."""
        settings = ",".join(names) + (";ter-normalized" if self.normalized_ter else "")
        key = f"{settings}|{_bleu_tokenizer(lang)}"
        if key not in self._infos:
            from tqcheck.engines.provenance import package_version

            self._infos[key] = EngineInfo(role="metric", name="sacrebleu", model_id=settings,
                                          revision=_bleu_tokenizer(lang), version=package_version("sacrebleu"))
        return self._infos[key]

    def _score(self, hypothesis: str, reference: str, *, lang: str | None,
               names: Sequence[str]) -> dict[str, float]:
        metrics = self._for(lang)
        out = {}
        for name in names:
            try:
                out[name] = float(metrics[name].sentence_score(hypothesis, [reference]).score)
            except Exception:  # sacrebleu raises on odd inputs for some tokenizers; a missing score is fine
                continue
        return out


# -- spans ---------------------------------------------------------------------------------------------


def merge_runs(spans: Iterable[tuple[int, int]], text: str, *, max_gap: int = 1) -> list[tuple[int, int]]:
    """Merge spans that overlap or are separated only by spaces/punctuation of at most ``max_gap``
    characters, so that "hours of market" reads as one span rather than three."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged:
            gap = text[merged[-1][1]:start]
            if start <= merged[-1][1] or (len(gap) <= max_gap and not gap.strip(" -'’")):
                merged[-1][1] = max(merged[-1][1], end)
                continue
        merged.append([start, end])
    return [(s, e) for s, e in merged]


class TranslatorSignal:
    """Shared set-up of the signals that run a translator (round trip, pseudo-reference): the engine
    slot, the cache, sentence metrics and the engines actually used, for the run signature."""

    def __init__(self, translator: EngineSlot, *, cache: Any = None) -> None:
        self.translator = translator
        self.cache = cache
        self.metrics = SentenceMetrics(normalized_ter=True, cache=cache)

    @property
    def engines(self) -> tuple[EngineInfo, ...]:
        return self.translator.used()
