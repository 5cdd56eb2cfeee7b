"""The review store and UI at scale: 100,000 segments, the queue's first 50 rows and a segment page.

Why: a desk imports a night's feeds and reviewers page through them all day; the queue (riskiest
first, filtered) and the segment page must each render in under a second with 100,000 segments in the
store, and what a key does on the segment page (issue 16: dismiss all and move on to the next
segment, the sentences around it, an article, a bulk dismiss and its undo) must leave room inside
300 ms for drawing the page. Measured: the bulk insert (``Store.add_results``), the queries behind
each page (median of 7 after one warm-up), and the whole page through ``streamlit.testing.v1.AppTest`` (median of 3: the
script run with its queries and element building, without a browser's drawing).

Segments: French -> English pairs from ../shared/eval (source and MT only), repeated up to N, with
synthetic flags (45% of segments, 1-3 flags of the real checks' names, spans inside the MT) and a risk
drawn from a beta distribution: the store's work does not depend on what the flags say.

    .venv/bin/python benchmarks/bench_store.py [--quick] [--record] [--n 100000]
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common as C

from tqcheck.model import (
    Category,
    Flag,
    RunSignature,
    Segment,
    SegmentResult,
    Severity,
    Span,
    Summary,
)
from tqcheck.store import QueueFilter, Store

CHECKS = [("numbers", Category.LOCALE_CONVENTION), ("roundtrip", Category.MISTRANSLATION),
          ("forced_decoding", Category.MISTRANSLATION), ("spacing", Category.PUNCTUATION),
          ("spelling", Category.SPELLING), ("untranslated", Category.UNTRANSLATED),
          ("fluency", Category.NON_FLUENT), ("tags", Category.MARKUP), ("omission", Category.OMISSION)]
PAIRS = ("fr-en", "en-fr", "es-en")


def synthetic_results(n: int, seed: int = 7) -> list[SegmentResult]:
    rng = random.Random(seed)
    pairs = C.feed_pairs(n)
    out = []
    for i, (source, mt) in enumerate(pairs):
        lp = PAIRS[i % len(PAIRS)]
        flags = []
        if rng.random() < 0.45 and mt:
            for _ in range(rng.randint(1, 3)):
                check, category = rng.choice(CHECKS)
                start = rng.randrange(len(mt))
                end = min(len(mt), start + rng.randint(1, 12))
                flags.append(Flag(check, rng.choice(list(Severity)), category, f"{check} finding",
                                  Span(start, end), evidence={"detail": mt[start:end]}))
        out.append(SegmentResult(
            Segment(f"seg-{i}", mt=mt, source=source, source_lang=lp[:2], target_lang=lp[3:],
                    doc_id=f"doc-{i // 40}", origin=f"feed.jsonl:{i + 1}"),
            tuple(flags), scores={"roundtrip.chrf": rng.uniform(10, 90)},
            artifacts={"back_translation": source}, risk=rng.betavariate(2, 5)))
    return out


def copy_editor_queries(store: Store, run_id: int, first: int,
                        default: QueueFilter) -> list[tuple[str, Callable[[], Any]]]:
    """What the keys and pages of issue 16 ask of the store. The saves are repeated on one segment
    (each with the version the last one made), the bulk action is undone inside the timing so that
    every repetition decides the same flags."""
    doc = store.segment(first).segment.doc_id
    flag_ids = [f.id for f in store.segment(first).flags if not f.flag.hint]
    version = [store.segment(first).version]

    def dismiss_all() -> None:
        version[0] = store.save_review(first, reviewer="bench", action="dismiss", based_on_version=version[0],
                                       flag_ids=flag_ids).version

    one_check = QueueFilter(doc_ids=(doc,) if doc else (), checks=("spelling", "numbers"))

    def bulk_and_undo() -> None:
        store.bulk_review(store.select_open_flags(one_check), reviewer="bench", action="dismiss")
        store.undo_bulk(reviewer="bench")

    from tqcheck.review import dashboard

    return [
        ("key: dismiss all flags of the segment (one save)", dismiss_all),
        ("key: claim the next segment to review", lambda: store.claim_next(default, "bench", after=first)),
        ("segment: the sentences before and after", lambda: store.context(first)),
        ("article: a document's 40 segments", lambda: store.article(run_id, doc)),
        ("article: the run's documents", lambda: store.documents((run_id,))),
        ("queue: article order, first 50 of a document",
         lambda: store.queue(QueueFilter(doc_ids=(doc,) if doc else (), order="article"), limit=50)),
        ("bulk: select two checks' open flags in a document", lambda: store.select_open_flags(one_check)),
        ("bulk: dismiss them and undo", bulk_and_undo),
        ("dashboard: rates per run (thresholds)", lambda: dashboard.rates(store, (run_id,))),
        ("dashboard: reviewers and agreement", lambda: dashboard.reviewer_frame(store, (run_id,))),
    ]


def median_seconds(fn: Callable[[], Any], repeat: int = 7) -> float:
    fn()  # warm-up: first-use costs (statement compilation, page cache) are not what a reviewer waits for
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def app_render_seconds(db: Path, segment_id: int, repeat: int = 3) -> tuple[float | None, float | None, str]:
    try:
        from streamlit.testing.v1 import AppTest
    except ImportError:
        return None, None, "streamlit not installed"
    os.environ["TQCHECK_DB"] = str(db)
    app = str(C.ROOT / "app.py")
    queue_times, segment_times = [], []
    for attempt in range(repeat + 1):
        at = AppTest.from_file(app, default_timeout=120)
        start = time.perf_counter()
        at.run()
        queue_time = time.perf_counter() - start
        if at.exception:
            return None, None, f"queue page failed: {at.exception[0].message}"
        at.session_state["segment_id"] = segment_id
        at.switch_page("tqcheck/ui/views/segment.py")
        start = time.perf_counter()
        at.run()
        segment_time = time.perf_counter() - start
        if at.exception:
            return None, None, f"segment page failed: {at.exception[0].message}"
        if not any("Segment seg-" in h.proto.body for h in at.html):
            return None, None, "the segment page did not show the segment"
        if attempt:  # the first round warms Streamlit's own caches and imports
            queue_times.append(queue_time)
            segment_times.append(segment_time)
    return statistics.median(queue_times), statistics.median(segment_times), ""


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 100000; 5000 with --quick)")
    args = p.parse_args()
    n = args.n or (5000 if args.quick else 100_000)
    section = C.Section(f"Review store and UI with {n:,} segments")
    work = Path(tempfile.mkdtemp(prefix="tqbench-store-"))
    try:
        db = work / "review.sqlite"
        items = synthetic_results(n)
        flags = sum(len(r.flags) for r in items)
        signature = RunSignature("0.1.0", "bench", language_pairs=PAIRS)
        with Store.open(db) as store:
            run_id = store.start_run(signature, name="bench", feed="feed.jsonl")
            cpu = time.process_time()
            insert, _ = C.timed(lambda: store.add_results(run_id, items), n)
            insert_cpu = time.process_time() - cpu
            store.finish_run(run_id, Summary.of(items))
            size_mb = sum(f.stat().st_size for f in work.iterdir()) / 1e6

            default = QueueFilter(statuses=("unreviewed", "partial"))
            first = store.queue(default, limit=1)[0].id
            queries = [
                ("queue: first 50 rows, default filter (to review, flagged)",
                 lambda: store.queue(default, limit=50)),
                ("queue: count for the same filter", lambda: store.queue_count(default)),
                ("queue: filter values (facets)", lambda: store.facets(())),
                ("queue: first 50, run + critical + Accuracy/Mistranslation",
                 lambda: store.queue(QueueFilter(run_ids=(run_id,), severities=("critical",),
                                                 categories=("Accuracy/Mistranslation",)), limit=50)),
                ("queue: first 50, free text 'the' (a LIKE scan, stops early)",
                 lambda: store.queue(QueueFilter(text="the"), limit=50)),
                ("queue: free text matching nothing (a full LIKE scan)",
                 lambda: store.queue(QueueFilter(text="zqxj"), limit=50)),
                ("queue: page 1000 (offset 49,950)",
                 lambda: store.queue(QueueFilter(flagged_only=False), limit=50, offset=49_950)),
                ("segment: record with flags and log", lambda: store.segment(first)),
                ("segment: previous / next in the queue", lambda: store.neighbours(default, first)),
                *copy_editor_queries(store, run_id, first, default),
            ]
            timing = C.Table(["query", "median ms (7 runs)"])
            results: dict[str, float] = {}
            for label, fn in queries:
                results[label] = median_seconds(fn)
                timing.add(label, results[label] * 1000)

        queue_page, segment_page, why = app_render_seconds(db, first)
        pages = C.Table(["page (AppTest run, median of 3)", "seconds", "target", "met?"])
        for label, value in (("Queue: first 50 rows", queue_page), ("Segment page", segment_page)):
            pages.add(label, value if value is not None else f"not measured ({why})", "< 1 s",
                      C.target(None if value is None else value < 1.0))

        load = C.Table(["measure", "value"])
        load.add("segments", f"{n:,}")
        load.add("flags", f"{flags:,}")
        load.add("bulk insert (add_results), wall", f"{insert.seconds:.1f} s ({insert.rate:,.0f} segments/s)")
        load.add("bulk insert, CPU time of this process", f"{insert_cpu:.1f} s")
        load.add("store size (SQLite + WAL)", f"{size_mb:.0f} MB")
        section.tables += [(None, load), ("Queries behind the pages:", timing), ("Whole pages:", pages)]
        section.notes.append("AppTest times the script run (queries, HTML building, element protos) "
                             "without a browser; the browser test shows the pages drawn.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    C.finish(section, args)


if __name__ == "__main__":
    main()
