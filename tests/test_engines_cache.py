"""The engine cache: hits do no model work, order is kept, entries persist and are shared
between processes. Fakes implement tqcheck's own engine protocols and count their work."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from tqcheck.engines.base import Embedder, LanguageModel, ScoringTranslator, TokenScore
from tqcheck.engines.cache import EngineCache, cached_embed, cached_scores, cached_token_scores, cached_translate
from tqcheck.errors import EngineError
from tqcheck.model import EngineInfo


class CountingTranslator:
    """Translates by upper-casing; scores one token per word. Counts calls and texts."""

    def __init__(self, revision: str = "r1") -> None:
        self.info = EngineInfo("translator", "fake", "fake-model", revision, "1.0")
        self.calls: list[list[str]] = []

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return True

    def translate(self, texts, *, source_lang, target_lang):
        self.calls.append(list(texts))
        return [f"{target_lang}:{text.upper()}" for text in texts]

    def score(self, *, sources, targets, source_lang, target_lang):
        self.calls.append(list(targets))
        out = []
        for source, target in zip(sources, targets):
            tokens, pos = [], 0
            for word in target.split():
                start = target.index(word, pos)
                pos = start + len(word)
                tokens.append(TokenScore(start, pos, word, -len(word) / (1 + len(source))))
            out.append(tuple(tokens))
        return out


class CountingLM:
    def __init__(self) -> None:
        self.info = EngineInfo("lm", "fake-lm", "m", None, "1")
        self.calls: list[list[str]] = []

    def supports(self, lang: str) -> bool:
        return True

    def token_scores(self, texts, *, lang):
        self.calls.append(list(texts))
        return [tuple(TokenScore(i, i + 1, ch, -0.5 * (i + 1)) for i, ch in enumerate(text)
                      if not ch.isspace()) for text in texts]


class CountingEmbedder:
    def __init__(self) -> None:
        self.info = EngineInfo("embedder", "fake-embed", "m", None, "1")
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        rows = np.array([[len(t) + 1.0, t.count("a") + 0.5, 1.0] for t in texts], dtype=np.float32)
        rows = rows.reshape(len(texts), 3)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True) if len(texts) else rows


def test_fakes_implement_the_protocols():
    assert isinstance(CountingTranslator(), ScoringTranslator)
    assert isinstance(CountingLM(), LanguageModel)
    assert isinstance(CountingEmbedder(), Embedder)


FEED = ["Le chat.", "Une maison.", "Le chat.", "", "La ville est calme."]


def test_a_recheck_of_an_unchanged_feed_does_no_model_work(tmp_path):
    cache = EngineCache(tmp_path / "cache.sqlite")
    engine = CountingTranslator()
    first = cached_translate(engine, cache, FEED, source_lang="fr", target_lang="en")
    assert first == engine.translate(FEED, source_lang="fr", target_lang="en")
    engine.calls.clear()
    assert cache.count() == 4  # distinct texts
    second = cached_translate(engine, cache, FEED, source_lang="fr", target_lang="en")
    assert second == first and engine.calls == []
    assert cache.hits == len(FEED)


def test_only_misses_go_to_the_engine_in_one_batch_and_order_is_kept(tmp_path):
    cache = EngineCache(tmp_path / "cache.sqlite")
    engine = CountingTranslator()
    cached_translate(engine, cache, ["Le chat.", "Une maison."], source_lang="fr", target_lang="en")
    engine.calls.clear()
    texts = ["Un livre.", "Le chat.", "Un livre.", "Une maison.", "Deux."]
    out = cached_translate(engine, cache, texts, source_lang="fr", target_lang="en")
    assert engine.calls == [["Un livre.", "Deux."]]  # one call, each distinct miss once
    assert out == [f"en:{t.upper()}" for t in texts]


def test_keys_include_engine_revision_and_languages(tmp_path):
    cache = EngineCache(tmp_path / "cache.sqlite")
    old, new = CountingTranslator("r1"), CountingTranslator("r2")
    cached_translate(old, cache, ["Le chat."], source_lang="fr", target_lang="en")
    cached_translate(new, cache, ["Le chat."], source_lang="fr", target_lang="en")
    cached_translate(old, cache, ["Le chat."], source_lang="fr", target_lang="de")
    assert len(new.calls) == 1 and len(old.calls) == 2


def test_entries_persist_across_instances(tmp_path):
    path = tmp_path / "sub" / "cache.sqlite"
    engine, lm, embedder = CountingTranslator(), CountingLM(), CountingEmbedder()
    cache = EngineCache(path)
    scores = cached_scores(engine, cache, sources=["a", "bb"], targets=["x yy", "zzz"],
                           source_lang="fr", target_lang="en")
    tokens = cached_token_scores(lm, cache, ["the cat", "a"], lang="en")
    vectors = cached_embed(embedder, cache, ["abc", "a a", "abc"])
    cache.close()
    engine.calls.clear(), lm.calls.clear(), embedder.calls.clear()

    reopened = EngineCache(path)
    assert cached_scores(engine, reopened, sources=["a", "bb"], targets=["x yy", "zzz"],
                         source_lang="fr", target_lang="en") == scores
    assert cached_token_scores(lm, reopened, ["the cat", "a"], lang="en") == tokens
    again = cached_embed(embedder, reopened, ["abc", "a a", "abc"])
    assert again.dtype == np.float32 and np.array_equal(again, vectors)
    assert engine.calls == lm.calls == embedder.calls == []
    # The same target under another source is another entry.
    cached_scores(engine, reopened, sources=["zz"], targets=["zzz"], source_lang="fr",
                  target_lang="en")
    assert engine.calls == [["zzz"]]


def test_disabled_cache_always_calls_the_engine():
    cache = EngineCache.disabled()
    engine = CountingTranslator()
    for _ in range(2):
        cached_translate(engine, cache, ["Le chat."], source_lang="fr", target_lang="en")
    cached_translate(engine, None, ["Le chat."], source_lang="fr", target_lang="en")
    assert len(engine.calls) == 3 and cache.count() == 0 and not cache.enabled


def _worker(path: str, worker: int, n: int) -> None:
    cache = EngineCache(path)
    engine = CountingTranslator()
    texts = [f"phrase {i}" for i in range(n)] + [f"worker {worker} phrase {i}" for i in range(n)]
    for start in range(0, len(texts), 7):
        cached_translate(engine, cache, texts[start:start + 7], source_lang="fr", target_lang="en")


def test_several_processes_share_one_cache(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(path, w, 40)) for w in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(300)  # spawned interpreters import tqcheck: slow on a loaded machine
    assert [process.exitcode for process in processes] == [0, 0, 0]
    cache = EngineCache(path)
    assert cache.count() == 40 + 3 * 40
    engine = CountingTranslator()
    texts = [f"worker {w} phrase {i}" for w in range(3) for i in range(40)]
    out = cached_translate(engine, cache, texts, source_lang="fr", target_lang="en")
    assert engine.calls == [] and out == [f"en:{t.upper()}" for t in texts]


def test_an_unwritable_cache_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = EngineCache(blocker / "cache.sqlite")
    with pytest.raises(EngineError, match="cannot open the engine cache"):
        cached_translate(CountingTranslator(), cache, ["a"], source_lang="fr", target_lang="en")
