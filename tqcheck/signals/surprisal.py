"""Token surprisal to sentence scores and word spans; shared by fluency (a language model) and forced
decoding (a translation model scoring the MT).

Normalisation, so that a short line is not penalised for being short: raw surprisal is high on the
first tokens of any text (little context), so a short line has a high mean by construction. Two
remedies, both explainable:

- sentence scores use tokens after the first ``SKIP`` ones (whose context is too short to judge),
  and ``log_tokens`` is reported so that the calibrated fusion can learn the remaining length effect
  from labelled data instead of a hand-set correction;
- spans come from *within-sentence* robust z-scores, ``(s - median) / (1.4826 * MAD)``, so a token is
  suspicious only relative to the rest of its own sentence: a spike, not a generally hard text.

A word's score is its worst sub-word token (a rare word split into pieces has one surprising piece).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from tqcheck.engines.base import TokenScore
from tqcheck.text.wordalign import Word, words

#: Tokens at the start of a text that have too little context to be judged.
SKIP = 1
#: Minimum spread of surprisal (nats) used as the MAD denominator: a sentence of very uniform
#: surprisal would otherwise turn a small bump into a huge z.
MIN_SPREAD = 0.5
#: A word is a span *candidate* from this z on; the fusion keeps candidates above a threshold
#: calibrated on labelled spans, so this only has to be permissive.
CANDIDATE_Z = 2.0


def word_surprisal(text: str, tokens: Sequence[TokenScore]) -> list[tuple[Word, float, int]]:
    """Each word with its worst token surprisal and the index of the first token overlapping it."""
    out = []
    ti = 0
    toks = list(tokens)
    for w in words(text):
        worst, first = None, None
        while ti < len(toks) and toks[ti].end <= w.start:
            ti += 1
        j = ti
        while j < len(toks) and toks[j].start < w.end:
            if toks[j].end > w.start:
                worst = toks[j].surprisal if worst is None else max(worst, toks[j].surprisal)
                first = j if first is None else first
            j += 1
        if worst is not None and first is not None:
            out.append((w, worst, first))
    return out


def robust_z(values: Sequence[float]) -> list[float]:
    if not values:
        return []
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values) * 1.4826
    spread = max(mad, MIN_SPREAD)
    return [(v - med) / spread for v in values]


def sentence_scores(prefix: str, tokens: Sequence[TokenScore]) -> dict[str, float]:
    """``<prefix>.mean``, ``.p90``, ``.max_z`` (largest within-sentence spike), ``.log_tokens``."""
    judged = [t.surprisal for t in list(tokens)[SKIP:]] or [t.surprisal for t in tokens]
    if not judged:
        return {}
    ordered = sorted(judged)
    p90 = ordered[min(len(ordered) - 1, int(math.ceil(0.9 * len(ordered))) - 1)]
    zs = robust_z(judged)
    return {
        f"{prefix}.mean": sum(judged) / len(judged),
        f"{prefix}.p90": p90,
        f"{prefix}.max_z": max(zs) if zs else 0.0,
        f"{prefix}.log_tokens": math.log(len(tokens)),
    }


def spike_words(text: str, tokens: Sequence[TokenScore]) -> list[tuple[Word, float, float]]:
    """Words whose worst token is a within-sentence spike: (word, surprisal, z), z >= CANDIDATE_Z."""
    per_word = word_surprisal(text, tokens)
    judged = [(w, s) for w, s, first in per_word if first >= SKIP]
    zs = robust_z([s for _, s in judged])
    return [(w, s, z) for (w, s), z in zip(judged, zs) if z >= CANDIDATE_Z]
