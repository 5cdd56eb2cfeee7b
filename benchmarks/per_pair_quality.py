"""Per-pair calibration on ../shared/train's labels (issue 14): before and after, per language pair.

Why: the shipped calibration is fit on French<->English only, so every other pair is scored by its pooled
fit (``*``). Two kinds of labels in ../shared/train can fit a pair's own fusion (``--data``):

- ``bio`` (the default): ``bio_mqm_other.jsonl.gz``, expert MQM spans of the same kind as
  ../shared/eval/bio_mqm_fr (biomedical abstracts, the same guidelines) for 13 more pairs; the figure is
  ROC-AUC for "has a major error";
- ``mlqe``: ``mlqe_pe_traindev.jsonl.gz``, MLQE-PE's DA scores for seven pairs (Wikipedia; ru-en also
  Reddit). The fit half is the first ``--rows`` rows of each pair's train split, the test half its whole
  dev split (MLQE-PE's own split: by sentence, so the halves share documents but no sentence); a pair is
  fit on "mean DA of 50 or less" (``tqcheck.fusion.fit.DA_MAJOR_AT_MOST``) and the figure is Pearson's r
  with minus the DA z-score, the WMT QE task's measure.

For bio, this script

1. samples, per pair, whole documents into two halves (``fit`` and ``test``; a document's hash decides,
   so no document, and no source sentence, is in both), about ``--rows`` segments per half;
2. measures the shipped calibration on the test half (``tqcheck eval``: before);
3. fits each pair's own fusion on the fit half, laid over the shipped file with its pooled fits kept
   (``tqcheck calibrate --extend tqcheck/data/calibration.json --pairs-only``; the figures it prints are
   5-fold cross-validated on the fit half);
4. keeps a pair's own fit only where, **on the fit half**, its cross-validated figure is at least the
   pooled fit's (``tqcheck eval`` of the shipped file on the fit half): a pair whose few labels make a
   worse model than the pooled one keeps the pooled one. The test half plays no part in this choice;
5. measures the kept calibration on the test half (after), and prints one row per pair: which signals
   ran (share of segments with scores), whether its own fit was kept (and the fit-half figures that
   decided), n and positives, ROC-AUC for "has a major error" and Kendall tau with the MQM penalty,
   before and after, and the shown flags' precision after.

    .venv/bin/python benchmarks/per_pair_quality.py [--data bio|mlqe] [--rows 120] [--out out/per_pair]
        [--cache FILE] [--record] [--install]

``--install`` copies the kept calibration over tqcheck/data/calibration.json (the shipped file) when
done. The engine cache makes a second run cheap; each half's evidence is kept in OUT.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import _common as C

from tqcheck.fusion.calibration import NOT_FUSED

TRAIN = C.ROOT.parent / "shared" / "train" / "bio_mqm_other.jsonl.gz"
MLQE = C.ROOT.parent / "shared" / "train" / "mlqe_pe_traindev.jsonl.gz"
#: Per kind of labels: the figure a fit is judged by (a path into ``tqcheck eval``'s per-pair block), its name.
FIGURES = {"bio": (("segments", "roc_auc"), "ROC-AUC"),
           "mlqe": (("segments", "correlations", "-da_z", "pearson"), "Pearson vs -DA z")}
SHIPPED = C.ROOT / "tqcheck" / "data" / "calibration.json"
TQCHECK = str(C.ROOT / ".venv" / "bin" / "tqcheck")


def half_of(doc_id: str) -> str:
    """A document's half, from a hash of its id: stable across runs and machines."""
    return "fit" if hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0 else "test"


