#!/bin/bash
# Quality against the human labels of ../shared/eval, one row per offline engine configuration:
# refits the shipped calibration (bilingual, then target-only laid over it), then measures every
# configuration on bio_mqm_fr.dev (5-fold cross-validated, grouped by source sentence) and on
# demetr_fr_en.dev (the shipped calibration, fit on bio only), with and without the sources.
#
#   bash benchmarks/quality_matrix.sh [CACHE.sqlite] [RESULTS_DIR]
#   .venv/bin/python benchmarks/quality_table.py RESULTS_DIR     # the Markdown tables of RESULTS.md
#
# The engine cache only makes re-runs cheap (a cold run of every engine over both files takes about
# an hour on 2 cores). Set SKIP_CALIBRATE=1 to measure the calibration already in tqcheck/data.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-$HOME/.cache/tqcheck/engines.sqlite}
R=${2:-out/quality}
T=.venv/bin/tqcheck
EVAL=../shared/eval
mkdir -p "$R"
run() {
  local name=$1; shift
  echo "== $name: $*"
  /usr/bin/time -f "$name %e s" "$@" -q > "$R/$name.txt" 2>&1 || { tail -5 "$R/$name.txt"; exit 1; }
  tail -1 "$R/$name.txt"
}
if [ -z "${SKIP_CALIBRATE:-}" ]; then
  run calibrate $T calibrate $EVAL/bio_mqm_fr.dev.jsonl -o tqcheck/data/calibration.json \
      --name default-bio-mqm-dev --cache "$C"
  run calibrate_target_only $T calibrate $EVAL/bio_mqm_fr.dev.jsonl --target-only \
      --extend tqcheck/data/calibration.json -o tqcheck/data/calibration.json --name default-bio-mqm-dev --cache "$C"
fi
declare -A CFG
CFG[rules]="--rules-only"
CFG[fluency]="--back-translator none --reference-model none --embedder none --qe none"
CFG[embedder]="--back-translator none --reference-model none --lm none --qe none"
CFG[apertium]="--lm none --embedder none --qe none"
CFG[all_offline]="--qe none"
CFG[all_qe]=""
for k in rules fluency embedder apertium all_offline all_qe; do
  run bio_$k $T eval $EVAL/bio_mqm_fr.dev.jsonl --by lp --cross-validate 5 ${CFG[$k]} --cache "$C" -o "$R/bio_$k.json"
  run demetr_$k $T eval $EVAL/demetr_fr_en.dev.jsonl --by lp ${CFG[$k]} --cache "$C" -o "$R/demetr_$k.json"
done
for k in fluency all_offline all_qe; do
  run bio_target_only_$k $T eval $EVAL/bio_mqm_fr.dev.jsonl --target-only --by lp --cross-validate 5 ${CFG[$k]} \
      --cache "$C" -o "$R/bio_target_only_$k.json"
  run demetr_target_only_$k $T eval $EVAL/demetr_fr_en.dev.jsonl --target-only --by lp ${CFG[$k]} --cache "$C" \
      -o "$R/demetr_target_only_$k.json"
done
echo "done: $R"
