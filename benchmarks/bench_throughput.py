"""tqcheck segments per second: per configuration, and per stage, so that the cost of each is visible.

Why: desks score feeds of hundreds of thousands of sentences; they need to know what rules-only gating
costs, what the full offline default costs, which stage dominates, and how much the pipeline adds on top
of its stages. Targets: rules only >= 2,000 segments/s on one core; the full offline default >= 20
segments/s for news-length English on this machine.

Stages, each timed alone on the same segments (French -> English, news length), engine cache off:

- sentence segmentation (``tqcheck.text.segment.split_sentences``, on documents made of the MT lines);
- rule checks (``run_checks``) and the rules-only pipeline, pinned to one core;
- every model signal of the offline default (``Pipeline(CheckConfig(cache="none")).signals``: round
  trip = back-translation, pseudo-reference, forced decoding, fluency, cross-lingual embedding, the
  learned QE model, reference metrics), each on the same batches the pipeline would give it; engine
  loading is a warm-up batch, timed apart;
- fusion (``Fusion.fuse`` on the precomputed rule flags and signal outputs);
- report writing (JSONL, CSV, HTML) of the results;
- the full offline default pipeline end to end, engine cache off, thorough (``--thorough``: every signal
  on every segment; its time minus the sum of its stages is the pipeline's own overhead) and cascaded
  (the default: the expensive signals only where the cheap stage's risk reaches the calibration's
  threshold, ``tqcheck.cascade``), with the share of segments that reached the expensive stage;
- the full default with an engine cache: cold (fresh cache file), then warm (same feed again).

    .venv/bin/python benchmarks/bench_throughput.py [--quick] [--record] [--n 320] [--n-rules 10000]
    .venv/bin/python benchmarks/bench_throughput.py --default-only --n 128   # the full-default rows only
"""

from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import _common as C

#: What each signal's stage is called in the tables (signal name -> stage).
STAGE_NAMES = {
    "roundtrip": "back-translation (round trip)",
    "pseudo_reference": "pseudo-reference",
    "forced": "forced decoding (reference model)",
    "fluency": "fluency (language model)",
    "homograph": "homograph test (target only; idle with a source)",
    "crosslingual": "cross-lingual embedding",
    "qe": "learned QE model",
    "reference": "reference metrics (no human reference in this feed)",
}


class Bench:
    def __init__(self, args: Any) -> None:
        self.args = args
        self.stages = C.Table(["stage", "segments", "load s", "run s", "segments/s", "ms/segment", "notes"])
        self.configs = C.Table(["configuration", "segments", "run s", "segments/s", "target", "met?", "notes"])
        self.checks_table = C.Table(["rule check", "ms per 1k segments", "share of rule time"])
        self.stage_seconds: dict[str, float] = {}
        self.notes: list[str] = []
        self.repeat = int(getattr(args, "repeat", 1) or 1)

    def stage(self, name: str, timing: C.Timing | None, *, load_s: float | None = None, notes: str = "",
              key: str | None = None) -> None:
        if timing is None:
            self.stages.add(name, None, None, None, None, None, notes)
            return
        ms = 1000 * timing.seconds / timing.items if timing.items else None
        self.stages.add(name, timing.items, load_s, timing.seconds, timing.rate, ms, notes)
        if key:
            self.stage_seconds[key] = timing.seconds / timing.items

    def failed(self, name: str, exc: BaseException) -> None:
        traceback.print_exc()
        self.stage(name, None, notes=f"not measured: {type(exc).__name__}: {exc}")


# -- stages -------------------------------------------------------------------------------------------


def segmentation(bench: Bench, pairs) -> None:
    name = "sentence segmentation (sentencex, English documents)"
    try:
        from tqcheck.text.segment import split_sentences

        mts = [mt for _, mt in pairs]
        docs = [" ".join(mts[i:i + 8]) for i in range(0, len(mts), 8)]
        split_sentences(docs[0], "en")  # import and warm
        timing, found = C.timed(lambda: sum(len(split_sentences(d, "en")) for d in docs), len(mts))
        bench.stage(name, timing, notes=f"{len(docs)} documents of 8 MT lines, {found} sentences found; "
                                        "readers of documents only")
    except Exception as exc:  # noqa: BLE001
        bench.failed(name, exc)


#: Caches keyed by a whole segment's text: they only hit on exact repeats, so the distinct-segment rows
#: clear them (word-level caches stay warm, as they are in any long feed).
TEXT_CACHES = ("tqcheck.text.langid:_detect",)


