"""Length-sorted batches with the original order restored.

Padding a batch to its longest member wastes work on every shorter one; sorting by length first
makes batches of similar lengths (cf. COMET). Callers compute per-item results batch by batch and
put each back at its original index, so results never depend on how inputs were grouped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices of the items, longest first, in groups of ``batch_size``."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    size = max(1, int(batch_size))
    for start in range(0, len(order), size):
        yield order[start:start + size]


def map_sorted(
    items: Sequence[T],
    run_batch: Callable[[list[T]], list[R]],
    *,
    batch_size: int,
    length: Callable[[T], int] = len,  # type: ignore[assignment]
) -> list[R]:
    """Apply ``run_batch`` to length-sorted batches of ``items``; results in input order."""
    results: list[R | None] = [None] * len(items)
    for indices in sorted_batches([length(item) for item in items], batch_size):
        outputs = run_batch([items[i] for i in indices])
        if len(outputs) != len(indices):
            raise RuntimeError(f"batch of {len(indices)} gave {len(outputs)} results")
        for i, output in zip(indices, outputs):
            results[i] = output
    return results  # type: ignore[return-value]
