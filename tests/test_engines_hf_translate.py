"""HFTranslator on a tiny random-weight Marian model built in the test, loaded as users load one."""

from __future__ import annotations

import pytest
from tiny_models import build_tiny_m2m100, build_tiny_marian

from tqcheck.engines.base import ScoringTranslator, Translator
from tqcheck.engines.batching import sorted_batches
from tqcheck.engines.translate.hf import HFTranslator, opus_mt_id
from tqcheck.errors import EngineUnavailable, ModelNotFound

SOURCES = [
    "Le chat.",
    "Le petit chat voit la maison près de la rivière, et la voiture traverse la ville.",
    "« Maison » vend 1200 livres !",
    "",
    "La ville ?",
    "Chaque vieux maître aime le marché calme, sous le vieux pont, avec 3,5 % de livres.",
    "Ce chat.",
]


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory):
    return build_tiny_marian(tmp_path_factory.mktemp("marian"))


@pytest.fixture(scope="module")
def translator(marian_dir):
    return HFTranslator(str(marian_dir), batch_size=3, max_length=24)


def test_protocols_and_lazy_loading(marian_dir):
    engine = HFTranslator(str(marian_dir))
    assert isinstance(engine, Translator) and isinstance(engine, ScoringTranslator)
    assert engine._model is None  # constructing loads nothing
    info = engine.info
    assert (info.role, info.name, info.model_id) == ("translator", "hf", str(marian_dir))
    assert info.revision.startswith("local-") and info.version.startswith("transformers ")


def test_supports_reads_the_pair_from_the_name_or_the_tokenizer_config(marian_dir):
    assert HFTranslator("Helsinki-NLP/opus-mt-fr-en").supports("fr", "en")
    assert HFTranslator("Helsinki-NLP/opus-mt-fr-en").supports("fra", "en-GB")
    assert not HFTranslator("Helsinki-NLP/opus-mt-fr-en").supports("en", "fr")
    tiny = HFTranslator(str(marian_dir))  # no pair in the directory name: tokenizer_config.json
    assert tiny.supports("fr", "en") and not tiny.supports("de", "en")
    assert opus_mt_id("fr-FR", "eng") == "Helsinki-NLP/opus-mt-fr-en"
    group = HFTranslator("Helsinki-NLP/opus-mt-en-ROMANCE")  # tags decide once it is loaded
    assert group.supports("en", "fr") and not group.supports("de", "fr")
    assert HFTranslator("Helsinki-NLP/opus-mt-tc-big-fr-en").supports("fr", "en")


def test_translate_keeps_order_and_empty_lines(translator):
    out = translator.translate(SOURCES, source_lang="fr", target_lang="en")
    assert len(out) == len(SOURCES)
    assert out[3] == ""
    assert all(isinstance(text, str) and text for i, text in enumerate(out) if i != 3)
    again = translator.translate(SOURCES, source_lang="fr", target_lang="en")
    assert again == out


def test_length_sorted_batches_equal_one_by_one_generation(marian_dir, translator):
    # The batches really are reordered: the first batch holds the longest inputs, not the first.
    first = next(sorted_batches([len(s) for s in SOURCES], 3))
    assert first != [0, 1, 2] and SOURCES[5] in [SOURCES[i] for i in first]
    batched = translator.translate(SOURCES, source_lang="fr", target_lang="en")
    single = HFTranslator(str(marian_dir), batch_size=1, max_length=24)
    one_by_one = [single.translate([s], source_lang="fr", target_lang="en")[0] for s in SOURCES]
    assert batched == one_by_one


def test_unsupported_pair_is_refused(translator):
    with pytest.raises(EngineUnavailable, match="does not translate de->en"):
        translator.translate(["Hallo"], source_lang="de", target_lang="en")


TARGETS = [
    "The small cat sees the house.",
    "“Quiet” teacher sells 12 books… near the river!",  # curly quotes are <unk>; … is NFKC '...'
    "a",
    "The caravan crosses   the city,   slowly.",
]


