"""OpenMP wait policy: how long torch's threads spin before they sleep, alone and beside other work (issue 13).

Why: torch's OpenMP threads meet at a barrier after each of the thousands of small parallel regions of a
forward pass. Sleeping there at once (``OMP_WAIT_POLICY=PASSIVE``) pays a wake-up each time; spinning
without bound (libgomp's default) fights any other busy process for the cores. ``tqcheck.pipeline`` sets a
short spin (``GOMP_SPINCOUNT``, ``SPIN_COUNT``); this script measures the choices against each other.

    .venv/bin/python benchmarks/bench_wait_policy.py [--n 128] [--rounds 2] [--record]

Each cell runs SmolLM2 fluency (``token_scores``, the default engine with bf16 where the CPU has it) on the
bench's first N MT segments in a fresh process whose environment holds only that setting (the variable must
be read when torch loads), best of two passes after a warm-up batch; three conditions: the machine otherwise
idle, beside one busy process (a pure-Python loop on one core), and two copies of the same run at once (a
second tqcheck). Rounds take turns, so that the machine's drift spreads over every setting; cells give the
median over rounds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

import _common as C

SETTINGS = {
    "OMP_WAIT_POLICY=PASSIVE (sleep at once)": {"OMP_WAIT_POLICY": "PASSIVE"},
    "GOMP_SPINCOUNT=300": {"GOMP_SPINCOUNT": "300"},
    "GOMP_SPINCOUNT=1000 (tqcheck's choice)": {"GOMP_SPINCOUNT": "1000"},
    "GOMP_SPINCOUNT=5000": {"GOMP_SPINCOUNT": "5000"},
    "libgomp default (spin 300,000)": {},
}
CONDITIONS = ("idle", "beside one busy process", "two runs at once")
WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")

CHILD = """
import sys, time
sys.path.insert(0, {bench!r})
import _common as C
from tqcheck.engines.lm.hf_causal import SmolLM2
mts = [mt for _, mt in C.load_pairs()[:{n}]]
lm = SmolLM2()
lm.token_scores(mts[:16], lang="en")
best = float("inf")
for _ in range(2):
    started = time.perf_counter()
    lm.token_scores(mts, lang="en")
    best = min(best, (time.perf_counter() - started) / len(mts) * 1000)
print(best)
"""


def run_cell(setting: dict[str, str], condition: str, n: int) -> float:
    env = {k: v for k, v in os.environ.items() if k not in WAIT_VARIABLES}
    env.update(setting)
    code = CHILD.format(bench=os.path.dirname(os.path.abspath(__file__)), n=n)
    argv = [sys.executable, "-c", code]
    busy = None
    if condition == "beside one busy process":
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        copies = 2 if condition == "two runs at once" else 1
        procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for _ in range(copies)]
        outs = [p.communicate(timeout=900)[0] for p in procs]
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    values = [float(out.strip().splitlines()[-1]) for out in outs]
    return statistics.mean(values)


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 128; 32 with --quick)")
    p.add_argument("--rounds", type=int, default=2, help="rounds, taking turns; cells give the median")
    args = p.parse_args()
    n = args.n or (32 if args.quick else 128)
    section = C.Section("OpenMP wait policy: SmolLM2 fluency alone and beside other work (issue 13)")
    cells: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for condition in CONDITIONS:
            for label, setting in SETTINGS.items():
                ms = run_cell(setting, condition, n)
                cells.setdefault((label, condition), []).append(ms)
                print(f"{label:45s} {condition:25s} {ms:7.1f} ms/segment", flush=True)

    table = C.Table(["setting", *(f"{c} (ms/segment)" for c in CONDITIONS)])
    for label in SETTINGS:
        row = []
        for condition in CONDITIONS:
            values = cells[(label, condition)]
            row.append(f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})")
        table.add(label, *row)
    section.tables.append((None, table))
    section.notes += [
        f"SmolLM2 token_scores on the bench's first {n} fr->en MT segments ({C.describe_pairs(C.load_pairs()[:n])});"
        " each cell a fresh process with only that setting, best of 2 passes after a warm-up batch; median of "
        f"{args.rounds} rounds taken in turns (range in brackets). 'two runs at once': the mean of two copies"
        " started together.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
