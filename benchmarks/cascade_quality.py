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
Every candidate cheap stage is measured; the chosen (cheap stage, threshold) is the one of least
estimated model time whose figures all lose at most ``--tolerance`` (0.005) against the thorough run,
as do those of every lower threshold of the same cheap stage (so that noise in the sweep cannot pick a
lucky point): on by default if it saves at least ``--min-saving`` of the model time. Otherwise the cascade is off by
default, and ``--cascade`` gets the cheapest one within ``--opt-in-tolerance``. ``--write FILE`` puts
the choice (with what was measured) into a calibration file (``Calibration.cascade``).
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
#: configuration and per stage", 2026-12-03 05:16: bf16 engines, Apertium mode servers, the faster TER;
#: the full offline default's engines, cache off).
STAGE_MS = {"fluency": 37.2, "crosslingual": 16.7, "roundtrip": 14.3, "qe": 16.0, "pseudo_reference": 7.1,
            "forced": 0.0, "homograph": 0.0}
#: Candidate cheap stages (besides the rule checks): QE, the cheapest learned signal, alone and with the
#: pseudo-reference (Apertium's, cheap); both with the fluency LM, the costliest stage but the one DEMETR's
#: deliberate errors need most (cross-validated pairwise accuracy 0.90 alone); and, since the embedder runs
#: batched in bf16 (14 ms), each of those with the embedder, the last leaving only the round trip expensive.
_BASES: tuple[tuple[str, ...], ...] = (("qe",), ("pseudo_reference", "qe"), ("fluency", "qe"),
                                       ("fluency", "pseudo_reference", "qe"))
CANDIDATES: tuple[tuple[str, ...], ...] = _BASES + tuple(tuple(sorted((*c, "crosslingual"))) for c in _BASES)
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


def held_out(labelled: Any, candidates: Sequence[tuple[str, ...]],
             folds: int) -> dict[tuple[str, ...], dict[str, HeldOut]]:
    """Every segment fused out of fold, thorough and on each candidate cheap stage (module docstring). The
    fold's fusion is fit on full evidence whatever the cheap stage, so each fold is fit once."""
    from tqcheck.cascade import cheap_risk
    from tqcheck.fusion.fit import fold_calibrations
    from tqcheck.fusion.fuse import Fusion

    ids = [e.segment.id for e in labelled.evidence]
    out: dict[tuple[str, ...], dict[str, HeldOut]] = {cheap: {} for cheap in candidates}
    for calibration, held in fold_calibrations(labelled, folds=folds):  # the folds of cross_validated_results
        fusion = Fusion(calibration)
        for e in held:
            thorough = fusion.fuse(e.segment, e.rule_flags, e.outputs)
            for cheap in candidates:
                small = e.restricted(cheap)
                out[cheap][e.segment.id] = HeldOut(
                    thorough, fusion.fuse(small.segment, small.rule_flags, small.outputs),
                    cheap_risk(fusion, small, frozenset(cheap)))
    # Input order, as cross_validated_results returns them.
    return {cheap: {i: results[i] for i in ids if i in results} for cheap, results in out.items()}


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


def sweep(results: dict[str, HeldOut], data: Sequence[Any], cheap: Sequence[str]) -> list[dict[str, Any]]:
    """One row per threshold (quantiles of the cheap risk, threshold 0 first: thorough)."""
    risks = sorted(r.cheap_risk for r in results.values() if r.cheap_risk is not None)
    thresholds = [0.0] + [risks[min(len(risks) - 1, int(round((1 - share) * len(risks))))] for share in SHARES[1:]]
    base = figures(data, [r.thorough for r in results.values()], 0)
    expensive = sum(ms for name, ms in STAGE_MS.items() if name not in cheap)
    cheap_ms = sum(STAGE_MS.get(name, 0.0) for name in cheap)
    rows = []
    for threshold in dict.fromkeys(thresholds):
        out = figures(data, cascaded(results, threshold), 0)
        share = sum(1 for r in results.values() if r.cheap_risk is None or r.cheap_risk >= threshold) / len(results)
        losses = {k: (value(base[k]) or 0.0) - (value(out[k]) or 0.0) for k in FIGURES
                  if value(base[k]) is not None}
        rows.append({"threshold": threshold, "share": share, "figures": out, "losses": losses,
                     "max_loss": max(losses.values()), "ms": cheap_ms + share * expensive, "cheap": tuple(cheap)})
    return rows


