"""Pipeline batch size under the cascade: speed in turns in one process, and how far results move (issue 13).

Why: under the cascade only some segments of a pipeline batch reach the round trip and the pseudo-reference,
and each Apertium call has a fixed cost (the tagger and the text formatters start per call), so the batch
size decides how many sentences share that cost. Results move with it, since Apertium's output for a
sentence depends on the sentences before it in the same call and bf16 rounding on which sentences share an
engine batch; the baseline for that movement is the same size with the batch boundaries moved.

    .venv/bin/python benchmarks/bench_pipeline_batch.py [--n 512] [--rounds 2] [--record]

The default pipeline (cascade where the calibration says so, engine cache off) on the bench's first N
news segments, with pipeline batches of each size taking turns; the engines are loaded once (a warm-up
batch of 16 other segments) and shared.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import _common as C

SIZES = (128, 256, 512)


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 512; 96 with --quick)")
    p.add_argument("--rounds", type=int, default=2, help="rounds, sizes taking turns; the median is kept")
    args = p.parse_args()
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    n = args.n or (96 if args.quick else 512)
    pairs = C.load_pairs()
    segments = C.make_segments(pairs[:n])
    warm = C.make_segments(pairs[n:n + 16], prefix="warm")
    section = C.Section("Pipeline batch size under the cascade: speed and result movement (issue 13)")
    base = Pipeline(CheckConfig(cache="none"))
    list(base.run(warm))

    def run(size: int, items: list) -> tuple[float, dict]:
        pipeline = Pipeline(replace(base.config, batch_size=size), checks=base.checks, signals=base.signals,
                            fusion=base.fusion)
        started = time.perf_counter()
        results = {r.segment.id: r for r in pipeline.run(items)}
        return time.perf_counter() - started, results

    rates: dict[int, list[float]] = {}
    first: dict[int, dict] = {}
    for _ in range(args.rounds):
        for size in SIZES:
            seconds, results = run(size, segments)
            rates.setdefault(size, []).append(len(segments) / seconds)
            first.setdefault(size, results)
            print(f"batch {size}: {rates[size][-1]:.2f} segments/s", flush=True)
    shift = min(SIZES) // 2
    _, shifted = run(min(SIZES), segments[shift:])

    def movement(a: dict, b: dict) -> tuple[int, float, float, int, int]:
        ids = [i for i in a if i in b]
        diffs = [abs(a[i].risk - b[i].risk) for i in ids]

        def shown(result: object) -> list:
            return sorted((f.check, f.severity.name, f.span.start if f.span else -1)
                          for f in result.shown_flags)  # type: ignore[attr-defined]

        changed = sum(shown(a[i]) != shown(b[i]) for i in ids)
        return len(ids), max(diffs), sum(diffs) / len(diffs), sum(d > 1e-3 for d in diffs), changed

    table = C.Table(["pipeline batch", "segments/s (median)", "range", "vs 128",
                     "risk |diff| vs 128: max / mean", "risks moved > 0.001", "segments whose shown flags differ"])
    median = {size: statistics.median(r) for size, r in rates.items()}
    for size in SIZES:
        spread = f"{min(rates[size]):.1f}-{max(rates[size]):.1f}"
        row = [size, median[size], spread, f"{median[size] / median[128]:.2f}x"]
        if size == 128:
            row += ["-", "-", "-"]
        else:
            count, top, mean, moved, changed = movement(first[128], first[size])
            row += [f"{top:.4f} / {mean:.5f}", f"{moved} of {count}", changed]
        table.add(*row)
    count, top, mean, moved, changed = movement(first[128], shifted)
    table.add(f"128, boundaries moved by {shift} (baseline of movement)", "-", "-", "-", f"{top:.4f} / {mean:.5f}",
              f"{moved} of {count}", changed)
    section.tables.append((None, table))
    section.notes.append(f"{C.describe_pairs(pairs[:n])}; the default pipeline (cascade on), engine cache off; "
                         f"median of {args.rounds} rounds, sizes taking turns in one process.")
    C.finish(section, args)


if __name__ == "__main__":
    main()
