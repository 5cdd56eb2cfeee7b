"""End to end in a real headless Chromium: ``streamlit run app.py`` on localhost, a reviewer opens the
queue, confirms a flag, corrects a target, and the database has it; after a restart of the app the
decisions are still there; a segment carrying ``<script>`` and ``<img onerror>`` shows as text.
Issue 16: a reviewer clears the seed article (samples/caravan, rule checks) and a fixture article in
article order with the keyboard only (one key per segment, the page moving on by itself), and the
decisions survive a restart; a bulk dismiss of one check in one document, and its undo; markup in
document ids, reviewer names and text stays text.

Needs the Debian packages chromium and chromium-driver (CI installs them); Selenium is pointed at
them so that Selenium Manager downloads nothing. A screenshot of the segment page is saved in the
test's temporary folder. ``TQCHECK_SCREENSHOTS=1`` also runs ``test_screenshot_for_the_readme``,
which writes ``docs/screenshots/segment.png`` from the seed article's report (out/caravan.jsonl, made
by the README's first command).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from review_fixtures import results, write_report

from tqcheck.store import Decision, Store

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
                       reason="needs /usr/bin/chromium and /usr/bin/chromedriver "
                              "(apt-get install chromium chromium-driver)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_app(db: Path, log: Path):
    """``streamlit run app.py`` on a free localhost port; yields the base URL."""
    port = _free_port()
    env = {**os.environ, "TQCHECK_DB": str(db), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
               "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'chrome'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def page_has(text: str):
    return lambda d: text in d.find_element("tag name", "body").text


def button(driver, label: str, index: int = 0):
    from selenium.webdriver.common.by import By

    xpath = f"//button[.//p[normalize-space()='{label}']]"
    wait_for(driver, lambda d: len(d.find_elements(By.XPATH, xpath)) > index
             and d.find_elements(By.XPATH, xpath)[index].is_enabled())
    return driver.find_elements(By.XPATH, xpath)[index]


def field(driver, label: str):
    from selenium.webdriver.common.by import By

    selector = f"input[aria-label='{label}'], textarea[aria-label='{label}']"
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, selector))
    return driver.find_element(By.CSS_SELECTOR, selector)


def type_into(driver, label: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    element = field(driver, label)
    element.click()
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)
    element.send_keys(text)
    if element.tag_name == "input":
        element.send_keys(Keys.ENTER)


def settle(driver, timeout: float = 30) -> None:
    """Wait until Streamlit has finished rerunning the script."""
    from selenium.webdriver.common.by import By

    time.sleep(0.4)
    wait_for(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget']"),
             timeout)


def test_review_in_a_real_browser(tmp_path, browser):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    db = tmp_path / "review.sqlite"
    report = write_report(tmp_path / "caravan.jsonl")
    subprocess.run([sys.executable, "-m", "tqcheck", "import", str(report), "--db", str(db)],
                   check=True, capture_output=True)
    log = tmp_path / "streamlit.log"

    with streamlit_app(db, log) as url:
        browser.get(url)
        wait_for(browser, page_has("Queue"), 60)
        type_into(browser, "Your name", "ann")
        settle(browser)

        # The queue, riskiest first: open s2 and confirm its first flag.
        wait_for(browser, page_has("4 segments"))
        button(browser, "Review").click()
        wait_for(browser, page_has("Segment s2"))
        settle(browser)
        button(browser, "Confirm").click()
        wait_for(browser, page_has("confirmed by ann"))
        with Store.open(db) as store:
            s2 = store.find_segment(1, "s2")
            assert s2.flags[0].decision is Decision.CONFIRMED and s2.flags[0].decided_by == "ann"

        # Correct the target.
        settle(browser)
        type_into(browser, "Target", "Do they shout back in reply?")
        button(browser, "Save correction").click()
        wait_for(browser, page_has("Corrected target"))
        settle(browser)
        with Store.open(db) as store:
            assert store.find_segment(1, "s2").target == "Do they shout back in reply?"

        # Hovering a highlighted span shows the flag and its evidence (the title attribute).
        marks = browser.find_elements(By.CSS_SELECTOR, "div.tq-text mark.tq-flag")  # not the sentence before
        assert marks and "forced_decoding" in marks[0].get_attribute("title")
        screenshot = tmp_path / "segment.png"
        browser.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 10_000

        # Without the mouse: J goes to the next segment of the queue, K back.
        from selenium.webdriver.common.action_chains import ActionChains

        browser.find_element(By.TAG_NAME, "h2").click()  # focus the page, not a text field
        ActionChains(browser).send_keys("j").perform()
        wait_for(browser, page_has("Segment s1"))
        settle(browser)
        browser.find_element(By.TAG_NAME, "h2").click()
        ActionChains(browser).send_keys("k").perform()
        wait_for(browser, page_has("Segment s2"))
        settle(browser)

        # The segment with markup in it: the text shows, nothing runs, no element is made of it.
        button(browser, "Queue").click()
        wait_for(browser, page_has("Search source, MT and corrections"))
        type_into(browser, "Search source, MT and corrections", "onerror")
        wait_for(browser, page_has("1 segments"))
        button(browser, "Review").click()
        wait_for(browser, page_has("Segment s5"))
        settle(browser)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "<img src=x onerror=alert(1)>" in body
        assert '<script>alert("x")</script>' in body
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018 - reading the alert is what raises when there is none
        assert browser.find_elements(By.CSS_SELECTOR, "img[onerror], b[onmouseover]") == []
        scripts = browser.execute_script(
            "return Array.from(document.scripts).map(s => s.textContent)"
            ".filter(t => t.includes('alert(\"x\")') || t.includes('alert(1)')).length")
        assert scripts == 0

    # A restart of the app: every decision is still there.
    with streamlit_app(db, log) as url:
        browser.get(url)
        wait_for(browser, page_has("Queue"), 60)
        type_into(browser, "Your name", "ann")
        settle(browser)
        button(browser, "Review").click()  # the queue shows s2 (still partly reviewed)
        wait_for(browser, page_has("Segment s2"))
        assert "confirmed by ann" in browser.find_element(By.TAG_NAME, "body").text
        assert "Do they shout back in reply?" in browser.find_element(By.TAG_NAME, "body").text


XSS_DOC = '"><img src=x onerror=alert(1)>'
XSS_NAME = "<script>alert(1)</script>"


def article_report(path: Path) -> Path:
    """The fixture's segments as one article ("caravan", in input order: s1, s2, s3 flagged, s4
    clean) and a second document whose id carries markup (s5)."""
    from dataclasses import replace

    docs = ["caravan", "caravan", "caravan", "caravan", XSS_DOC]
    items = [replace(r, segment=replace(r.segment, doc_id=d)) for r, d in zip(results(), docs)]
    return write_report(path, items)


def press(driver, key: str) -> None:
    """A key pressed on the page itself (focus taken off any text field first, without the mouse)."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script("if (document.activeElement) document.activeElement.blur();")
    ActionChains(driver).send_keys(key).perform()


