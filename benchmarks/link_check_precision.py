"""The URL/handle/hashtag check measured on labelled news, which the development data cannot do.

bio_mqm_fr.dev and DEMETR hold no URL, e-mail address, @handle or hashtag, so a pair's flag model never
sees the ``urls_handles`` check: the rule checks' own model measures it (``tqcheck calibrate
--rule-checks``, ``benchmarks/rule_checks_fit.py``), and without a calibration a finding keeps the
severity the check declares, set from the table this script makes. The MQM news and
general-MT data of ../shared/train do hold them (WMT newstest2020 en-de and zh-en, general MT 2023,
WMT 2019-20 QE en-fr). This script runs the check alone (no engine) on every annotated row that has
one of the characters it needs, and counts, per kind of finding, how often a human marked an error on
its characters and how often a major or critical one. The declared severities are set from this table
(see ``tqcheck/checks/urls_handles.py``).

    .venv/bin/python benchmarks/link_check_precision.py [--record]

Rows are one rater's annotation of one system's MT: a sentence several raters or systems share counts
once per rating, as the MQM figures of the quality tables do; the table also says how many distinct MT
sentences each kind came from.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import _common as C

TRAIN = C.ROOT.parent / "shared" / "train"
FILES = ("google_mqm_newstest2020", "google_mqm_generalmt2023_sxs", "wmt19_20_qe_enfr_mqm")

#: The kind of a finding, from the start of its message ("broken handle '@ JAL': ...").
KINDS = (
    ("broken handle", re.compile(r"^broken handle")),
    ("broken hashtag", re.compile(r"^broken hashtag")),
    ("split URL or address", re.compile(r"^(split|broken) (URL|e-mail)")),
    ("URL, address or handle changed", re.compile(r"^(URL|e-mail address|handle) .* became ")),
    ("hashtag changed", re.compile(r"^hashtag .* became ")),
    ("hashtag repeated", re.compile(r"^hashtag .* repeats ")),
    ("missing from the MT", re.compile(r"missing|not in the MT|dropped", re.IGNORECASE)),
    ("added in the MT", re.compile(r"added|not in the source", re.IGNORECASE)),
)


def kind_of(message: str) -> str:
    return next((name for name, pattern in KINDS if pattern.search(message)), "other: " + message[:40])


def rows(limit: int | None) -> Iterator[dict[str, Any]]:
    for name in FILES:
        with gzip.open(TRAIN / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                if limit is not None and n >= limit:
                    break
                row = json.loads(line)
                if row.get("spans") is not None and any(ch in (row["source"] or "") + row["mt"] for ch in "@#/."):
                    yield row


def _share(hits: int, placed: int) -> str:
    return f"{hits}/{placed} = {hits / placed:.2f}" if placed else "—"


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    args = p.parse_args()
    from tqcheck.checks import build_checks, run_checks
    from tqcheck.config import CheckConfig
    from tqcheck.model import Segment

    checks = [c for c in build_checks(CheckConfig()) if c.name == "urls_handles"]
    counts: Counter[tuple[str, str, str]] = Counter()
    sentences: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows(2000 if args.quick else None):
        src, tgt = row["lp"].split("-")
        segment = Segment(id=row["id"], mt=row["mt"], source=row["source"], source_lang=src, target_lang=tgt)
        for flag in run_checks(checks, segment):
            key = (kind_of(flag.message), flag.severity.value)
            counts[key + ("findings",)] += 1
            sentences[key].add(row["mt"])
            if flag.span is None or flag.span.side.value != "mt":
                counts[key + ("source side",)] += 1
                continue
            over = [s for s in row["spans"] if s["start"] < flag.span.end and flag.span.start < s["end"]]
            counts[key + ("on error",)] += bool(over)
            counts[key + ("on major",)] += any(s["severity"] in ("major", "critical") for s in over)
    table = C.Table(["finding", "declared", "findings", "distinct MT sentences", "on the source side",
                     "on a human error", "on a major/critical one"])
    for kind, severity in sorted({k[:2] for k in counts}):
        n = counts[(kind, severity, "findings")]
        placed = n - counts[(kind, severity, "source side")]
        table.add(kind, severity, n, len(sentences[(kind, severity)]), counts[(kind, severity, "source side")],
                  _share(counts[(kind, severity, "on error")], placed),
                  _share(counts[(kind, severity, "on major")], placed))
    section = C.Section("The link check on labelled news: URLs, addresses, handles and hashtags (issue 18)")
    section.tables.append((f"`urls_handles` alone on the annotated rows of {', '.join(FILES)} (../shared/train) "
                           "that hold '@', '#', '/' or '.'", table))
    section.notes += [
        "A finding is on a human error when an MQM span of that rating overlaps its characters; findings on the "
        "source side (a link missing from the MT) have no MT span to compare and are only counted.",
        "MQM raters mark the span they judge wrong; a broken handle ('@ JAL') is marked minor when it is marked "
        "at all (Fluency/Punctuation, Accuracy/Addition), major once in 66: the check now declares it minor.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