def test_score_offsets_point_into_the_target(translator):
    sources = ["Le petit chat voit la maison.", "« Calme » maître vend 12 livres.", "une",
               "La caravane traverse la ville."]
    scored = translator.score(sources=sources, targets=TARGETS, source_lang="fr",
                              target_lang="en")
    assert len(scored) == len(TARGETS)
    for target, tokens in zip(TARGETS, scored):
        assert tokens, target
        covered = set()
        previous_start = -1
        for token in tokens:
            assert 0 <= token.start < token.end <= len(target)
            assert token.text == target[token.start:token.end]
            assert token.text == token.text.strip()  # spans never start or end on a space
            assert token.start >= previous_start  # left to right
            assert token.logprob <= 0.0
            previous_start = token.start
            covered.update(range(token.start, token.end))
        visible = {i for i, ch in enumerate(target) if not ch.isspace()}
        assert visible <= covered, f"characters left unscored in {target!r}"


def test_score_does_not_depend_on_batching(marian_dir, translator):
    sources = ["Le chat.", "Le petit chat voit la maison près de la rivière.", "Ce livre."]
    targets = ["The cat.", "The small cat sees the house near the river.", "This book."]
    together = translator.score(sources=sources, targets=targets, source_lang="fr",
                                target_lang="en")
    single = HFTranslator(str(marian_dir), batch_size=1)
    for source, target, tokens in zip(sources, targets, together):
        alone = single.score(sources=[source], targets=[target], source_lang="fr",
                             target_lang="en")[0]
        assert [(t.start, t.end) for t in alone] == [(t.start, t.end) for t in tokens]
        assert [t.logprob for t in alone] == pytest.approx([t.logprob for t in tokens], abs=1e-4)


def test_a_missing_hub_model_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    engine = HFTranslator("Helsinki-NLP/opus-mt-fr-xx")
    with pytest.raises(ModelNotFound) as caught:
        engine.translate(["Bonjour."], source_lang="fr", target_lang="xx")
    message = str(caught.value)
    assert "not in the local Hugging Face cache" in message
    assert "huggingface-cli download Helsinki-NLP/opus-mt-fr-xx" in message


def test_an_incomplete_local_directory_is_named(tmp_path):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    engine = HFTranslator(str(tmp_path), src_lang_code="fr", tgt_lang_code="en")
    with pytest.raises(ModelNotFound, match=str(tmp_path)):
        engine.translate(["Bonjour."], source_lang="fr", target_lang="en")


def test_multilingual_model_uses_language_tags(tmp_path):
    engine = HFTranslator(str(build_tiny_m2m100(tmp_path)), max_length=12)
    assert engine.family == "m2m100"  # read from config.json and tokenizer_config.json
    assert engine.supports("fr", "en") and engine.supports("en", "de")
    assert not engine.supports("fr", "xx") and not engine.supports("fr", "fr")
    out = engine.translate(["Le chat voit la maison.", "", "Ce livre."], source_lang="fr",
                           target_lang="en")
    assert len(out) == 3 and out[1] == ""
    assert not any("__" in text for text in out)  # language tags never leak into the text
    target = "The “cat” sees…"
    as_english, as_german = (
        engine.score(sources=["Le chat."], targets=[target], source_lang="fr", target_lang=lang)[0]
        for lang in ("en", "de")
    )
    # The forced target tag conditions the decoder, and it is not itself a scored token.
    assert [t.text for t in as_english] == [t.text for t in as_german]
    assert [t.logprob for t in as_english] != pytest.approx([t.logprob for t in as_german])
    assert all(t.text == target[t.start:t.end] for t in as_english)
    assert "".join(t.text for t in as_english) == target.replace(" ", "")


def test_translations_may_run_longer_than_the_source_limit(marian_dir):
    # max_length cuts the source; the output may be longer (a random model rarely stops early)
    engine = HFTranslator(str(marian_dir), max_length=6)
    assert HFTranslator(str(marian_dir), max_new_tokens=9)._output_limit == 9
    long_source = SOURCES[1]
    assert len(engine.tokenizer(long_source)["input_ids"]) > 6
    out = engine.translate([long_source], source_lang="fr", target_lang="en")[0]
    assert engine._output_limit == 2 * 6 + 16
    assert len(engine.tokenizer(text_target=out)["input_ids"]) > 6
