"""The engine cache: the same feed checked twice with the offline default, cold then warm.

Why: desks re-check feeds that barely changed (a re-export, a resumed job, a new rule threshold); the
SQLite engine cache, keyed by engine, model, revision, languages and text, must make such a re-run cost
almost nothing. Target: the warm run at least 20x faster than the cold one.

Both runs are the real CLI in separate processes, end to end (start-up, engine loading, reading and
writing included), with one fresh cache file: ``tqcheck check FEED.jsonl -s fr -t en -o OUT.jsonl -q
--cache CACHE.sqlite``. For scale, the same feed rules-only is timed too (the floor a warm run can reach).

    .venv/bin/python benchmarks/bench_cache.py [--quick] [--record] [--n 907]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import _common as C
from bench_memory import count_lines, last_line, run_check


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None,
                   help="segments, all distinct up to 907 (default 907; 60 with --quick)")
    args = p.parse_args()
    n = args.n or (60 if args.quick else 907)
    section = C.Section("Engine cache: the same feed cold, then warm")
    work = Path(tempfile.mkdtemp(prefix="tqbench-cache-"))
    table = C.Table(["run", "segments", "wall s", "segments/s", "peak RSS MiB", "report lines", "exit", "notes"])
    walls: dict[str, float] = {}
    try:
        feed = C.write_feed(work / "feed.jsonl", n)
        cache = work / "engines.sqlite"
        for label, extra in (("cold: offline default, fresh cache file", ["--cache", str(cache)]),
                             ("warm: the same command again", ["--cache", str(cache)]),
                             ("rules only (the floor)", ["--rules-only"])):
            out = work / "out.jsonl"
            wall, peak, code, err = run_check(feed, out, extra, one_core=False)
            ok = code == 0
            note = "" if ok else f"failed: {last_line(err)}"
            if label.startswith("cold") and cache.exists():
                note = (note + "; " if note else "") + f"cache file {cache.stat().st_size / 1e6:.1f} MB"
            table.add(label, n, wall, n / wall if ok else None, peak, count_lines(out), code, note)
            if ok:
                walls[label.split(":")[0]] = wall
            else:
                print(err, file=sys.stderr)
            out.unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    verdict = C.Table(["measure", "value", "target", "met?"])
    if "cold" in walls and "warm" in walls:
        ratio = walls["cold"] / walls["warm"]
        verdict.add("warm re-run speed-up (cold wall / warm wall)", f"{ratio:.1f}x", ">= 20x", C.target(ratio >= 20))
        floor = walls.get("rules only (the floor)")
        if floor is not None and walls["warm"] > floor:
            marginal = (walls["cold"] - floor) / (walls["warm"] - floor)
            verdict.add("the same, less the rules-only run's wall (start-up, reading, rule checks, writing)",
                        f"{marginal:.1f}x", "(for explanation)", "")
    else:
        verdict.add("warm re-run speed-up", "not measured", ">= 20x", C.target(None))
    section.tables += [(None, table), ("Verdict:", verdict)]
    pairs = C.feed_pairs(n)
    section.notes += [
        f"Feed: {C.describe_pairs(pairs)}, JSONL `id`, `source`, `mt`.",
        "Each run: `tqcheck check FEED.jsonl -s fr -t en -o OUT.jsonl -q --cache CACHE.sqlite` "
        "(rules only: `--rules-only` instead of `--cache`), a separate process; wall time includes "
        "Python start-up, engine loading, reading and writing.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
