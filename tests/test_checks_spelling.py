"""spelling: hunspell through enchant (C) or spylls, with real Debian dictionaries and tiny hand-made ones."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from tqcheck.checks import run_checks
from tqcheck.checks.spelling import SpellingCheck, suggestions
from tqcheck.model import Category, Segment, Severity
from tqcheck.text.hunspell import candidate_stems, find_dictionary, speller_for

SEED = Path(__file__).resolve().parent.parent / "samples" / "caravan.en-mt.txt"
HAS_EN = find_dictionary("en_US") is not None
needs_en = pytest.mark.skipif(not HAS_EN, reason="hunspell-en-us is not installed (scripts/setup.sh)")


def tiny_dictionaries(tmp_path: Path) -> Path:
    """Two national variants of a made-up language "zz", enough to test the lookup logic fast."""
    aff = "SET UTF-8\nTRY esiarntolcdugmphbyfvkw\n\nSFX S Y 1\nSFX S 0 s .\n"
    (tmp_path / "zz_AA.aff").write_text(aff, encoding="utf-8")
    (tmp_path / "zz_AA.dic").write_text("4\nbehavior/S\ncolor/S\nthe\nLondon\n", encoding="utf-8")
    (tmp_path / "zz_BB.aff").write_text(aff, encoding="utf-8")
    (tmp_path / "zz_BB.dic").write_text("3\nbehaviour/S\ncolour/S\nthe\n", encoding="utf-8")
    return tmp_path


def found(check, mt, source=None, tl="en"):
    segment = Segment("t", mt, source, "fr" if source else None, tl)
    return [(f.span.text_in(segment), f.message) for f in check.run(segment)]


def test_stems_and_search(tmp_path):
    assert candidate_stems("en-GB")[:2] == ["en_GB", "en_US"]
    assert candidate_stems("fr")[0] == "fr_FR"
    dirs = (str(tiny_dictionaries(tmp_path)),)
    assert find_dictionary("zz-BB", dirs) == tmp_path / "zz_BB"
    assert find_dictionary("xx", dirs) is None


def test_region_picks_one_variant(tmp_path):
    dirs = (str(tiny_dictionaries(tmp_path)),)
    check = SpellingCheck(dictionary_dirs=dirs)
    assert found(check, "the colours", tl="zz-BB") == []
    assert [w for w, _ in found(check, "the colors", tl="zz-BB")] == ["colors"]
    assert [w for w, _ in found(check, "the colours", tl="zz-AA")] == ["colours"]


def test_capital_only_word_is_reported_as_such(tmp_path):
    check = SpellingCheck(dictionary_dirs=(str(tiny_dictionaries(tmp_path)),))
    assert found(check, "the london colors", tl="zz-AA") == [
        ("london", "'london' is written with a capital: 'London'")]


def test_unavailable_reasons(tmp_path, caplog):
    check = SpellingCheck(dictionary_dirs=(str(tmp_path),))
    reason = check.unavailable_reason(Segment("t", "x", target_lang="xx"))
    assert "no hunspell dictionary for 'xx'" in reason and "install hunspell-xx" in reason
    assert "target language is unknown" in check.unavailable_reason(Segment("t", "x"))
    caplog.set_level(logging.WARNING, logger="tqcheck.checks")
    for i in range(3):
        assert run_checks([check], Segment(str(i), "helo wrld", target_lang="xx")) == []
    assert len(caplog.records) == 1


@needs_en
@pytest.mark.parametrize("mt, expected", [
    ("Many rythyms observed in physiology", ["rythyms"]),
    ("Many hythms observed in physiology", ["hythms"]),
    ("illicit cigarette consumption in india", ["india"]),
    ("The recieve function", ["recieve"]),
])
def test_english_misspellings(mt, expected):
    assert [w for w, _ in found(SpellingCheck(), mt)] == expected


@needs_en
@pytest.mark.parametrize("mt, source", [
    ("Jorge Castaneda met Delmer Martinez in Huixtla.", None),       # capitalised: names
    ("The NASA and UNESCO reports, COVID-19, the iPhone and eBay.", None),
    ("Go to pic.twitter.com/xeyyuh3wEB or @LaurentRaphael1 #cantaynollores", None),
    ("It's the country's best, isn't it? Well-known US-Mexico ties.", None),
    ("sociodemographic data and thromboprophylaxis, eg in 2020", None),
    ("The mérycisme is rare.", "Le mérycisme est rare."),             # in the source: not spelling
    ("", None),
])
def test_english_clean(mt, source):
    assert found(SpellingCheck(), mt, source) == []


@needs_en
def test_seed_article_has_no_spelling_flags():
    check = SpellingCheck()
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [found(check, line) for line in lines] == [[] for _ in lines]


@needs_en
def test_british_spelling_counts_when_installed():
    speller = speller_for("en")
    if find_dictionary("en_GB") is None:
        pytest.skip("hunspell-en-gb is not installed (scripts/setup.sh)")
    assert speller.known("behaviour") and speller.known("behavior")
    assert "en_GB" in speller.name


@needs_en
def test_flag_fields_and_suggestions():
    segment = Segment("t", "Many rythyms", target_lang="en")
    (flag,) = SpellingCheck().run(segment)
    assert flag.severity is Severity.MINOR and flag.category is Category.SPELLING
    assert flag.evidence["word"] == "rythyms" and flag.evidence["dictionary"].startswith("en_US")
    assert suggestions("rythyms", "en")[0] == "rhythms"


@pytest.mark.slow
def test_french_elisions_and_typos():
    if find_dictionary("fr") is None:
        pytest.skip("hunspell-fr is not installed (scripts/setup.sh)")
    check = SpellingCheck()
    assert found(check, "L'État a décidé qu'aujourd'hui c'est fini, jusqu'à demain.", tl="fr") == []
    assert [w for w, _ in found(check, "Les élèves sont très contants.", tl="fr")] == ["contants"]


def test_domain_words_are_accepted(tmp_path):
    (tmp_path / "dicts").mkdir()
    dirs = (str(tiny_dictionaries(tmp_path / "dicts")),)
    words = tmp_path / "words.txt"
    words.write_text("# biomedical\nhepcidine\n\ncolors\n", encoding="utf-8")
    check = SpellingCheck(dictionary_dirs=dirs, accept_file=str(words), accept=["neuralizing"])
    assert found(check, "the hepcidine colors neuralizing", tl="zz-BB") == []
    assert [w for w, _ in found(SpellingCheck(dictionary_dirs=dirs), "the hepcidine", tl="zz-BB")] == \
        ["hepcidine"]


def test_missing_word_list_is_a_config_error(tmp_path):
    from tqcheck.errors import ConfigError

    with pytest.raises(ConfigError, match="word list not found"):
        SpellingCheck(accept_file=str(tmp_path / "nope.txt"))


def _enchant_available() -> bool:
    try:
        import enchant  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@needs_en
def test_backends_agree_on_real_words(monkeypatch):
    """The C library (enchant) is the default for Debian dictionaries; spylls answers the same."""
    from tqcheck.text.hunspell import Speller

    if not _enchant_available():
        pytest.skip("pyenchant / libenchant-2-2 is not installed (scripts/setup.sh)")
    path = find_dictionary("en_US")
    fast = Speller(path)
    assert fast.backend == "enchant"
    monkeypatch.setenv("TQCHECK_SPELLING_BACKEND", "spylls")
    slow = Speller(path)
    assert slow.backend == "spylls"
    words = ["rhythms", "rythyms", "physiology", "don't", "don’t", "isn't", "recieve", "receive",
             "London", "london", "colors", "colours", "well-known", "hepcidine", "cats", "catz"]
    assert [fast.known(w) for w in words] == [slow.known(w) for w in words]
    assert not fast.known("rythyms") and fast.known("don’t") and fast.known("London")
    assert fast.suggest("rythyms")[0] == "rhythms"
    monkeypatch.delenv("TQCHECK_SPELLING_BACKEND")
    monkeypatch.setitem(sys.modules, "enchant", None)  # pyenchant missing: spylls is the fallback
    assert Speller(path).backend == "spylls"


def test_dictionary_outside_system_dirs_uses_spylls(tmp_path):
    """A path given by dictionary_dirs/DICPATH is read by spylls, which takes a path (enchant cannot)."""
    from tqcheck.text.hunspell import Speller

    speller = Speller(tiny_dictionaries(tmp_path) / "zz_AA")
    assert speller.backend == "spylls"
    assert speller.known("behaviors") and not speller.known("behaviours")
