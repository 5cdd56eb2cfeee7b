"""Tokens: exact offsets, complete coverage, and the kinds the checks rely on."""

from __future__ import annotations

import pytest

from tqcheck.text.tokens import Token, tokenize, tokens_of


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.text, t.kind) for t in tokenize(text) if t.kind != "space"]


@pytest.mark.parametrize("text, expected", [
    ("Hello world.", [("Hello", "word"), ("world", "word"), (".", "punct")]),
    ("(@LaurentRaphael1)", [("(", "punct"), ("@LaurentRaphael1", "handle"), (")", "punct")]),
    ("(@ LaurentRaphael1)", [("(", "punct"), ("@", "punct"), ("LaurentRaphael1", "word"),
                             (")", "punct")]),
    ("#mexico #CaravanaDeMigrantes", [("#mexico", "hashtag"), ("#CaravanaDeMigrantes", "hashtag")]),
    ("#1 seed", [("#", "punct"), ("1", "number"), ("seed", "word")]),
    ("pic.twitter.com/xeyyuh3wEB", [("pic.twitter.com/xeyyuh3wEB", "url")]),
    ("pic.twitter.com/ xyz", [("pic.twitter.com/", "url"), ("xyz", "word")]),
    ("see https://t.co/abc.", [("see", "word"), ("https://t.co/abc", "url"), (".", "punct")]),
    ("(https://x.org/a)", [("(", "punct"), ("https://x.org/a", "url"), (")", "punct")]),
    ("https://en.wikipedia.org/wiki/Foo_(bar) ok",
     [("https://en.wikipedia.org/wiki/Foo_(bar)", "url"), ("ok", "word")]),
    ("www.lemonde.fr, then", [("www.lemonde.fr", "url"), (",", "punct"), ("then", "word")]),
    ("countries.The U.S. e.g.", [("countries", "word"), (".", "punct"), ("The", "word"),
                                 ("U", "word"), (".", "punct"), ("S", "word"), (".", "punct"),
                                 ("e", "word"), (".", "punct"), ("g", "word"), (".", "punct")]),
    ("mail a.b@c.fr now", [("mail", "word"), ("a.b@c.fr", "email"), ("now", "word")]),
    # Chinese runs on without spaces: CJK and fullwidth punctuation end a URL (MQM news, zh-en).
    ("（www.chinastory.cn）由新华", [("（", "punct"), ("www.chinastory.cn", "url"), ("）", "punct"),
                                 ("由新华", "word")]),
    # A missing space after a full stop: "used." is a word, Amazon.com the domain (MQM news, en-fr).
    ("be used.Amazon.com guide", [("be", "word"), ("used", "word"), (".", "punct"), ("Amazon.com", "url"),
                                  ("guide", "word")]),
    ("{1}here{/1} {2/} {name} %s %1$d %(n)s",
     [("{1}", "placeholder"), ("here", "word"), ("{/1}", "placeholder"), ("{2/}", "placeholder"),
      ("{name}", "placeholder"), ("%s", "placeholder"), ("%1$d", "placeholder"),
      ("%(n)s", "placeholder")]),
    ('<b>x</b> <a href="y">z</a> &amp; &#39;',
     [("<b>", "placeholder"), ("x", "word"), ("</b>", "placeholder"),
      ('<a href="y">', "placeholder"), ("z", "word"), ("</a>", "placeholder"),
      ("&amp;", "placeholder"), ("&#39;", "placeholder")]),
    ("3,000 3.5 3\u202f000 13th 1er 50%",
     [("3,000", "number"), ("3.5", "number"), ("3\u202f000", "number"), ("13th", "number"),
      ("1er", "number"), ("50", "number"), ("%", "punct")]),
    ("4am 1980s COVID-19 A320", [("4am", "word"), ("1980s", "word"), ("COVID-19", "word"),
                                 ("A320", "word")]),
    ("don't l'État aujourd'hui US-Mexico", [("don't", "word"), ("l'État", "word"),
                                            ("aujourd'hui", "word"), ("US-Mexico", "word")]),
    ("Wait... what?!", [("Wait", "word"), ("...", "punct"), ("what", "word"), ("?", "punct"),
                        ("!", "punct")]),
    ("$5 € +", [("$", "symbol"), ("5", "number"), ("€", "symbol"), ("+", "symbol")]),
    ("Привет, мир 東京", [("Привет", "word"), (",", "punct"), ("мир", "word"), ("東京", "word")]),
    ("", []),
])
def test_kinds(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text", [
    "", " ", "Hello  world .", "« Bonjour ! » dit-il.\u00a0Ça va ?",
    "#CaravanaDeMigrantes #mexico pic.twitter.com/xeyyuh3wEB - Raphael (@ LaurentRaphael1)",
    "Émile a 3\u202f000 € et 12,5 % — 😀 emoji \t tab\nnewline",
])
def test_offsets_cover_the_text_exactly(text):
    tokens = tokenize(text)
    assert "".join(t.text for t in tokens) == text
    position = 0
    for tok in tokens:
        assert tok.start == position and text[tok.start:tok.end] == tok.text
        position = tok.end


def test_tokens_are_frozen_and_cached():
    first = tokens_of("a b")
    assert tokens_of("a b") is first
    assert isinstance(first[0], Token)
    with pytest.raises(AttributeError):
        first[0].start = 3  # type: ignore[misc]
    # tokenize returns a fresh list, so callers may change it without touching the cache
    listed = tokenize("a b")
    listed.clear()
    assert len(tokenize("a b")) == 3