def choose(sweeps: Sequence[list[dict[str, Any]]], tolerance: float) -> dict[str, Any] | None:
    """The row of least estimated model time whose figures all lose at most ``tolerance``, as do those of
    every lower threshold of its cheap stage: a threshold that passes after a lower one failed passed
    by the noise of the sweep, not because the cascade keeps the quality there."""
    within = []
    for rows in sweeps:
        for row in rows:  # in order of rising threshold
            if row["max_loss"] > tolerance + 1e-12:
                break
            if row["threshold"] > 0:
                within.append(row)
    return min(within, key=lambda r: r["ms"]) if within else None


def table(rows: list[dict[str, Any]], marks: dict[int, str]) -> C.Table:
    t = C.Table(["cheap-risk threshold", "share reaching the expensive stage", "model ms/segment (est.)",
                 *FIGURES, "major flags fr-en / en-fr", "largest loss"])
    for row in rows:
        f = row["figures"]
        mark = marks.get(id(row), " (thorough)" if row["threshold"] == 0 else "")
        cells = []
        for k in FIGURES:
            v = value(f[k])
            loss = row["losses"].get(k)
            cells.append("—" if v is None else f"{v:.3f}" + ("" if not loss or row["threshold"] == 0 else
                                                              f" ({-loss:+.3f})"))
        majors = f["major flags"]
        t.add(f"{row['threshold']:.4f}{mark}", f"{row['share']:.0%}", f"{row['ms']:.0f}", *cells,
              f"{majors['fr-en']} / {majors['en-fr']}", f"{max(row['max_loss'], 0.0):.3f}")
    return t


def main() -> None:
    from tqcheck.fusion.calibration import calibration_key
    from tqcheck.fusion.fit import Labelled

    p = C.parser(__doc__.splitlines()[0])
    p.add_argument("evidence", help="full evidence of tqcheck eval on the two dev files (--evidence FILE)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--tolerance", type=float, default=0.005,
                   help="largest loss on each figure for the cascade to be on by default")
    p.add_argument("--min-saving", type=float, default=0.1,
                   help="smallest share of the estimated model time saved for the cascade to be on by default")
    p.add_argument("--opt-in-tolerance", type=float, default=0.02,
                   help="largest loss on each figure for the threshold --cascade uses when none is on by default")
    p.add_argument("--resamples", type=int, default=1000,
                   help="bootstrap resamples for the 95%% intervals of the chosen and thorough rows")
    p.add_argument("--cheap", action="append", default=None, metavar="SIGNAL,SIGNAL",
                   help="a cheap stage to measure (repeatable; default: " +
                        " and ".join(",".join(c) for c in CANDIDATES) + ")")
    p.add_argument("--write", metavar="CALIBRATION.json", default=None,
                   help="set the chosen cheap stage and threshold in this calibration file")
    args = p.parse_args()
    section = C.Section("Cascade (issue 13): cheap-stage threshold against cross-validated quality")
    header, evidence, data = read_evidence(Path(args.evidence), C.EVAL_DIR)
    if args.quick:
        keep = {e.segment.id for e in evidence[::4]}
        evidence = [e for e in evidence if e.segment.id in keep]
    labelled = Labelled.of(evidence, *data)
    thorough_ms = sum(STAGE_MS.values())
    candidates = [tuple(sorted(c.split(","))) for c in args.cheap] if args.cheap else CANDIDATES
    sweeps: list[tuple[tuple[str, ...], list[dict[str, Any]], dict[str, HeldOut]]] = []
    for cheap, results in held_out(labelled, candidates, args.folds).items():
        sweeps.append((cheap, sweep(results, data, cheap), results))
        print(f"{', '.join(cheap)}:\n{table(sweeps[-1][1], {}).markdown()}\n", file=sys.stderr, flush=True)
    every = [rows for _, rows, _ in sweeps]
    chosen = choose(every, args.tolerance)
    default = chosen is not None and 1 - chosen["ms"] / thorough_ms >= args.min_saving
    if not default:
        chosen = choose(every, args.opt_in_tolerance)
    marks = {id(chosen): " (chosen: default)" if default else " (chosen: --cascade only)"} if chosen else {}
    for cheap, rows, _ in sweeps:
        section.tables.append((f"Cheap stage: rule checks + {', '.join(cheap)} "
                               f"({sum(STAGE_MS.get(c, 0.0) for c in cheap):.0f} ms/segment); expensive stage: "
                               "the other signals.", table(rows, marks)))
    if default:
        section.notes.append(f"On by default: every figure within {args.tolerance} of the thorough run, "
                             f"{1 - chosen['ms'] / thorough_ms:.0%} of the model time saved (estimated).")
    else:
        section.notes.append(
            f"No threshold keeps every figure within {args.tolerance} of the thorough run while saving at least "
            f"{args.min_saving:.0%} of the model time: the cascade is off by default. "
            + (f"`--cascade` uses the cheapest threshold within {args.opt_in_tolerance} instead." if chosen
               else f"No threshold is within {args.opt_in_tolerance} either: no threshold for `--cascade`."))
    if chosen is not None:
        cheap = chosen["cheap"]
        results = next(r for c, _, r in sweeps if c == cheap)
        thorough = figures(data, [r.thorough for r in results.values()], args.resamples)
        cascade = figures(data, cascaded(results, chosen["threshold"]), args.resamples)
        ci = C.Table(["figure", "thorough [95% CI]", f"cascade at {chosen['threshold']:.4f} [95% CI]"])
        for k in FIGURES:
            ci.add(k, fmt(thorough[k]), fmt(cascade[k]))
        section.tables.append((f"Chosen ({'on by default' if default else '--cascade only'}): cheap stage rule "
                               f"checks + {', '.join(cheap)}, threshold {chosen['threshold']:.4f}: "
                               f"{chosen['share']:.0%} of segments reach the expensive stage (all reach the cheap "
                               f"one), model time {chosen['ms']:.0f} ms/segment estimated against {thorough_ms:.0f} "
                               f"thorough. With bootstrap intervals ({args.resamples} resamples over source "
                               "sentences):", ci))
        if args.write:
            write_threshold(Path(args.write), chosen, default, args,
                            {calibration_key(e.segment) for e in evidence})
            section.notes.append(f"Written into {args.write} (`cascade`: cheap signals, threshold, default "
                                 f"{str(default).lower()}).")
    section.notes += [
        f"Evidence: {args.evidence} ({len(evidence)} segments; made by `tqcheck eval` with config hash "
        f"{header.get('config_hash')}), labels of ../shared/eval/{BIO} and {DEMETR}.",
        f"{args.folds}-fold cross-validation grouped by source sentence, the folds of `tqcheck eval --cross-validate "
        f"{args.folds}`; each fold's fusion fit on full evidence of the other folds (as `tqcheck calibrate`). A "
        "held-out segment below the threshold gets its fusion's result on the cheap stage's evidence "
        "(`Evidence.restricted`), the others the thorough result. Threshold 0 is `tqcheck eval --cross-validate` "
        "(same figures as its report on the same evidence).",
        "Thresholds sit at quantiles of the cheap risk so that a given share of segments reaches the expensive "
        "stage; in brackets the change against the thorough row (the DEMETR figure is pairwise accuracy, ties "
        "1/2; 'major on major' the share of major flags on a human major/critical span). Estimated model time: "
        "the stages' ms/segment from 'Throughput per configuration and per stage' (2026-11-29 09:22: "
        + ", ".join(f"{k} {v}" for k, v in STAGE_MS.items() if v)
        + "), the cheap stage on every segment, the rest on the share; bench_throughput measures the real rate.",
        "A segment whose cheap risk does not come from the model of exactly the cheap signals always reaches the "
        "expensive stage (as in the pipeline): with fluency in the cheap stage, every en-fr segment (no French LM "
        "offline). Chosen: the least estimated model time among thresholds whose figures, and those of every "
        "lower threshold of the same cheap stage, all lose at most the tolerance.",
    ]
    C.finish(section, args)


