"""Length-based sentence alignment."""

from __future__ import annotations

import random

from tqcheck.text.align import align_sentences


def covers_each_index_once(alignment, n, m):
    src = [i for s, _ in alignment for i in s]
    tgt = [j for _, t in alignment for j in t]
    return src == list(range(n)) and tgt == list(range(m))


def test_one_to_one():
    src = ["Il pleut.", "Le gouvernement a présenté son budget mardi.", "Merci."]
    tgt = ["It is raining.", "The government presented its budget on Tuesday.", "Thanks."]
    assert align_sentences(src, tgt) == [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]


def test_one_to_two_and_two_to_one():
    src = ["Le gouvernement a présenté mardi un projet de budget qui prévoit une hausse des dépenses "
           "militaires et une baisse des aides au logement.", "Le vote aura lieu en mars."]
    tgt = ["The government presented a draft budget on Tuesday.",
           "It provides for higher military spending and lower housing aid.", "The vote will take place in March."]
    assert align_sentences(src, tgt) == [((0,), (0, 1)), ((1,), (2,))]
    assert align_sentences(tgt, src) == [((0, 1), (0,)), ((2,), (1,))]


def test_empty_sides():
    assert align_sentences([], ["a", "b"]) == [((), (0,)), ((), (1,))]
    assert align_sentences(["a"], []) == [((0,), ())]
    assert align_sentences([], []) == []


def test_a_long_extra_target_sentence_is_left_unaligned():
    src = ["Bonjour à tous.", "Merci beaucoup."]
    tgt = ["Hello everyone.",
           "This is a long sentence that the machine translation system added on its own, with no source at all.",
           "Thank you very much."]
    alignment = align_sentences(src, tgt)
    assert ((), (1,)) in alignment and covers_each_index_once(alignment, 2, 3)


def test_ratio_is_estimated_from_the_texts():
    # Chinese is about a third of the English length in characters: still 1-1 throughout.
    src = ["我今天很高兴。", "会议将于下周一在布鲁塞尔举行。", "谢谢。"]
    tgt = ["I am very happy today.", "The meeting will be held in Brussels next Monday.", "Thank you."]
    assert align_sentences(src, tgt) == [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]


def test_long_inputs_use_the_band_and_stay_correct():
    rng = random.Random(7)
    src = ["x" * rng.randint(20, 150) for _ in range(900)]
    tgt = [s + "yy" for s in src]
    tgt[400:402] = [tgt[400][: len(tgt[400]) // 2], tgt[400][len(tgt[400]) // 2 :], tgt[401]]  # one 1-2
    alignment = align_sentences(src, tgt)
    assert covers_each_index_once(alignment, len(src), len(tgt))
    assert ((400,), (400, 401)) in alignment
    assert sum(1 for s, t in alignment if len(s) == len(t) == 1) == 899
