"""``tqcheck calibrate``: fit the fusion on labelled data or on reviewers' decisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tqcheck.cli.options import command_line, engine_options
from tqcheck.errors import UsageError


@click.command("calibrate")
@click.argument("data", nargs=-1, type=click.Path(exists=True, dir_okay=False), metavar="[DATA.jsonl ...]")
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Where to write the calibration JSON (plots go next to it).")
@click.option("--from-db", "db", default=None, metavar="URL",
              help="Fit on reviewer decisions in a review store (SQLite path or SQLAlchemy URL) "
                   "instead of labelled DATA.")
@click.option("--run", "run_ids", type=int, multiple=True,
              help="With --from-db: only these runs (repeatable; default all).")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Cross-validation folds, grouped by source sentence.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use only the first N records.")
@click.option("--split", default=None, metavar="NAME",
              help="Use only the rows whose 'split' is NAME (e.g. dev in ../shared/train's files).")
@click.option("--name", default=None, help="Calibration name (default calibration-DATE).")
@click.option("--resamples", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Bootstrap resamples for the intervals of the cross-validated evaluation.")
@click.option("--target-only", is_flag=True,
              help="Fit for target-only checking: the sources of DATA are withheld from the checker (their "
                   "language still routes the round trip), and the fit is stored under '<pair>/target-only'.")
@click.option("--extend", "extend", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="Start from this calibration file and add (or replace) only the keys this fit makes, "
                   "e.g. a --target-only fit added to a bilingual one. FILE itself is not modified.")
@click.option("--pairs-only", is_flag=True,
              help="With --extend: add only the per-pair fits of DATA and keep FILE's pooled fits ('*'), the "
                   "fallback of pairs without their own fit (e.g. new pairs laid over the shipped file).")
@click.option("--rule-checks", "rule_checks", is_flag=True,
              help="Fit only the rule checks' own flag model on DATA: no engine runs (so DATA can be large, e.g. "
                   "the MQM files of ../shared/train), human translations are left out, and the model measures "
                   "a rule check wherever a pair's own and the pooled fits saw it fewer than 20 times. With "
                   "--extend FILE everything else of FILE is kept.")
@click.option("--evidence", "evidence_path", default=None, metavar="FILE.jsonl.gz",
              help="Keep the checker's evidence on DATA here and reuse it while DATA and the settings are "
                   "the same: a refit then runs no engine.")
@click.option("--no-plots", is_flag=True, help="Do not write the reliability and precision-recall PNGs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@engine_options
def calibrate(data: tuple[str, ...], output: str, db: str | None, run_ids: tuple[int, ...], folds: int,
              limit: int | None, split: str | None, name: str | None, resamples: int, target_only: bool,
              extend: str | None, pairs_only: bool, rule_checks: bool, evidence_path: str | None, no_plots: bool,
              quiet: bool, **engine_kwargs: Any) -> None:
    """Fit the fusion (risk models and the measured precision of flags per language pair) and write it.

    \b
    From labelled DATA (schema of ../shared/eval/README.md; several files are fit together, e.g. MQM
    spans and DEMETR pairs) the checker runs with the engine options given, and the fit is
    cross-validated in folds grouped by source sentence; the figures printed are out-of-fold. With
    --from-db the labels are reviewers' decisions: confirmed vs dismissed flags. Use the result with
    'tqcheck check --calibration FILE'. Target-only checking (no source) has other evidence and
    needs its own fit: --target-only, added to a bilingual file with --extend.

    \b
    Examples:
      tqcheck calibrate bio_mqm_fr.dev.jsonl demetr_fr_en.dev.jsonl -o calibration.json
      tqcheck calibrate bio_mqm_fr.dev.jsonl --target-only --extend calibration.json -o calibration.json
      tqcheck calibrate de_en.jsonl en_de.jsonl --extend calibration.json --pairs-only -o calibration.json
      tqcheck calibrate --from-db review.sqlite -o desk-calibration.json
      tqcheck calibrate ../shared/train/google_mqm_newstest2020.jsonl.gz --rule-checks \\
          --extend calibration.json -o calibration.json
    """
    from tqcheck.fusion.fit import cv_table

    if bool(data) == bool(db):
        raise UsageError("give either labelled DATA or --from-db URL", fix="one source of labels per fit")
    if pairs_only and not extend:
        raise UsageError("--pairs-only keeps the pooled fits of the file given to --extend",
                         fix="add --extend FILE (e.g. tqcheck/data/calibration.json)")
    if target_only and db:
        raise UsageError("--target-only fits labelled DATA; reviewer decisions keep the mode they were made in",
                         fix="drop --target-only with --from-db")
    provenance: dict[str, Any] = {"command": command_line(click.get_current_context())}
    from tqcheck import __version__

    provenance["tqcheck_version"] = __version__
    if rule_checks:
        if db or target_only or pairs_only:
            raise UsageError("--rule-checks fits labelled DATA with a source, alone",
                             fix="drop --from-db, --target-only and --pairs-only")
        _fit_rule_checks(data, output, extend, limit, folds, name, quiet, provenance, engine_kwargs, split,
                         evidence_path)
        return
    flag_curves: dict[str, Any] = {}
    if db:
        calibration, curves, report = _from_db(db, run_ids, folds, name, provenance)
    else:
        calibration, curves, report, _, _ = _from_data(data, limit, folds, name, resamples, quiet, provenance,
                                                       engine_kwargs, target_only, evidence_path, split)
        for block in report["data"].values():
            for lp, figures in (block.get("by_lp") or {}).items():
                if figures.get("flags", {}).get("pr_curve"):
                    flag_curves[lp] = figures["flags"]["pr_curve"]
    if extend:
        calibration = _extended(extend, calibration, pairs_only=pairs_only)
    calibration.write(output)
    click.echo(f"cross-validated figures ({folds} folds grouped by source sentence), one row per model:")
    click.echo(cv_table(calibration))
    if report is not None:
        from tqcheck.fusion.evaluate import format_table

        for path, block in report["data"].items():
            click.echo(f"cross-validated evaluation of the fused output on {path} (all signals that ran):")
            click.echo(format_table(block))
        Path(output).with_suffix(".target-only.cv.json" if target_only else ".cv.json").write_text(
            json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"wrote {output}")
    if not no_plots and curves:
        from tqcheck.plots import save_calibration_plots

        out = Path(output)
        stem = out.stem + ("-target-only" if target_only else "")
        for path in save_calibration_plots(curves, out.with_name(stem), title="(out of fold)"):
            click.echo(f"wrote {path}")
        if flag_curves:
            from tqcheck.fusion.fuse import SHOW_FLOOR
            from tqcheck.plots import save_flag_plot

            path = save_flag_plot(flag_curves, out.with_name(stem + ".flags.png"), title="(out of fold)",
                                  floors={"shown": SHOW_FLOOR})
            click.echo(f"wrote {path}")


def _extended(path: str, fit: Any, *, pairs_only: bool = False) -> Any:
    """``fit`` laid over the calibration in ``path``: its keys replace or join the file's (with
    ``pairs_only``, its per-pair keys only: the file's pooled fits stay the fallback); the name and date
    are the new fit's, and the provenance keeps both."""
    from tqcheck.fusion.calibration import POOLED, Calibration

    base = _read_calibration(path)
    added = {k: v for k, v in fit.pairs.items() if not (pairs_only and k.startswith(POOLED))}
    provenance = dict(fit.provenance) | {"extends": {"name": base.name, "created_at": base.created_at,
                                                     "kept_keys": sorted(set(base.pairs) - set(added)),
                                                     "provenance": dict(base.provenance)}}
    # The cascade's thresholds read the risks of the bilingual fits: they stay valid only while the new
    # fit leaves every fit they read alone (a target-only fit laid over a bilingual file does, and so does a
    # new pair's own fit: a key with its own fit and no threshold of its own runs every signal).
    cascade = base.cascade
    if cascade is not None and any(key in cascade.thresholds or (key in base.pairs and not key.endswith("/target-only"))
                                   for key in added):
        click.echo(f"tqcheck: the cascade threshold of {path} read the fits now replaced: not kept "
                   "(fit a new one with benchmarks/cascade_quality.py --write)", err=True)
        cascade = None
    return Calibration(fit.name, {**base.pairs, **added}, fit.created_at, provenance, cascade, base.rule_checks)