def fmt(entry: Any) -> str:
    if not entry or entry.get("value") is None:
        return "—"
    lo, hi = entry.get("ci") or (None, None)
    return f"{entry['value']:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None else "")


def write_threshold(path: Path, chosen: dict[str, Any], default: bool, args: Any, keys: set[str]) -> None:
    """The chosen cheap stage and threshold into ``path``'s calibration, under the keys whose risks it was
    measured on: each calibration key of the evidence that has its own fit in the file (the pipeline holds
    such a key to its own threshold only, ``CascadeRule.threshold``), else the pooled key."""
    from tqcheck.fusion.calibration import POOLED, CascadeRule, load_calibration, pooled_key

    calibration, _ = load_calibration(path)
    if calibration is None:
        raise SystemExit(f"{path}: no calibration")
    measured_on = sorted({key if key in calibration.pairs else pooled_key(key) for key in keys}) or [POOLED]
    measured = {"command": C.command_line(), "date": C.utc_now(), "share_expensive": round(chosen["share"], 4),
                "losses": {k: round(v, 4) for k, v in chosen["losses"].items()},
                "tolerance": args.tolerance if default else args.opt_in_tolerance,
                "evidence": str(args.evidence)}
    rule = CascadeRule(chosen["cheap"], dict.fromkeys(measured_on, round(chosen["threshold"], 6)), measured,
                       default=default)
    calibration.with_cascade(rule).write(path)


if __name__ == "__main__":
    main()
