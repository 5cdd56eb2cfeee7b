"""Where the target-only homograph test fires on the labelled dev data, and how often it is right.

The test (``tqcheck.signals.homograph``) runs on the MT alone, as in a target-only check (the sources
are withheld; the source language still routes the translations). For every candidate it prints the
gain in nats, the word, its reading, and what the human labels say of that word:

- bio_mqm_fr.dev: does the candidate overlap a human error span, a major/critical one; and the base
  rates of the same questions for every MT content word the test looks at;
- demetr_fr_en.dev: is it in the clean or the perturbed MT, and on the changed span.

    .venv/bin/python benchmarks/homograph_candidates.py [--cache CACHE.sqlite]

The labels are only counted here, never given to the test: its candidates come from Apertium,
SmolLM2 and hunspell alone.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from _common import EVAL_DIR

from tqcheck.engines.cache import EngineCache
from tqcheck.fusion.labels import read_labelled
from tqcheck.signals import EngineSlot
from tqcheck.signals.homograph import MIN_WORD_LENGTH, HomographSignal
from tqcheck.text.wordalign import is_content, words


def overlaps(span, spans) -> bool:
    return any(s.start < span.end and span.start < s.end for s in spans)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", default=None, help="engine cache (SQLite); default: none")
    args = p.parse_args()
    cache = EngineCache(args.cache) if args.cache else None
    signal = HomographSignal(EngineSlot("translator", "auto"), EngineSlot("lm", "auto"), cache=cache)

    bio = read_labelled(EVAL_DIR / "bio_mqm_fr.dev.jsonl")
    for lp in ("fr-en", "en-fr"):
        items = [i for i in bio.segments if i.segment.language_pair == lp and i.spans is not None]
        outputs = signal.compute([replace(i.segment, source=None) for i in items])
        rows, words_seen, words_on, words_major = [], 0, 0, 0
        for item, out in zip(items, outputs):
            major = [s for s in item.spans if s.severity in ("major", "critical")]
            errors = [s for s in item.spans if s.is_error]
            for w in words(item.segment.mt):
                if is_content(w, item.segment.target_lang) and len(w.norm) >= MIN_WORD_LENGTH:
                    words_seen += 1
                    words_on += overlaps(w, errors)
                    words_major += overlaps(w, major)
            for f in out.flags:
                rows.append((f.confidence, overlaps(f.span, errors), overlaps(f.span, major),
                             item.segment.mt[f.span.start:f.span.end], f.evidence["mt_word_in_source_language"],
                             f.evidence["spelled_alike"], f.evidence["spelled_alike_reads_as"]))
        print(f"bio_mqm_fr.dev {lp}: {len(items)} segments, {len(rows)} candidates "
              f"({sum(r[1] for r in rows)} on an error span, {sum(r[2] for r in rows)} on a major/critical one); "
              f"base rates over the {words_seen} words tried: on an error {words_on / max(1, words_seen):.3f}, "
              f"on a major/critical {words_major / max(1, words_seen):.3f}")
        for gain, on, on_major, *what in sorted(rows, key=lambda r: -r[0]):
            print(f"  gain {gain:6.2f}  error {int(on)}  major {int(on_major)}  "
                  f"{what[0]} -> {what[1]} ~ {what[2]} -> {what[3]}")

    demetr = read_labelled(EVAL_DIR / "demetr_fr_en.dev.jsonl")
    clean = {p.clean.id: p.clean for p in demetr.pairs}
    outs = signal.compute([replace(s, source=None) for s in clean.values()])
    in_clean = sum(len(o.flags) for o in outs)
    pert = signal.compute([replace(p.perturbed, source=None) for p in demetr.pairs])
    rows = []
    for pair, out in zip(demetr.pairs, pert):
        for f in out.flags:
            on = pair.diff_span is not None and f.span.start < pair.diff_span[1] and pair.diff_span[0] < f.span.end
            rows.append((f.confidence, on, pair.severity, pair.kind, pair.perturbed.mt[f.span.start:f.span.end]))
    print(f"demetr_fr_en.dev: {len(clean)} clean MTs, {in_clean} candidates; {len(demetr.pairs)} perturbed MTs, "
          f"{len(rows)} candidates ({sum(r[1] for r in rows)} on the changed span)")
    for gain, on, severity, kind, word in sorted(rows, key=lambda r: -r[0]):
        print(f"  gain {gain:6.2f}  on changed span {int(on)}  {severity:8s} {kind:28s} {word}")


if __name__ == "__main__":
    main()
