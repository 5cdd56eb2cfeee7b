"""The flags of an older tqcheck, cross-validated and scored with today's flag metrics (issue 18's
"before"): how many flags a copy editor was shown, how often they landed on a human error, how many
segments with a major error a major flag reached.

    git worktree add /tmp/tq-before f11340f       # the code before measured flags
    .venv/bin/python benchmarks/trust_before.py /tmp/tq-before [--record]

The older code runs in a subprocess from its own tree (its ``tqcheck.calibrate`` cross-validates its
own fusion, 5 folds grouped by source sentence, on ../shared/eval/bio_mqm_fr.dev.jsonl, with the
engine cache of this machine), writes its out-of-fold results as JSONL, and this script scores them
with ``tqcheck.fusion.evaluate``. An older result has no hints: every flag was shown.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

from tqcheck.fusion.evaluate import evaluate  # noqa: E402
from tqcheck.fusion.labels import read_labelled  # noqa: E402
from tqcheck.model import SegmentResult  # noqa: E402

BIO = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "bio_mqm_fr.dev.jsonl"

OLD_RUN = """
import gzip, json, sys
sys.path.insert(0, sys.argv[1])
from tqcheck.calibrate import Labelled, cross_validated_results, labels_from, observe
from tqcheck.config import CheckConfig
from tqcheck.evaluate import read_labelled
from tqcheck.pipeline import Pipeline
data = read_labelled(sys.argv[2])
observations = observe(Pipeline(CheckConfig()), data.all_segments())
results = cross_validated_results(Labelled(observations, *labels_from(data)), folds=5)
with gzip.open(sys.argv[3], "wt", encoding="utf-8") as fh:
    for r in results:
        fh.write(json.dumps(r.to_dict(), default=str) + "\\n")
"""


def main() -> None:
    parser = C.parser(__doc__.splitlines()[0])
    parser.add_argument("tree", help="a checkout of the older code (git worktree add DIR COMMIT)")
    args = parser.parse_args()
    section = C.Section("Flags before measured precision (issue 18, the 'before' of the trust table)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl.gz"
        subprocess.run([sys.executable, "-c", OLD_RUN, args.tree, str(BIO), str(out)], check=True, cwd=args.tree)
        results = [SegmentResult.from_dict(json.loads(line)) for line in gzip.open(out, "rt", encoding="utf-8")]
    commit = subprocess.run(["git", "-C", args.tree, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    report = evaluate(read_labelled(BIO), results, by_lp=True, resamples=0)
    table = C.Table(["lp", "risk ROC-AUC", "shown / major flags", "shown on error", "major on major",
                     "flags per segment", "major reach"])
    for lp in ("fr-en", "en-fr"):
        part = report["by_lp"][lp]
        flags = part["flags"]
        table.add(lp, f"{part['segments']['roc_auc']['value']:.3f}", f"{flags['shown']} / {flags['major']}",
                  *(f"{flags[k]['value']:.3f}" for k in ("shown_on_error", "major_on_major", "flags_per_segment",
                                                         "major_reach")))
    section.tables.append((None, table))
    section.notes.append(f"Older code: git {commit} in {args.tree}; its shipped settings, cross-validated by its "
                         "own calibrate module; scored by this tree's tqcheck.fusion.evaluate.")
    C.finish(section, args)


if __name__ == "__main__":
    main()
