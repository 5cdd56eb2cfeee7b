"""Per-pair calibration on ../shared/train's labels (issue 14): before and after, per language pair.

Why: the shipped calibration is fit on French<->English only, so every other pair is scored by its pooled
fit (``*``). Two kinds of labels in ../shared/train can fit a pair's own fusion (``--data``):

- ``bio`` (the default): ``bio_mqm_other.jsonl.gz``, expert MQM spans of the same kind as
  ../shared/eval/bio_mqm_fr (biomedical abstracts, the same guidelines) for 13 more pairs, sampled per
  pair as whole documents into two halves (``fit`` and ``test``; a document's hash decides, so no
  document and no source sentence is in both), about ``--rows`` segments per half; the figure is ROC-AUC
  for "has a major error";
- ``mlqe``: ``mlqe_pe_traindev.jsonl.gz``, MLQE-PE's DA scores for seven pairs (Wikipedia; ru-en also
  Reddit). The fit half is the first ``--mlqe-rows`` rows of each pair's train split, the test half its
  whole dev split (MLQE-PE's own split: by sentence, so the halves share articles but no sentence); a DA
  row's "major error" is a mean DA of 50 or less (``tqcheck.fusion.fit.DA_MAJOR_AT_MOST``) and the figure
  is Pearson's r with minus the DA z-score, the WMT QE task's measure;
- ``both``: the two together, so a pair with both kinds of labels (en-de, en-zh, ru-en) is fit on all of
  them and judged by both figures.

Then this script

1. measures the shipped calibration on the test half (``tqcheck eval``: before);
2. fits each pair's own fusion on the fit half, laid over the shipped file with its pooled fits kept
   (``tqcheck calibrate --extend tqcheck/data/calibration.json --pairs-only``; the figures it prints are
   5-fold cross-validated on the fit half);
3. keeps a pair's own fit only where, **on the fit half**, its cross-validated figures are at least the
   pooled fit's (``tqcheck eval`` of the shipped file on the fit half), by every figure its labels give: a
   pair whose few labels make a worse model than the pooled one keeps the pooled one. The test half plays
   no part in this choice;
4. measures the kept calibration on the test half (after), and prints one row per pair: which signals
   ran (share of segments with scores), whether its own fit was kept (and the fit-half figures that
   decided), n and positives, the figures before and after, and the shown flags' precision after.

    .venv/bin/python benchmarks/per_pair_quality.py [--data bio|mlqe|both] [--rows 120] [--mlqe-rows 700]
        [--out out/per_pair_<data>] [--cache FILE] [--record] [--install [--install-pairs LP,LP]]

``--install`` copies the kept calibration over tqcheck/data/calibration.json (the shipped file) when
done; with ``--install-pairs LP,LP`` only those pairs' kept fits are laid over it. The engine cache makes
a second run cheap; each half's evidence is kept in OUT.
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


def sample_bio(rows_per_half: int) -> dict[str, list[str]]:
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
    return {half: [json.dumps(r, ensure_ascii=False) + "\n" for r in rows] for half, rows in taken.items()}


def sample_mlqe(rows_per_pair: int, dev_rows: int | None = None) -> dict[str, list[str]]:
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
    return taken


def write_halves(samples: list[dict[str, list[str]]], out: Path) -> dict[str, Path]:
    """``fit.jsonl`` and ``test.jsonl`` in ``out``, each the concatenation of the samples' halves."""
    paths = {}
    for half in ("fit", "test"):
        path = out / f"{half}.jsonl"
        path.write_text("".join(line for sample in samples for line in sample[half]), encoding="utf-8")
        paths[half] = path
    return paths