def clear_text_caches() -> None:
    import importlib

    for path in TEXT_CACHES:
        module, _, name = path.partition(":")
        try:
            getattr(importlib.import_module(module), name).cache_clear()
        except (ImportError, AttributeError):
            pass


def rules(bench: Bench, distinct, feed) -> None:
    """Rule checks and the rules-only pipeline on one core: on distinct segments (text caches cleared,
    the honest per-segment cost) and on a feed that repeats them (what the text caches save)."""
    from tqcheck.checks import build_checks, run_checks
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    config = CheckConfig().with_rules_only()
    checks = build_checks(config)
    with C.OneCore():
        for s in distinct:  # load lazy resources (language detector, dictionaries) and word caches
            run_checks(checks, s)
        clear_text_caches()
        timing, _ = C.timed(lambda: [run_checks(checks, s) for s in distinct], len(distinct))
        bench.stage(f"rule checks ({len(checks)} checks), one core, distinct segments", timing, key="checks",
                    notes=", ".join(c.name for c in checks))
        # Per check, so that a slow check stands out.
        per: list[tuple[str, float]] = []
        clear_text_caches()
        for check in checks:
            start = time.perf_counter()
            for s in distinct:
                if check.needs_source and s.source is None:
                    continue
                if check.unavailable_reason(s) is None:
                    list(check.run(s))
            per.append((check.name, time.perf_counter() - start))
        total = sum(t for _, t in per) or 1.0
        for check_name, seconds in sorted(per, key=lambda x: -x[1]):
            bench.checks_table.add(check_name, 1000 * seconds / len(distinct) * 1000, f"{seconds / total:.0%}")

        pipeline = Pipeline(config)
        C.consume(pipeline.run(distinct[:50]))
        clear_text_caches()
        timing, _ = C.timed(lambda: C.consume(pipeline.run(distinct)), len(distinct))
        bench.configs.add(f"rules only (Pipeline, in process), one core, {len(distinct)} distinct segments",
                          timing.items, timing.seconds, timing.rate, ">= 2,000 seg/s", C.target(timing.rate >= 2000),
                          "reading and writing excluded (bench_memory times the CLI); text caches cleared")
        timing, _ = C.timed(lambda: C.consume(pipeline.run(feed)), len(feed))
        bench.configs.add(f"rules only (Pipeline, in process), one core, a {len(feed):,}-segment feed repeating them",
                          timing.items, timing.seconds, timing.rate, "", "",
                          "repeated texts hit the language-identification cache")


def signals_alone(bench: Bench, segments, warm_segments, device: str):
    """Each default signal alone, engine cache off. Returns (rule flags, outputs per signal, pipeline)."""
    from tqcheck.checks import build_checks, run_checks
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline, batched

    config = CheckConfig(cache="none")
    if device != "cpu":
        config = replace(config, engines=replace(config.engines, device=device))
    pipeline = Pipeline(config)
    try:
        signals = list(pipeline.signals)
    except ImportError as exc:  # the engine cache has not landed: build the signals without one
        bench.notes.append(f"engine cache unavailable ({exc}); signals built with cache=None")
        from tqcheck.signals import build_signals

        signals = build_signals(config, cache=None)
        pipeline = Pipeline(config, signals=signals)
    names = [s.name for s in signals]
    if "qe" not in names and config.engines.qe != "none":
        # build_signals adds the learned QE signal only when its weights ship; time it alone if it can run.
        try:
            from tqcheck.signals.qe import QESignal

            qe = QESignal()
            qe.predictor()
            signals.append(qe)
            bench.notes.append("the learned QE signal is not among this checkout's default signals: timed alone "
                               "(QESignal()) and not part of the full-default rows")
        except Exception as exc:  # noqa: BLE001
            bench.stage(STAGE_NAMES["qe"], None, notes=f"not measured: {type(exc).__name__}: {exc}")
    batches = list(batched(segments, config.batch_size))
    outputs: dict[str, list] = {}
    for signal in signals:
        label = STAGE_NAMES.get(signal.name, signal.name)
        try:
            load, _ = C.timed(lambda: signal.compute(warm_segments), len(warm_segments))  # noqa: B023 - called at once

            def run(signal=signal):
                out = []
                for batch in batches:
                    out += signal.compute(batch)
                return out

            timing, out = C.timed(run, len(segments))
            outputs[signal.name] = out
            engines = ", ".join(f"{e.name}{':' + e.model_id if e.model_id else ''}" for e in signal.engines)
            empty = sum(1 for o in out if not o.scores)
            note = f"engines: {engines or 'none'}"
            if empty:
                note += f"; {empty} segments with no output"
            bench.stage(label, timing, load_s=load.seconds, notes=note, key=signal.name)
        except Exception as exc:  # noqa: BLE001 - the engine may not have landed
            bench.failed(label, exc)
    try:
        checks = build_checks(config)
        rule_flags = [run_checks(checks, s) for s in segments]
    except Exception as exc:  # noqa: BLE001
        bench.notes.append(f"fusion timed without rule flags: the checks failed ({type(exc).__name__}: {exc})")
        rule_flags = [[] for _ in segments]
    return rule_flags, outputs, pipeline


