"""Measure the QE model alone on the dev data of ``../shared/eval`` and print a table.

    python -m tqcheck.qe.evaluate [--weights DIR] [--eval-dir ../shared/eval] [--json out.json]

Figures, with the project's metric functions (``tqcheck.fusion.metrics``): ROC-AUC for ``has_major`` and
Kendall tau with ``mqm_penalty`` per direction (fr-en, en-fr), character span P/R/F1 of the tagged
spans against major+critical gold spans, DEMETR pairwise accuracy (the perturbed MT gets the higher
error probability; ties count half), and speed. Because checkpoints were chosen on the source-split
"selection" half of bio_mqm_fr.dev, every bio figure is also given on the "held-out" half.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqcheck.fusion.metrics import kendall_tau, prf, roc_auc, span_counts


def _bio_block(rows: Sequence[dict[str, Any]], preds: Sequence[Any], thresholds: Sequence[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for lp in ("fr-en", "en-fr"):
        idx = [i for i, r in enumerate(rows) if r["lp"] == lp]
        if not idx:
            continue
        y = [bool(rows[i]["has_major"]) for i in idx]
        pen = [float(rows[i]["mqm_penalty"]) for i in idx]
        for name, score in (("p_major", lambda p: p.p_major), ("max_token_bad", lambda p: max(
                (t.p_bad for t in p.tokens), default=0.0)), ("neg_quality", lambda p: -p.quality)):
            s = [score(preds[i]) for i in idx]
            out[f"{lp}.auc.{name}"] = roc_auc(y, s)
            out[f"{lp}.tau.{name}"] = kendall_tau(s, pen)
    for th in thresholds:
        tp = npred = ngold = 0
        for row, pred in zip(rows, preds):
            gold = [(s["start"], s["end"]) for s in row["spans"] if s["severity"] in ("major", "critical")]
            hyp = [(t.start, t.end) for t in pred.tokens if t.p_bad >= th and t.end > t.start]
            a, b, c = span_counts(hyp, gold)
            tp, npred, ngold = tp + a, npred + b, ngold + c
        p, r, f = prf(tp, npred, ngold)
        out[f"span@{th:.2f}"] = {"p": p, "r": r, "f1": f}
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, default=None, help="weights folder (default: shipped)")
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=None, help="rows per file (quick checks)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--selection-only", action="store_true",
                        help="score only the selection half of bio (to compare checkpoints: ~1,000 rows, "
                             "less noisy than training's validation slice; the held-out half stays unseen)")
    parser.add_argument("--target-only", action="store_true",
                        help="withhold the sources: measure the target-only input (<s> MT </s>)")
    parser.add_argument("--write-threshold", action="store_true",
                        help="store the span threshold with the best F1 on the selection half in the "
                             "weights folder's qe_config.json (span_threshold)")
    args = parser.parse_args(argv)

    import torch

    from tqcheck.qe.data import dev_split, load_eval_rows
    from tqcheck.qe.predict import QEPredictor

    torch.set_num_threads(args.threads)
    predictor = QEPredictor.load(args.weights)
    bio = load_eval_rows(args.eval_dir / "bio_mqm_fr.dev.jsonl")[: args.limit]
    demetr = load_eval_rows(args.eval_dir / "demetr_fr_en.dev.jsonl")[: args.limit]
    def sources(rows: Sequence[dict[str, Any]]) -> list[str | None]:
        return [None if args.target_only else r["source"] for r in rows]

    if args.selection_only:
        select, _ = dev_split(bio)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            preds = predictor.predict(mts=[r["mt"] for r in select], sources=sources(select))
        block = _bio_block(select, preds, [0.3, 0.4, 0.5, 0.6])
        block["auc_mean"] = (block["fr-en.auc.p_major"] + block["en-fr.auc.p_major"]) / 2
        report: dict[str, Any] = {"weights": str(args.weights or "shipped"), "target_only": args.target_only,
                                  "bio_selection_half": block}
        print(json.dumps(report, indent=1, default=float))
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, default=float) + "\n")
        return report

    start = time.time()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bio_preds = predictor.predict(mts=[r["mt"] for r in bio], sources=sources(bio))
    bio_seconds = time.time() - start
    with torch.autocast("cpu", dtype=torch.bfloat16):
        d_clean = predictor.predict(mts=[r["mt"] for r in demetr], sources=sources(demetr))
        d_pert = predictor.predict(mts=[r["mt_perturbed"] for r in demetr], sources=sources(demetr))

    thresholds = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7]
    select, held = dev_split(bio)
    sel_ids = {id(r) for r in select}
    report = {
        "weights": str(args.weights or "shipped"),
        "target_only": args.target_only,
        "bio_all": _bio_block(bio, bio_preds, thresholds),
        "bio_selection_half": _bio_block(select, [p for r, p in zip(bio, bio_preds) if id(r) in sel_ids],
                                         thresholds),
        "bio_heldout_half": _bio_block(held, [p for r, p in zip(bio, bio_preds) if id(r) not in sel_ids],
                                       thresholds),
        "speed_segments_per_s": len(bio) / bio_seconds,
    }
    wins = [1.0 if p.p_major > c.p_major else 0.5 if p.p_major == c.p_major else 0.0
            for c, p in zip(d_clean, d_pert)]
    report["demetr_pairwise_accuracy"] = sum(wins) / len(wins) if wins else float("nan")
    by_sev: dict[str, list[float]] = {}
    for row, w in zip(demetr, wins):
        by_sev.setdefault(str(row.get("severity")), []).append(w)
    report["demetr_by_severity"] = {k: sum(v) / len(v) for k, v in sorted(by_sev.items())}
    if args.write_threshold and not args.target_only:
        from tqcheck.qe.model import META_FILE
        from tqcheck.qe.predict import SHIPPED_DIR

        sel = report["bio_selection_half"]
        best = max(thresholds, key=lambda th: sel[f"span@{th:.2f}"]["f1"] or 0.0)
        meta_path = (args.weights or SHIPPED_DIR) / META_FILE
        meta = json.loads(meta_path.read_text())
        meta["span_threshold"] = best
        meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        report["span_threshold_written"] = best
    text = json.dumps(report, indent=1, default=float)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