def _read_calibration(path: str) -> Any:
    from tqcheck.fusion.calibration import Calibration

    try:
        return Calibration.from_dict(json.loads(Path(path).read_text(encoding="utf-8")), where=path)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--extend: invalid JSON: {exc.msg}", where=path) from exc


def _fit_rule_checks(data: tuple[str, ...], output: str, extend: str | None, limit: int | None, folds: int,
                     name: str | None, quiet: bool, provenance: dict[str, Any], engine_kwargs: dict[str, Any],
                     split: str | None, evidence_path: str | None) -> None:
    """``--rule-checks``: the rule checks alone on DATA, their flag model fit and laid over ``extend``."""
    from tqcheck.cli._labelled import labelled_run
    from tqcheck.fusion.calibration import Calibration, new_calibration_name
    from tqcheck.fusion.fit import fit_rule_checks

    run = labelled_run(data, limit=limit, target_only=False, engine_kwargs=engine_kwargs | {"rules_only": True},
                       quiet=quiet, evidence_path=evidence_path, desc="rule checks", split=split, machine_only=True)
    provenance.update({"data": run.provenance, "limit": limit, "split": split, "machine_only": True,
                       "segments": len(run.labelled.evidence), "folds": folds, "run_signature": run.signature})
    fit = fit_rule_checks(run.labelled, folds=folds, provenance=provenance)
    if fit is None:
        raise UsageError("too few rule-check findings on a human error (or off one) to fit",
                         fix="give more labelled data with error spans")
    if extend:
        calibration = _read_calibration(extend).with_rule_checks(fit)
    else:
        made, created = new_calibration_name()
        calibration = Calibration(made, {}, created, {}, None, fit)
    if name:
        from dataclasses import replace

        calibration = replace(calibration, name=name)
    calibration.write(output)
    cv = fit.flag_model.cv
    click.echo(f"rule checks on {cv['findings']:,} findings of {len(run.labelled.evidence):,} segments: "
               f"on a human error {cv['on_error']:,}, on a major one {cv['on_major']:,}; out of fold "
               f"({folds} folds grouped by source sentence) ROC-AUC error {cv.get('error_auc')}, "
               f"major {cv.get('major_auc')}")
    click.echo(rule_checks_table(cv.get("by") or {}))
    click.echo(f"wrote {output}")