def fusion(bench: Bench, segments, rule_flags, outputs):
    from tqcheck.fusion import Fusion

    fuse = Fusion.load(None)
    start = time.perf_counter()
    fuse.fuse(segments[0], rule_flags[0], {k: v[0] for k, v in outputs.items()})
    load_s = time.perf_counter() - start
    timing, results = C.timed(
        lambda: [fuse.fuse(s, rule_flags[i], {k: v[i] for k, v in outputs.items()}) for i, s in enumerate(segments)],
        len(segments))
    bench.stage("fusion", timing, load_s=load_s, key="fusion",
                notes=f"calibration {fuse.calibration_id}; signals: {', '.join(outputs) or 'none'}")
    return results


def reports(bench: Bench, results, signature, tmp: Path) -> None:
    from tqcheck.io.reports import open_report
    from tqcheck.model import SummaryTally

    for ext in ("jsonl", "csv", "html"):
        name = f"report writing ({ext.upper()})"
        try:
            path = tmp / f"report.{ext}"

            def write(path=path):
                tally = SummaryTally()
                writer = open_report(path, signature=signature)
                for result in results:
                    writer.write(result)
                    tally.add(result)
                writer.close(tally.summary())

            write()  # warm (imports)
            timing, _ = C.timed(write, len(results))
            bench.stage(name, timing, key=f"report_{ext}",
                        notes=f"{path.stat().st_size / len(results):.0f} bytes per segment")
        except Exception as exc:  # noqa: BLE001
            bench.failed(name, exc)


