#!/usr/bin/env bash
# Every CPU benchmark in one go, each appending its table to benchmarks/RESULTS.md (pass --quick for a
# smoke run that records nothing). Memory first: its peak RSS does not depend on the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
ARGS=("${@:---record}")
"$PYTHON" benchmarks/bench_memory.py "${ARGS[@]}"
"$PYTHON" benchmarks/bench_throughput.py "${ARGS[@]}"
"$PYTHON" benchmarks/bench_cometkiwi.py "${ARGS[@]}"
"$PYTHON" benchmarks/bench_marian.py "${ARGS[@]}"
"$PYTHON" benchmarks/bench_cache.py "${ARGS[@]}"
