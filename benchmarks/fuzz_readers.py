"""Fuzz the readers at scale: N mutated inputs through read, rules-only check and JSONL report (issue 17).

Why a benchmark and not only a test: the CI subset (``tests/fuzz``) runs a few thousand cases; the
failures issue 17 was about showed up about once in a thousand, so the claim "no untyped exception,
nothing over 10 s" needs its own measured count, with the command and the machine, like every other
figure in RESULTS.md.

The cases are ``tests/fuzz/fuzzcases.py``'s (samples mutated; see its docstring), the formats taken in
turn (JSONL, CSV, TMX, XLIFF 2, XLIFF 1.2, SDLXLIFF), each run as ``tqcheck check --rules-only -o
report.jsonl`` would: ``read_segments``, a rules-only ``Pipeline``, the JSONL report writer, then the
report read back, in this process, under a per-case time limit (10 s). A case is reproduced with
``make_case(index, seed=SEED)``.

    nice -n 10 .venv/bin/python benchmarks/fuzz_readers.py --cases 100000 --minutes 20 --record

``--minutes`` stops starting new cases after that long (the table says how many ran); ``--keep DIR``
saves every failing input there.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import _common

sys.path.insert(0, str(_common.ROOT / "tests" / "fuzz"))

from fuzzcases import CASE_LIMIT_S, FORMATS, make_case, rules_only_pipeline, run_case  # noqa: E402


def main() -> None:
    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases to run, formats in turn (default 100,000)")
    parser.add_argument("--seed", type=int, default=0, help="which cases (default 0)")
    parser.add_argument("--minutes", type=float, default=None, help="stop starting cases after this long")
    parser.add_argument("--limit-s", type=float, default=CASE_LIMIT_S, help="per-case limit (default 10 s)")
    parser.add_argument("--keep", type=Path, default=None, help="save failing inputs in this directory")
    args = parser.parse_args()
    if args.quick:
        args.cases = min(args.cases, 600)
    logging.disable(logging.WARNING)  # mutated language codes make checks stand aside, with a warning each

    section = _common.Section("Fuzzing the readers: mutated inputs read, checked (rules only) and reported")
    pipeline = rules_only_pipeline()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else None
    started = time.monotonic()
    ran = 0
    with tempfile.TemporaryDirectory() as tmp, _common.OneCore():
        workdir = Path(tmp)
        for index in range(args.cases):
            if deadline is not None and time.monotonic() > deadline:
                break
            case = make_case(index, seed=args.seed)
            outcome = run_case(case, workdir, pipeline, limit_s=args.limit_s)
            ran += 1
            tally = counts[case.fmt]
            tally["cases"] += 1
            tally["bad records"] += outcome.bad_records
            tally[_column(outcome.kind, outcome.error)] += 1
            seconds[case.fmt].append(outcome.seconds)
            if outcome.kind in ("crash", "timeout"):
                last = outcome.detail.strip().splitlines()[-1] if outcome.detail.strip() else outcome.error
                failures.append(f"{case.describe()}: {outcome.kind} ({last}) in {outcome.where or 'no tqcheck frame'}")
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / f"seed{args.seed}-case{index}{case.suffix}").write_bytes(case.data)
            if ran % 1000 == 0:
                print(f"{ran:,} cases, {time.monotonic() - started:,.0f} s, {len(failures)} failing",
                      file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started

    table = _common.Table(["format", "cases", "refused (InputError)", "refused (other typed error)", "checked",
                           "bad records skipped", "untyped exceptions", f"over {args.limit_s:g} s",
                           "mean ms/case", "slowest case s"])
    for fmt in [*FORMATS, "all"]:
        if fmt == "all":
            tally = sum(counts.values(), Counter())
            times = [t for ts in seconds.values() for t in ts]
        else:
            tally, times = counts[fmt], seconds[fmt]
        if not times:
            continue
        table.add(fmt, f"{tally['cases']:,}", f"{tally['refused InputError']:,}", f"{tally['refused other']:,}",
                  f"{tally['checked']:,}", f"{tally['bad records']:,}", tally["crash"], tally["timeout"],
                  1000 * statistics.fmean(times), max(times))
    section.tables.append((f"{ran:,} cases (seed {args.seed}) of the {args.cases:,} asked for, in "
                           f"{elapsed / 60:.1f} min on one core", table))
    section.notes.append("refused: the file cannot be read and says why (a typed TqcheckError); checked: read, "
                         "checked and written, bad records skipped and reported; untyped exceptions and cases "
                         "over the limit are bugs")
    if ran < args.cases:
        section.notes.append(f"stopped after {args.minutes:g} minutes: {ran:,} of {args.cases:,} cases ran")
    for line in failures[:20]:
        section.notes.append(f"failing: {line}")
    if len(failures) > 20:
        section.notes.append(f"... and {len(failures) - 20} more failing cases")
    _common.finish(section, args)


def _column(kind: str, error: str) -> str:
    if kind == "refused":
        return "refused InputError" if error in ("InputError", "RecordError") else "refused other"
    return kind


if __name__ == "__main__":
    main()
