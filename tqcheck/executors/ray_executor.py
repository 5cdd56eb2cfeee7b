"""Checking on a Ray cluster: blocks of segments go to worker actors, results come back in input order.

``Checker.run`` drives the run as it always does (languages, ``--resume``, sinks, summary, signature);
this executor only replaces "this process's pipeline" by a pool of Ray actors. Each actor builds its
own ``tqcheck.pipeline.Pipeline`` from the run's ``CheckConfig``: engines and calibration reach the
workers by name and path, never as pickled models, and load there once, on the first block. Segments
travel as the dicts of the JSONL report (``Segment.to_dict``), results come back the same way, with the
engines the worker's pipeline used and its calibration id, which the run merges into its signature.

Blocks hold a whole number of pipeline batches (``config.batch_size``) so that a worker cuts the feed
into the same batches a local run would. At most ``in_flight`` blocks per worker are out at a time (the
next one queued while one runs), and finished blocks wait for the earlier ones, so memory is bounded.

Failures: a block whose worker died (killed, out of memory, its node lost) is sent again, to a
restarted or another worker, up to ``tries`` times in all; a block that failed every time is not
dropped: each of its segments is given to the run's ``skip`` (counted in the summary's
``skipped_records``, listed in ``RunOutcome.skipped``) and ``on_block_failed`` gets one line about it.
An error the pipeline itself raises (an engine missing on a worker, bad input) is raised here as it is,
exactly as a local run would raise it: trying again would only fail again.

Where: ``address=None`` starts a local Ray instance of ``workers`` CPUs for the run (and stops it after)
unless ``RAY_ADDRESS`` names an existing cluster; ``ray://HOST:PORT`` connects to one. An already
initialised Ray (a notebook, a test) is used as it is and left running. tqcheck must be installed, at
the same version, on every node of an existing cluster (checked on the first block).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqcheck import __version__
from tqcheck.config import CheckConfig
from tqcheck.errors import RecordError, UsageError
from tqcheck.model import EngineInfo, Segment, SegmentResult
from tqcheck.pipeline import batched

#: Segments per block when not given: about this many, rounded to whole pipeline batches where a batch is
#: smaller. Blocks are what the workers share out and what is retried, so they stay this size even though a
#: single process now batches 512 segments: a worker's pipeline then checks its block as one batch.
BLOCK_SEGMENTS = 256


def block_segments(batch_size: int) -> int:
    """Segments per block for pipeline batches of ``batch_size``: ``BLOCK_SEGMENTS`` in whole batches, or
    ``BLOCK_SEGMENTS`` itself where one batch would be larger."""
    if batch_size >= BLOCK_SEGMENTS:
        return BLOCK_SEGMENTS
    return max(1, round(BLOCK_SEGMENTS / batch_size)) * batch_size
#: Times a block is sent before its segments are reported as not checked.
DEFAULT_TRIES = 3


class BlockFailed(RecordError):
    """A segment that was not checked because every worker given its block died."""


@dataclass
class _Block:
    index: int
    segments: list[Segment]
    payload: list[dict[str, Any]]
    tries: int = 0
    errors: list[str] = field(default_factory=list)
    actor: int = -1


class RayExecutor:
    """A ``tqcheck.run.Executor`` on Ray actors (see the module docstring).

    ``actors`` holds the run's actor handles while a run is going (for monitoring and tests).
    """

    def __init__(self, *, address: str | None = None, workers: int = 2, block_size: int | None = None,
                 tries: int = DEFAULT_TRIES, in_flight: int = 2,
                 on_block_failed: Callable[[str], None] | None = None) -> None:
        if workers < 1:
            raise UsageError("a Ray run needs at least one worker", fix="--jobs 1 or more")
        self.address = address
        self.workers = workers
        self.block_size = block_size
        self.tries = max(1, tries)
        self.in_flight = max(1, in_flight)
        self.on_block_failed = on_block_failed
        self.calibration_id: str | None = None
        self.failed_blocks = 0  # blocks reported as not checked
        self.retried_blocks = 0  # sends of a block again after its worker died
        self.actors: list[Any] = []
        self._engines: dict[str, EngineInfo] = {}

    def engines(self) -> tuple[EngineInfo, ...]:
        """The engines the workers' pipelines used, each once, in the order the blocks came back."""
        return tuple(self._engines.values())

    # -- the run ----------------------------------------------------------------------------------

    def results(self, config: CheckConfig, segments: Iterator[Segment], *,
                progress: Callable[[int], None] | None,
                skip: Callable[[RecordError], None]) -> Iterator[SegmentResult]:
        ray = _import_ray()
        started = self._connect(ray)
        try:
            self._check_capacity(ray)
            worker = ray.remote(_BlockWorker).options(num_cpus=1, max_restarts=-1, max_task_retries=0)
            self.actors = [worker.remote(portable_config(config)) for _ in range(self.workers)]
            size = self.block_size or block_segments(config.batch_size)
            blocks = (_Block(i, block, [s.to_dict() for s in block])
                      for i, block in enumerate(batched(segments, size)))
            yield from self._schedule(ray, blocks, progress, skip)
        finally:
            for actor in self.actors:
                try:
                    ray.kill(actor, no_restart=True)
                except Exception:  # noqa: BLE001 - an actor already gone is what we want
                    pass
            self.actors = []
            if started:
                ray.shutdown()

    def _connect(self, ray: Any) -> bool:
        """Join or start a cluster; True when this run started it (and so stops it)."""
        if ray.is_initialized():
            return False
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if address:
                ray.init(address=address, **quiet)
                return True  # disconnects this driver only; the cluster goes on
            ray.init(address="local", num_cpus=self.workers, include_dashboard=False, **quiet)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = address or "a local Ray instance"
            raise UsageError(f"cannot start or join the Ray cluster ({where}): {_first_line(exc)}",
                             fix="check --executor ray://HOST:PORT or RAY_ADDRESS (the head's client port, "
                                 "10001 by default), or run with --executor local") from exc
        return True

    def _check_capacity(self, ray: Any) -> None:
        """Refuse a run whose workers could never all be placed (Ray would wait for them forever)."""
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus < self.workers:
            raise UsageError(f"the Ray cluster has {cpus:g} CPUs for {self.workers} workers",
                             fix=f"use --jobs {int(cpus) or 1} or add nodes")

    def _schedule(self, ray: Any, blocks: Iterator[_Block], progress: Callable[[int], None] | None,
                  skip: Callable[[RecordError], None]) -> Iterator[SegmentResult]:
        from ray.exceptions import RayTaskError

        pending: dict[Any, _Block] = {}  # object ref -> block out on a worker
        finished: dict[int, tuple[_Block, list[SegmentResult] | None]] = {}  # None: failed every time
        retry: deque[_Block] = deque()
        load = [0] * len(self.actors)
        window = self.in_flight * len(self.actors)
        next_out, exhausted = 0, False
        while True:
            while len(pending) + len(finished) < window and (retry or not exhausted):
                block = retry.popleft() if retry else next(blocks, None)
                if block is None:
                    exhausted = True
                    break
                block.actor = min(range(len(load)), key=load.__getitem__)
                load[block.actor] += 1
                pending[self.actors[block.actor].check.remote(block.payload)] = block
            if next_out in finished:
                yield from self._hand_out(*finished.pop(next_out), progress, skip)
                next_out += 1
                continue
            if not pending:
                return  # nothing out, nothing to send: every block was handed out
            ready, _ = ray.wait(list(pending), num_returns=1)
            block = pending.pop(ready[0])
            load[block.actor] -= 1
            try:
                reply = ray.get(ready[0])
            except RayTaskError as exc:  # the pipeline raised: as a local run would, raise it
                cause = getattr(exc, "cause", None)
                if isinstance(cause, Exception):
                    raise cause from None
                raise
            except _worker_failures() as exc:
                block.tries += 1
                block.errors.append(_first_line(exc))
                if block.tries < self.tries:
                    self.retried_blocks += 1
                    retry.append(block)
                else:
                    finished[block.index] = (block, None)
                    self._failed(block)
                continue
            self._take(block, reply)
            finished[block.index] = (block, [SegmentResult.from_dict(r) for r in reply["results"]])

    def _take(self, block: _Block, reply: dict[str, Any]) -> None:
        if reply["version"] != __version__:
            raise UsageError(f"the Ray workers run tqcheck {reply['version']}, this process {__version__}",
                             fix="install the same tqcheck version on every node of the cluster")
        if len(reply["results"]) != len(block.segments):
            raise RuntimeError(f"block {block.index}: {len(block.segments)} segments sent, "
                               f"{len(reply['results'])} results came back")
        for data in reply["engines"]:
            info = EngineInfo.from_dict(data)
            self._engines.setdefault(f"{info.role}|{info.key}", info)
        self.calibration_id = self.calibration_id or reply["calibration"]

    def _failed(self, block: _Block) -> None:
        self.failed_blocks += 1
        first, last = block.segments[0].id, block.segments[-1].id
        if self.on_block_failed is not None:
            self.on_block_failed(
                f"block {block.index + 1} ({len(block.segments)} segments, {first} .. {last}) was not checked: "
                f"its worker failed {block.tries} times (last: {block.errors[-1]}); its segments are "
                f"counted as skipped records")
        block.payload = []

    def _hand_out(self, block: _Block, results: list[SegmentResult] | None,
                  progress: Callable[[int], None] | None,
                  skip: Callable[[RecordError], None]) -> Iterator[SegmentResult]:
        """A finished block's results, in order; or, for a block that failed every time, its segments
        given to ``skip``, each with why."""
        if results is None:
            for segment in block.segments:
                skip(BlockFailed(f"not checked: the Ray worker given it failed {block.tries} times "
                                 f"({block.errors[-1]})", where=segment.origin or f"segment {segment.id}",
                                 fix="check it again, e.g. with --executor local"))
        else:
            yield from results
        if progress is not None:
            progress(len(block.segments))

    def __repr__(self) -> str:
        return (f"RayExecutor(address={self.address!r}, workers={self.workers}, block_size={self.block_size}, "
                f"tries={self.tries})")


