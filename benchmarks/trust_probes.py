"""Candidate false-alarm classes and new signals for issue 18, measured on the human labels before building.

Each probe asks one question of labelled data and prints how often the claims in question land on a human
error span; nothing here changes tqcheck:

1. **Pivot leaks.** Apertium translates French<->English through Catalan; a word the second leg does not know
   comes out in Catalan ("reexpedeixen"). Are round-trip and pseudo-reference claims that rest on such a
   non-word (a content word the target language's hunspell dictionary does not know) false alarms?
2. **QE's major head.** The learned QE model gives each token ``p_bad`` and ``p_major``; the flag model sees
   ``p_bad``. Does ``p_major`` sort the tokens on a human *major* error better?
3. **An imperative MT.** "Send them back in return" for "leur renvoient-ils en retour": the MT made a report
   into a command. How often does a clause-initial imperative in English MT (Apertium's English tagger) sit
   on a human error, in the biomedical MQM of ../shared/train and the French dev data?

    .venv/bin/python benchmarks/trust_probes.py EVIDENCE.jsonl.gz [--record]

EVIDENCE is the "all + learned QE" evidence of bio_mqm_fr.dev + demetr_fr_en.dev (quality_matrix.sh keeps
it as RESULTS_DIR/all_qe.evidence.jsonl.gz); only probe 3 runs an engine (Apertium's English tagger).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _common as C

BIO_DEV = C.ROOT.parent / "shared" / "eval" / "bio_mqm_fr.dev.jsonl"
BIO_TRAIN = C.ROOT.parent / "shared" / "train" / "bio_mqm_other.jsonl.gz"
#: Apertium's English analyser, constraint grammar and tagger (the first three programs of eng-cat).
ENGLISH_TAGGER = ("apertium-destxt | lt-proc -w {d}/eng-cat.automorf.bin | cg-proc -w {d}/eng-cat.rlx.bin"
                  " | apertium-tagger -g {d}/eng-cat.prob")


def _labels() -> dict[tuple[str, str], list[dict[str, Any]]]:
    out = {}
    with open(BIO_DEV, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out[(row["mt"], row["source"])] = row["spans"]
    return out


def _evidence(path: str) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        next(fh)  # the header
        for line in fh:
            yield json.loads(line)


def _on(span: dict[str, Any], spans: list[dict[str, Any]]) -> tuple[bool, bool]:
    """(a human error overlaps the MT span, a major/critical one does)."""
    hit = [s for s in spans if s["start"] < span["end"] and span["start"] < s["end"]]
    return bool(hit), any(s["severity"] in ("major", "critical") for s in hit)


def pivot_leaks(path: str) -> C.Table:
    from tqcheck.signals._lexicon import known_word
    from tqcheck.text.wordalign import is_content, words

    def nonword(text: str, lang: str) -> bool:
        content = [w for w in words(text) if is_content(w, lang) and not any(c.isdigit() for c in w.text)]
        return any(known_word(lang, w.text) is False and known_word(lang, w.lower) is False for w in content)

    labels, counts = _labels(), Counter()
    for row in _evidence(path):
        seg = row["segment"]
        spans = labels.get((seg["mt"], seg["source"] or ""))
        if spans is None:
            continue
        for name, field, lang in (("roundtrip", "mt_word_reads_as", seg["source_lang"]),
                                  ("pseudo_reference", "reference_wording", seg["target_lang"])):
            for flag in (row["outputs"].get(name) or {}).get("flags", []):
                if flag["span"]["side"] != "mt" or not flag["evidence"].get(field):
                    continue
                key = (name, field, "a non-word" if nonword(flag["evidence"][field], lang) else "words only")
                error, _ = _on(flag["span"], spans)
                counts[key + ("n",)] += 1
                counts[key + ("error",)] += error
    table = C.Table(["signal", "the engine's wording (evidence field)", "has", "claims", "on a human error"])
    for key in sorted({k[:3] for k in counts}):
        n = counts[key + ("n",)]
        table.add(*key, n, f"{counts[key + ('error',)] / n:.3f}")
    return table


def qe_major_head(path: str) -> C.Table:
    from sklearn.metrics import roc_auc_score

    labels, rows = _labels(), []
    for row in _evidence(path):
        seg = row["segment"]
        spans = labels.get((seg["mt"], seg["source"] or ""))
        if spans is None:
            continue
        for flag in (row["outputs"].get("qe") or {}).get("flags", []):
            error, major = _on(flag["span"], spans)
            rows.append((seg["source_lang"] + "-" + seg["target_lang"], flag["evidence"]["p_bad"],
                         flag["evidence"]["p_major"], error, major))
    table = C.Table(["lp", "QE flags", "on a major", "ROC-AUC for a major: p_bad", "ROC-AUC for a major: p_major",
                     "ROC-AUC for any error: p_bad", "ROC-AUC for any error: p_major"])
    for lp in sorted({r[0] for r in rows}):
        part = [r for r in rows if r[0] == lp]
        auc = [f"{roc_auc_score([r[k] for r in part], [r[i] for r in part]):.3f}" for k in (4, 3) for i in (1, 2)]
        table.add(lp, len(part), sum(r[4] for r in part), *auc)
    return table


def imperative_mt() -> C.Table:
    rows = []
    with gzip.open(BIO_TRAIN, "rt", encoding="utf-8") as fh:
        rows += [r for r in map(json.loads, fh) if r["lp"].endswith("-en") and r["spans"] is not None]
    with open(BIO_DEV, encoding="utf-8") as fh:
        rows += [r for r in map(json.loads, fh) if r["lp"] == "fr-en"]
    mts = [re.sub(r"\s+", " ", r["mt"]).strip() or "." for r in rows]
    command = ENGLISH_TAGGER.format(d="/usr/share/apertium/apertium-eng-cat")
    tagged = subprocess.run(["bash", "-o", "pipefail", "-c", command], input="\n\n".join(mts) + "\n\n",
                            capture_output=True, text=True, check=True).stdout
    parts = re.split(r"\[\]\[\n\n\]", tagged)
    if len(parts) < len(mts):
        raise SystemExit(f"the tagger gave {len(parts)} blocks for {len(mts)} sentences")
    counts: Counter = Counter()
    for row, mt, part in zip(rows, mts, parts):
        counts[(row["lp"], "rows")] += 1
        imperative = next((lu for lu in re.findall(r"\^([^$]*)\$", part) if "<imp>" in lu), None)
        if imperative is None:
            continue
        word = imperative.split("<")[0]
        at = mt.find(word)
        if at < 0:
            continue
        error, major = _on({"start": at, "end": at + len(word)}, row["spans"])
        counts[(row["lp"], "imperative")] += 1
        counts[(row["lp"], "on an error")] += error
        counts[(row["lp"], "on a major")] += major
    table = C.Table(["lp", "MT rows", "with an imperative", "its verb on a human error", "on a major/critical one"])
    for lp in sorted({k[0] for k in counts}):
        n = counts[(lp, "imperative")]
        shares = [f"{counts[(lp, k)] / n:.2f}" if n else "-" for k in ("on an error", "on a major")]
        table.add(lp, counts[(lp, "rows")], n, *shares)
    return table


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("evidence", help="all + QE evidence of the two dev files (quality_matrix.sh's all_qe.evidence)")
    args = p.parse_args()
    section = C.Section("Candidate false-alarm classes and signals, measured before building (issue 18)")
    path = str(Path(args.evidence).resolve())
    section.tables += [("1. Pivot leaks: round-trip and pseudo-reference claims on bio_mqm_fr.dev by whether the "
                        "engine's wording holds a non-word", pivot_leaks(path)),
                       ("2. QE's major head: the learned QE model's flags on bio_mqm_fr.dev", qe_major_head(path)),
                       ("3. An imperative in English MT (Apertium's tagger), biomedical MQM X->en of ../shared/train "
                        "and bio_mqm_fr.dev fr-en", imperative_mt())]
    section.notes += [
        "1: a non-word is a content word (no digits) that the language's hunspell dictionary knows neither as "
        "written nor in lower case (tqcheck.signals._lexicon.known_word); round trip: the MT word's own "
        "back-translation (source language), pseudo-reference: the reference model's wording (target language). "
        "Claims on a non-word land on a human error no less often than the others: not a false-alarm class.",
        "2: ROC-AUC over the QE model's flags for 'a human major/critical span overlaps it' and 'any span does'.",
        "3: the first token Apertium's English tagger marks <imp> in each MT; rows with no imperative are "
        "counted in 'MT rows' only. The tagger also marks questions ('Have ... become established?') and "
        "headings ('Cost savings ... have'), which is why so few of these verbs sit on an error.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
