"""Tiny random-weight models that tests build and save themselves, so that the real transformers
code paths (from_pretrained of a directory, tokenizers, generate, forced decoding) run offline.

The weights are random, so outputs are gibberish: tests assert structure (order, offsets, shapes,
determinism), never quality. Each builder takes well under ten seconds.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

_EN = {
    "det": ["the", "a", "this", "every", "no"],
    "adj": ["small", "green", "old", "quiet", "famous", "broken", "new", "cold"],
    "noun": ["cat", "house", "market", "walk", "river", "teacher", "car", "city", "book", "caravan"],
    "verb": ["sees", "likes", "crosses", "builds", "sells", "opens", "follows"],
    "prep": ["near", "under", "behind", "in", "with"],
}
_FR = {
    "det": ["le", "la", "ce", "chaque", "une"],
    "adj": ["petit", "vert", "vieux", "calme", "célèbre", "cassé", "nouveau", "froid"],
    "noun": ["chat", "maison", "marché", "rivière", "maître", "voiture", "ville", "livre", "été"],
    "verb": ["voit", "aime", "traverse", "construit", "vend", "ouvre", "suit"],
    "prep": ["près de", "sous", "derrière", "dans", "avec"],
}


def _sentences(words: dict[str, list[str]], n: int, seed: int) -> list[str]:
    """Sentences from a toy grammar, with numbers, quotes and punctuation so every kind of piece
    shows up in the vocabulary."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        w = {k: rng.choice(v) for k, v in words.items()}
        noun2 = rng.choice(words["noun"])
        form = rng.randrange(4)
        if form == 0:
            s = f"{w['det']} {w['adj']} {w['noun']} {w['verb']} {w['prep']} {noun2}."
        elif form == 1:
            s = f"« {w['noun'].capitalize()} » {w['verb']} {rng.randint(0, 2000)} {noun2}s !"
        elif form == 2:
            s = f"{w['det'].capitalize()} {w['noun']}, {w['adj']}, {w['verb']} ({noun2}) ?"
        else:
            s = f"\"{w['adj']}\" {w['noun']} {w['verb']} {rng.randint(1, 99)},{rng.randint(0, 9)} %."
        out.append(s)
    return out


def _train_spm(sentences: list[str], vocab_size: int) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=model, vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
        minloglevel=2, num_threads=1,
    )
    return model.getvalue()


def build_tiny_marian(tmp_path: Path, *, seed: int = 0) -> Path:
    """A MarianMT model (d_model 16, one layer each side) with a real MarianTokenizer:
    source.spm trained on French, target.spm on English, one shared vocab.json."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out = Path(tmp_path) / "tiny-marian-fr-en"
    out.mkdir(parents=True, exist_ok=True)
    source_model = _train_spm(_sentences(_FR, 300, seed), 200)
    target_model = _train_spm(_sentences(_EN, 300, seed + 1), 200)
    (out / "source.spm").write_bytes(source_model)
    (out / "target.spm").write_bytes(target_model)
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for blob in (source_model, target_model):
        processor = spm.SentencePieceProcessor(model_proto=blob)
        for i in range(processor.get_piece_size()):
            piece = processor.id_to_piece(i)
            if piece not in ("<unk>", "<s>", "</s>") and piece not in vocab:
                vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(out / "source.spm"), target_spm=str(out / "target.spm"),
        vocab=str(out / "vocab.json"), source_lang="fr", target_lang="en",
    )
    tokenizer.save_pretrained(out)
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, max_position_embeddings=128, pad_token_id=vocab["<pad>"],
        eos_token_id=0, decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0,
        max_length=64, num_beams=1,
    )
    model = MarianMTModel(config)
    model.eval()
    model.save_pretrained(out)
    return out


def build_tiny_gpt2(tmp_path: Path, *, seed: int = 0) -> Path:
    """A GPT-2 (one layer, 16 dims) with a byte-level BPE tokenizer trained here on English."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out = Path(tmp_path) / "tiny-gpt2-en"
    out.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    bpe.train_from_iterator(_sentences(_EN, 400, seed), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.save_pretrained(out)
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=bpe.get_vocab_size(), n_positions=128, n_embd=16, n_layer=1, n_head=2,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    model.eval()
    model.save_pretrained(out)
    return out


def build_tiny_m2m100(tmp_path: Path, *, seed: int = 0) -> Path:
    """A multilingual M2M100 model (language tags ``__fr__``, ``__en__``; forced BOS) with a real
    M2M100Tokenizer: one sentencepiece model trained on French and English together.

    The directory name says nothing of the family, so engines must read it from the saved files."""
    import sentencepiece as spm
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    out = Path(tmp_path) / "tiny-multilingual"
    out.mkdir(parents=True, exist_ok=True)
    blob = _train_spm(_sentences(_FR, 200, seed) + _sentences(_EN, 200, seed + 1), 250)
    processor = spm.SentencePieceProcessor(model_proto=blob)
    vocab: dict[str, int] = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(processor.get_piece_size()):
        piece = processor.id_to_piece(i)
        if piece not in vocab:
            vocab[piece] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    spm_file = out / "sentencepiece.bpe.model"
    spm_file.write_bytes(blob)
    tokenizer = M2M100Tokenizer(vocab_file=str(out / "vocab.json"), spm_file=str(spm_file),
                                src_lang="fr", tgt_lang="en")
    tokenizer.save_pretrained(out)
    # Language tags come after the vocabulary, then the "made-up words", as in facebook/m2m100_418M.
    vocab_size = max(tokenizer.lang_code_to_id.values()) + 1 + tokenizer.num_madeup_words
    torch.manual_seed(seed)
    config = M2M100Config(
        vocab_size=vocab_size, d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, max_position_embeddings=128, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, decoder_start_token_id=2, max_length=64,
    )
    model = M2M100ForConditionalGeneration(config)
    model.eval()
    model.save_pretrained(out)
    return out
