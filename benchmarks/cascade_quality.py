"""The cascade's threshold, fit on the dev data: cross-validated quality against the share of segments
that reach the expensive stage (issue 13).

    .venv/bin/python benchmarks/cascade_quality.py /work/quality/all_qe.evidence.jsonl.gz [--record]

A simulation on full evidence (every signal on every segment, as ``tqcheck eval --evidence`` keeps it):
the folds are those of ``tqcheck eval --cross-validate 5`` (``tqcheck.fusion.fit``: grouped by source
sentence, the fusion fit on bio_mqm_fr.dev and demetr_fr_en.dev together without the fold, on full
evidence as ``tqcheck calibrate`` fits the shipped calibration). Each held-out segment is fused twice
by its fold's fusion: with every signal (the thorough result) and with the cheap stage's signals only
(``Evidence.restricted``). Its *cheap risk* is the second one's risk, which is what the pipeline routes
on (``tqcheck.cascade``). For a threshold t, the cascade's result is the thorough one where the cheap risk
is at least t and the cheap one elsewhere; threshold 0 reproduces ``tqcheck eval --cross-validate 5``.

Figures (as ``tqcheck eval`` computes them, ``tqcheck.fusion.evaluate``): bio ROC-AUC of the risk for
has-major per direction, DEMETR pairwise accuracy (perturbed rated riskier, ties 1/2), major-flag
precision ("major on major": the share of major flags on a human major/critical span) per direction.
The chosen threshold is the one that sends the fewest segments to the expensive stage while every
figure loses at most ``--tolerance`` against the thorough run; ``--write FILE`` puts it (with what was
measured) into a calibration file (``Calibration.cascade``).
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common as C

#: Cost of each stage, ms/segment on news-length fr->en (benchmarks/RESULTS.md, "Throughput per
#: configuration and per stage", 2026-11-29 09:22, the full offline default's engines, cache off).
STAGE_MS = {"fluency": 78.9, "crosslingual": 52.3, "roundtrip": 37.9, "qe": 32.4, "pseudo_reference": 11.7,
            "forced": 0.0, "homograph": 0.0}
#: Candidate cheap stages (besides the rule checks): QE, the cheapest learned signal, alone and with the
#: pseudo-reference (Apertium's, the cheapest model signal of all). The embedder (52 ms) costs more than
#: the round trip and is never cheap.
CANDIDATES: tuple[tuple[str, ...], ...] = (("qe",), ("pseudo_reference", "qe"))
#: Shares of segments sent to the expensive stage that the thresholds are placed at (quantiles of the
#: cheap risk), from everything to a tenth.
SHARES = (1.0, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1)
BIO, DEMETR = "bio_mqm_fr.dev.jsonl", "demetr_fr_en.dev.jsonl"
#: Figure name -> (file, slice, block, key) in ``tqcheck.fusion.evaluate.evaluate``'s report.
FIGURES = {
    "AUC fr-en": (BIO, "fr-en", "segments", "roc_auc"),
    "AUC en-fr": (BIO, "en-fr", "segments", "roc_auc"),
    "DEMETR pairwise": (DEMETR, None, "pairs", "accuracy_ties_half"),
    "major on major fr-en": (BIO, "fr-en", "flags", "major_on_major"),
    "major on major en-fr": (BIO, "en-fr", "flags", "major_on_major"),
}


@dataclass(frozen=True)
class HeldOut:
    """One held-out segment, fused by its fold's fusion with every signal and with the cheap ones."""

    thorough: Any  # SegmentResult
    cheap: Any  # SegmentResult
    cheap_risk: float | None


def read_evidence(path: Path, eval_dir: Path) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """The evidence file's header, its evidence, and the labelled files it was made from (checked by hash)."""
    from tqcheck.cli._labelled import sha256
    from tqcheck.fusion.fuse import Evidence
    from tqcheck.fusion.labels import read_labelled

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        evidence = [Evidence.from_dict(json.loads(line)) for line in handle if line.strip()]
    if header.get("target_only"):
        raise SystemExit(f"{path}: target-only evidence; this script measures the bilingual cascade")
    data = []
    for item in header["data"]:
        local = eval_dir / Path(item["data"]).name
        if sha256(local) != item["data_sha256"]:
            raise SystemExit(f"{local} is not the file {path} was made from (sha256 differs)")
        data.append(read_labelled(local, limit=header.get("limit")))
    return header, evidence, data