def _three(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def positives(data: Path) -> dict[str, tuple[int, int, int]]:
    """Per pair: rows, rows with a major MQM error, rows whose mean DA is at most ``DA_MAJOR_AT_MOST``."""
    from tqcheck.fusion.fit import DA_MAJOR_AT_MOST
    from tqcheck.fusion.labels import read_labelled

    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in read_labelled(data).segments:
        row = counts[item.segment.language_pair]
        row[0] += 1
        row[1] += bool(item.has_major)
        row[2] += "-da" in item.grades and -item.grades["-da"] <= DA_MAJOR_AT_MOST
    return {lp: (n, major, da) for lp, (n, major, da) in counts.items()}


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
    p.add_argument("--data", choices=("bio", "mlqe", "both"), default="bio",
                   help="bio: biomedical MQM, halves by document; mlqe: MLQE-PE DA, train rows vs the dev split; "
                        "both: each pair fit on all of its labels of the two (default bio)")
    p.add_argument("--rows", type=int, default=120, help="bio: segments per pair and half (default 120)")
    p.add_argument("--mlqe-rows", type=int, default=700,
                   help="mlqe: train rows per pair in the fit half; the dev split is whole (default 700)")
    p.add_argument("--out", default=None, help="working folder (default out/per_pair_<data>)")
    p.add_argument("--cache", default=None, help="engine cache file (default tqcheck's)")
    p.add_argument("--install", action="store_true", help="copy the fitted calibration over the shipped one")
    p.add_argument("--install-pairs", default=None, metavar="LP,LP",
                   help="with --install: lay only these pairs' kept fits over the shipped file")
    args = p.parse_args()
    rows, mlqe_rows = (30, 30) if args.quick else (args.rows, args.mlqe_rows)
    kinds = ("bio", "mlqe") if args.data == "both" else (args.data,)
    out = Path(args.out or C.ROOT / "out" / f"per_pair_{args.data}")
    out.mkdir(parents=True, exist_ok=True)
    halves = write_halves([sample_bio(rows) if kind == "bio" else sample_mlqe(mlqe_rows, 30 if args.quick else None)
                           for kind in kinds], out)
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
    figures = [FIGURES[kind] for kind in kinds]
    decided: dict[str, list[str]] = {}
    for lp in sorted(own_cv):
        verdicts, keep = [], True
        for path, name in figures:
            own, pooled = figure(own_cv[lp], *path), figure(pooled_fit.get(lp, {}), *path)
            if own is None and pooled is None:
                continue
            verdicts.append(f"{name} {_three(own)} / {_three(pooled)}")
            keep = keep and own is not None and pooled is not None and own >= pooled
        decided[lp] = verdicts
        if not keep:
            for key in [k for k in cal["pairs"] if k == lp or k.startswith(lp + "/")]:
                del cal["pairs"][key]
    cal["provenance"]["per_pair_kept_where"] = (
        "the pair's own fit, cross-validated on the fit half, scores at least as well as the pooled fit on that "
        "half by every figure its labels give (" + ", ".join(name for _, name in figures) + ")")
    kept = out / "calibration.kept.json"
    kept.write_text(json.dumps(cal, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    run([TQCHECK, "eval", str(halves["test"]), "--by", "lp", "--calibration", str(kept), "--resamples", "0",
         "-q", "-o", str(out / "after.json"), "--evidence", str(out / "test-after.evidence.jsonl.gz"), *cache],
        out / "after.txt")
    before = json.loads((out / "before.json").read_text())["by_lp"]
    after = json.loads((out / "after.json").read_text())["by_lp"]
    shares = signal_shares(out / "test.evidence.jsonl.gz")
    counts = positives(halves["test"])
    qe_alone = alone(out / "test.evidence.jsonl.gz", halves["test"], "qe.score", "-da_z") if "mlqe" in kinds else {}
    titles = {"bio": "the biomedical MQM of ../shared/train", "mlqe": "MLQE-PE DA (train rows fit, dev split measured)",
              "both": "the biomedical MQM and MLQE-PE DA of ../shared/train together"}
    section = C.Section(f"Per-pair calibration on {titles[args.data]} (issue 14)")
    columns = ["pair", "signals fused (share of test segments)", "own fit (fit half: own cv / pooled)", "n test",
               *(["with a major"] if "bio" in kinds else []), *(["DA <= 50"] if "mlqe" in kinds else [])]
    for _, name in figures:
        columns += [f"{name} before", f"{name} after"]
    columns += [*(["QE alone: Pearson vs -DA z"] if qe_alone else []), "major on major after",
                "shown flags on error after", "flags/segment after"]
    table = C.Table(columns)
    means: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for lp in sorted(after):
        b, a = before.get(lp, {}), after[lp]
        n, major, da = counts.get(lp, (0, 0, 0))
        signals = ", ".join(f"{s} {share:.0%}" for s, share in shares.get(lp, {}).items()) or "rules only"
        verdict = f"{'kept' if lp in cal['pairs'] else 'pooled'} ({'; '.join(decided.get(lp, [])) or '-'})"
        cells: list[object] = [lp, signals, verdict, n, *([major] if "bio" in kinds else []),
                               *([da] if "mlqe" in kinds else [])]
        for path, name in figures:
            fig_b, fig_a = figure(b, *path), figure(a, *path)
            cells += [fig_b, fig_a]
            if fig_b is not None and fig_a is not None:
                means[name].append((fig_b, fig_a))
        cells += [*([qe_alone.get(lp)] if qe_alone else []), figure(a, "flags", "major_on_major"),
                  figure(a, "flags", "shown_on_error"), figure(a, "flags", "flags_per_segment")]
        table.add(*cells)
    section.tables.append((None, table))
    command = f"`.venv/bin/python benchmarks/per_pair_quality.py --data {args.data}"
    command += f" --rows {rows}" if "bio" in kinds else ""
    command += f" --mlqe-rows {mlqe_rows}" if "mlqe" in kinds else ""
    section.notes.append(f"Command: {command}` (fit half written to {out}/fit.jsonl, test half to test.jsonl).")
    for name, pairs in means.items():
        section.notes.append(f"Mean {name} over the {len(pairs)} pairs: {sum(x for x, _ in pairs) / len(pairs):.3f} "
                             f"before, {sum(y for _, y in pairs) / len(pairs):.3f} after.")
    if "mlqe" in kinds:
        aim = [lp for lp in ("en-de", "en-zh", "et-en", "ro-en", "ru-en") if lp in after]
        path = FIGURES["mlqe"][0]
        values = [(figure(before.get(lp, {}), *path), figure(after[lp], *path)) for lp in aim]
        if values and all(x is not None and y is not None for x, y in values):
            section.notes.append(f"Issue 14's aim, mean Pearson vs -DA z over {', '.join(aim)} on the dev split: "
                                 f"{sum(x for x, _ in values) / len(values):.3f} before, "
                                 f"{sum(y for _, y in values) / len(values):.3f} after (aim 0.40).")
    section.notes.append(
        "Before: the shipped calibration (French<->English fits; every other pair scored by the pooled `*` fit). "
        "After: each pair's own fit on the fit half, laid over the shipped file with `--pairs-only`, kept where its "
        "cross-validated figures on the fit half are at least the pooled fit's there, by every figure the pair's "
        "labels give. The test half plays no part in that choice. Human references are withheld (users check "
        "without them).")
    if "bio" in kinds:
        section.notes.append(
            "Biomedical MQM (bio_mqm_other): whole documents, halves by a hash of the document id; ROC-AUC for "
            "`has_major`; a major flag's figure is how often it lands on a human major/critical span.")
    if "mlqe" in kinds:
        section.notes.append(
            "MLQE-PE: the fit half is the first train rows of each pair, the test half its dev split (MLQE-PE's own "
            "split, by sentence: the halves share Wikipedia articles but no source sentence). A DA row counts as "
            "\"has a major error\" at a mean DA of 50 or less (`tqcheck.fusion.fit.DA_MAJOR_AT_MOST`); the figure is "
            "Pearson's r with minus the DA z-score. DA rows give no major-flag figure (post-edit tags have no "
            "severity). The learned QE model was trained on a mixture that drew about 6 % of the MLQE-PE rows once "
            "(tqcheck/data/qe/MODEL_CARD.md), so its figures here, alone and fused, are slightly optimistic.")
    section.notes.append(f"Cross-validated figures of each fit on its own half are in {out}/calibrate.txt.")
    C.finish(section, args)
    if args.install:
        install(kept, args.install_pairs.split(",") if args.install_pairs else None)


def install(kept: Path, pairs: list[str] | None) -> None:
    """The kept calibration becomes the shipped one; with ``pairs``, only those pairs' keys are laid over the
    shipped file (its pooled fits, other pairs and cascade stay), and the provenance says which."""
    if pairs is None:
        shutil.copyfile(kept, SHIPPED)
        print(f"installed {kept} as {SHIPPED.relative_to(C.ROOT)}", file=sys.stderr)
        return
    fit, shipped = json.loads(kept.read_text()), json.loads(SHIPPED.read_text())
    keys = [k for k in fit["pairs"] if k.split("/", 1)[0] in pairs]
    missing = sorted(set(pairs) - {k.split("/", 1)[0] for k in keys})
    if missing:
        sys.exit(f"--install-pairs: no kept fit for {', '.join(missing)} in {kept}")
    shipped["pairs"].update({k: fit["pairs"][k] for k in keys})
    shipped["provenance"].setdefault("pairs_laid_over", []).append(
        {"pairs": sorted(keys), "name": fit["name"], "created_at": fit["created_at"],
         "provenance": fit["provenance"], "command": C.command_line()})
    SHIPPED.write_text(json.dumps(shipped, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"laid {', '.join(sorted(keys))} of {kept} over {SHIPPED.relative_to(C.ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
