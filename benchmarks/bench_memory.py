"""Peak memory of ``tqcheck check`` on growing feeds: it must stay flat as the feed grows.

Why: a desk streams feeds of a million lines through ``tqcheck check``; the reader, the pipeline and
the report writers stream, so peak memory must not depend on the feed's length. Target (issue 2): a
1,000,000-segment JSONL feed, rules only, under 500 MB peak RSS, and the same peak as for 10,000.

Each run is a separate process, the real CLI as users call it; its peak resident set size comes from
``os.wait4`` (the kernel's ``ru_maxrss`` of that one child). The feeds (``id``, ``source``, ``mt``;
the 907 distinct French -> English pairs of ../shared/eval repeated) are written to a temporary folder.

    .venv/bin/python benchmarks/bench_memory.py [--quick] [--record] [--sizes 10000,100000,1000000]
        [--default-sizes 1000,10000]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C

TQCHECK = C.ROOT / ".venv" / "bin" / "tqcheck"


def run_check(feed: Path, out: Path, extra: list[str], *, one_core: bool) -> tuple[float, float, int, str]:
    """Run the CLI once; return (wall seconds, peak RSS MiB, exit code, stderr tail)."""
    exe = str(TQCHECK) if TQCHECK.exists() else shutil.which("tqcheck") or "tqcheck"
    argv = [exe, "check", str(feed), "-s", "fr", "-t", "en", "-o", str(out), "-q", *extra]
    if one_core and shutil.which("taskset"):
        argv = ["taskset", "-c", str(max(os.sched_getaffinity(0))), *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the maximum over all children).
    stderr_chunks: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    rss_mib = usage.ru_maxrss / 1024  # Linux: kilobytes
    return wall, rss_mib, proc.returncode, ("".join(stderr_chunks))[-500:]


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--sizes", default=None, help="rules-only feed sizes (default 10000,100000,1000000)")
    p.add_argument("--default-sizes", default=None,
                   help="offline-default feed sizes (default 1000,10000; '' to skip)")
    p.add_argument("--distinct", type=int, default=100,
                   help="offline-default feeds cycle through this many distinct pairs (default 100)")
    p.add_argument("--tmp", default=None, help="where to write feeds and reports (default a temp folder)")
    p.add_argument("--references", action="store_true",
                   help="rules-only feeds carry a human reference per record (corpus chrF/BLEU/TER are computed)")
    args = p.parse_args()
    sizes = [int(x) for x in (args.sizes if args.sizes is not None
                              else ("1000,10000" if args.quick else "10000,100000,1000000")).split(",") if x]
    default_sizes = [int(x) for x in (args.default_sizes if args.default_sizes is not None
                                      else ("100,300" if args.quick else "1000,10000")).split(",") if x]
    section = C.Section("Peak memory of `tqcheck check` as the feed grows")
    work = Path(tempfile.mkdtemp(prefix="tqbench-memory-", dir=args.tmp))
    table = C.Table(["configuration", "segments", "wall s", "segments/s (incl. start-up)", "peak RSS MiB",
                     "report lines", "exit", "notes"])
    rss: dict[str, list[tuple[int, float]]] = {"rules": [], "default": []}
    rates: dict[int, float] = {}
    try:
        for size in sizes:
            feed = C.write_feed(work / f"feed{size}.jsonl", size, references=args.references)
            out = work / f"out{size}.jsonl"
            wall, peak, code, err = run_check(feed, out, ["--rules-only"], one_core=True)
            ok = code == 0
            label = "rules only, one core" + (", with references" if args.references else "")
            table.add(label, size, wall, size / wall if ok else None, peak, count_lines(out), code,
                      "" if ok else f"failed: {last_line(err)}")
            print(f"[{C.utc_now()}] {table.rows[-1]}", file=sys.stderr, flush=True)
            if not ok:
                print(err, file=sys.stderr)
            else:
                rss["rules"].append((size, peak))
                rates[size] = size / wall
            out.unlink(missing_ok=True)
            feed.unlink(missing_ok=True)
        for size in default_sizes:
            feed = work / f"feed{size}.jsonl"
            feed = C.write_feed(work / f"default-feed{size}.jsonl", size, distinct=args.distinct)
            out = work / f"default{size}.jsonl"
            cache = work / f"cache{size}.sqlite"
            wall, peak, code, err = run_check(feed, out, ["--cache", str(cache)], one_core=False)
            ok = code == 0
            table.add("offline default, fresh engine cache", size, wall, size / wall if ok else None, peak,
                      count_lines(out), code, "" if ok else f"failed: {last_line(err)}")
            print(f"[{C.utc_now()}] {table.rows[-1]}", file=sys.stderr, flush=True)
            if not ok:
                print(err, file=sys.stderr)
            else:
                rss["default"].append((size, peak))
            out.unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    verdict = C.Table(["measure", "value", "target", "met?"])
    if len(rss["rules"]) >= 2:
        (small, lo), (big, hi) = rss["rules"][0], rss["rules"][-1]
        verdict.add(f"rules only: peak RSS at {big:,} vs {small:,} segments", f"{hi / lo:.2f}x",
                    "flat (<= 1.25x)", C.target(hi / lo <= 1.25))
        verdict.add(f"rules only: peak RSS at {big:,} segments", f"{hi:.0f} MiB", "< 500 MB",
                    C.target(hi * 1.048576 < 500) if big >= 1_000_000 else "n/a (feed < 1M)")
    if rates:
        big = max(rates)
        verdict.add(f"rules only, CLI end to end on one core, {big:,} segments", f"{rates[big]:,.0f} seg/s",
                    ">= 2,000 seg/s", C.target(rates[big] >= 2000))
    if len(rss["default"]) >= 2:
        (small, lo), (big, hi) = rss["default"][0], rss["default"][-1]
        verdict.add(f"offline default: peak RSS at {big:,} vs {small:,} segments", f"{hi / lo:.2f}x",
                    "flat (<= 1.25x)", C.target(hi / lo <= 1.25))
    section.tables += [(None, table), ("Verdict:", verdict)]
    section.notes += [
        "Command per row: `tqcheck check FEED.jsonl -s fr -t en -o OUT.jsonl -q --rules-only` (pinned to one "
        "core with taskset), and for the offline default `tqcheck check FEED.jsonl -s fr -t en -o OUT.jsonl -q "
        "--cache FRESH.sqlite`; peak RSS from os.wait4 of that process.",
        "Feeds: JSONL records `id`, `source`, `mt` cycling through the 907 distinct fr->en pairs of "
        "../shared/eval (mean MT 22 words). The offline-default feeds cycle through the first "
        f"{args.distinct} of them, with a fresh engine cache file: every row does the same engine work "
        f"({args.distinct} distinct pairs, engines loaded), the rest comes from the cache, so the rows differ "
        "only in how many results stream through the pipeline, the cache and the writers; their wall time "
        "is not the cold speed (bench_throughput has that).",
        "Wall time includes process start-up, reading the feed and writing the JSONL report. The feeds "
        "repeat 907 distinct pairs, and language identification caches by text (8,192 texts), so the "
        "rules-only speeds here are faster than on a feed of distinct sentences; bench_throughput times "
        "distinct segments with that cache cleared.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
