"""Sentence and paragraph offsets."""

from __future__ import annotations

import pytest

from tqcheck.text.segment import split_paragraphs, split_sentences


def pieces(text, lang):
    return [text[s:e] for s, e in split_sentences(text, lang)]


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("en", "Dr. Smith went to Washington. He said \"hi!\" Then he left.",
         ["Dr. Smith went to Washington.", "He said \"hi!\"", "Then he left."]),
        ("fr", "M. Dupont a dit non. Le Dr. Martin est arrivé à 10 h. Pourquoi ?",
         ["M. Dupont a dit non.", "Le Dr. Martin est arrivé à 10 h.", "Pourquoi ?"]),
        ("fr-FR", "Il pleut. Il fait froid.", ["Il pleut.", "Il fait froid."]),
        ("zh", "我今天很高兴。你呢？好的！", ["我今天很高兴。", "你呢？", "好的！"]),
        (None, "No language given. Still split.", ["No language given.", "Still split."]),
        ("xx-unknown", "Fallback rules. Work too.", ["Fallback rules.", "Work too."]),
        ("en", "One sentence without a full stop", ["One sentence without a full stop"]),
        ("en", "Emoji 😀 first. Second é.", ["Emoji 😀 first.", "Second é."]),
    ],
)
def test_sentences(lang, text, expected):
    assert pieces(text, lang) == expected


def test_offsets_exclude_whitespace_and_are_string_indices():
    text = "  Première phrase.   Deuxième… phrase ! \n"
    spans = split_sentences(text, "fr")
    assert spans[0] == (2, 18) and text[2:18] == "Première phrase."
    for start, end in spans:
        assert not text[start].isspace() and not text[end - 1].isspace()


def test_a_sentence_ending_in_a_single_letter_is_not_glued_to_the_next():
    assert pieces("Il a choisi le plan B. Ensuite il est parti.", "fr") == [
        "Il a choisi le plan B.", "Ensuite il est parti."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_text_has_no_sentences(text):
    assert split_sentences(text, "en") == []


def test_paragraphs():
    text = "Title\n\nFirst line\nsame paragraph.\n \t\n\n  Third.  \n"
    assert [text[s:e] for s, e in split_paragraphs(text)] == ["Title", "First line\nsame paragraph.", "Third."]
    assert split_paragraphs("\n\n") == []
    crlf = "A\r\n\r\nB"
    assert [crlf[s:e] for s, e in split_paragraphs(crlf)] == ["A", "B"]


def _texts(text: str, lang: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, lang)]


def test_exclamations_inside_an_open_quotation_do_not_end_the_sentence():
    # The seed's MT: the crowd's quoted chant and the clause after it are one sentence, as in the
    # French source, instead of "Mexico!" / "Mexico!" / '" Send them back in return.'
    mt = ('"Go brothers, continue! Encourage them on their way to the Mexicans who also give them '
          'food and water. "Mexico! Mexico! " Send them back in return.')
    assert _texts(mt, "en") == [
        '"Go brothers, continue! Encourage them on their way to the Mexicans who also give them food and water.',
        '"Mexico! Mexico! " Send them back in return.']
    assert _texts("Il a crié « Partez ! Vite ! Maintenant ! » et il est parti.", "fr") == [
        "Il a crié « Partez ! Vite ! Maintenant ! » et il est parti."]


def test_closed_quotations_and_unquoted_exclamations_still_end_sentences():
    assert _texts('He shouted "Stop!" Then he left! Why? Nobody knows.', "en") == [
        'He shouted "Stop!"', "Then he left!", "Why?", "Nobody knows."]
    assert _texts("Mexico! Mexico!", "en") == ["Mexico!", "Mexico!"]
    assert _texts("« Partez ! Vite ! » Il est parti.", "fr") == ["« Partez ! Vite ! »", "Il est parti."]
