"""The Ray executor on a local two-worker Ray instance: a run on Ray is the local run (results,
summary, signature, resume), a killed worker loses nothing, a block that keeps failing is reported.

One Ray instance serves the whole module (its start-up costs seconds); each run starts two actors.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tqcheck.config import CheckConfig
from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed
from tqcheck.errors import UsageError
from tqcheck.executors import make_executor
from tqcheck.io.reports import open_report, partial_path
from tqcheck.model import Segment
from tqcheck.run import Checker, ResultCollector

ray = pytest.importorskip("ray", reason="needs the ray extra (pip install 'tqcheck[ray]'; scripts/setup.sh)")

from tqcheck.executors.ray_executor import BLOCK_SEGMENTS, BlockFailed, RayExecutor, block_segments  # noqa: E402

needs_apertium = pytest.mark.skipif(
    not apertium_installed() or "fra-cat" not in ApertiumTranslator().modes,
    reason="needs Debian apertium with the fra-cat and eng-cat pairs (scripts/setup.sh)")

ROOT = Path(__file__).resolve().parent.parent
RULES = CheckConfig(batch_size=16).with_rules_only()


def test_blocks_hold_whole_pipeline_batches_but_no_more_than_the_block_size():
    assert block_segments(16) == BLOCK_SEGMENTS == 256  # 16 batches of 16
    assert block_segments(100) == 300  # three batches: the nearest whole number of batches
    assert block_segments(200) == 200  # one batch
    assert block_segments(512) == BLOCK_SEGMENTS  # the default single-process batch: workers still share blocks


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield
    ray.shutdown()


def feed(n: int, *, sentences_only: bool = False) -> list[Segment]:
    """``n`` French -> English segments: the sample feed's sentences and the seed article's paragraphs
    (unless ``sentences_only``), cycled, ids distinct."""
    records = [json.loads(line) for line in (ROOT / "samples" / "feed.jsonl").read_text("utf-8").splitlines()]
    pairs = [(r["source"], r["mt"]) for r in records]
    if not sentences_only:
        sources = (ROOT / "samples" / "caravan.fr-reconstructed-source.txt").read_text("utf-8").splitlines()
        mts = (ROOT / "samples" / "caravan.en-mt.txt").read_text("utf-8").splitlines()
        pairs += [(s, m) for s, m in zip(sources, mts) if s.strip() and m.strip()]
    return [Segment(f"s{i}", pairs[i % len(pairs)][1], pairs[i % len(pairs)][0], "fr", "en",
                    metadata={"fields": {"round": i // len(pairs)}}) for i in range(n)]


def report_lines(path: Path) -> list[dict]:
    """A JSONL report without the signature's time (the only field that differs between two runs)."""
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    lines[0].pop("created_at")
    return lines


def run_into_report(config: CheckConfig, segments: list[Segment], path: Path, **kwargs):
    report = open_report(path)
    outcome = Checker(config).run(segments, sinks=[report], **kwargs)
    return outcome, report_lines(path)


def test_a_ray_run_is_the_local_run(tmp_path):
    segments = feed(300)
    local, local_lines = run_into_report(RULES, segments, tmp_path / "local.jsonl")
    executor = RayExecutor(workers=2, block_size=32)
    remote, remote_lines = run_into_report(RULES, segments, tmp_path / "ray.jsonl", executor=executor)
    assert remote_lines == local_lines  # signature, every result in input order, summary
    assert remote.summary.to_dict() == local.summary.to_dict() and remote.worst == local.worst
    assert remote.signature.calibration == local.signature.calibration is not None
    assert executor.failed_blocks == 0 and executor.actors == []  # the actors went with the run


@needs_apertium
def test_a_ray_run_with_apertium_names_the_engine_the_workers_used(tmp_path):
    config = CheckConfig(batch_size=8, cache="none").with_rules_only()
    config = replace(config, engines=replace(config.engines, back_translator="apertium"))
    segments = feed(16, sentences_only=True)  # two blocks, one per worker: Apertium starts per batch
    local, local_lines = run_into_report(config, segments, tmp_path / "local.jsonl")
    remote, remote_lines = run_into_report(config, segments, tmp_path / "ray.jsonl",
                                           executor=RayExecutor(workers=2, block_size=8))
    assert remote_lines == local_lines
    assert [e.name for e in remote.signature.engines] == ["apertium"]  # from the workers' pipelines
    assert remote.signature.engines == local.signature.engines
    assert any(r["artifacts"].get("back_translation") for r in remote_lines[1:-1])


