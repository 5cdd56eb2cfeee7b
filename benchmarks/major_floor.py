"""How the major floor was chosen (issue 18): cross-validated major flags at each candidate ``p_major`` floor.

Why: ``tqcheck.fusion.fuse.MAJOR_FLOOR`` decides which measured findings (and which segment risks) a copy
editor is shown as **major**. The rule that picks it: the middle of the range of floors at which the shown
majors land on a human major/critical error at least 40% of the time in *both* directions of the dev data
(not its edge, where one more or one fewer flag decides); a lower floor shows more of the segments with a
major error (reach), a higher one fewer. This prints, per floor and
direction, what that rule reads, from the same out-of-fold fusion as ``tqcheck eval --cross-validate 5``
(fold calibrations fit once, then every floor fused with them).

    .venv/bin/python benchmarks/quality_matrix.sh ...   # or any run that leaves the all + QE evidence
    .venv/bin/python benchmarks/major_floor.py EVIDENCE.jsonl.gz [--floors 0.34,0.36,...] [--record]

EVIDENCE is the "all + learned QE" evidence of bio_mqm_fr.dev + demetr_fr_en.dev (quality_matrix.sh keeps
it as RESULTS_DIR/all_qe.evidence.jsonl.gz); no engine runs.
"""

from __future__ import annotations

import sys

import _common as C
from _common import three as value


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("evidence", help="all + QE evidence of the two dev files (quality_matrix.sh's all_qe.evidence)")
    p.add_argument("--floors", default="0.34,0.36,0.37,0.38,0.39,0.40,0.41,0.42,0.45,0.50")
    p.add_argument("--folds", type=int, default=5)
    args = p.parse_args()
    run = C.dev_evidence_run(args.evidence)
    from tqcheck.fusion import fuse
    from tqcheck.fusion.evaluate import evaluate
    from tqcheck.fusion.fit import fold_calibrations

    section = C.Section("Major floor: cross-validated major flags per candidate floor (issue 18)")
    folds = fold_calibrations(run.labelled, folds=args.folds)
    table = C.Table(["p_major floor", "pair", "shown majors", "major on major", "major reach",
                     "shown flags on error", "flags/segment", "segment ROC-AUC"])
    shipped = fuse.MAJOR_FLOOR
    try:
        for floor in [float(x) for x in args.floors.split(",")]:
            fuse.MAJOR_FLOOR = floor
            results = {}
            for calibration, held_out in folds:
                fusion = fuse.Fusion(calibration)
                for e in held_out:
                    results[e.segment.id] = fusion.fuse(e.segment, e.rule_flags, e.outputs)
            report = evaluate(run.data[0], results.values(), by_lp=True, resamples=0)
            for lp, block in sorted(report["by_lp"].items()):
                flags, segments = block.get("flags") or {}, block.get("segments") or {}
                table.add(f"{floor:.2f}" + (" (shipped)" if floor == shipped else ""), lp, flags.get("major"),
                          value(flags.get("major_on_major")), value(flags.get("major_reach")),
                          value(flags.get("shown_on_error")), value(flags.get("flags_per_segment")),
                          value(segments.get("roc_auc")))
                print(table.rows[-1], file=sys.stderr, flush=True)
    finally:
        fuse.MAJOR_FLOOR = shipped
    section.tables.append((None, table))
    section.notes += [
        f"Data: {C.DEV_DATA[0]} (the MQM figures) with {C.DEV_DATA[1]} in the fit (DEMETR pairs), "
        f"{args.folds} folds grouped by source sentence; the fusion of each fold is fit without it, exactly as "
        "`tqcheck eval --cross-validate`. The floor changes neither the fit nor the risk, so the ROC-AUC does not "
        "move.",
        "The rule: the middle of the range of floors whose shown majors land on a human major/critical span at "
        "least 40% of the time in both directions. The floor is one number chosen on this data, so the figures "
        "at the chosen floor are a little optimistic; the neighbouring rows show how much they move.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
