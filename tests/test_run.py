"""The one run path (tqcheck.run) and the public API: provenance in every sink, gates that cannot pass
by accident, a resumed run counted whole, the pandas API keeping the feed's columns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tqcheck
from tqcheck.config import CheckConfig, EngineConfig
from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed
from tqcheck.errors import UsageError
from tqcheck.model import Category, Flag, Segment, SegmentResult, Severity, Span, Summary
from tqcheck.run import Checker, ResultCollector, StoreSink, resolve_languages

needs_apertium = pytest.mark.skipif(
    not apertium_installed() or "fra-cat" not in ApertiumTranslator().modes,
    reason="needs Debian apertium with the fra-cat and eng-cat pairs (scripts/setup.sh)")


def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tqcheck", *args], capture_output=True, text=True,
                          input=input, timeout=600)


ROWS = [
    {"id": "n1", "source": "Plus de 3 000 manifestants.", "mt": "More than 300 protesters.", "client": "afp"},
    {"id": "n2", "source": "Le chat dort.", "mt": "The cat sleeps.", "client": "reuters"},
]


# ----------------------------------------------------------------------------------------------------
# The public API


def test_check_a_dataframe_keeps_its_columns_one_row_per_segment():
    import pandas as pd

    frame = pd.DataFrame(ROWS)
    result = tqcheck.check(frame, source_lang="fr", target_lang="en", rules_only=True, calibration="none")
    table = result.to_pandas()
    assert len(table) == 2 and table["id"].tolist() == ["n1", "n2"]
    assert table["client"].tolist() == ["afp", "reuters"]  # the feed's own column
    assert table["worst_severity"].iloc[0] == "major" and table["n_flags"].tolist()[1] == 0
    assert table["flags"].iloc[0][0]["check"] == "numbers"
    # with the shipped calibration every flag is measured (shown, or a hint kept in the result)
    measured = tqcheck.check(frame, source_lang="fr", target_lang="en", rules_only=True)
    assert all(f.p_error is not None for f in measured[0].flags)
    assert measured.to_pandas(hints=True)["flags"].iloc[0][0]["check"] == "numbers"
    flags = result.flags_frame()
    assert flags["span_text"].tolist() == ["300"] and flags["segment_id"].tolist() == ["n1"]
    assert result.summary.segments == 2 and result.signature.language_pairs == ("fr-en",)
    assert measured.signature.calibration.startswith("default-")  # the shipped calibration measured them


def test_check_takes_dicts_segments_a_path_and_a_language_pair(tmp_path):
    by_dicts = tqcheck.check(ROWS, language_pair="fr-en", rules_only=True)
    by_segments = tqcheck.check([Segment("x", "More than 300.", "Plus de 3 000.", "fr", "en")], rules_only=True)
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    by_path = tqcheck.check(feed, source_lang="fr", target_lang="en", rules_only=True)
    assert [r.segment.id for r in by_dicts] == [r.segment.id for r in by_path] == ["n1", "n2"]
    assert by_segments[0].flags[0].check == "numbers"
    assert by_dicts[0].segment.metadata["fields"] == {"client": "afp"}


def test_check_reports_bad_records_and_refuses_contradictions():
    result = tqcheck.check([{"id": "a", "source": "x"}, ROWS[1]], language_pair="fr-en", rules_only=True)
    assert [r.segment.id for r in result] == ["n2"]
    assert len(result.skipped) == 1 and "records:1" in str(result.skipped[0])
    with pytest.raises(UsageError, match="contradicts"):
        tqcheck.check(ROWS, language_pair="fr-en", rules_only=True, lm="smollm2")
    with pytest.raises(UsageError, match="unknown engine role"):
        tqcheck.check(ROWS, language_pair="fr-en", llm="x")
    with pytest.raises(UsageError, match="language pair"):
        tqcheck.check(ROWS, language_pair="french", rules_only=True)


def test_public_names_are_listed():
    assert {"check", "CheckResult", "Checker", "Segment", "Flag"} <= set(tqcheck.__all__)
    code = "import sys, tqcheck; print([m for m in ('pandas', 'torch', 'tqcheck.run') if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


# ----------------------------------------------------------------------------------------------------
# Languages


def test_languages_resolved_once_per_record_languages_win():
    segs = [Segment("a", "Hello there.", "Bonjour.", source_lang="de"), Segment("b", "Hi.", "Salut.")]
    out, src, tgt, detected = resolve_languages(segs, "fr", "en")
    out = list(out)
    assert (out[0].source_lang, out[0].target_lang) == ("de", "en")
    assert (out[1].source_lang, out[1].target_lang) == ("fr", "en") and not detected


def test_languages_are_detected_only_when_missing():
    segs = [Segment(str(i), "The government presented its budget on Tuesday.",
                    "Le gouvernement a présenté son budget mardi.") for i in range(3)]
    out, src, tgt, detected = resolve_languages(segs, None, None)
    assert (src, tgt, detected) == ("fr", "en", True) and len(list(out)) == 3


# ----------------------------------------------------------------------------------------------------
# Provenance: the final signature in every sink


@needs_apertium
def test_every_report_and_the_store_name_the_engines_that_ran(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({**r, "lp": "fr-en"}) + "\n" for r in ROWS), encoding="utf-8")
    out = tmp_path / "out"
    db = tmp_path / "review.sqlite"
    engines = ["--back-translator", "apertium", "--reference-model", "none", "--lm", "none", "--embedder", "none",
               "--qe", "none"]
    result = cli("check", str(feed), "-o", str(out / "r.jsonl"), "-o", str(out / "r.csv"), "-o",
                 str(out / "r.parquet"), "--html", str(out / "r.html"), "--db", str(db), "-q", *engines)
    assert result.returncode == 0, result.stderr

    def named(signature: dict) -> bool:
        return ([e["name"] for e in signature["engines"]] == ["apertium"]
                and signature["language_pairs"] == ["fr-en"] and signature["calibration"])

    first = json.loads((out / "r.jsonl").read_text().splitlines()[0])
    assert named(first)
    assert named(json.loads((out / "r.csv.meta.json").read_text())["signature"])
    from tqcheck.io.reports import read_parquet_meta

    assert named(read_parquet_meta(out / "r.parquet")[0].to_dict())
    page = (out / "r.html").read_text()
    assert "engine: back_translator" in page and "apertium" in page
    from tqcheck.store import Store

    with Store.open(db) as store:
        [run] = store.runs()
        assert run.engines.startswith("back_translator=apertium") and named(run.signature.to_dict())
    imported = cli("import", str(out / "r.jsonl"), "--db", str(tmp_path / "imported.sqlite"))
    assert imported.returncode == 0, imported.stderr
    with Store.open(tmp_path / "imported.sqlite") as store:
        assert store.runs()[0].engines.startswith("back_translator=apertium")


# ----------------------------------------------------------------------------------------------------
# Gates


def test_a_csv_on_stdin_without_format_is_exit_2_not_a_silent_pass(tmp_path):
    result = cli("check", "-", "-s", "fr", "-t", "en", "--fail-on", "minor", "--rules-only",
                 "-o", str(tmp_path / "r.jsonl"), input="id,source,mt\n1,a,b\n")
    assert result.returncode == 2
    assert "no record could be read" in result.stderr and "--format csv" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3


def test_an_empty_feed_is_exit_2(tmp_path):
    feed = tmp_path / "empty.jsonl"
    feed.write_text("", encoding="utf-8")
    result = cli("check", str(feed), "-l", "fr-en", "--rules-only", "-q", "-o", str(tmp_path / "r.jsonl"))
    assert result.returncode == 2 and "holds no segments" in result.stderr
    assert not list(tmp_path.glob("r.jsonl*"))  # nothing to resume from: no checkpoint left behind


def test_repeated_ids_are_one_line_with_a_count(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text("id,source,mt\n" + "".join(f"7,Bonjour {i}.,Hello {i}.\n" for i in range(30)), encoding="utf-8")
    result = cli("check", str(feed), "-l", "fr-en", "--rules-only", "-o", str(tmp_path / "r.jsonl"))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "repeat an id" in line]
    assert len(lines) == 1 and lines[0].count("feed.csv:") == 5 and "24 more" in lines[0]
    ids = [json.loads(line)["segment"]["id"] for line in (tmp_path / "r.jsonl").read_text().splitlines()[1:-1]]
    assert len(set(ids)) == 30


@pytest.mark.parametrize("value, message", [("src.txt", "is a file"), ("French", "did you mean 'fr'"),
                                            ("f#", "not a language code")])
def test_language_options_say_what_is_wrong(tmp_path, value, message):
    (tmp_path / "src.txt").write_text("Bonjour.\n", encoding="utf-8")
    (tmp_path / "mt.txt").write_text("Hello.\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tqcheck", "check", "src.txt", "mt.txt", "-s", value, "-t", "en",
                             "--rules-only", "-q"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_language_pair_option_like_sacrebleu(tmp_path):
    (tmp_path / "src.txt").write_text("Plus de 3 000.\n", encoding="utf-8")
    (tmp_path / "mt.txt").write_text("More than 300.\n", encoding="utf-8")
    result = cli("check", str(tmp_path / "src.txt"), str(tmp_path / "mt.txt"), "-l", "fr-en", "--rules-only",
                 "-o", str(tmp_path / "r.jsonl"), "--fail-on", "major", "--calibration", "none")
    assert result.returncode == 1, result.stderr
    assert json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])["language_pairs"] == ["fr-en"]


# ----------------------------------------------------------------------------------------------------
# Resume: the summary and the gate of the whole run


def test_a_resumed_run_gates_and_counts_the_part_checked_before_the_kill(tmp_path):
    rows = [{"id": "n1", "source": "Ils sont 3 000.", "mt": "There are 300.", "lp": "fr-en"}] + \
           [{"id": f"c{i}", "source": "Le chat dort.", "mt": "The cat sleeps.", "lp": "fr-en"} for i in range(4)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "r.jsonl"
    nocal = ("--calibration", "none")  # the rule checks' own severities: the changed number is major
    full = cli("check", str(feed), "--rules-only", "-o", str(out), "--fail-on", "major", *nocal)
    assert full.returncode == 1
    whole = out.read_text().splitlines()
    # the kill: the checkpoint holds the signature and the first two results, the second cut in half
    Path(str(out) + ".partial").write_text(whole[0] + "\n" + whole[1] + "\n" + whole[2][:20], encoding="utf-8")
    out.unlink()
    resumed = cli("check", str(feed), "--rules-only", "-o", str(out), "--fail-on", "major", "--resume",
                  "--db", str(tmp_path / "r.sqlite"), *nocal)
    assert resumed.returncode == 1, resumed.stderr  # the major flag was in the first leg
    summary = json.loads(out.read_text().splitlines()[-1])
    assert summary["segments"] == 5 and summary["by_severity"] == json.loads(whole[-1])["by_severity"]
    from tqcheck.store import Store

    with Store.open(tmp_path / "r.sqlite") as store:
        assert store.runs()[0].segment_count == 5
    again = cli("check", str(feed), "--rules-only", "-o", str(out), "--fail-on", "major", "--resume", *nocal)
    assert again.returncode == 1 and "nothing to resume" in again.stderr


# ----------------------------------------------------------------------------------------------------
# Sinks


class _Boom(Exception):
    pass


def test_a_failed_run_aborts_every_sink_and_the_ui_store_sink_leaves_nothing(tmp_path):
    from tqcheck.store import Store

    def segments():
        yield Segment("a", "Hello.", "Bonjour.", "fr", "en")
        raise _Boom()

    with Store.open(tmp_path / "s.sqlite") as store:
        keep = StoreSink(store, name="cli")
        drop = StoreSink(store, name="ui", keep_partial=False)
        checker = Checker(CheckConfig().with_rules_only())
        with pytest.raises(_Boom):
            checker.run(segments(), sinks=[keep, drop], detect=False)
        assert [r.name for r in store.runs()] == ["cli"]


def test_hints_never_fail_a_gate():
    hint = Flag("fluency", Severity.MAJOR, Category.NON_FLUENT, "odd", Span(0, 3), p_error=0.1, p_major=0.05,
                hint=True)
    result = SegmentResult(Segment("a", "odd text"), (hint,), risk=0.1)
    summary = Summary.of([result])
    assert summary.flagged == 0 and summary.hints == 1 and result.worst_severity is None
    from tqcheck.run import RunOutcome

    assert not RunOutcome(summary, tqcheck.RunSignature("0", "x"), None).fails("minor")


def test_collector_gets_the_final_signature():
    collector = ResultCollector()
    outcome = Checker(CheckConfig(engines=EngineConfig.rules_only())).run(
        [Segment("a", "Hello.", "Bonjour.", "fr", "en")], sinks=[collector])
    assert collector.signature == outcome.signature and collector.signature.language_pairs == ("fr-en",)
    assert collector.summary.segments == 1
