"""Turn (MT, source, labels) records into padded tensors, keeping each MT token's character span.

Shared by training and inference so both see exactly the same input: ``<s> MT </s></s> src </s>``,
truncated to ``max_length`` by cutting the source first (the MT carries the tags) and never the MT
below half the budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqcheck.qe.model import BAD, IGNORE, MAJOR, MINOR, OK

SEVERITY_LABEL = {"minor": MINOR, "major": MAJOR, "critical": MAJOR, "bad": BAD}
_RANK = {OK: 0, BAD: 1, MINOR: 2, MAJOR: 3}


@dataclass
class Example:
    """One training or inference row. ``spans`` are ``(start, end, severity)`` on the MT."""

    mt: str
    source: str | None = None
    spans: list[tuple[int, int, str]] | None = None  # None: no token labels
    has_major: int = -1  # -1: unknown
    quality: float = math.nan
    group: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def token_labels(offsets: Sequence[tuple[int, int]], spans: list[tuple[int, int, str]] | None) -> list[int]:
    if spans is None:
        return [IGNORE] * len(offsets)
    labels = []
    for start, end in offsets:
        if end <= start:
            labels.append(IGNORE)  # zero-width token (a bare "▁"): nothing to tag
            continue
        label = OK
        for s, e, sev in spans:
            new = SEVERITY_LABEL.get(sev, OK)
            if start < e and s < end and _RANK[new] > _RANK[label]:
                label = new
        labels.append(label)
    return labels


def collate(tokenizer: Any, examples: Sequence[Example], max_length: int) -> dict[str, Any]:
    """Pad a batch; also return each row's MT token offsets (python lists) for span decoding."""
    import torch

    mt_enc = tokenizer.encode_batch([e.mt for e in examples])
    src_enc = tokenizer.encode_batch([e.source or "" for e in examples])
    rows, mt_offsets = [], []
    for ex, mt, src in zip(examples, mt_enc, src_enc):
        has_src = bool(ex.source)
        budget = max_length - (4 if has_src else 2)
        n_mt = len(mt.ids)
        n_src = len(src.ids) if has_src else 0
        if n_mt + n_src > budget:
            n_mt = min(n_mt, max(budget - n_src, budget // 2))
            n_src = min(n_src, budget - n_mt)
        ids = [tokenizer.bos] + mt.ids[:n_mt] + [tokenizer.eos]
        mt_pos = list(range(1, 1 + n_mt))
        if has_src:
            ids += [tokenizer.eos] + src.ids[:n_src] + [tokenizer.eos]
        src_pos = list(range(n_mt + 3, n_mt + 3 + n_src)) if has_src else []
        offsets = mt.offsets[:n_mt]
        labels = token_labels(offsets, ex.spans)
        rows.append((ids, mt_pos, src_pos, labels))
        mt_offsets.append(offsets)
    width = max(len(r[0]) for r in rows)
    n = len(rows)
    input_ids = torch.full((n, width), tokenizer.pad, dtype=torch.long)
    attention = torch.zeros((n, width), dtype=torch.long)
    mt_mask = torch.zeros((n, width), dtype=torch.bool)
    src_mask = torch.zeros((n, width), dtype=torch.bool)
    tok_labels = torch.full((n, width), IGNORE, dtype=torch.long)
    for i, (ids, mt_pos, src_pos, labels) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attention[i, : len(ids)] = 1
        mt_mask[i, mt_pos] = True
        if src_pos:
            src_mask[i, src_pos] = True
        if mt_pos:
            tok_labels[i, mt_pos] = torch.tensor(labels, dtype=torch.long)
    return {
        "input_ids": input_ids,
        "attention_mask": attention,
        "mt_mask": mt_mask,
        "src_mask": src_mask,
        "token_labels": tok_labels,
        "has_major": torch.tensor([e.has_major for e in examples], dtype=torch.long),
        "quality": torch.tensor([e.quality for e in examples], dtype=torch.float32),
        "mt_offsets": mt_offsets,
    }
