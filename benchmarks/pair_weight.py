"""How the DEMETR pair weight was chosen (issue 18): cross-validated quality at each candidate weight.

Why: the risk model is fit on two kinds of labels at once (``tqcheck.fusion.fit``): the biomedical MQM
segments' has-major (log-loss) and DEMETR's pairs, where the perturbed MT must score riskier than the clean
one (a ranking loss, weight ``PAIR_WEIGHT`` per pair). The pairs teach the fusion what the language model
alone knows (a damaged sentence reads worse), the MQM labels what a copy editor calls major; a larger weight
ranks the pairs better and, at some point, the MQM segments and the major flags worse. This prints both, per
weight, from the same out-of-fold fusion as ``tqcheck eval --cross-validate 5``.

    .venv/bin/python benchmarks/pair_weight.py EVIDENCE.jsonl.gz [--weights 0,0.1,0.2,...] [--target-only] [--record]

EVIDENCE is the "all + learned QE" evidence of bio_mqm_fr.dev + demetr_fr_en.dev (quality_matrix.sh keeps
it as RESULTS_DIR/all_qe.evidence.jsonl.gz); no engine runs. The major floor is the shipped one.
"""

from __future__ import annotations

import sys

import _common as C
from _common import three as value


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("evidence", help="all + QE evidence of the two dev files (quality_matrix.sh's all_qe.evidence)")
    p.add_argument("--weights", default="0,0.05,0.1,0.15,0.2,0.25,0.3,0.4")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--target-only", action="store_true",
                   help="the target-only fit (EVIDENCE: quality_matrix.sh's target_only_all_qe.evidence)")
    args = p.parse_args()
    mode = ", target only" if args.target_only else ""
    section = C.Section(f"DEMETR pair weight{mode}: cross-validated quality per candidate weight (issue 18)")
    run = C.dev_evidence_run(args.evidence, target_only=args.target_only)
    from tqcheck.fusion import fit
    from tqcheck.fusion.evaluate import evaluate

    table = C.Table(["pair weight", "DEMETR pairwise", "ROC-AUC fr-en", "ROC-AUC en-fr", "major on major fr-en",
                     "major on major en-fr", "major reach fr-en", "major reach en-fr", "shown on error fr-en",
                     "flags/segment fr-en"])
    shipped = fit.PAIR_WEIGHT
    try:
        for weight in [float(x) for x in args.weights.split(",")]:
            fit.PAIR_WEIGHT = weight
            results = fit.cross_validated_results(run.labelled, folds=args.folds)
            bio = evaluate(run.data[0], results, by_lp=True, resamples=0)["by_lp"]
            pairs = evaluate(run.data[1], results, resamples=0)["overall"]["pairs"]
            fr, en = bio["fr-en"], bio["en-fr"]
            table.add(f"{weight:g}" + (" (shipped)" if weight == shipped else ""), value(pairs.get("worse_rate")),
                      value(fr["segments"].get("roc_auc")), value(en["segments"].get("roc_auc")),
                      value(fr["flags"].get("major_on_major")), value(en["flags"].get("major_on_major")),
                      value(fr["flags"].get("major_reach")), value(en["flags"].get("major_reach")),
                      value(fr["flags"].get("shown_on_error")), value(fr["flags"].get("flags_per_segment")))
            print(table.rows[-1], file=sys.stderr, flush=True)
    finally:
        fit.PAIR_WEIGHT = shipped
    section.tables.append((None, table))
    section.notes += [
        f"Data: {C.DEV_DATA[0]} (the MQM figures) and {C.DEV_DATA[1]} (the pairs), {args.folds} folds grouped by "
        "source sentence; each fold's fusion is fit without it, exactly as "
        "`tqcheck eval --cross-validate`. DEMETR: the share of pairs whose perturbed MT gets the higher risk.",
        "The rule: among the weights at which French->English major flags still land on a human major/critical "
        "span at least 40% of the time and the bio ROC-AUC stays within 0.005 of the previous weight's (0.1) in "
        "both directions, the largest but one: at the edge of that range one flag more or fewer decides. "
        "English->French does not move: DEMETR is French->English, so its pairs "
        "enter the fr-en and pooled fits, not the en-fr one.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
