"""tqcheck.text.ter: sacrebleu's TER with a faster edit distance gives sacrebleu's numbers."""

from __future__ import annotations

import random

import pytest
from sacrebleu.metrics import TER, lib_ter

from tqcheck.text.ter import BeamEditDistance, ter_metric, translation_edit_rate


def _random_words(rng: random.Random, vocab: list[str], longest: int) -> list[str]:
    return [rng.choice(vocab) for _ in range(rng.randint(0, longest))]


def _outcome(edit_distance, hyp):
    try:
        return edit_distance(hyp)
    except Exception as exc:  # sacrebleu fails on a cached row of another beam: so must we
        return f"raised: {exc}"


def test_edit_distance_and_trace_equal_sacrebleus_on_random_pairs():
    rng = random.Random(7)
    for _ in range(1500):
        vocab = [f"w{i}" for i in range(rng.randint(1, 6))]
        ref = _random_words(rng, vocab, rng.choice([4, 25, 90]))
        hyps = [_random_words(rng, vocab, rng.choice([4, 25, 90])) for _ in range(3)]
        ours, theirs = BeamEditDistance(ref), lib_ter.BeamEditDistance(ref)
        for hyp in hyps + [hyps[0][:3] + hyps[1]]:  # shared prefixes go through the row cache
            assert _outcome(ours, hyp) == _outcome(theirs, hyp)
        assert translation_edit_rate(hyps[0], ref) == lib_ter.translation_edit_rate(hyps[0], ref)


@pytest.mark.parametrize("normalized", [False, True])
def test_sentence_scores_equal_sacrebleus(normalized):
    pairs = [
        ("Send them back in return.", "They shout back at them in return."),
        ("which they hoped to reach after twelve hours of market",
         "which they hoped to reach after twelve hours of walking"),
        ("Le chat est sur le tapis !", "Sur le tapis, le chat est."),
        ("", "Une phrase."),
        ("Une phrase.", ""),
        ("a b c d e f g h i j k l m n o p", "p o n m l k j i h g f e d c b a"),
        ("word " * 120, "word"),
    ]
    ours, theirs = ter_metric(normalized=normalized), TER(normalized=normalized)
    assert type(ours).__name__ == "FastTER"
    for hyp, ref in pairs:
        assert ours.sentence_score(hyp, [ref]).score == theirs.sentence_score(hyp, [ref]).score
