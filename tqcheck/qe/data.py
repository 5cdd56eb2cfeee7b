"""The training mixture over ``../shared/train`` (real human labels) plus synthetic errors.

Label scales differ per dataset (see the README there), so each row keeps only what it really has:

- MQM rows (Bio-MQM, Google newstest2020 and TED, WMT19/20 en-fr, WMT22 en-ru): span severities
  (critical -> major, neutral -> not an error), ``has_major``, and a quality target
  ``-(penalty - mean) / std`` normalised per (dataset, language pair).
- word-tag rows (MLQE-PE, WMT22 word tags and post-edit tags): BAD spans without severity, and
  their DA / MQM z-score, normalised per (dataset, language pair), as quality.
- DA rows (WMT23): quality only.
- synthetic rows: a human reference with one injected error (``synthetic``), or the untouched
  reference as a clean pair (``has_major = 0``, all tokens OK).

``Mixture`` draws pools by fixed weights with its own ``random.Random`` so that a seed and a step
count reproduce the stream, and its state goes into checkpoints for ``--resume``.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqcheck.qe.features import Example
from tqcheck.qe.synthetic import _WORD, ErrorMaker

#: pool -> (files, weight in the mixture)
POOLS: dict[str, tuple[tuple[str, ...], float]] = {
    "bio_mqm": (("bio_mqm_other.jsonl.gz",), 0.28),
    "news_mqm": (("google_mqm_newstest2020.jsonl.gz",), 0.14),
    "ted_mqm": (("google_mqm_ted.jsonl.gz",), 0.08),
    "enfr_mqm": (("wmt19_20_qe_enfr_mqm.jsonl.gz",), 0.04),
    "enru_mqm": (("wmt22_qe_mqm.jsonl.gz",), 0.02),
    "word_tags": (("mlqe_pe_traindev.jsonl.gz", "mlqe_pe_test21.jsonl.gz", "wmt22_qe_mqm_wordtags.jsonl.gz",
                   "wmt22_qe_da.jsonl.gz"), 0.12),
    "da": (("wmt23_qe_da.jsonl.gz",), 0.04),
    "synthetic": ((), 0.18),
    "clean_reference": ((), 0.10),
}
#: files whose human references feed the synthetic pools
REFERENCE_FILES = ("bio_mqm_other.jsonl.gz", "google_mqm_newstest2020.jsonl.gz", "google_mqm_ted.jsonl.gz")
MAX_MT_CHARS = 400


def _read(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def _spans(row: dict[str, Any]) -> list[tuple[int, int, str]] | None:
    spans = row.get("spans")
    if spans is None:
        return None
    return [(int(s["start"]), int(s["end"]), str(s["severity"]).lower()) for s in spans
            if str(s["severity"]).lower() in ("minor", "major", "critical", "bad")]


def _zscore(values: dict[tuple[str, str], list[float]]) -> dict[tuple[str, str], tuple[float, float]]:
    out = {}
    for key, vals in values.items():
        mean = statistics.fmean(vals)
        std = statistics.pstdev(vals) or 1.0
        out[key] = (mean, std)
    return out


def load_pools(train_dir: Path, *, max_rows_per_file: int | None = None) -> dict[str, list[Example]]:
    """Read every labelled row once; return examples per pool (synthetic pools hold references)."""
    pools: dict[str, list[Example]] = {}
    raw_q: dict[tuple[str, str], list[float]] = defaultdict(list)
    staged: dict[str, list[tuple[Example, tuple[str, str], float]]] = defaultdict(list)
    references: dict[tuple[str, str], str] = {}
    for pool, (files, _) in POOLS.items():
        for name in files:
            for i, row in enumerate(_read(train_dir / name)):
                if max_rows_per_file is not None and i >= max_rows_per_file:
                    break
                mt, src = row.get("mt") or "", row.get("source")
                if not mt.strip() or len(mt) > MAX_MT_CHARS:
                    continue
                key = (row["dataset"], row["lp"])
                if pool.endswith("_mqm"):
                    penalty = row.get("mqm_penalty")
                    q_raw = -float(penalty) if penalty is not None else math.nan
                    ex = Example(mt=mt, source=src, spans=_spans(row), has_major=int(bool(row.get("has_major"))),
                                 group=pool, meta={"lp": row["lp"], "id": row["id"]})
                else:
                    z = row.get("da_z_mean", row.get("mqm_official_z"))
                    q_raw = float(z) if z is not None else math.nan
                    spans = _spans(row) if pool == "word_tags" else None
                    ex = Example(mt=mt, source=src, spans=spans, group=pool,
                                 meta={"lp": row["lp"], "id": row["id"]})
                if not math.isnan(q_raw):
                    raw_q[key].append(q_raw)
                staged[pool].append((ex, key, q_raw))
                if name in REFERENCE_FILES and row.get("reference") and src:
                    references[(src, row["reference"])] = row["lp"]
    norms = _zscore(raw_q)
    for pool, items in staged.items():
        out = []
        for ex, key, q_raw in items:
            if not math.isnan(q_raw):
                mean, std = norms[key]
                ex.quality = max(-4.0, min(4.0, (q_raw - mean) / std))
            out.append(ex)
        pools[pool] = out
    refs = [Example(mt=ref, source=src, spans=[], has_major=0, group="clean_reference", meta={"lp": lp})
            for (src, ref), lp in sorted(references.items()) if len(ref) <= MAX_MT_CHARS]
    pools["clean_reference"] = refs
    pools["synthetic"] = refs
    return pools


class Mixture:
    """An endless, seeded stream of examples drawn from the pools by weight."""

    def __init__(self, pools: dict[str, list[Example]], seed: int, *, source_dropout: float = 0.0) -> None:
        """``source_dropout``: the share of examples drawn without their source, so that the model
        learns the target-only input (``<s> MT </s>``) that checks without a source give it."""
        self.source_dropout = source_dropout
        self.pools = {k: v for k, v in pools.items() if v}
        self.names = sorted(self.pools)
        self.weights = [POOLS[n][1] for n in self.names]
        self.rng = random.Random(seed)
        self._makers: dict[str, ErrorMaker] = {}
        self.counts: dict[str, int] = defaultdict(int)

    def _maker(self, lang: str) -> ErrorMaker:
        if lang not in self._makers:
            words: list[str] = []
            for ex in self.pools.get("clean_reference", []):
                if ex.meta["lp"].split("-")[1] == lang:
                    words.extend(m.group() for m in _WORD.finditer(ex.mt))
            self._makers[lang] = ErrorMaker(words[:400_000], self.rng)  # draws nothing at build time
        return self._makers[lang]

    def draw(self) -> Example:
        ex = self._draw()
        # no draw at all without dropout: streams of runs made before the option stay the same
        if self.source_dropout and ex.source and self.rng.random() < self.source_dropout:
            self.counts["target_only"] += 1
            return replace(ex, source=None)
        return ex

    def _draw(self) -> Example:
        while True:
            name = self.rng.choices(self.names, self.weights)[0]
            ex = self.rng.choice(self.pools[name])
            if name != "synthetic":
                self.counts[name] += 1
                return ex
            lang = ex.meta["lp"].split("-")[1]
            maker = self._maker(lang)
            maker.rng = self.rng
            damaged = maker.make(ex.mt, ex.source or "", lang)
            if damaged is None:
                continue
            self.counts["synthetic:" + damaged.kind] += 1
            return Example(mt=damaged.text, source=ex.source, spans=list(damaged.spans),
                           has_major=damaged.has_major, group="synthetic",
                           meta={"lp": ex.meta["lp"], "kind": damaged.kind})

    def batch(self, size: int) -> list[Example]:
        return [self.draw() for _ in range(size)]

    def state(self) -> Any:
        return self.rng.getstate()

    def set_state(self, state: Any) -> None:
        self.rng.setstate(_tuplify(state))


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


def load_eval_rows(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def dev_split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split dev rows by source sentence into a checkpoint-selection half and a held-out half.

    The same source appears once per MT system, so splitting by source keeps the held-out half free
    of sentences seen while choosing checkpoints.
    """
    import hashlib

    select: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for row in rows:
        h = int(hashlib.md5(row["source"].encode()).hexdigest(), 16) % 2
        (select if h == 0 else held).append(row)
    return select, held