class _BlockWorker:
    """A Ray actor: one pipeline, built from the configuration on the first block, reused after."""

    def __init__(self, config: CheckConfig) -> None:
        self.config = config
        self.pipeline: Any = None

    def check(self, payload: list[dict[str, Any]]) -> dict[str, Any]:
        if self.pipeline is None:
            from tqcheck.pipeline import Pipeline

            self.pipeline = Pipeline(self.config)
        results = [r.to_dict() for r in self.pipeline.run(Segment.from_dict(s) for s in payload)]
        return {"results": results, "engines": [e.to_dict() for e in self.pipeline.engines()],
                "calibration": self.pipeline.calibration_id, "version": __version__, "pid": os.getpid()}


def portable_config(config: CheckConfig) -> CheckConfig:
    """The configuration with its relative file paths made absolute (a worker's working directory is
    not the driver's); names (``auto``, ``apertium``, ``hf:...``) travel as they are."""
    changes: dict[str, Any] = {}
    for name in ("glossary", "calibration", "cache"):
        value = getattr(config, name)
        if value and value != "none" and not Path(value).is_absolute() and Path(value).exists():
            changes[name] = str(Path(value).resolve())
    return dataclasses.replace(config, **changes) if changes else config


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UsageError("the Ray executor needs Ray", fix="pip install 'tqcheck[ray]'") from exc
    return ray


def _worker_failures() -> tuple[type[BaseException], ...]:
    """Ray's errors for a worker that went away (not for an error the pipeline raised)."""
    from ray import exceptions

    names = ("RayActorError", "WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OutOfMemoryError",
             "LocalRayletDiedError")
    return tuple(getattr(exceptions, name) for name in names if hasattr(exceptions, name))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return f"{type(exc).__name__}: {line[:200]}"
