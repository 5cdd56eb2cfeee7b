"""Each signal alone and the fusion, on the same data, in one table (issue 18, item 5).

Reads the evidence files that ``tqcheck calibrate/eval --evidence FILE`` keeps (the checker's raw
output on the labelled data, so no engine runs here), then prints:

1. every sentence score alone: its ROC-AUC for "has a major error" on bio_mqm_fr.dev per direction,
   and its DEMETR pairwise accuracy (perturbed rated worse; ties count one half), each score taken in
   the direction in which it is better on the bio fr-en rows (so DEMETR cannot choose its own sign);
2. the fused risk, cross-validated (5 folds grouped by source sentence, fit on bio and DEMETR
   together), on the same rows; and the fusion with each signal alone (``--per-signal``, slower).

    .venv/bin/python benchmarks/signal_table.py EVIDENCE.jsonl.gz [--record]

EVIDENCE is the evidence of ``bio_mqm_fr.dev.jsonl`` and ``demetr_fr_en.dev.jsonl`` together (the
order of ``benchmarks/quality_matrix.sh``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

from tqcheck.fusion.fit import cross_validated_results  # noqa: E402
from tqcheck.fusion.metrics import roc_auc  # noqa: E402


def _load(evidence: str):
    return C.dev_evidence_run(evidence)


def _pair_acc(pairs, value) -> float:
    scored = [(value.get(c), value.get(p)) for c, p in pairs]
    scored = [(a, b) for a, b in scored if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)]
    if not scored:
        return math.nan
    return sum(1.0 if b > a else 0.5 if b == a else 0.0 for a, b in scored) / len(scored)


def main() -> None:
    parser = C.parser(__doc__.splitlines()[0])
    parser.add_argument("evidence")
    parser.add_argument("--per-signal", action="store_true", help="also the fusion of each signal alone")
    args = parser.parse_args()
    section = C.Section("Each signal alone and the fused risk, on the same rows (issue 18)")
    run = _load(args.evidence)
    labelled = run.labelled
    scores = {e.segment.id: e.scores() for e in labelled.evidence}
    lp = {e.segment.id: e.segment.language_pair for e in labelled.evidence}
    has_major = labelled.labels
    bio = [i for i in scores if i in has_major and i not in {x for p in labelled.pairs for x in p}]
    names = sorted({k for s in scores.values() for k in s if not k.startswith(("reference.", "rules."))})
    table = C.Table(["score", "bio fr-en ROC-AUC", "bio en-fr ROC-AUC", "DEMETR pairwise accuracy"])
    for name in names:
        fr = [i for i in bio if lp[i] == "fr-en" and name in scores[i]]
        en = [i for i in bio if lp[i] == "en-fr" and name in scores[i]]
        auc_fr = roc_auc([has_major[i] for i in fr], [scores[i][name] for i in fr]) if fr else math.nan
        sign = -1.0 if (not math.isnan(auc_fr) and auc_fr < 0.5) else 1.0
        auc_fr = max(auc_fr, 1 - auc_fr) if not math.isnan(auc_fr) else math.nan
        auc_en = roc_auc([has_major[i] for i in en], [sign * scores[i][name] for i in en]) if en else math.nan
        value = {i: sign * s[name] for i, s in scores.items() if name in s}
        table.add(name + (" (lower is worse)" if sign < 0 else ""), f"{auc_fr:.3f}", f"{auc_en:.3f}",
                  f"{_pair_acc(labelled.pairs, value):.3f}")
    results = {r.segment.id: r for r in cross_validated_results(labelled, folds=5)}

    def fused(results_by_id, label: str) -> list[str]:
        risk = {i: r.risk for i, r in results_by_id.items() if r.risk is not None}
        fr = [i for i in bio if lp[i] == "fr-en" and i in risk]
        en = [i for i in bio if lp[i] == "en-fr" and i in risk]
        return [label, f"{roc_auc([has_major[i] for i in fr], [risk[i] for i in fr]):.3f}",
                f"{roc_auc([has_major[i] for i in en], [risk[i] for i in en]):.3f}",
                f"{_pair_acc(labelled.pairs, risk):.3f}"]

    table.add(*fused(results, "**fused risk, all signals (5-fold CV)**"))
    if args.per_signal:
        present = sorted({name.split(".", 1)[0] for name in names})
        for signal in present:
            only = {r.segment.id: r for r in cross_validated_results(labelled, folds=5, signals=[signal])}
            table.add(*fused(only, f"fused risk, {signal} alone (5-fold CV)"))
    section.tables.append((None, table))
    section.notes += [
        "Sentence scores from the evidence kept by `tqcheck calibrate --evidence` (no engine runs here); each "
        "score oriented by its direction on bio fr-en, so DEMETR does not choose its own sign; DEMETR ties "
        "count one half.",
        "Fused rows: `tqcheck.fusion.fit.cross_validated_results` over bio and DEMETR together (the fit of "
        "`tqcheck calibrate bio_mqm_fr.dev.jsonl demetr_fr_en.dev.jsonl`), 5 folds grouped by source sentence."]
    C.finish(section, args)


if __name__ == "__main__":
    main()
