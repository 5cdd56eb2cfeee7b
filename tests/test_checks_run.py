"""The check registry: building from configuration, running, sorting, standing aside once."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

from tqcheck.checks import CHECKS, DEFAULT_CHECKS, build_checks, check_class, run_checks
from tqcheck.checks.base import Check
from tqcheck.config import CheckConfig
from tqcheck.errors import ConfigError
from tqcheck.model import Category, Flag, Segment, Severity, Side


def test_every_check_imports_and_declares_itself():
    for name in CHECKS:
        cls = check_class(name)
        assert cls.name == name
        assert isinstance(cls.severity, Severity) and isinstance(cls.category, Category)
        module = sys.modules[cls.__module__]
        assert cls.description and module.__doc__ and cls.run is not Check.run


def test_importing_the_package_is_light():
    import subprocess
    import sys

    code = ("import sys, tqcheck.checks; heavy = [m for m in ('lingua', 'spylls', 'torch', 'pandas') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_defaults_and_selection():
    names = [c.name for c in build_checks(CheckConfig())]
    assert names == list(DEFAULT_CHECKS) and "glossary" not in names
    names = [c.name for c in build_checks(CheckConfig(enable=("spacing", "numbers")))]
    assert names == ["numbers", "spacing"]  # table order, not config order
    names = [c.name for c in build_checks(CheckConfig(disable=("spelling", "untranslated")))]
    assert "spelling" not in names and "untranslated" not in names and "numbers" in names


def test_options_reach_the_check(tmp_path):
    checks = build_checks(CheckConfig(enable=("length_ratio",),
                                      check_options={"length_ratio": {"max_ratio": 2.5}}))
    assert checks[0].max_ratio == 2.5
    glossary = tmp_path / "g.csv"
    glossary.write_text("source,target\nasile,asylum\n", encoding="utf-8")
    names = [c.name for c in build_checks(CheckConfig(glossary=str(glossary)))]
    assert names[-1] == "glossary"


@pytest.mark.parametrize("config, message", [
    (CheckConfig(enable=("numbrs",)), "unknown check(s) ['numbrs']"),
    (CheckConfig(disable=("speling",)), "unknown check(s) ['speling']"),
    (CheckConfig(check_options={"length_ratio": {"max": 3}}), "invalid options for check 'length_ratio'"),
    (CheckConfig(enable=("glossary",)), "needs a glossary file"),
])
def test_config_errors_say_what(config, message):
    with pytest.raises(ConfigError) as info:
        build_checks(config)
    assert message in str(info.value)


class _Unavailable(Check):
    name = "fake_unavailable"
    description = "stands aside for German"

    def unavailable_reason(self, segment: Segment) -> str | None:
        return "no resource for de" if segment.target_lang == "de" else None

    def run(self, segment: Segment) -> Iterator[Flag]:
        yield self.flag("ran", (0, 1))


class _NeedsSource(Check):
    name = "fake_source"
    needs_source = True
    description = "needs a source"

    def run(self, segment: Segment) -> Iterator[Flag]:
        yield self.flag("seen", None)


def test_unavailable_reason_is_logged_once_per_language(caplog):
    check = _Unavailable()
    caplog.set_level(logging.WARNING, logger="tqcheck.checks")
    for i in range(5):
        assert run_checks([check], Segment(str(i), "Hallo", target_lang="de")) == []
    assert run_checks([check], Segment("x", "Hello", target_lang="en"))[0].message == "ran"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "no resource for de" in messages[0]


def test_needs_source_is_skipped_target_only():
    assert run_checks([_NeedsSource()], Segment("1", "Hello")) == []
    assert len(run_checks([_NeedsSource()], Segment("1", "Hello", source="Bonjour"))) == 1


def test_flags_sorted_and_deduplicated():
    segment = Segment("1", "In mexico  the the , ok", source="Au Mexique , ok")
    checks = build_checks(CheckConfig(enable=("spacing", "repeats", "capitalization", "length_ratio")))
    flags = run_checks(checks, segment)
    mt_starts = [f.span.start for f in flags if f.span and f.span.side is Side.MT]
    assert mt_starts == sorted(mt_starts)
    keys = [(f.span, f.category) for f in flags if f.span]
    assert len(keys) == len(set(keys))


def test_a_failing_check_names_itself():
    class Broken(Check):
        name = "broken"

        def run(self, segment):
            raise ValueError("boom")
            yield  # pragma: no cover

    with pytest.raises(ValueError) as info:
        run_checks([Broken()], Segment("s-41", "x", origin="feed.csv:12"))
    assert "in check 'broken' on segment 's-41' (feed.csv:12)" in "".join(info.value.__notes__)
