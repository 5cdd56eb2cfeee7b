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

With ``--browser`` the same store is also served by ``streamlit run`` and the keys are pressed in a
headless Chromium (Debian's chromium and chromium-driver): the time from the key's keydown event in
the page (page clock) to the moment the app's root says its script has stopped running (``data-test-script-state``,
watched by a MutationObserver), after 600 ms without another run, so that a key that makes the
server run the page twice or three times is timed to its last run. That includes the websocket and
the browser applying the page's elements, which AppTest leaves out.

    .venv/bin/python benchmarks/bench_keys.py [--quick] [--record] [--n 10000] [--repeat 9] [--before REV]
                                              [--browser]
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
from typing import Any

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


def press_moving_keys(k: Keys, repeat: int) -> None:
    """The keys that move, the same in both UIs: on the queue O opens the next segment to review and Q
    comes back, J / K page; on the segment page J / K go to the next / previous segment of the queue."""
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


def measure_before(db: Path, repeat: int, app: Path) -> dict[str, list[float]]:
    """The keys the older UI had, pressed in the same order as ``measure`` presses them."""
    k = Keys(db, "before", app)
    store = Store.open(db)
    try:
        press_moving_keys(k, repeat)
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
        press_moving_keys(k, repeat)
        # Deciding: Y / N on the first undecided flag (moving on when it was the last), U takes the
        # latest decision back, D / E decide every open flag and move on to the next unclaimed one.
        for _ in range(repeat):
            k.press("N (dismiss the first open flag)", first_open_flag(store, k, "dismiss"))
        for _ in range(repeat):
            k.press("Y (confirm the first open flag)", first_open_flag(store, k, "confirm"))
            if k.at.button(key="s_reopen_last").disabled:  # Y decided the last flag: the page moved on
                k.press("B", "s_back", record=False)
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


# -- in a real browser -----------------------------------------------------------------------------------

_WATCH = """
window.__tq = {keys: [], runs: [], idle: []};
document.addEventListener("keydown", () => window.__tq.keys.push(performance.now()), true);
const root = document.querySelector("[data-testid='stApp']");
new MutationObserver(() => {
  const state = root.getAttribute("data-test-script-state");
  (state === "running" ? window.__tq.runs : window.__tq.idle).push(performance.now());
}).observe(root, {attributes: true, attributeFilter: ["data-test-script-state"]});
"""


class Browser:
    """``streamlit run`` of an entry script on a free port and a headless Chromium on it."""

    def __init__(self, app: Path, db: Path, work: Path, pythonpath: str | None = None) -> None:
        import socket
        import urllib.request

        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "TQCHECK_DB": str(db), "PYTHONUNBUFFERED": "1"}
        if pythonpath:
            env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
        self.log = (work / f"streamlit-{port}.log").open("wb")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=C.ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("streamlit did not start") from None
                time.sleep(0.5)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1800", f"--user-data-dir={work / f'chrome-{port}'}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.times: dict[str, list[float]] = {}
        #: Script runs the browser saw start for each press (a key that reruns the page counts 2; a
        #: rerun the server starts before the browser has marked the first one ended shows as one,
        #: so this is a lower bound).
        self.runs: dict[str, list[int]] = {}

    def close(self) -> None:
        self.driver.quit()
        self.server.terminate()
        self.server.wait(timeout=20)
        self.log.close()

    def wait(self, condition: Callable[[Any], Any], timeout: float = 60) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition)

    def idle(self) -> None:
        self.wait(lambda d: d.execute_script(
            "return document.querySelector(\"[data-testid='stApp']\")"
            ".getAttribute('data-test-script-state') !== 'running'"))

    def open(self, reviewer: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.driver.get(self.url)
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "input[aria-label='Your name']"))
        field = self.driver.find_element(By.CSS_SELECTOR, "input[aria-label='Your name']")
        field.send_keys(reviewer, Keys.ENTER)
        time.sleep(1)
        self.idle()
        self.driver.execute_script(_WATCH)

    def heading(self) -> str:
        from selenium.webdriver.common.by import By

        found = self.driver.find_elements(By.CSS_SELECTOR, "h1, h2")
        return found[0].text if found else ""

    def press(self, label: str, key: str, *, record: bool = True, quiet: float = 0.6) -> None:
        """Press ``key`` on the page; wait for the last run it causes to end."""
        from selenium.webdriver.common.action_chains import ActionChains

        self.idle()
        self.driver.execute_script(
            "if (document.activeElement) document.activeElement.blur();"
            "window.__tq.keys = []; window.__tq.runs = []; window.__tq.idle = [];")
        ActionChains(self.driver).send_keys(key).perform()
        start = time.monotonic()
        while True:  # the first run starts, then no run starts for ``quiet`` seconds after the last ends
            time.sleep(0.05)
            keys, runs, idle, now = self.driver.execute_script(
                "return [window.__tq.keys, window.__tq.runs, window.__tq.idle, performance.now()];")
            if keys and runs and idle and idle[-1] >= runs[-1] and now - idle[-1] > quiet * 1000:
                break
            if time.monotonic() - start > 60:
                raise SystemExit(f"{label}: no run ended within 60 s of the key")
        if record:  # from the page's own keydown event, not from when the driver was asked to press
            self.times.setdefault(label, []).append((idle[-1] - keys[0]) / 1000)
            self.runs.setdefault(label, []).append(len(runs))


