"""tqcheck's offline default against a CometKiwi-sized scorer, on the same inputs, in one run.

Why: desks compare tqcheck with the neural QE model they would otherwise run (Unbabel's CometKiwi, an
XLM-RoBERTa-large encoder; COMET issue #5 reports 30-40 minutes for 400 sentences on a CPU). The
target is tqcheck's full offline default at least 10x the scorer's throughput.

The scorer is XLM-RoBERTa large (~560M parameters) with random weights: one forward pass per batch of
16 (source, MT) pairs, ``<s> mt </s></s> src </s>`` truncated to 256 tokens, length-sorted batches,
``torch.inference_mode``. CometKiwi's estimator head is a few small layers on top and is left out, so
the baseline is if anything slightly fast. tqcheck runs ``Pipeline(CheckConfig(cache="none"))`` (every
default engine, no engine cache) on the same pairs. Model loading is timed separately for both.

    .venv/bin/python benchmarks/bench_cometkiwi.py [--quick] [--record] [--n 160] [--device cuda]
"""

from __future__ import annotations

import time
import traceback

import _common as C
from _baselines import build_xlmr_large, kiwi_batches, kiwi_forward, xlmr_tokenizer


def run_tqcheck_default(pairs, warm_pairs, device: str):
    """The full default, thorough, then cascaded (``--cascade``) with the same loaded engines: the
    cascade's timing, and the share of segments that reached its expensive stage (None: no threshold)."""
    from dataclasses import replace

    from tqcheck.cascade import SKIPPED
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    config = CheckConfig(cache="none")
    if device != "cpu":
        config = replace(config, engines=replace(config.engines, device=device))
    pipeline = Pipeline(replace(config, thorough=True))
    warm = C.make_segments(warm_pairs, prefix="warm")
    load, _ = C.timed(lambda: C.consume(pipeline.run(warm)), len(warm))
    segments = C.make_segments(pairs)
    timing, _ = C.timed(lambda: C.consume(pipeline.run(segments)), len(segments))
    engines = ", ".join(f"{e.role}={e.name}" for e in pipeline.engines()) or "none"
    cascaded = None
    if pipeline.fusion.calibration is not None and pipeline.fusion.calibration.cascade is not None:
        cascade = Pipeline(replace(config, cascade=True), checks=pipeline.checks, signals=pipeline.signals,
                           fusion=pipeline.fusion)
        results: list = []
        cascade_timing, _ = C.timed(lambda: results.extend(cascade.run(segments)), len(segments))
        reached = sum(1 for r in results if SKIPPED not in r.artifacts) / len(results)
        cascaded = (cascade_timing, reached)
    return timing, load.seconds, engines, cascaded


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="number of (source, MT) pairs (default 160; 32 with --quick)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--dtype", default=None, help="scorer dtype, e.g. float16 on cuda (default float32)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--skip-tqcheck", action="store_true", help="measure the scorer only")
    args = p.parse_args()
    n = args.n or (32 if args.quick else 160)
    all_pairs = C.load_pairs()
    pairs = all_pairs[:n]
    warm_pairs = (all_pairs[n:] + all_pairs)[:8]  # other pairs where there are any
    section = C.Section("tqcheck offline default vs a CometKiwi-sized scorer", device=args.device)

    table = C.Table(["system", "segments", "load s", "run s", "segments/s", "notes"])
    tq_rate = cascade_rate = None
    if not args.skip_tqcheck:
        try:
            timing, load_s, engines, cascaded = run_tqcheck_default(pairs, warm_pairs, args.device)
            tq_rate = timing.rate
            table.add("tqcheck offline default, thorough (engine cache off)", timing.items, load_s, timing.seconds,
                      timing.rate, f"engines: {engines}")
            if cascaded is not None:
                cascade_timing, reached = cascaded
                cascade_rate = cascade_timing.rate
                table.add("tqcheck offline default, --cascade (engine cache off)", cascade_timing.items, None,
                          cascade_timing.seconds, cascade_timing.rate,
                          f"the same loaded engines; {reached:.0%} of the segments reached the expensive stage")
        except Exception as exc:  # noqa: BLE001 - the table says why
            traceback.print_exc()
            table.add("tqcheck offline default", len(pairs), None, None, None,
                      f"not measured: {type(exc).__name__}: {exc}")

    encode, vocab_note = xlmr_tokenizer([t for pair in pairs for t in pair])
    batches = kiwi_batches(pairs, encode, batch_size=args.batch_size, max_length=256)
    start = time.perf_counter()
    model, params = build_xlmr_large(args.device, args.dtype)
    if args.device.startswith("cuda"):  # first CUDA call pays for kernels and allocator
        kiwi_forward(model, batches[:1], args.device)
    load_s = time.perf_counter() - start
    timing, tokens = C.timed(lambda: kiwi_forward(model, batches, args.device), len(pairs))
    kiwi_rate = timing.rate
    table.add(f"CometKiwi-sized: XLM-R large, {params / 1e6:.0f}M params, random weights, "
              f"batch {args.batch_size}, max 256, {args.dtype or 'float32'}",
              timing.items, load_s, timing.seconds, kiwi_rate,
              f"{tokens / len(pairs):.0f} tokens per pair; {tokens / timing.seconds:,.0f} tokens/s")

    ratio = tq_rate / kiwi_rate if tq_rate else None
    summary = C.Table(["measure", "value", "target", "met?"])
    summary.add("tqcheck default / CometKiwi-sized throughput", f"{ratio:.1f}x" if ratio else "not measured",
                ">= 10x", C.target(ratio >= 10 if ratio else None))
    if cascade_rate:
        summary.add("tqcheck default with --cascade / CometKiwi-sized throughput", f"{cascade_rate / kiwi_rate:.1f}x",
                    ">= 5x, aim 10x", C.target(cascade_rate / kiwi_rate >= 5))
    section.tables += [(None, table), ("Ratio:", summary)]
    section.notes += [
        f"Inputs: {C.describe_pairs(pairs)}.",
        f"Scorer tokenisation: {vocab_note}; forward pass over the encoder only (CometKiwi's small "
        "estimator head left out); `torch.inference_mode`, length-sorted batches.",
        "tqcheck: `Pipeline(CheckConfig(cache='none', thorough=True))` (every default engine on every segment, "
        "engine cache off), then the same engines with `cascade=True` (the shipped threshold, opt-in); "
        "'load s' is a warm-up on 8 other segments, which loads the engines (engine cache off).",
    ]
    if args.device == "cpu":
        import torch

        section.notes.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads.")
    C.finish(section, args)


if __name__ == "__main__":
    main()