def held_out(labelled: Any, cheap: Sequence[str], folds: int) -> dict[str, HeldOut]:
    """Every segment fused out of fold, thorough and cheap (see the module docstring)."""
    from tqcheck.cascade import cheap_risk
    from tqcheck.fusion.fit import _groups_folds, fit_calibration
    from tqcheck.fusion.fuse import Fusion

    ids = [e.segment.id for e in labelled.evidence]
    groups = [labelled.groups.get(i, i) for i in ids]
    out: dict[str, HeldOut] = {}
    for train, test in _groups_folds(groups, folds):  # the folds of fit.cross_validated_results
        fusion = Fusion(fit_calibration(labelled.subset({ids[i] for i in train}), folds=None, name="cv-fold"))
        for i in test:
            e = labelled.evidence[i]
            small = e.restricted(cheap)
            out[ids[i]] = HeldOut(fusion.fuse(e.segment, e.rule_flags, e.outputs),
                                  fusion.fuse(small.segment, small.rule_flags, small.outputs),
                                  cheap_risk(fusion, small, frozenset(cheap)))
    return out


def cascaded(results: dict[str, HeldOut], threshold: float) -> list[Any]:
    from tqcheck.cascade import needs_expensive_stage

    return [r.thorough if needs_expensive_stage(r.cheap_risk, threshold) else r.cheap for r in results.values()]


def figures(data: Sequence[Any], results: list[Any], resamples: int) -> dict[str, Any]:
    from tqcheck.fusion.evaluate import evaluate

    reports = {}
    for name, item in zip((BIO, DEMETR), data):
        reports[name] = evaluate(item, results, by_lp=True, resamples=resamples, seed=0)
    out: dict[str, Any] = {}
    for label, (file, lp, block, key) in FIGURES.items():
        report = reports[file]
        part = report["by_lp"].get(lp) if lp else report["overall"]
        entry = ((part or {}).get(block) or {}).get(key)
        out[label] = entry
    bio = reports[BIO]["by_lp"]
    out["major flags"] = {lp: (bio.get(lp) or {}).get("flags", {}).get("major") for lp in ("fr-en", "en-fr")}
    return out


def value(entry: Any) -> float | None:
    return None if not entry or entry.get("value") is None else float(entry["value"])


