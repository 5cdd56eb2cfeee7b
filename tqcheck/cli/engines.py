"""``tqcheck engines``: which engines are installed, the Apertium pairs, and what ``auto`` picks."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tqcheck.errors import UsageError


def _split_pair(pair: str) -> tuple[str, str]:
    source, sep, target = pair.partition("-")
    if not sep or not source or not target:
        raise UsageError(f"invalid --pair {pair!r}", fix="write it as SOURCE-TARGET, e.g. fr-en")
    return source, target


def _auto_choices(source: str, target: str) -> list[dict[str, str | None]]:
    from tqcheck.engines.registry import resolve_spec

    wanted = [
        ("back_translator", "translator", target, source, f"{target}->{source}"),
        ("reference_model", "translator", source, target, f"{source}->{target}"),
        ("lm", "lm", source, target, target),
        ("embedder", "embedder", source, target, f"{source}+{target}"),
    ]
    rows = []
    for label, role, src, tgt, what in wanted:
        spec = resolve_spec(role, "auto", source_lang=src, target_lang=tgt)
        detail = None
        if spec == "apertium":
            from tqcheck.engines.translate.apertium import ApertiumTranslator

            route = ApertiumTranslator().route(src, tgt)
            detail = "route " + " + ".join(route or [])
        rows.append({"role": label, "for": what, "engine": spec, "detail": detail})
    return rows


@click.command("engines")
@click.option("--pair", metavar="SRC-TGT", default=None,
              help="Also show what 'auto' picks for this language pair, e.g. fr-en.")
@click.option("--bench", "bench_file", type=click.Path(exists=True, dir_okay=False),
              default=None, metavar="FILE",
              help="With --pair: time the picked engines on FILE (source sentences, one a line).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True,
              help="With --bench: use at most this many sentences.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def engines(pair: str | None, bench_file: str | None, limit: int, as_json: bool) -> None:
    """List engines by role, whether each is installed, the Apertium pairs, and what 'auto' picks.

    \b
    Examples:
      tqcheck engines
      tqcheck engines --pair fr-en
      tqcheck engines --pair fr-en --bench sources.fr.txt
    """
    from tqcheck.engines.registry import available_engines
    from tqcheck.engines.translate.apertium import list_modes

    if bench_file and not pair:
        raise UsageError("--bench needs --pair", fix="e.g. --pair fr-en --bench sources.fr.txt")
    result: dict[str, object] = {"engines": available_engines(), "apertium_modes": list(list_modes())}
    if pair:
        source, target = _split_pair(pair)
        result["auto"] = {"pair": f"{source}-{target}", "choices": _auto_choices(source, target)}
    if bench_file:
        from tqcheck.engines.bench import bench_pair

        lines = Path(bench_file).read_text(encoding="utf-8").splitlines()
        sentences = [line.strip() for line in lines if line.strip()][:limit]
        result["bench"] = bench_pair(source, target, sentences)

    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_table(result)


def _print_table(result: dict) -> None:
    rows = result["engines"]
    click.echo(f"{'role':<11} {'engine':<15} {'installed':<10} detail")
    for row in rows:
        installed = "yes" if row["installed"] else "no"
        click.echo(f"{row['role']:<11} {row['name']:<15} {installed:<10} {row['detail']}")
    modes = result["apertium_modes"]
    click.echo(f"\nApertium modes: {', '.join(modes) if modes else 'none'}")
    if "auto" in result:
        auto = result["auto"]
        click.echo(f"\nauto for {auto['pair']}:")
        for choice in auto["choices"]:
            engine = choice["engine"] or "none (role off for this pair)"
            detail = f"  ({choice['detail']})" if choice["detail"] else ""
            label = f"{choice['role']} ({choice['for']})"
            click.echo(f"  {label:<28} {engine}{detail}")
    if "bench" in result:
        click.echo("\nbench (no cache; load timed apart):")
        click.echo(f"  {'role':<16} {'engine':<15} {'task':<24} {'items':>6} {'seconds':>8} "
                   f"{'per s':>8}  extra")
        for row in result["bench"]:
            extra = {k: v for k, v in row.items()
                     if k not in ("role", "engine", "task", "items", "seconds", "per_second")}
            extra_text = ", ".join(f"{k}={v}" for k, v in extra.items())
            per = "" if row["per_second"] is None else f"{row['per_second']:.1f}"
            click.echo(f"  {row['role']:<16} {row['engine']:<15} {row['task']:<24} "
                       f"{row['items']:>6} {row['seconds']:>8.2f} {per:>8}  {extra_text}")
