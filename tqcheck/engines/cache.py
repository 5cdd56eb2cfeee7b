"""An on-disk cache of engine outputs, so that re-checking an unchanged feed does no model work.

Entries are keyed by (engine, task, source language, target language, sha256 of the input text):
the engine part is ``EngineInfo.key`` with its role, which holds the model id, revision and package
versions, so a new model or version never reads a stale entry. Values are JSON (translations, token
scores) or float32 bytes (embeddings). SQLite in WAL mode lets several processes read and write one
cache file at once; each process opens its own connection.

The ``cached_*`` helpers look every input up, send only the misses to the engine (in one batch,
each distinct text once) and return results in input order.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqcheck.engines.base import TokenScore, TokenScores
from tqcheck.errors import EngineError

if TYPE_CHECKING:
    import numpy as np

    from tqcheck.engines.base import Embedder, LanguageModel, ScoringTranslator, Translator
    from tqcheck.model import EngineInfo

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    engine TEXT NOT NULL,
    task TEXT NOT NULL,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (engine, task, source_lang, target_lang, text_sha256)
) WITHOUT ROWID
"""
_CHUNK = 400  # keys per SELECT, well under SQLite's parameter limit


def _open_shared(path: os.PathLike[str] | str, attempts: int = 20) -> sqlite3.Connection:
    """Open the cache, tolerating other processes that create or switch it to WAL at the same time.

    SQLite's busy timeout does not cover ``PRAGMA journal_mode=WAL`` on a database another process is
    creating: that statement can fail at once with "database is locked". It is retried with backoff.
    """
    import time

    for attempt in range(attempts):
        conn = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def text_key(*parts: str) -> str:
    """sha256 of the text (or of several texts joined by NUL, e.g. a source and its target)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def info_key(info: EngineInfo) -> str:
    return f"{info.role}|{info.key}"


class EngineCache:
    """SQLite cache of engine outputs at ``path`` (created on first use).

    ``EngineCache.disabled()`` is a cache that stores nothing, for ``--cache none``. ``hits`` and
    ``misses`` count lookups made through this object, for reports and tests.
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path).expanduser() if path is not None else None
        self.hits = 0
        self.misses = 0
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def disabled(cls) -> EngineCache:
        return cls(None)

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def __repr__(self) -> str:
        return f"EngineCache({str(self.path) if self.path else 'disabled'})"

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross a fork: reopen in a child process.
        if self._conn is None or self._pid != os.getpid():
            assert self.path is not None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = _open_shared(self.path)
            except (sqlite3.Error, OSError) as exc:
                raise EngineError(f"cannot open the engine cache: {exc}", where=str(self.path),
                                  fix="choose another --cache path, or --cache none") from exc
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def get_many(self, engine: str, task: str, source_lang: str, target_lang: str,
                 keys: Sequence[str]) -> dict[str, bytes]:
        """Stored values of the keys that are present."""
        if not self.enabled or not keys:
            if keys:
                self.misses += len(keys)
            return {}
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            conn = self._connection()
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT text_sha256, value FROM entries WHERE engine=? AND task=? AND "
                    f"source_lang=? AND target_lang=? AND text_sha256 IN ({marks})",
                    (engine, task, source_lang, target_lang, *chunk),
                ).fetchall()
                found.update((key, bytes(value)) for key, value in rows)
        hits = sum(1 for key in keys if key in found)
        self.hits += hits
        self.misses += len(keys) - hits
        return found

    def put_many(self, engine: str, task: str, source_lang: str, target_lang: str,
                 items: Iterable[tuple[str, bytes]]) -> None:
        if not self.enabled:
            return
        rows = [(engine, task, source_lang, target_lang, key, sqlite3.Binary(value))
                for key, value in items]
        if not rows:
            return
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def count(self) -> int:
        if not self.enabled or not self.path.exists():  # type: ignore[union-attr]
            return 0
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def _cached(cache: EngineCache | None, engine: Any, *args: Any) -> list[Any]:
    return cached_outputs(cache, engine.info, *args)