def rule_checks_table(by: Any) -> str:
    """The rule checks' measurement by kind of claim, as a Markdown table."""
    lines = ["| check: kind | findings | on a human error | on a major | p_error (out of fold) | p_major |",
             "|---|---|---|---|---|---|"]
    for kind, row in sorted(by.items(), key=lambda item: -item[1]["findings"]):
        n = row["findings"]
        lines.append(f"| {kind} | {n:,} | {row['on_error'] / n:.2f} | {row['on_major'] / n:.2f} | "
                     f"{row['p_error']:.2f} | {row['p_major']:.2f} |")
    return "\n".join(lines)


def _from_data(data: tuple[str, ...], limit: int | None, folds: int, name: str | None, resamples: int,
               quiet: bool, provenance: dict[str, Any], engine_kwargs: dict[str, Any], target_only: bool,
               evidence_path: str | None, split: str | None = None):
    from tqcheck.cli._labelled import labelled_run
    from tqcheck.fusion.calibration import calibration_key
    from tqcheck.fusion.evaluate import evaluate
    from tqcheck.fusion.fit import cross_validated_results, fit_calibration

    run = labelled_run(data, limit=limit, target_only=target_only, engine_kwargs=engine_kwargs, quiet=quiet,
                       evidence_path=evidence_path, desc="calibrate", split=split)
    labelled = run.labelled
    provenance.update({"data": run.provenance, "limit": limit, "split": split, "target_only": target_only,
                       "segments": len(labelled.evidence), "folds": folds, "run_signature": run.signature})
    calibration = fit_calibration(labelled, folds=folds, name=name, provenance=provenance)
    results = cross_validated_results(labelled, folds=folds)
    report: dict[str, Any] = {"signature": run.signature | {"calibration": f"cross-validated, {folds} folds"},
                              "command": provenance["command"], "data": {}}
    for path, labelled_data in zip(data, run.data):
        report["data"][str(path)] = evaluate(labelled_data, results, by_lp=True, resamples=resamples)
    curves: dict[str, tuple[list[bool], list[float]]] = {}
    for result in results:
        sid = result.segment.id
        if sid in labelled.labels and result.risk is not None:
            labels, risks = curves.setdefault(calibration_key(result.segment), ([], []))
            labels.append(labelled.labels[sid])
            risks.append(result.risk)
    return calibration, curves, report, results, run.data


def _from_db(db: str, run_ids: tuple[int, ...], folds: int, name: str | None, provenance: dict[str, Any]):
    from tqcheck.fusion.fit import calibrate_from_decisions, reviewed_from_store
    from tqcheck.store import Store

    store = Store.open(db, create=False)
    try:
        records = reviewed_from_store(store, run_ids=run_ids)
    finally:
        store.close()
    decided = [r for r in records if r.decided]
    if not decided:
        raise UsageError("no confirmed or dismissed flags in the store", where=db,
                         fix="review some flags first ('tqcheck review'), then calibrate")
    provenance.update({"store": db, "runs": list(run_ids), "reviewed_segments": len(decided)})
    calibration = calibrate_from_decisions(decided, folds=folds, name=name, provenance=provenance)
    # Out-of-fold risks are not kept for decisions; the plots use in-sample risks and say so.
    curves: dict[str, tuple[list[bool], list[float]]] = {}
    for r in decided:
        model = calibration.select(r.lp, frozenset(k.split(".", 1)[0] for k in r.scores))
        if model is not None:
            labels, risks = curves.setdefault(r.lp, ([], []))
            labels.append(r.confirmed)
            risks.append(model.predict(r.scores))
    return calibration, curves, None