def no_live_markup(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - reading the alert is what raises when there is none
    assert driver.find_elements(By.CSS_SELECTOR, "img[onerror], b[onmouseover]") == []
    assert driver.execute_script(
        "return Array.from(document.scripts).filter(s => s.textContent.includes('alert(1)')).length") == 0


def test_clear_an_article_with_the_keyboard_only(tmp_path, browser):
    db = tmp_path / "review.sqlite"
    report = article_report(tmp_path / "caravan.jsonl")
    subprocess.run([sys.executable, "-m", "tqcheck", "import", str(report), "--db", str(db)],
                   check=True, capture_output=True)
    log = tmp_path / "streamlit.log"
    with streamlit_app(db, log) as url:
        browser.get(f"{url}/article")
        wait_for(browser, page_has("Review in order"), 60)
        type_into(browser, "Your name", "ann")
        settle(browser)
        wait_for(browser, page_has("s1 · unreviewed"))  # the first document with something to review
        press(browser, "o")  # review the article in order
        wait_for(browser, page_has("Segment s1"))
        settle(browser)
        # One key per segment, every flag a false alarm; the page moves on by itself, in article
        # order (the clean s4 has nothing to review, s5 is another document).
        for this, following in (("s1", "Segment s2"), ("s2", "Segment s3"), ("s3", "nothing else in this queue")):
            press(browser, "d")
            wait_for(browser, page_has(following))
            settle(browser)
            with Store.open(db) as store:
                flags = store.find_segment(1, this).flags
                assert {f.decision for f in flags} == {Decision.DISMISSED}
                assert {f.decided_by for f in flags} == {"ann"}
        with Store.open(db) as store:
            assert store.find_segment(1, "s5").flags[0].decision is None

    # A restart of the app: the article shows every sentence decided.
    with streamlit_app(db, log) as url:
        browser.get(f"{url}/article")
        wait_for(browser, page_has("Review in order"), 60)
        settle(browser)
        pick_document(browser, "caravan")
        wait_for(browser, page_has("s4 · no flags"))
        body = browser.find_element("tag name", "body").text
        for seg_id in ("s1", "s2", "s3"):
            assert f"{seg_id} · reviewed" in body
        assert "s4 · no flags" in body
        with Store.open(db) as store:
            assert all(f.decision is Decision.DISMISSED
                       for s in ("s1", "s2", "s3") for f in store.find_segment(1, s).flags)


def heading_is(text: str):
    """The page's h2 says exactly ``text`` (read in one script call: Streamlit replaces elements as
    it reruns, and a found element may be gone a moment later)."""
    return lambda d: text in d.execute_script(
        "return Array.from(document.querySelectorAll('h2')).map(h => h.textContent.trim())")


def test_clear_the_seed_article_with_the_keyboard_only(tmp_path, browser):
    """The seed article (samples/caravan, checked with the rule checks), cleared in article order:
    O, then D on each flagged sentence as the page moves on by itself; still so after a restart."""
    db = tmp_path / "review.sqlite"
    checked = subprocess.run(
        [sys.executable, "-m", "tqcheck", "check", "--format", "docs", "-s", "fr", "-t", "en",
         str(ROOT / "samples" / "caravan.fr-reconstructed-source.txt"), str(ROOT / "samples" / "caravan.en-mt.txt"),
         "--rules-only", "--db", str(db), "-q"], capture_output=True, text=True)
    assert checked.returncode in (0, 1), checked.stderr
    with Store.open(db) as store:
        (document,) = store.documents()
        flagged = [r.segment.id for r in store.article(document.run_id, document.doc_id) if r.open_flags()]
    assert len(flagged) >= 3, flagged  # the rule checks find several things in the seed article
    log = tmp_path / "streamlit.log"
    with streamlit_app(db, log) as url:
        browser.get(f"{url}/article")
        wait_for(browser, page_has("Review in order"), 60)
        type_into(browser, "Your name", "ann")
        settle(browser)
        press(browser, "o")
        wait_for(browser, heading_is(f"Segment {flagged[0]}"))
        settle(browser)
        for this, following in zip(flagged, flagged[1:] + [None]):
            press(browser, "d")  # every flag of this sentence is a false alarm
            wait_for(browser, heading_is(f"Segment {following}") if following
                     else page_has("nothing else in this queue"))
            settle(browser)
            with Store.open(db) as store:
                assert store.find_segment(document.run_id, this).open_flags() == ()
    # A restart of the app: the decisions are still there, and the article says so.
    with streamlit_app(db, log) as url:
        browser.get(f"{url}/article")
        wait_for(browser, page_has("Review in order"), 60)
        settle(browser)
        body = browser.find_element("tag name", "body").text
        for seg_id in flagged:
            assert f"{seg_id} · reviewed" in body
        with Store.open(db) as store:
            for seg_id in flagged:
                record = store.find_segment(document.run_id, seg_id)
                decided = [f for f in record.flags if not f.flag.hint]
                assert decided and {(f.decision, f.decided_by) for f in decided} == {(Decision.DISMISSED, "ann")}


def pick_document(driver, text: str) -> None:
    """Pick the article page's document whose label contains ``text``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    select = driver.find_element(By.CSS_SELECTOR, "[data-testid='stSelectbox'] input")
    select.click()
    select.send_keys(text)
    select.send_keys(Keys.ENTER)
    settle(driver)


def choose(driver, label: str, option: str) -> None:
    """Pick ``option`` in the multiselect labelled ``label`` (typed, then Enter)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    xpath = f"//div[@data-testid='stMultiSelect'][.//label[normalize-space()='{label}']]//input"
    wait_for(driver, lambda d: d.find_elements(By.XPATH, xpath))
    element = driver.find_element(By.XPATH, xpath)
    element.click()
    element.send_keys(option)
    element.send_keys(Keys.ENTER)
    element.send_keys(Keys.ESCAPE)
    settle(driver)


def test_bulk_dismiss_one_check_in_one_document_and_undo(tmp_path, browser):
    from selenium.webdriver.common.by import By

    db = tmp_path / "review.sqlite"
    report = article_report(tmp_path / "caravan.jsonl")
    subprocess.run([sys.executable, "-m", "tqcheck", "import", str(report), "--db", str(db)],
                   check=True, capture_output=True)
    with streamlit_app(db, tmp_path / "streamlit.log") as url:
        browser.get(url)
        wait_for(browser, page_has("Queue"), 60)
        type_into(browser, "Your name", XSS_NAME)
        settle(browser)
        choose(browser, "Document", "caravan")
        choose(browser, "Check", "punctuation")
        wait_for(browser, page_has("1 segments"))
        browser.find_element(By.XPATH, "//label[.//p[normalize-space()='Bulk actions']]").click()
        wait_for(browser, page_has("1 open flag(s) in 1 segment(s)"))
        settle(browser)
        button(browser, "Dismiss 1 flag(s)").click()
        wait_for(browser, page_has("Dismissed 1 flag in 1 segment."))
        settle(browser)
        with Store.open(db) as store:
            s2 = store.find_segment(1, "s2")
            assert [f.decision for f in s2.flags] == [None, Decision.DISMISSED]
            assert s2.flags[1].decided_by == XSS_NAME
            assert all(f.decision is None for s in ("s1", "s3", "s5") for f in store.find_segment(1, s).flags)

        # The reviewer's name, with markup in it, shows as text on the segment page.
        button(browser, "Review").click()
        wait_for(browser, page_has("Segment s2"))
        settle(browser)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert f"dismissed by {XSS_NAME}" in body
        no_live_markup(browser)

        button(browser, "Queue").click()
        wait_for(browser, page_has("Bulk actions"))
        settle(browser)
        if not browser.find_elements(By.XPATH, "//button[.//p[normalize-space()='Undo last bulk action']]"):
            browser.find_element(By.XPATH, "//label[.//p[normalize-space()='Bulk actions']]").click()
            settle(browser)
        button(browser, "Undo last bulk action").click()
        wait_for(browser, page_has("Reopened 1 flag in 1 segment."))
        settle(browser)
        with Store.open(db) as store:
            assert all(f.decision is None for f in store.find_segment(1, "s2").flags)

        # The document whose id carries markup: shown as text on the article page.
        browser.get(f"{url}/article")
        wait_for(browser, page_has("Review in order"), 60)
        settle(browser)
        pick_document(browser, "onerror")
        wait_for(browser, page_has('Click <script>alert("x")</script> and <img src=x onerror=alert(1)>'))
        chosen = browser.find_element(By.CSS_SELECTOR, "[data-testid='stSelectbox'] input")
        assert (chosen.get_attribute("value") or "").startswith(f"{XSS_DOC} · run 1")  # as text
        no_live_markup(browser)


@pytest.mark.skipif(os.environ.get("TQCHECK_SCREENSHOTS") != "1",
                    reason="writes docs/screenshots/segment.png: run with TQCHECK_SCREENSHOTS=1")
def test_screenshot_for_the_readme(tmp_path, browser):
    report = Path(os.environ.get("TQCHECK_SCREENSHOT_REPORT", ROOT / "out" / "caravan.jsonl"))
    if not report.exists():
        pytest.fail(f"{report} is missing: run the README's first command first")
    db = tmp_path / "review.sqlite"
    subprocess.run([sys.executable, "-m", "tqcheck", "import", str(report), "--db", str(db),
                    "--name", "caravan article"], check=True, capture_output=True)
    with streamlit_app(db, tmp_path / "streamlit.log") as url:
        browser.get(url)
        wait_for(browser, page_has("Queue"), 60)
        type_into(browser, "Your name", "editor")
        settle(browser)
        type_into(browser, "Search source, MT and corrections", os.environ.get("TQCHECK_SCREENSHOT_TEXT", "market"))
        settle(browser)
        button(browser, "Review").click()
        wait_for(browser, page_has("Machine translation"))
        settle(browser)
        button(browser, "Confirm").click()
        # The last open flag decided, the page moves on: B comes back to the segment just finished.
        wait_for(browser, lambda d: page_has("confirmed by editor")(d) or page_has("on to the next segment")(d))
        settle(browser)
        if not page_has("confirmed by editor")(browser):
            press(browser, "b")
            wait_for(browser, page_has("confirmed by editor"))
            settle(browser)
        browser.execute_script("window.scrollTo(0, 0)")
        shot = tmp_path / "segment.png"
        browser.save_screenshot(str(shot))
    target = ROOT / "docs" / "screenshots" / "segment.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, target)