def cached_outputs(
    cache: EngineCache | None,
    info: EngineInfo,
    task: str,
    source_lang: str,
    target_lang: str,
    keys: Sequence[str],
    compute: Callable[[list[int]], list[Any]],
    encode: Callable[[Any], bytes],
    decode: Callable[[bytes], Any],
) -> list[Any]:
    """Look ``keys`` up, compute the misses (first index of each distinct key) in one call.

    ``info`` identifies what computes the values (an engine's ``info``, or a model or metric that is
    not an engine, such as the QE signal's model or sacrebleu): its key is part of the cache key."""
    if cache is None or not cache.enabled:
        return compute(list(range(len(keys))))
    name = info_key(info)
    stored = cache.get_many(name, task, source_lang, target_lang, keys)
    results: list[Any] = [None] * len(keys)
    missing_first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in stored:
            results[i] = decode(stored[key])
        else:
            missing_first.setdefault(key, i)
    if missing_first:
        indices = list(missing_first.values())
        computed = compute(indices)
        if len(computed) != len(indices):
            raise EngineError(f"engine {name} returned {len(computed)} results for "
                              f"{len(indices)} inputs")
        cache.put_many(name, task, source_lang, target_lang,
                       ((keys[i], encode(value)) for i, value in zip(indices, computed)))
        by_key = {keys[i]: value for i, value in zip(indices, computed)}
        for i, key in enumerate(keys):
            if results[i] is None and key in by_key:
                results[i] = by_key[key]
    return results


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _scores_to_bytes(scores: TokenScores) -> bytes:
    return _json([[t.start, t.end, t.text, t.logprob] for t in scores])


def _scores_from_bytes(blob: bytes) -> TokenScores:
    return tuple(TokenScore(int(s), int(e), str(t), float(lp)) for s, e, t, lp in json.loads(blob))


def cached_translate(engine: Translator, cache: EngineCache | None, texts: Sequence[str], *,
                     source_lang: str, target_lang: str) -> list[str]:
    texts = list(texts)
    return _cached(
        cache, engine, "translate", source_lang, target_lang, [text_key(t) for t in texts],
        lambda idx: engine.translate([texts[i] for i in idx], source_lang=source_lang,
                                     target_lang=target_lang),
        _json, lambda blob: str(json.loads(blob)),
    )


def cached_scores(engine: ScoringTranslator, cache: EngineCache | None, *,
                  sources: Sequence[str], targets: Sequence[str], source_lang: str,
                  target_lang: str) -> list[TokenScores]:
    """Forced-decoding token scores of (source, target) pairs, cached."""
    sources, targets = list(sources), list(targets)
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
    return _cached(
        cache, engine, "score", source_lang, target_lang,
        [text_key(s, t) for s, t in zip(sources, targets)],
        lambda idx: engine.score(sources=[sources[i] for i in idx],
                                 targets=[targets[i] for i in idx],
                                 source_lang=source_lang, target_lang=target_lang),
        _scores_to_bytes, _scores_from_bytes,
    )


def cached_token_scores(lm: LanguageModel, cache: EngineCache | None, texts: Sequence[str], *,
                        lang: str) -> list[TokenScores]:
    texts = list(texts)
    return _cached(
        cache, lm, "lm", lang, "", [text_key(t) for t in texts],
        lambda idx: lm.token_scores([texts[i] for i in idx], lang=lang),
        _scores_to_bytes, _scores_from_bytes,
    )


def cached_embed(embedder: Embedder, cache: EngineCache | None,
                 texts: Sequence[str]) -> np.ndarray:
    """Embeddings (float32 rows) of ``texts``, cached as raw float32 bytes."""
    import numpy as np

    texts = list(texts)

    def compute(idx: list[int]) -> list[Any]:
        return list(np.asarray(embedder.embed([texts[i] for i in idx]), dtype=np.float32))

    rows = _cached(
        cache, embedder, "embed", "", "", [text_key(t) for t in texts], compute,
        lambda row: np.asarray(row, dtype=np.float32).tobytes(),
        lambda blob: np.frombuffer(blob, dtype=np.float32).copy(),
    )
    if not rows:
        return np.asarray(embedder.embed([]), dtype=np.float32)
    return np.vstack(rows).astype(np.float32, copy=False)