def browser_keys(db: Path, app: Path, work: Path, repeat: int, *, before: bool,
                 pythonpath: str | None = None) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """O, J, K, N, Y (and D, E on the current UI) pressed in Chromium, as ``measure`` presses them."""
    b = Browser(app, db, work, pythonpath)
    store = Store.open(db)

    def current() -> Any:
        return store.find_segment(1, b.heading().removeprefix("Segment "))

    try:
        b.open("browser-before" if before else "browser")
        b.press("warm-up", "o", record=False)
        for _ in range(repeat):
            b.press("Q (segment: back to the queue)", "q")
            b.press("O (queue: open the next segment to review)", "o")
        for _ in range(repeat):
            b.press("J (segment: next in the queue)", "j")
        for _ in range(repeat):
            b.press("K (segment: previous in the queue)", "k")
        for key, label in (("n", "N (dismiss the first open flag)"), ("y", "Y (confirm the first open flag)")):
            for _ in range(repeat):
                while not current().open_flags():  # the older page stays on a decided segment
                    b.press("J", "j", record=False)
                b.press(label, key)
        if not before:
            for key, label in (("d", "D (every open flag a false alarm, move on)"),
                               ("e", "E (every open flag an error, move on)")):
                for _ in range(repeat):
                    b.press(label, key)
    finally:
        store.close()
        b.close()
    return b.times, b.runs


def _counts(values: list[int]) -> str:
    """How many script runs the presses caused: one number when all agree, else the range."""
    return str(values[0]) if len(set(values)) == 1 else f"{min(values)}-{max(values)}"


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 10000; 2000 with --quick)")
    p.add_argument("--repeat", type=int, default=None, help="presses per key (default 9; 3 with --quick)")
    p.add_argument("--before", metavar="REV", help="also time the keys of the UI at this git revision")
    p.add_argument("--browser", action="store_true", help="also time the keys in a headless Chromium")
    p.add_argument("--note", action="append", default=[],
                   help="a note for the recorded section (what else ran on the machine, ...)")
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
        old_app = ui_of(args.before, work) if args.before else None
        # Copies of the untouched store, so that every measurement starts from the same queue.
        for copy in ("before", "browser", "browser-before"):
            shutil.copyfile(db, work / f"{copy}.sqlite")
        if old_app is not None:
            before = measure_before(work / "before.sqlite", repeat, old_app)
        in_browser: dict[str, list[float]] = {}
        in_browser_before: dict[str, list[float]] = {}
        runs: dict[str, list[int]] = {}
        runs_before: dict[str, list[int]] = {}
        if args.browser:
            in_browser, runs = browser_keys(work / "browser.sqlite", C.ROOT / "app.py", work, repeat, before=False)
            if old_app is not None:
                in_browser_before, runs_before = browser_keys(
                    work / "browser-before.sqlite", old_app, work, repeat, before=True,
                    pythonpath=str(old_app.parent))
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
        browser_section: list[tuple[str | None, C.Table]] = []
        if in_browser:
            columns = ["key (what it does)", "presses", "script runs a press", "median ms", "slowest ms",
                       f"< {TARGET_MS:.0f} ms?"]
            if in_browser_before:
                columns += [f"script runs at {args.before}", f"median ms at {args.before}",
                            f"slowest ms at {args.before}"]
            browser_table = C.Table(columns)
            for label, values in in_browser.items():
                median = statistics.median(values) * 1000
                row = [label, len(values), _counts(runs[label]), median, max(values) * 1000,
                       C.target(median < TARGET_MS)]
                if in_browser_before:
                    old = in_browser_before.get(label)
                    row += ([_counts(runs_before[label]), statistics.median(old) * 1000, max(old) * 1000]
                            if old else ["—", "no such key", "—"])
                browser_table.add(*row)
            browser_section = [("In headless Chromium (key press to the end of the last script run it "
                                   "causes, page clock):", browser_table)]
        store_table = C.Table(["store", "value"])
        store_table.add("segments", f"{n:,}")
        store_table.add("flags", f"{sum(len(r.flags) for r in items):,}")
        store_table.add("documents", f"{len({r.segment.doc_id for r in items}):,}")
        section.tables += [(None, store_table), ("Server-side time per key (AppTest, click to end of "
                                                 "the script run it causes):", table), *browser_section]
        section.notes += [
            "Method: streamlit.testing.v1.AppTest on app.py and a real SQLite store; a key is the click "
            "of the button its shortcut presses; timed from the click to the end of the script run "
            "(callback, queries, saves, elements), without the websocket and the browser's drawing.",
            "Each key pressed on different segments (the default queue: to review, likely errors "
            "first) after a warm-up press; 'met' compares the median with the 300 ms target.",
            *([("In Chromium: from the page's keydown event to the app root's script state leaving "
                "'running' for the last time (600 ms without another run), page clock; so a key that "
                "runs the page twice or switches page is timed to its last run, and the websocket and "
                "the browser applying the elements are included. Headless, software rendering, on the "
                "same machine as the server.")] if in_browser else []),
            *([f"Before: the reviewer UI files of {args.before}, run as a package of their own against "
               "the same store (a copy) and today's library."] if args.before else []),
            *args.note,
            *notes,
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    C.finish(section, args)


if __name__ == "__main__":
    main()