def kill_first_worker_after_first_block(executor: RayExecutor):
    calls = []

    def progress(n: int) -> None:
        calls.append(n)
        if len(calls) == 1:
            ray.kill(executor.actors[0], no_restart=False)  # as a node losing the process: Ray restarts it

    return progress, calls


def test_a_worker_killed_in_the_middle_loses_nothing(tmp_path):
    segments = feed(320)
    _, local_lines = run_into_report(RULES, segments, tmp_path / "local.jsonl")
    executor = RayExecutor(workers=2, block_size=16)
    progress, calls = kill_first_worker_after_first_block(executor)
    outcome, remote_lines = run_into_report(RULES, segments, tmp_path / "ray.jsonl", executor=executor,
                                            progress=progress)
    assert remote_lines == local_lines and sum(calls) == 320
    assert executor.retried_blocks >= 1 and executor.failed_blocks == 0
    assert outcome.skipped == [] and outcome.summary.skipped_records == 0


def test_a_block_that_keeps_failing_is_reported_counted_and_the_run_goes_on(tmp_path):
    segments = feed(320)
    failures: list[str] = []
    executor = RayExecutor(workers=2, block_size=16, tries=1, on_block_failed=failures.append)
    progress, _ = kill_first_worker_after_first_block(executor)
    outcome, lines = run_into_report(RULES, segments, tmp_path / "ray.jsonl", executor=executor,
                                     progress=progress)
    checked = [line["segment"]["id"] for line in lines[1:-1]]
    skipped = outcome.skipped
    assert skipped and all(isinstance(e, BlockFailed) for e in skipped)
    assert sorted(checked + [e.where.removeprefix("segment ") for e in skipped],
                  key=lambda i: int(i[1:])) == [s.id for s in segments]  # every segment: checked or listed
    assert checked == sorted(checked, key=lambda i: int(i[1:]))  # input order kept around the gap
    assert outcome.summary.skipped_records == len(skipped) == 16 * executor.failed_blocks
    assert lines[-1]["skipped_records"] == len(skipped)  # in the report's summary too
    assert len(failures) == executor.failed_blocks and "was not checked" in failures[0]
    assert "failed 1 times" in skipped[0].message and skipped[0].fix


def test_a_resumed_ray_run_is_the_whole_local_run(tmp_path):
    segments = feed(200)
    _, whole = run_into_report(RULES, segments, tmp_path / "whole.jsonl")

    class Killed(Exception):
        pass

    class KillAfter(ResultCollector):
        def write(self, result):
            if len(self.results) == 70:
                raise Killed
            super().write(result)

    path = tmp_path / "resumed.jsonl"
    with pytest.raises(Killed):
        Checker(RULES).run(segments, sinks=[KillAfter(), open_report(path)])  # killed before the 71st
    assert partial_path(path).exists() and not path.exists()
    report = open_report(path, resume=True)
    outcome = Checker(RULES).run(segments, sinks=[report], resume_from=path,
                                 executor=RayExecutor(workers=2, block_size=32))
    assert outcome.resumed == 70
    assert report_lines(path) == whole


def test_the_command_line_on_an_existing_cluster(tmp_path):
    rows = [s.to_dict() for s in feed(40)]
    source = tmp_path / "feed.jsonl"
    source.write_text("".join(json.dumps({"id": r["id"], "source": r["source"], "mt": r["mt"]}) + "\n"
                              for r in rows), encoding="utf-8")
    address = ray.get_runtime_context().gcs_address
    env = {**os.environ, "RAY_ADDRESS": address}

    def check(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tqcheck", "check", str(source), "-l", "fr-en", "--rules-only",
                               *extra], capture_output=True, text=True, env=env, timeout=300)

    local = check("-o", str(tmp_path / "local.jsonl"))
    remote = check("-o", str(tmp_path / "ray.jsonl"), "--executor", "ray", "--jobs", "2", "--fail-on", "minor")
    assert local.returncode == 0 and remote.returncode == 1, remote.stderr  # the same gate, on the same flags
    assert report_lines(tmp_path / "ray.jsonl") == report_lines(tmp_path / "local.jsonl")
    assert "segments: 40" in remote.stderr


def test_executor_names_are_checked():
    assert make_executor("local") is None and make_executor(None) is None
    assert isinstance(make_executor("ray://head:10001", jobs=3), RayExecutor)
    with pytest.raises(UsageError, match="unknown executor"):
        make_executor("dask")
    with pytest.raises(UsageError, match="--jobs needs"):
        make_executor("local", jobs=4)
