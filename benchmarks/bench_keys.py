"""Key response times of the reviewer UI on a 10,000-segment store (issue 16: under 300 ms a key).

Why: a copy editor clears a day's feed with the keyboard; a key that takes a second is a day of
waiting. Issue 16 measured Y 1.1 s, N 1.5 s, O 3.7 s, J 4.8 s, K 7.4 s in a browser on a busy 2-core
machine: each decision key ran the page twice (``if st.button(...)``, save, ``st.rerun()``), and the
moving keys a third time through ``st.switch_page`` to the same page, each run redrawn by the
browser. The keys are now ``on_click`` callbacks that run before the one script run.

Method: ``streamlit.testing.v1.AppTest`` on the real app (``app.py``) and a real SQLite store of N
segments built with ``bench_store.synthetic_results`` (45% flagged, 1-3 flags each, a document every
40 segments). A key press is the button its shortcut clicks (``at.button(key).click().run()``); the
time is from the click to the end of the script run it causes, server side: the callback, the
store's queries and saves, the page's elements, AppTest's reading of them; not the websocket nor the
browser's drawing. Each key is pressed on REPEAT different segments after one warm-up press; the
table gives the median and the slowest. The store is on the local disk (tmpfs where /tmp is).

With ``--before REV`` the keys the UI of git revision REV had (O, Q, J, K, Y, N) are timed the same
way on the same store, beside the current ones: the UI's files of REV are copied into a temporary
package, against today's store and library.

    .venv/bin/python benchmarks/bench_keys.py [--quick] [--record] [--n 10000] [--repeat 9] [--before REV]
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import _common as C
import bench_store

from tqcheck.model import RunSignature, Summary
from tqcheck.store import Store

TARGET_MS = 300.0


class Keys:
    """The reviewer UI in AppTest, pressed key by key, with the time of each press."""

    def __init__(self, db: Path, reviewer: str, app: Path = C.ROOT / "app.py") -> None:
        from streamlit.testing.v1 import AppTest

        os.environ["TQCHECK_DB"] = str(db)
        self.at = AppTest.from_file(str(app), default_timeout=120).run()
        self._ok("start")
        self.at.sidebar.text_input(key="reviewer_input").input(reviewer).run()
        self._ok("name")
        self.times: dict[str, list[float]] = {}

    def _ok(self, what: str) -> None:
        if self.at.exception:
            raise SystemExit(f"{what}: the page failed: {self.at.exception[0].message}")

    def press(self, label: str, key: str | Callable[[], str], *, record: bool = True) -> None:
        widget = key() if callable(key) else key
        button = self.at.button(key=widget)
        if button.disabled:
            raise SystemExit(f"{label}: the button {widget} is disabled")
        start = time.perf_counter()
        button.click().run()
        elapsed = time.perf_counter() - start
        self._ok(label)
        if record:
            self.times.setdefault(label, []).append(elapsed)

    @property
    def segment_id(self) -> int:
        return int(self.at.session_state["segment_id"])

    def title(self) -> str:
        return " ".join(t.value for t in self.at.title)


def first_open_flag(store: Store, keys: Keys, action: str) -> Callable[[], str]:
    """The widget key Y or N clicks: the first undecided flag of the segment shown."""
    def key() -> str:
        record = store.segment(keys.segment_id)
        flag = next(f for f in record.flags if f.decision is None and not f.flag.hint)
        return f"s_{action}_{flag.id}"
    return key


def ui_of(revision: str, work: Path) -> Path:
    """The reviewer UI of a git revision as a package of its own (``tqcheck_ui_before``), with an
    entry script: the same pages, timed against today's store and library."""
    package = work / "before" / "tqcheck_ui_before"
    listing = subprocess.run(["git", "ls-tree", "-r", "--name-only", revision, "tqcheck/ui"], cwd=C.ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    for name in listing:
        text = subprocess.run(["git", "show", f"{revision}:{name}"], cwd=C.ROOT, capture_output=True,
                              text=True, check=True).stdout
        target = package / Path(name).relative_to("tqcheck/ui")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(re.sub(r"\btqcheck\.ui\b", "tqcheck_ui_before", text), encoding="utf-8")
    sys.path.insert(0, str(package.parent))
    entry = package.parent / "app_before.py"
    entry.write_text("from tqcheck_ui_before.app import main\n\nmain()\n", encoding="utf-8")
    return entry


def measure_before(db: Path, repeat: int, app: Path) -> dict[str, list[float]]:
    """The keys the older UI had, pressed in the same order as ``measure`` presses them."""
    k = Keys(db, "before", app)
    store = Store.open(db)
    try:
        k.press("warm-up", "q_start", record=False)
        k.press("warm-up", "s_queue", record=False)
        for _ in range(repeat):
            k.press("O (queue: open the next segment to review)", "q_start")
            k.press("Q (segment: back to the queue)", "s_queue")
        for _ in range(repeat):
            k.press("J (queue: next 50 rows)", "q_next")
        for _ in range(repeat):
            k.press("K (queue: previous 50 rows)", "q_prev")
        k.press("warm-up", "q_start", record=False)
        k.press("warm-up", "s_next", record=False)
        for _ in range(repeat):
            k.press("J (segment: next in the queue)", "s_next")
        for _ in range(repeat):
            k.press("K (segment: previous in the queue)", "s_prev")
        for action, label in (("dismiss", "N (dismiss the first open flag)"),
                               ("confirm", "Y (confirm the first open flag)")):
            for _ in range(repeat):
                # The older page stays on a segment whose flags are all decided: J moves on.
                while not store.segment(k.segment_id).open_flags():
                    k.press("J", "s_next", record=False)
                k.press(label, first_open_flag(store, k, action))
    finally:
        store.close()
    return k.times


def measure(db: Path, repeat: int) -> tuple[dict[str, list[float]], list[str]]:
    notes: list[str] = []
    k = Keys(db, "bench")
    store = Store.open(db)
    try:
        # Queue page: O opens the next segment to review (claimed), Q comes back.
        k.press("warm-up", "q_start", record=False)
        k.press("warm-up", "s_queue", record=False)
        for _ in range(repeat):
            k.press("O (queue: open the next segment to review)", "q_start")
            k.press("Q (segment: back to the queue)", "s_queue")
        for _ in range(repeat):
            k.press("J (queue: next 50 rows)", "q_next")
        for _ in range(repeat):
            k.press("K (queue: previous 50 rows)", "q_prev")
        k.press("warm-up", "q_start", record=False)
        # Segment page: moving.
        k.press("warm-up", "s_next", record=False)
        for _ in range(repeat):
            k.press("J (segment: next in the queue)", "s_next")
        for _ in range(repeat):
            k.press("K (segment: previous in the queue)", "s_prev")
        # Deciding: Y / N on the first undecided flag (moving on when it was the last), U takes the
        # latest decision back, D / E decide every open flag and move on to the next unclaimed one.
        for _ in range(repeat):
            k.press("N (dismiss the first open flag)", first_open_flag(store, k, "dismiss"))
        for _ in range(repeat):
            k.press("Y (confirm the first open flag)", first_open_flag(store, k, "confirm"))
            k.press("U (reopen the latest decision)", "s_reopen_last")
        for _ in range(repeat):
            k.press("D (every open flag a false alarm, move on)", "s_dismiss_all")
        for _ in range(repeat):
            k.press("E (every open flag an error, move on)", "s_confirm_all")
        for _ in range(repeat):
            k.press("D (every open flag a false alarm, move on)", "s_dismiss_all", record=False)
            k.press("B (back to the segment just finished)", "s_back")
            k.press("J (segment: next in the queue)", "s_next", record=False)
        # Article page and article order: A opens the segment's document, O reviews it in order.
        for _ in range(repeat):
            k.press("A (segment: its article)", "s_article")
            k.press("O (article: review it in order)", "a_review")
            k.press("D in article order", "s_dismiss_all")
        if "Segment" not in " ".join(h.proto.body for h in k.at.html[:1]):
            notes.append("the last page shown was not the segment page")
    finally:
        store.close()
    return k.times, notes


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 10000; 2000 with --quick)")
    p.add_argument("--repeat", type=int, default=None, help="presses per key (default 9; 3 with --quick)")
    p.add_argument("--before", metavar="REV", help="also time the keys of the UI at this git revision")
    args = p.parse_args()
    n = args.n or (2000 if args.quick else 10_000)
    repeat = args.repeat or (3 if args.quick else 9)
    section = C.Section(f"Reviewer UI: key response on a {n:,}-segment store")
    work = Path(tempfile.mkdtemp(prefix="tqbench-keys-"))
    try:
        db = work / "review.sqlite"
        items = bench_store.synthetic_results(n)
        with Store.open(db) as store:
            run_id = store.start_run(RunSignature("0.1.0", "bench", language_pairs=bench_store.PAIRS),
                                     name="bench", feed="feed.jsonl")
            store.add_results(run_id, items)
            store.finish_run(run_id, Summary.of(items))
        before: dict[str, list[float]] = {}
        if args.before:
            # A copy of the store, so that both UIs start from the same undecided queue.
            shutil.copyfile(db, work / "before.sqlite")
            before = measure_before(work / "before.sqlite", repeat, ui_of(args.before, work))
        times, notes = measure(db, repeat)
        columns = ["key (what it does)", "presses", "median ms", "slowest ms", f"< {TARGET_MS:.0f} ms?"]
        if before:
            columns.append(f"median ms at {args.before}")
        table = C.Table(columns)
        for label, values in times.items():
            median = statistics.median(values) * 1000
            row = [label, len(values), median, max(values) * 1000, C.target(median < TARGET_MS)]
            if before:
                old = before.get(label)
                row.append(statistics.median(old) * 1000 if old else "no such key")
            table.add(*row)
        store_table = C.Table(["store", "value"])
        store_table.add("segments", f"{n:,}")
        store_table.add("flags", f"{sum(len(r.flags) for r in items):,}")
        store_table.add("documents", f"{len({r.segment.doc_id for r in items}):,}")
        section.tables += [(None, store_table), ("Server-side time per key (AppTest, click to end of "
                                                 "the script run it causes):", table)]
        section.notes += [
            "Method: streamlit.testing.v1.AppTest on app.py and a real SQLite store; a key is the click "
            "of the button its shortcut presses; timed from the click to the end of the script run "
            "(callback, queries, saves, elements), without the websocket and the browser's drawing.",
            "Each key pressed on different segments (the default queue: to review, likely errors "
            "first) after a warm-up press; 'met' compares the median with the 300 ms target.",
            *notes,
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    C.finish(section, args)


if __name__ == "__main__":
    main()
