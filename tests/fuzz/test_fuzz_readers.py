"""Fuzzing the readers: no input escapes as an untyped exception or takes over 10 s (issue 17).

Each case (``fuzzcases.make_case``: a sample file mutated) is read with ``read_segments``, checked by a
rules-only pipeline and written with the JSONL report writer, as ``tqcheck check --rules-only`` would.
A ``TqcheckError`` (the file refused with a message) or a clean run passes; anything else fails and
names the case, which ``make_case(index, seed=..., fmt=...)`` rebuilds.

CI runs ``TQCHECK_FUZZ_CASES`` cases per format (default 300, 1,800 in all); set it higher to fuzz
on demand, and ``TQCHECK_FUZZ_SEED`` for other cases (default 17):

    TQCHECK_FUZZ_CASES=20000 TQCHECK_FUZZ_SEED=3 .venv/bin/pytest tests/fuzz -q

``benchmarks/fuzz_readers.py`` runs the same cases by the hundred thousand and prints a table.
"""

from __future__ import annotations

import logging
import os
import time

import pytest
from fuzzcases import FORMATS, Case, make_case, rules_only_pipeline, run_case

CASES = int(os.environ.get("TQCHECK_FUZZ_CASES", "300"))
SEED = int(os.environ.get("TQCHECK_FUZZ_SEED", "17"))


@pytest.fixture(scope="module")
def pipeline():
    return rules_only_pipeline()


@pytest.fixture(autouse=True)
def quiet_checks(caplog):
    # Mutated language codes make checks stand aside with a warning each: not what is tested here.
    caplog.set_level(logging.ERROR)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_no_mutated_input_escapes_untyped_or_runs_over_10_s(tmp_path, pipeline, fmt):
    failures: list[tuple[Case, str]] = []
    kinds = {"checked": 0, "refused": 0}
    for index in range(CASES):
        case = make_case(index, seed=SEED, fmt=fmt)
        outcome = run_case(case, tmp_path, pipeline)
        if outcome.kind in kinds:
            kinds[outcome.kind] += 1
            continue
        failures.append((case, outcome.detail))
        (tmp_path / f"failed-{index}{case.suffix}").write_bytes(case.data)
    shown = "\n\n".join(f"{case.describe()}\n{detail}" for case, detail in failures[:3])
    assert not failures, f"{len(failures)} of {CASES} {fmt} cases failed (inputs kept in {tmp_path}):\n{shown}"
    # The fuzzer is not vacuous: most cases get through to the checks, and some are refused.
    assert kinds["checked"] > CASES // 4 and (kinds["refused"] > 0 or CASES < 50), kinds


def test_cases_are_reproducible_from_their_index_and_seed():
    first = [make_case(i, seed=5) for i in range(30)]
    again = [make_case(i, seed=5) for i in range(30)]
    assert [c.data for c in first] == [c.data for c in again]
    assert len({c.data for c in first}) == 30
    assert {c.fmt for c in first} == set(FORMATS)


# -- the harness catches what it is meant to catch


class _Boom:
    """A rule check (our own protocol) that fails as a buggy check would."""

    name = "boom"
    needs_source = False

    def unavailable_reason(self, segment):
        return None

    def run(self, segment):
        raise ValueError("a bug")


class _Slow(_Boom):
    def run(self, segment):
        time.sleep(2)
        return iter(())


@pytest.mark.parametrize("check, kind, error", [(_Boom(), "crash", "ValueError"), (_Slow(), "timeout", "timeout")])
def test_the_harness_reports_an_untyped_exception_and_a_case_over_its_limit(tmp_path, check, kind, error):
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    seed = Case(0, 0, "jsonl", ".jsonl", b'{"id": "1", "source": "Oui.", "mt": "Yes."}\n', ())
    outcome = run_case(seed, tmp_path, Pipeline(CheckConfig().with_rules_only(), checks=[check]), limit_s=0.5)
    assert (outcome.kind, outcome.error) == (kind, error)
    assert outcome.where.startswith("tqcheck/checks/__init__.py:") and outcome.where.endswith("in run_checks")


def test_a_refused_file_is_a_typed_error_with_its_message(tmp_path, pipeline):
    case = Case(0, 0, "tmx", ".tmx", b'<?xml version="1.0" encoding="bogus"?><tmx/>', ())
    outcome = run_case(case, tmp_path, pipeline)
    assert (outcome.kind, outcome.error) == ("refused", "InputError") and "bogus" in outcome.detail