def sweep(results: dict[str, HeldOut], data: Sequence[Any], cheap: Sequence[str], tolerance: float
          ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One row per threshold (quantiles of the cheap risk); the chosen row (None: none within tolerance)."""
    risks = sorted(r.cheap_risk for r in results.values() if r.cheap_risk is not None)
    thresholds = [0.0] + [risks[min(len(risks) - 1, int(round((1 - share) * len(risks))))] for share in SHARES[1:]]
    base = figures(data, [r.thorough for r in results.values()], 0)
    expensive = sum(ms for name, ms in STAGE_MS.items() if name not in cheap)
    cheap_ms = sum(STAGE_MS.get(name, 0.0) for name in cheap)
    rows, chosen = [], None
    for threshold in dict.fromkeys(thresholds):
        out = figures(data, cascaded(results, threshold), 0)
        share = sum(1 for r in results.values() if r.cheap_risk is None or r.cheap_risk >= threshold) / len(results)
        losses = {k: (value(base[k]) or 0.0) - (value(out[k]) or 0.0) for k in FIGURES
                  if value(base[k]) is not None}
        row = {"threshold": threshold, "share": share, "figures": out, "losses": losses,
               "ms": cheap_ms + share * expensive, "within": all(loss <= tolerance + 1e-12 for loss in losses.values())}
        rows.append(row)
        if row["within"] and threshold > 0 and (chosen is None or row["share"] < chosen["share"]):
            chosen = row
    return rows, chosen


def table(rows: list[dict[str, Any]], chosen: dict[str, Any] | None) -> C.Table:
    t = C.Table(["cheap-risk threshold", "share reaching the expensive stage", "model ms/segment (est.)",
                 *FIGURES, "major flags fr-en / en-fr", f"all within {ARGS.tolerance}?"])
    for row in rows:
        f = row["figures"]
        mark = " (chosen)" if row is chosen else " (thorough)" if row["threshold"] == 0 else ""
        cells = []
        for k in FIGURES:
            v = value(f[k])
            loss = row["losses"].get(k)
            cells.append("—" if v is None else f"{v:.3f}" + ("" if not loss or row["threshold"] == 0 else
                                                              f" ({-loss:+.3f})"))
        majors = f["major flags"]
        t.add(f"{row['threshold']:.4f}{mark}", f"{row['share']:.0%}", f"{row['ms']:.0f}", *cells,
              f"{majors['fr-en']} / {majors['en-fr']}", "yes" if row["within"] else "no")
    return t


ARGS: Any = None


def main() -> None:
    global ARGS
    from tqcheck.fusion.fit import Labelled

    p = C.parser(__doc__.splitlines()[0])
    p.add_argument("evidence", help="full evidence of tqcheck eval on the two dev files (--evidence FILE)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--tolerance", type=float, default=0.005, help="largest loss allowed on each figure")
    p.add_argument("--resamples", type=int, default=1000,
                   help="bootstrap resamples for the 95%% intervals of the chosen and thorough rows")
    p.add_argument("--cheap", action="append", default=None, metavar="SIGNAL,SIGNAL",
                   help="a cheap stage to measure (repeatable; default: " +
                        " and ".join(",".join(c) for c in CANDIDATES) + ")")
    p.add_argument("--write", metavar="CALIBRATION.json", default=None,
                   help="set the chosen cheap stage and threshold in this calibration file")
    ARGS = args = p.parse_args()
    section = C.Section("Cascade (issue 13): cheap-stage threshold against cross-validated quality")
    header, evidence, data = read_evidence(Path(args.evidence), C.EVAL_DIR)
    if args.quick:
        keep = {e.segment.id for e in evidence[::4]}
        evidence = [e for e in evidence if e.segment.id in keep]
    labelled = Labelled.of(evidence, *data)
    best: tuple[float, Sequence[str], dict[str, Any], list[dict[str, Any]], dict[str, HeldOut]] | None = None
    candidates = [tuple(sorted(c.split(","))) for c in args.cheap] if args.cheap else CANDIDATES
    for cheap in candidates:
        results = held_out(labelled, cheap, args.folds)
        rows, chosen = sweep(results, data, cheap, args.tolerance)
        caption = (f"Cheap stage: rule checks + {', '.join(cheap)} "
                   f"({sum(STAGE_MS.get(c, 0.0) for c in cheap):.0f} ms/segment); expensive stage: the rest.")
        section.tables.append((caption, table(rows, chosen)))
        print(caption, "\n", section.tables[-1][1].markdown(), "\n", file=sys.stderr, flush=True)
        if chosen is not None and (best is None or chosen["ms"] < best[0]):
            best = (chosen["ms"], cheap, chosen, rows, results)
    if best is None:
        section.notes.append(f"No threshold keeps every figure within {args.tolerance} of the thorough run: the "
                             "cascade stays off by default.")
    else:
        ms, cheap, chosen, rows, results = best
        thorough = figures(data, [r.thorough for r in results.values()], args.resamples)
        cascade = figures(data, cascaded(results, chosen["threshold"]), args.resamples)
        ci = C.Table(["figure", "thorough [95% CI]", f"cascade at {chosen['threshold']:.4f} [95% CI]"])
        for k in FIGURES:
            ci.add(k, fmt(thorough[k]), fmt(cascade[k]))
        section.tables.append((f"Chosen: cheap stage rule checks + {', '.join(cheap)}, threshold "
                               f"{chosen['threshold']:.4f}: {chosen['share']:.0%} of segments reach the expensive "
                               f"stage, model time {ms:.0f} ms/segment estimated against "
                               f"{sum(STAGE_MS.values()):.0f} thorough. With bootstrap intervals "
                               f"({args.resamples} resamples over source sentences):", ci))
        if args.write:
            write_threshold(Path(args.write), cheap, chosen, args)
            section.notes.append(f"Written into {args.write} (`cascade`: cheap signals and threshold).")
    section.notes += [
        f"Evidence: {args.evidence} ({len(evidence)} segments; made by `tqcheck eval` with config hash "
        f"{header.get('config_hash')}), labels of ../shared/eval/{BIO} and {DEMETR}.",
        f"{args.folds}-fold cross-validation grouped by source sentence, the folds of `tqcheck eval --cross-validate "
        f"{args.folds}`; each fold's fusion fit on full evidence of the other folds (as `tqcheck calibrate`). A "
        "held-out segment below the threshold gets its fusion's result on the cheap stage's evidence "
        "(`Evidence.restricted`), the others the thorough result. Threshold 0 is `tqcheck eval --cross-validate`.",
        "Thresholds sit at quantiles of the cheap risk so that a given share of segments reaches the expensive "
        "stage; in brackets the change against the thorough row. Chosen: the smallest share whose figures all "
        f"lose at most {args.tolerance}. Estimated model time: the stages' ms/segment from 'Throughput per "
        "configuration and per stage' (2026-11-29 09:22: " + ", ".join(f"{k} {v}" for k, v in STAGE_MS.items() if v)
        + "), cheap stage on every segment, the rest on the share; measured throughput is bench_throughput's.",
    ]
    C.finish(section, args)


def fmt(entry: Any) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    lo, hi = entry.get("ci") or (None, None)
    return f"{entry['value']:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None else "")


def write_threshold(path: Path, cheap: Sequence[str], chosen: dict[str, Any], args: Any) -> None:
    from tqcheck.fusion.calibration import POOLED, CascadeRule, load_calibration

    calibration, _ = load_calibration(path)
    if calibration is None:
        raise SystemExit(f"{path}: no calibration")
    measured = {"command": C.command_line(), "date": C.utc_now(), "share_expensive": round(chosen["share"], 4),
                "losses": {k: round(v, 4) for k, v in chosen["losses"].items()}, "tolerance": args.tolerance}
    rule = CascadeRule(tuple(sorted(cheap)), {POOLED: round(chosen["threshold"], 6)}, measured)
    calibration.with_cascade(rule).write(path)


if __name__ == "__main__":
    main()