def sample(rows_per_half: int, out: Path) -> dict[str, Path]:
    """Whole documents per pair and half, in hash order, until each half has ``rows_per_half`` rows."""
    by_doc: dict[tuple[str, str], list[dict]] = defaultdict(list)
    with gzip.open(TRAIN, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("spans") is None or row.get("human_translation"):
                continue
            row["reference"] = None  # checked as users check: without a human reference
            by_doc[(row["lp"], row["doc_id"])].append(row)
    taken: dict[str, list[dict]] = {"fit": [], "test": []}
    counts: Counter[tuple[str, str]] = Counter()
    for (lp, doc), rows in sorted(by_doc.items(), key=lambda kv: hashlib.sha256(f"{kv[0]}".encode()).hexdigest()):
        half = half_of(doc)
        if counts[(lp, half)] >= rows_per_half:
            continue
        taken[half] += rows
        counts[(lp, half)] += len(rows)
    paths = {}
    for half, rows in taken.items():
        path = out / f"{half}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        paths[half] = path
    return paths


def sample_mlqe(rows_per_pair: int, out: Path, dev_rows: int | None = None) -> dict[str, Path]:
    """The first ``rows_per_pair`` train rows of each MLQE-PE pair (fit) and its dev rows (test: all, or the
    first ``dev_rows``)."""
    taken: dict[str, list[str]] = {"fit": [], "test": []}
    counts: Counter[tuple[str, str]] = Counter()
    limits = {"train": rows_per_pair, "dev": dev_rows}
    with gzip.open(MLQE, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            split, limit = row["split"], limits.get(row["split"], 0)
            if limit is not None and counts[(row["lp"], split)] >= limit:
                continue
            counts[(row["lp"], split)] += 1
            taken["fit" if split == "train" else "test"].append(line)
    paths = {}
    for half, lines in taken.items():
        path = out / f"{half}.jsonl"
        path.write_text("".join(lines), encoding="utf-8")
        paths[half] = path
    return paths


def alone(evidence: Path, data: Path, score: str, grade: str) -> dict[str, float]:
    """Per pair, Pearson's r of one signal score of the evidence with one graded label of the labelled file
    it was run on (the learned QE model alone: issue 14's fifth item)."""
    from tqcheck.fusion.labels import read_labelled
    from tqcheck.fusion.metrics import pearson

    grades = {item.segment.id: item.grades[grade] for item in read_labelled(data).segments if grade in item.grades}
    scored: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with gzip.open(evidence, "rt", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            seg = item.get("segment")
            if seg is None or seg["id"] not in grades:
                continue
            value = (((item.get("outputs") or {}).get(score.split(".", 1)[0]) or {}).get("scores") or {}).get(score)
            if value is not None:
                scored[f"{seg['source_lang']}-{seg['target_lang']}"].append((value, grades[seg["id"]]))
    return {lp: pearson([g for _, g in xs], [v for v, _ in xs]) for lp, xs in scored.items() if len(xs) > 2}


def run(argv: list[str], log: Path) -> None:
    print("$ " + " ".join(argv), file=sys.stderr, flush=True)
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as handle:
        code = subprocess.call(argv, stdout=handle, stderr=subprocess.STDOUT)
    print(f"  {time.perf_counter() - start:.0f} s, exit {code}", file=sys.stderr, flush=True)
    if code != 0:
        sys.exit(f"failed: {' '.join(argv)} (see {log})")


def signal_shares(evidence: Path) -> dict[str, dict[str, float]]:
    """Per pair, the share of segments each signal gave sentence scores for."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    with gzip.open(evidence, "rt", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if "segment" not in item:
                continue
            seg = item["segment"]
            lp = f"{seg['source_lang']}-{seg['target_lang']}"
            total[lp] += 1
            for name, out in (item.get("outputs") or {}).items():
                if out.get("scores") and name not in NOT_FUSED:
                    seen[lp][name] += 1
    return {lp: {name: n / total[lp] for name, n in sorted(seen[lp].items())} for lp in total}


def figure(block: dict, *path: str) -> float | None:
    for key in path:
        block = (block or {}).get(key)
    return block.get("value") if isinstance(block, dict) else block


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--data", choices=sorted(FIGURES), default="bio",
                   help="bio: biomedical MQM, halves by document; mlqe: MLQE-PE DA, train rows vs the dev split")
    p.add_argument("--rows", type=int, default=120,
                   help="segments per pair and half (mlqe: train rows per pair; the dev split is whole; default 120)")
    p.add_argument("--out", default=None, help="working folder (default out/per_pair, out/per_pair_mlqe)")
    p.add_argument("--cache", default=None, help="engine cache file (default tqcheck's)")
    p.add_argument("--install", action="store_true", help="copy the fitted calibration over the shipped one")
    args = p.parse_args()
    rows = 30 if args.quick else args.rows
    out = Path(args.out or C.ROOT / "out" / ("per_pair" if args.data == "bio" else "per_pair_mlqe"))
    out.mkdir(parents=True, exist_ok=True)
    halves = sample(rows, out) if args.data == "bio" else sample_mlqe(rows, out, 30 if args.quick else None)
    path, name = FIGURES[args.data]
    cache = ["--cache", args.cache] if args.cache else []
    fitted = out / "calibration.json"
    run([TQCHECK, "eval", str(halves["test"]), "--by", "lp", "--calibration", str(SHIPPED), "--resamples", "0",
         "-q", "-o", str(out / "before.json"), "--evidence", str(out / "test.evidence.jsonl.gz"), *cache],
        out / "before.txt")
    run([TQCHECK, "calibrate", str(halves["fit"]), "--extend", str(SHIPPED), "--pairs-only", "-o", str(fitted),
         "--name", f"default-dev-per-pair-{args.data}", "--resamples", "0", "--no-plots", "-q",
         "--evidence", str(out / "fit.evidence.jsonl.gz"), *cache], out / "calibrate.txt")
    run([TQCHECK, "eval", str(halves["fit"]), "--by", "lp", "--calibration", str(SHIPPED), "--resamples", "0",
         "-q", "-o", str(out / "pooled-on-fit.json"), "--evidence", str(out / "fit-pooled.evidence.jsonl.gz"), *cache],
        out / "pooled-on-fit.txt")
    own_cv = json.loads(fitted.with_suffix(".cv.json").read_text())["data"][str(halves["fit"])]["by_lp"]
    pooled_fit = json.loads((out / "pooled-on-fit.json").read_text())["by_lp"]
    cal = json.loads(fitted.read_text())
    decided: dict[str, tuple[float | None, float | None]] = {}
    for lp in sorted(own_cv):
        own, pooled = figure(own_cv[lp], *path), figure(pooled_fit.get(lp, {}), *path)
        decided[lp] = (own, pooled)
        if own is None or pooled is None or own < pooled:
            for key in [k for k in cal["pairs"] if k == lp or k.startswith(lp + "/")]:
                del cal["pairs"][key]
    cal["provenance"]["per_pair_kept_where"] = (f"the pair's own fit, cross-validated on the fit half, scores at "
                                               f"least as well ({name}) as the pooled fit on that half")
    kept = out / "calibration.kept.json"
    kept.write_text(json.dumps(cal, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    run([TQCHECK, "eval", str(halves["test"]), "--by", "lp", "--calibration", str(kept), "--resamples", "0",
         "-q", "-o", str(out / "after.json"), "--evidence", str(out / "test-after.evidence.jsonl.gz"), *cache],
        out / "after.txt")
    before = json.loads((out / "before.json").read_text())["by_lp"]
    after = json.loads((out / "after.json").read_text())["by_lp"]
    shares = signal_shares(out / "test.evidence.jsonl.gz")
    if args.data == "bio":
        section = C.Section("Per-pair calibration on the biomedical MQM of ../shared/train (issue 14)")
        second = ("n test", "with a major", ("segments", "positives"), "tau",
                  ("segments", "correlations", "mqm_penalty", "kendall_tau"))
        extra: list[str] = []
    else:
        section = C.Section("Per-pair calibration on MLQE-PE DA: train rows fit, dev split measured (issue 14)")
        second = ("n dev", "DA <= 50", None, "Kendall vs -DA z",
                  ("segments", "correlations", "-da_z", "kendall_tau"))
        qe_alone = alone(out / "test.evidence.jsonl.gz", halves["test"], "qe.score", "-da_z")
        extra = ["QE alone: Pearson vs -DA z"]
    table = C.Table(["pair", "signals fused (share of test segments)", f"own fit (fit half: own cv / pooled {name})",
                     second[0], second[1], f"{name} before", f"{name} after", f"{second[3]} before",
                     f"{second[3]} after", *extra, "shown flags on error after", "flags/segment after"])
    means: dict[str, list[float]] = {"before": [], "after": []}
    for lp in sorted(after):
        b, a = before.get(lp, {}), after[lp]
        fig_b, fig_a = figure(b, *path), figure(a, *path)
        if fig_b is not None and fig_a is not None:
            means["before"].append(fig_b)
            means["after"].append(fig_a)
        signals = ", ".join(f"{s} {share:.0%}" for s, share in shares.get(lp, {}).items()) or "rules only"
        own, pooled = decided.get(lp, (None, None))
        verdict = f"{'kept' if lp in cal['pairs'] else 'pooled'} ({own if own is not None else '-'} / "
        verdict += f"{pooled if pooled is not None else '-'})"
        positives = (figure(a, *second[2]) if second[2] else
                     sum(-item <= 50 for item in _raw_da(halves["test"], lp)))
        cells = [qe_alone.get(lp)] if extra else []
        table.add(lp, signals, verdict, figure(a, "segments", "n"), positives, fig_b, fig_a,
                  figure(b, *second[4]), figure(a, *second[4]), *cells,
                  figure(a, "flags", "shown_on_error"), figure(a, "flags", "flags_per_segment"))
    if means["after"]:
        table.add("mean", "", "", "", "", sum(means["before"]) / len(means["before"]),
                  sum(means["after"]) / len(means["after"]), "", "", *([""] * len(extra)), "", "")
    section.tables.append((None, table))
    if args.data == "bio":
        section.notes += [
            f"Command: `.venv/bin/python benchmarks/per_pair_quality.py --rows {rows}` (samples written to "
            f"{out}/fit.jsonl and test.jsonl; whole documents, halves by a hash of the document id).",
            "Before: the shipped calibration (French<->English fits; every other pair scored by the pooled `*` fit). "
            "After: each pair's own fit on the fit half, laid over the shipped file with `--pairs-only`, kept where "
            "its cross-validated ROC-AUC on the fit half is at least the pooled fit's there. Both measured on the "
            "test half, which neither the fit nor that choice saw (held out by document). Human references are "
            "withheld (users check without them).",
            "ROC-AUC for `has_major`; Kendall tau with `mqm_penalty`. Cross-validated figures of each fit on its "
            f"own half are in {out}/calibrate.txt.",
        ]
    else:
        section.notes += [
            f"Command: `.venv/bin/python benchmarks/per_pair_quality.py --data mlqe --rows {rows}` (fit half: the "
            f"first {rows} train rows of each pair, {out}/fit.jsonl; test: the whole dev split, {out}/test.jsonl).",
            "Before: the shipped calibration (every MLQE-PE pair scored by the pooled `*` fit of French<->English "
            "biomedical MQM). After: each pair's own fit of \"mean DA <= 50\" on its train rows, laid over the "
            "shipped file with `--pairs-only`, kept where its cross-validated Pearson vs -DA z on the train rows is "
            "at least the pooled fit's there; the dev split plays no part in that choice.",
            "MLQE-PE splits by sentence: train and dev share Wikipedia articles but no source sentence. The learned "
            "QE model's training mixture included MLQE-PE train, dev and test21 rows (tqcheck/data/qe/MODEL_CARD.md; "
            "about an eighth of one pass over its data), so its figures here, alone and fused, are not those of "
            "unseen data: read them as upper bounds, and the pairs where even they are weak as weak.",
        ]
    C.finish(section, args)
    if args.install:
        shutil.copyfile(kept, SHIPPED)
        print(f"installed {kept} as {SHIPPED.relative_to(C.ROOT)}", file=sys.stderr)


def _raw_da(data: Path, lp: str) -> list[float]:
    """Minus the raw DA means of one pair's rows (the ``-da`` grade)."""
    from tqcheck.fusion.labels import read_labelled

    return [item.grades["-da"] for item in read_labelled(data).segments
            if "-da" in item.grades and item.segment.language_pair == lp]


if __name__ == "__main__":
    main()
