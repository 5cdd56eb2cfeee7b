"""The command line as a user meets it: help, exit codes, messages, reports, gating, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tqcheck.cli import COMMANDS, cli, main


def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tqcheck", *args], capture_output=True, text=True,
                          input=input, timeout=600)


def test_help_imports_nothing_heavy():
    code = ("import sys; from tqcheck.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'streamlit', 'pandas', 'lingua') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_missing_input_is_exit_2_with_the_file_named(tmp_path):
    result = run("check", str(tmp_path / "nope.csv"), "--rules-only", "-q")
    assert result.returncode == 2
    assert "nope.csv" in result.stderr


def test_bad_option_is_exit_2():
    assert run("check", "--fail-on", "huge", "x.csv").returncode == 2


def write_feed(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"id": "a", "source": "Il a dit : « Je reviens. »", "mt": "He said: \"I am coming back.\""},
    {"id": "b", "source": "Mon pays me manque.", "mt": "I miss my country , he says."},
    {"id": "c", "source": "Ils sont 7 000.", "mt": "There are 700 of them."},
]


def test_check_writes_a_jsonl_report_and_gates(tmp_path):
    feed = write_feed(tmp_path / "feed.jsonl", ROWS)
    out = tmp_path / "report.jsonl"
    # without calibration the rule checks keep the severity they declare: the changed number is major
    result = run("check", str(feed), "-s", "fr", "-t", "en", "--rules-only", "-o", str(out),
                 "--fail-on", "major", "--calibration", "none")
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    results = [line for line in lines if line["type"] == "result"]
    assert [r["segment"]["id"] for r in results] == ["a", "b", "c"]
    checks_b = {f["check"] for f in results[1]["flags"]}
    assert "spacing" in checks_b
    assert any(f["severity"] == "major" for f in results[2]["flags"])
    assert "segments" in result.stderr            # the summary is printed
    assert not list(tmp_path.glob("*.partial"))   # atomic: nothing half-written left over


def test_fail_on_critical_passes_when_only_major(tmp_path):
    feed = write_feed(tmp_path / "feed.jsonl", ROWS)
    result = run("check", str(feed), "-s", "fr", "-t", "en", "--rules-only", "-q",
                 "-o", str(tmp_path / "r.jsonl"), "--fail-on", "critical")
    assert result.returncode == 0, result.stderr


def test_stdin_feed(tmp_path):
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS)
    out = tmp_path / "r.jsonl"
    result = run("check", "-", "-s", "fr", "-t", "en", "--rules-only", "-q", "-o", str(out), input=text)
    assert result.returncode == 0, result.stderr
    assert sum('"type": "result"' in line for line in out.read_text().splitlines()) == 3


def test_bad_record_is_reported_and_the_rest_processed(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(ROWS[0]) + "\n{not json\n" + json.dumps(ROWS[1]) + "\n")
    out = tmp_path / "r.jsonl"
    result = run("check", str(feed), "-s", "fr", "-t", "en", "--rules-only", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "feed.jsonl:2" in result.stderr
    assert sum('"type": "result"' in line for line in out.read_text().splitlines()) == 2
    strict = run("check", str(feed), "-s", "fr", "-t", "en", "--rules-only", "-q", "--strict",
                 "-o", str(tmp_path / "s.jsonl"))
    assert strict.returncode == 2 and "feed.jsonl:2" in strict.stderr
    assert not (tmp_path / "s.jsonl").exists()


def test_resume_skips_what_was_done(tmp_path):
    from tqcheck.io.reports import completed_ids

    feed = write_feed(tmp_path / "feed.jsonl", ROWS)
    out = tmp_path / "r.jsonl"
    # Simulate a killed run: the partial report holds the first segment only.
    first = write_feed(tmp_path / "first.jsonl", ROWS[:1])
    assert run("check", str(first), "-s", "fr", "-t", "en", "--rules-only", "-q", "-o", str(out)).returncode == 0
    Path(str(out) + ".partial").write_text(
        "\n".join(line for line in out.read_text().splitlines() if '"type": "summary"' not in line) + "\n")
    out.unlink()
    assert completed_ids(out) == {"a"}
    result = run("check", str(feed), "-s", "fr", "-t", "en", "--rules-only", "--resume", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "resumed: 1 segments came from the checkpoint" in result.stderr
    assert "segments: 3" in result.stderr  # the summary counts the whole run, the first leg included
    ids = [json.loads(line)["segment"]["id"] for line in out.read_text().splitlines() if '"type": "result"' in line]
    assert ids == ["a", "b", "c"]


def test_library_errors_become_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), str(tmp_path / "c.txt"),
              "--rules-only"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("tqcheck: error:") and len(err.strip().splitlines()) == 1