def full_default(bench: Bench, pipeline, segments, warm_segments) -> float | None:
    """The full offline default end to end, thorough (every signal on every segment) then cascaded (the
    expensive signals only where the cheap stage's risk reaches the calibration's threshold), on the same
    loaded engines. Returns the thorough rate."""
    from tqcheck.cascade import SKIPPED
    from tqcheck.pipeline import Pipeline

    thorough_pipeline = Pipeline(replace(pipeline.config, thorough=True), checks=pipeline.checks,
                                 signals=pipeline.signals, fusion=pipeline.fusion)
    cascade_pipeline = Pipeline(replace(pipeline.config, thorough=False, cascade=True), checks=pipeline.checks,
                                signals=pipeline.signals, fusion=pipeline.fusion)
    rule = pipeline.fusion.calibration.cascade if pipeline.fusion.calibration else None
    runners = {"thorough": thorough_pipeline, "cascade": cascade_pipeline}
    if rule is None:
        del runners["cascade"]
        bench.configs.add("full offline default, cascade", len(segments), None, None, ">= 15 seg/s",
                          C.target(None), f"not measured: the calibration ({pipeline.calibration_id}) has no "
                                          "cascade threshold, so every run is thorough")
    # Thorough and cascade take turns, ``repeat`` times, so that both see the same machine; each row gives
    # the median run (this 2-core machine's speed drifts by 10-20% from minute to minute).
    timings: dict[str, list[C.Timing]] = {mode: [] for mode in runners}
    last: dict[str, list] = {}
    failed: set[str] = set()
    for _ in range(max(1, bench.repeat)):
        for mode, runner in runners.items():
            if mode in failed:
                continue
            try:
                C.consume(runner.run(warm_segments))
                clear_text_caches()
                timing, last[mode] = C.timed(lambda runner=runner: list(runner.run(segments)), len(segments))
            except Exception as exc:  # noqa: BLE001
                traceback.print_exc()
                failed.add(mode)
                bench.configs.add(f"full offline default, {mode} (Pipeline, engine cache off)", len(segments),
                                  None, None, ">= 20 seg/s", C.target(None),
                                  f"not measured: {type(exc).__name__}: {exc}")
                continue
            timings[mode].append(timing)
    rates: dict[str, float] = {}
    engines = ", ".join(f"{e.role}={e.name}" for e in pipeline.engines())
    for mode, runs in timings.items():
        if not runs or mode in failed:
            continue
        timing = sorted(runs, key=lambda t: t.seconds)[len(runs) // 2]
        rates[mode] = timing.rate
        name = f"full offline default, {mode} (Pipeline, engine cache off)"
        low, high = min(t.rate for t in runs), max(t.rate for t in runs)
        spread = f"median of {len(runs)} runs ({low:.1f}-{high:.1f} seg/s); " if len(runs) > 1 else ""
        if mode == "thorough":
            bench.configs.add(name, timing.items, timing.seconds, timing.rate, ">= 20 seg/s (before the cascade)",
                              C.target(timing.rate >= 20), f"{spread}--thorough; engines: {engines}")
            continue
        skipped = sum(1 for r in last[mode] if SKIPPED in r.artifacts)
        assert rule is not None
        bench.configs.add(name, timing.items, timing.seconds, timing.rate, ">= 15 seg/s, aim 20",
                          C.target(timing.rate >= 15),
                          f"{spread}{'the default' if rule.default else '--cascade (not the default)'}; cheap stage: "
                          f"rule checks + {', '.join(rule.cheap_signals)}, threshold "
                          f"{dict(rule.thresholds)}; {len(segments) - skipped} of {len(segments)} segments "
                          f"({1 - skipped / len(segments):.0%}) reached the expensive stage"
                          + (f"; {timing.rate / rates['thorough']:.2f}x thorough" if "thorough" in rates else ""))
    if "thorough" not in rates:
        return None
    per_segment = 1 / rates["thorough"]
    used = [s.name for s in pipeline.signals]
    parts = {k: v for k, v in bench.stage_seconds.items() if k in used or k in ("checks", "fusion")}
    if parts:
        stage_sum = sum(parts.values())
        overhead = per_segment - stage_sum
        bench.notes.append(
            f"Pipeline overhead: the thorough full default took {1000 * per_segment:.1f} ms/segment; its stages "
            f"alone ({', '.join(sorted(parts))}) sum to {1000 * stage_sum:.1f} ms/segment; the rest, "
            f"{1000 * overhead:.1f} ms/segment ({overhead / per_segment:.0%}), is the pipeline's own work "
            "(batching, language bookkeeping, corpus metrics) and timing noise.")
    return rates["thorough"]


def cached_default(bench: Bench, segments, warm_segments, device: str, tmp: Path) -> None:
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    cache_path = tmp / "engines.sqlite"
    config = CheckConfig(cache=str(cache_path))
    if device != "cpu":
        config = replace(config, engines=replace(config.engines, device=device))
    try:
        cold_pipeline = Pipeline(config)
        C.consume(cold_pipeline.run(warm_segments))  # load engines on segments the timed runs do not use
        clear_text_caches()
        cold, _ = C.timed(lambda: C.consume(cold_pipeline.run(segments)), len(segments))
        warm_pipeline = Pipeline(config)
        warm, _ = C.timed(lambda: C.consume(warm_pipeline.run(segments)), len(segments))
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        bench.configs.add("full offline default, engine cache", len(segments), None, None, "warm >= 20x cold",
                          C.target(None), f"not measured: {type(exc).__name__}: {exc}")
        return
    bench.configs.add("full offline default, cold engine cache (fresh file)", cold.items, cold.seconds, cold.rate,
                      "", "", "engines loaded beforehand on other segments")
    speedup = warm.rate / cold.rate
    bench.configs.add("full offline default, warm engine cache (same feed again)", warm.items, warm.seconds,
                      warm.rate, "warm >= 20x cold", C.target(speedup >= 20),
                      f"{speedup:.1f}x cold; new Pipeline, engines not loaded unless a miss needs them")


def all_rows(bench: Bench, args, all_pairs, segments, warm_segments, rule_segments, tmp: Path) -> None:
    """Every row: segmentation, rule checks, each stage alone, fusion, reports, the full default, the cache."""
    segmentation(bench, [(s.source, s.mt) for s in rule_segments[:2000]])
    try:
        rules(bench, C.make_segments(all_pairs, prefix="d"), rule_segments)
    except Exception as exc:  # noqa: BLE001 - a check may not have landed
        bench.failed("rule checks / rules only", exc)
        bench.configs.add("rules only", len(rule_segments), None, None, ">= 2,000 seg/s", C.target(None),
                          f"not measured: {type(exc).__name__}: {exc}")
    rule_flags, outputs, pipeline = signals_alone(bench, segments, warm_segments, args.device)
    results = fusion(bench, segments, rule_flags, outputs)
    from tqcheck.run import Checker

    reports(bench, results, Checker(pipeline=pipeline).signature(), tmp)
    full_default(bench, pipeline, segments, warm_segments)
    if not args.skip_cache:
        cached_default(bench, segments, warm_segments, args.device, tmp)


def default_rows(bench: Bench, segments, warm_segments, device: str) -> None:
    """Only the full-default rows: a pipeline of the offline default, engine cache off."""
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    config = CheckConfig(cache="none")
    if device != "cpu":
        config = replace(config, engines=replace(config.engines, device=device))
    full_default(bench, Pipeline(config), segments, warm_segments)


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments for the engine stages (default 320; 48 quick)")
    p.add_argument("--n-rules", type=int, default=None, help="segments for the rules-only rows (default 10000)")
    p.add_argument("--device", default="cpu", help="device for the neural engines (cpu, cuda)")
    p.add_argument("--skip-cache", action="store_true", help="leave out the cold/warm cache rows")
    p.add_argument("--target-only", action="store_true",
                   help="withhold the sources from the engine stages and the full default: a target-only check")
    p.add_argument("--repeat", type=int, default=1,
                   help="run thorough and cascade this many times each, taking turns; rows give the median")
    p.add_argument("--default-only", action="store_true",
                   help="only the full-default rows (thorough and cascade), without the stages alone and the rule rows")
    args = p.parse_args()
    n = args.n or (48 if args.quick else 320)
    n_rules = args.n_rules or (2000 if args.quick else 10000)
    all_pairs = C.load_pairs()
    pairs = all_pairs[:n]
    warm_pairs = all_pairs[n:n + 16] if len(all_pairs) >= n + 16 else all_pairs[-16:]
    segments = C.make_segments(pairs)
    warm_segments = C.make_segments(warm_pairs, prefix="warm")
    rule_segments = C.make_segments(C.feed_pairs(n_rules))
    if args.target_only:
        segments = [replace(s, source=None) for s in segments]
        warm_segments = [replace(s, source=None) for s in warm_segments]

    title = ("Throughput of the full default, thorough and cascade" if args.default_only
             else "Throughput per configuration and per stage") + (", target only" if args.target_only else "")
    section = C.Section(title, device=args.device)
    bench = Bench(args)
    tmp = Path(tempfile.mkdtemp(prefix="tqbench-throughput-"))
    try:
        if args.default_only:
            default_rows(bench, segments, warm_segments, args.device)
        else:
            all_rows(bench, args, all_pairs, segments, warm_segments, rule_segments, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    section.tables += [(caption, table) for caption, table in (
        ("Configurations:", bench.configs), ("Stages, each alone:", bench.stages),
        ("Rule checks, each alone (one core):", bench.checks_table)) if table.rows]
    if args.default_only:
        section.notes += [
            f"Full default: {C.describe_pairs(pairs)}"
            f"{' (sources withheld from the checker)' if args.target_only else ''}; engine cache off; engines "
            "loaded on a warm-up batch of 16 other segments first; thorough and cascade share the loaded engines.",
            *bench.notes,
        ]
    else:
        section.notes += [
            f"Engine stages and full default: {C.describe_pairs(pairs)}"
            f"{' (sources withheld from the checker)' if args.target_only else ''}; rule rows: all "
            f"{C.describe_pairs(all_pairs)}, and a feed of "
            f"{C.describe_pairs([(s.source, s.mt) for s in rule_segments])}.",
            "Distinct-segment rule rows: warmed up on the same segments (lingua models and word-level caches "
            f"loaded), then the caches keyed by a whole text ({', '.join(TEXT_CACHES)}) cleared.",
            "Engine cache off for every stage and the full-default row ('load s' is a warm-up batch of 16 other "
            "segments, which loads the engine); 'one core' rows pin the process to one CPU.",
            *bench.notes,
        ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
