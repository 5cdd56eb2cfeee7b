#!/usr/bin/env bash
# Benchmarks 2 and 3, the learned QE model and tqcheck's transformers path on a CUDA machine.
#
# Why: on a GPU the balance between tqcheck and the neural baselines changes (a CometKiwi-sized encoder
# and opus-mt run much faster there), and users with a GPU need the same tables measured on one.
#
# Usage (from the repository root, after scripts/setup.sh with a CUDA build of torch):
#   bash benchmarks/gpu.sh            # print the tables
#   bash benchmarks/gpu.sh --record   # also append them to benchmarks/RESULTS.md
#   bash benchmarks/gpu.sh --quick    # smoke run with small inputs (never recorded)
# Environment: PYTHON (default .venv/bin/python), DEVICE (default cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
DEVICE="${DEVICE:-cuda}"
ARGS=("$@")

if ! "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu.sh: torch sees no CUDA device; install a CUDA build of torch on a machine with a GPU" >&2
    exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true

# 2. tqcheck's default (engines on $DEVICE where they can run there) vs a CometKiwi-sized scorer,
#    in float32 (as COMET runs by default) and float16.
"$PYTHON" benchmarks/bench_cometkiwi.py --device "$DEVICE" --n 320 "${ARGS[@]}"
"$PYTHON" benchmarks/bench_cometkiwi.py --device "$DEVICE" --n 320 --dtype float16 --skip-tqcheck "${ARGS[@]}"

# 3. opus-mt-sized Marian: transformers generate (float32 and float16) vs CTranslate2, and tqcheck's
#    hf:/ct2: wrappers (the transformers path) on the same saved model.
"$PYTHON" benchmarks/bench_marian.py --device "$DEVICE" --n 640 --batch-size 32 \
    --ct2-compute-type int8_float16 --ct2-compute-type float16 "${ARGS[@]}"
"$PYTHON" benchmarks/bench_marian.py --device "$DEVICE" --n 640 --batch-size 32 --dtype float16 \
    --ct2-compute-type float16 "${ARGS[@]}"

# The learned QE model and every other stage with engines on $DEVICE.
"$PYTHON" benchmarks/bench_throughput.py --device "$DEVICE" --n 640 --skip-cache "${ARGS[@]}"
