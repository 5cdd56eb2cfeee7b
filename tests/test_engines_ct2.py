"""CTranslate2: the tiny Marian model converted in the test gives the transformers results."""

from __future__ import annotations

import importlib.util
import shutil

import pytest
from tiny_models import build_tiny_marian

from tqcheck.engines.base import ScoringTranslator
from tqcheck.engines.translate.ct2 import CTranslate2Translator
from tqcheck.engines.translate.hf import HFTranslator
from tqcheck.errors import ModelNotFound

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ctranslate2") is None,
    reason="ctranslate2 is not installed (pip install 'tqcheck[ct2]')",
)

SOURCES = ["Le petit chat voit la maison.", "", "« Maison » vend 1200 livres !", "Ce chat."]
TARGETS = ["The small cat sees the house.", "a", "“Quiet” teacher sells 12 books…", "This cat."]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    from ctranslate2.converters import TransformersConverter

    root = tmp_path_factory.mktemp("ct2")
    marian = build_tiny_marian(root)
    output = root / "tiny-marian-ct2"
    TransformersConverter(str(marian)).convert(str(output), quantization=None, force=True)
    return marian, output


def test_translate_and_score_match_transformers(converted):
    marian, output = converted
    fast = CTranslate2Translator(str(output), tokenizer=str(marian), max_length=24, batch_size=2)
    assert isinstance(fast, ScoringTranslator) and fast.supports("fr", "en")
    reference = HFTranslator(str(marian), max_length=24)
    translated = fast.translate(SOURCES, source_lang="fr", target_lang="en")
    assert len(translated) == 4 and translated[1] == ""
    assert translated == reference.translate(SOURCES, source_lang="fr", target_lang="en")
    scores = fast.score(sources=SOURCES, targets=TARGETS, source_lang="fr", target_lang="en")
    expected = reference.score(sources=SOURCES, targets=TARGETS, source_lang="fr",
                               target_lang="en")
    for target, got, want in zip(TARGETS, scores, expected):
        assert [(t.start, t.end, t.text) for t in got] == [(t.start, t.end, t.text) for t in want]
        assert all(t.text == target[t.start:t.end] for t in got)
        assert [t.logprob for t in got] == pytest.approx([t.logprob for t in want], abs=1e-3)
    info = fast.info
    assert info.name == "ct2" and "compute_type=default" in info.version
    assert info.revision.startswith("local-")


def test_tokenizer_files_copied_next_to_the_model(converted):
    marian, output = converted
    with_files = output.parent / "with-tokenizer"
    shutil.copytree(output, with_files)
    for name in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        shutil.copy(marian / name, with_files / name)
    engine = CTranslate2Translator(str(with_files), max_length=24)
    assert engine.supports("fr", "en") and not engine.supports("en", "fr")
    assert engine.translate(["Ce chat."], source_lang="fr", target_lang="en")[0]


def test_missing_tokenizer_says_how_to_fix(converted):
    _, output = converted
    with pytest.raises(ModelNotFound, match="--copy_files"):
        CTranslate2Translator(str(output))
