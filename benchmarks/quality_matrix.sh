#!/bin/bash
# Quality against the human labels of ../shared/eval, one row per offline engine configuration:
# refits the shipped calibration (bilingual, then target-only laid over it) on bio_mqm_fr.dev and
# demetr_fr_en.dev together, then measures every configuration on both (5-fold cross-validated,
# grouped by source sentence), with and without the sources.
#
#   bash benchmarks/quality_matrix.sh [CACHE.sqlite] [RESULTS_DIR]
#   .venv/bin/python benchmarks/quality_table.py RESULTS_DIR     # the Markdown tables of RESULTS.md
#   .venv/bin/python benchmarks/signal_table.py RESULTS_DIR/all_qe.evidence.jsonl.gz   # each signal alone
#
# The engine cache only makes re-runs cheap (a cold run of every engine over both files takes about an
# hour on 2 cores); each configuration's evidence is kept in RESULTS_DIR (--evidence), so a second run
# of this script runs no engine at all. Set SKIP_CALIBRATE=1 to measure the calibration already in
# tqcheck/data.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-$HOME/.cache/tqcheck/engines.sqlite}
R=${2:-out/quality}
T=.venv/bin/tqcheck
EVAL=../shared/eval
DATA="$EVAL/bio_mqm_fr.dev.jsonl $EVAL/demetr_fr_en.dev.jsonl"
mkdir -p "$R"
run() {
  local name=$1; shift
  echo "== $name: $*"
  /usr/bin/time -f "$name %e s" "$@" -q > "$R/$name.txt" 2>&1 || { tail -5 "$R/$name.txt"; exit 1; }
  tail -1 "$R/$name.txt"
}
if [ -z "${SKIP_CALIBRATE:-}" ]; then
  run calibrate $T calibrate $DATA -o tqcheck/data/calibration.json --name default-dev --cache "$C" \
      --evidence "$R/all_qe.evidence.jsonl.gz"
  run calibrate_target_only $T calibrate $DATA --target-only --extend tqcheck/data/calibration.json \
      -o tqcheck/data/calibration.json --name default-dev --cache "$C" --evidence "$R/target_only_all_qe.evidence.jsonl.gz"
  # The rule checks alone on the MQM sets of ../shared/train (no engine: about 3 minutes), laid over the fit.
  TRAIN=../shared/train
  run calibrate_rule_checks $T calibrate $TRAIN/google_mqm_newstest2020.jsonl.gz $TRAIN/google_mqm_generalmt2023_sxs.jsonl.gz \
      $TRAIN/google_mqm_ted.jsonl.gz $TRAIN/bio_mqm_other.jsonl.gz --rule-checks --extend tqcheck/data/calibration.json \
      -o tqcheck/data/calibration.json
fi
declare -A CFG
CFG[rules]="--rules-only"
CFG[fluency]="--back-translator none --reference-model none --embedder none --qe none"
CFG[embedder]="--back-translator none --reference-model none --lm none --qe none"
CFG[apertium]="--lm none --embedder none --qe none"
CFG[all_offline]="--qe none"
CFG[all_qe]=""
for k in rules fluency embedder apertium all_offline all_qe; do
  run cv_$k $T eval $DATA --by lp --cross-validate 5 ${CFG[$k]} --cache "$C" --evidence "$R/$k.evidence.jsonl.gz" \
      -o "$R/cv_$k.json"
done
for k in fluency all_offline all_qe; do
  run cv_target_only_$k $T eval $DATA --target-only --by lp --cross-validate 5 ${CFG[$k]} --cache "$C" \
      --evidence "$R/target_only_$k.evidence.jsonl.gz" -o "$R/cv_target_only_$k.json"
done
echo "done: $R"
