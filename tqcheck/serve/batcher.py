"""Micro-batching for the service: concurrent requests share one pipeline batch, on one thread.

The pipeline is not thread-safe and is fastest on batches, so one worker thread owns it: it takes the
first waiting request, then whatever else arrives within ``max_wait`` (20 ms) up to ``batch_size``
segments, runs one pipeline pass over all of them and hands each request its own results. A request
thread never touches the pipeline; it waits for its results (at most ``timeout`` seconds).

``MicroBatcher`` is a ``tqcheck.run.Executor``: each request is an ordinary ``Checker.run`` with the
batcher as its executor, so languages, sinks (the response, the review store), the summary and the
signature are made exactly as for a file. The engines the pipeline loaded and its calibration are
snapshots taken on the worker thread, for the request threads' signatures.

Before serving, the worker warms up: it builds the checks, the signals and the fusion (loading the
calibration) and checks one sentence per ``warm_pairs`` language pair, so that the models of those
pairs are loaded before ``ready`` is set. A request that arrives earlier waits in the queue.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tqcheck.errors import TqcheckError
from tqcheck.model import EngineInfo, Segment, SegmentResult

if TYPE_CHECKING:
    from tqcheck.config import CheckConfig
    from tqcheck.errors import RecordError
    from tqcheck.pipeline import Pipeline

#: Seconds the worker waits for more requests to join a batch.
DEFAULT_MAX_WAIT = 0.02


class NotReady(TqcheckError):
    """The service could not load its engines or calibration (the warm-up failed)."""


class CheckTimeout(TqcheckError):
    """A request's segments were not checked within the service's time limit."""


@dataclass
class _Job:
    segments: list[Segment]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[SegmentResult] | None = None
    error: BaseException | None = None
    cancelled: bool = False

    def finish(self, results: list[SegmentResult] | None = None, error: BaseException | None = None) -> None:
        self.results, self.error = results, error
        self.done.set()


class MicroBatcher:
    """One worker thread running ``pipeline`` over batches gathered from concurrent requests."""

    def __init__(self, pipeline: Pipeline, *, batch_size: int | None = None, max_wait: float = DEFAULT_MAX_WAIT,
                 timeout: float = 300.0, warm_pairs: Sequence[tuple[str, str]] = ()) -> None:
        self.pipeline = pipeline
        self.batch_size = batch_size or pipeline.config.batch_size
        self.max_wait, self.timeout = max_wait, timeout
        self.warm_pairs = tuple(warm_pairs)
        self.ready = threading.Event()
        self.warm_error: BaseException | None = None
        self.calibration_id: str | None = None
        self.batches = 0  # pipeline passes run (requests per pass = how well batching works)
        self._engines: tuple[EngineInfo, ...] = ()
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    # -- the worker's life ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="tqcheck-batcher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    @property
    def waiting(self) -> int:
        """Requests queued and not yet taken into a batch."""
        return self._queue.qsize()

    # -- the Executor protocol ------------------------------------------------------------------

    def engines(self) -> tuple[EngineInfo, ...]:
        return self._engines

    def results(self, config: CheckConfig, segments: Iterator[Segment], *,
                progress: Callable[[int], None] | None,
                skip: Callable[[RecordError], None]) -> Iterator[SegmentResult]:
        """Queue the request's segments, wait for the worker, yield its results in order."""
        if self.warm_error is not None:
            raise NotReady(f"the service could not load its engines: {self.warm_error}",
                           fix="see the service's log; /readyz says the same") from self.warm_error
        job = _Job(list(segments))
        if not job.segments:
            return
        self._queue.put(job)
        if not job.done.wait(self.timeout):
            job.cancelled = True  # the worker skips it if it has not started it yet
            raise CheckTimeout(f"{len(job.segments)} segments were not checked within {self.timeout:g} s",
                               fix="send fewer segments per request, or try again when the service is less busy")
        if job.error is not None:
            raise job.error
        assert job.results is not None
        if progress is not None:
            progress(len(job.results))
        yield from job.results

    # -- the worker -----------------------------------------------------------------------------

    def _work(self) -> None:
        try:
            self._warm()
        except Exception as exc:  # noqa: BLE001 - said by /readyz and by every request
            self.warm_error = exc
        self.ready.set()
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs, stop = self._gather(job)
            self._run([j for j in jobs if not j.cancelled])
            if stop:
                return

    def _warm(self) -> None:
        pipeline = self.pipeline
        for component in ("checks", "signals", "fusion"):  # built now, not on the first request
            getattr(pipeline, component)
        for source_lang, target_lang in self.warm_pairs:
            list(pipeline.run([Segment("warm-up", "This is a test.", "This is a test.", source_lang, target_lang)]))
        self._snapshot()

    def _gather(self, first: _Job) -> tuple[list[_Job], bool]:
        """The first job and those arriving within ``max_wait``, up to ``batch_size`` segments."""
        jobs, count = [first], len(first.segments)
        deadline = time.monotonic() + self.max_wait
        while count < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                job = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
            count += len(job.segments)
        return jobs, False

    def _run(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        segments = [s for job in jobs for s in job.segments]
        try:
            results = list(self.pipeline.run(segments))
        except Exception as exc:  # noqa: BLE001 - handed to the request(s) it belongs to
            if len(jobs) > 1:  # find the request that fails: the others still get their results
                for job in jobs:
                    self._run([job])
                return
            jobs[0].finish(error=exc)
            return
        finally:
            self.batches += 1
            self._snapshot()
        start = 0
        for job in jobs:
            end = start + len(job.segments)
            job.finish(results[start:end])
            start = end

    def _snapshot(self) -> None:
        self._engines = self.pipeline.engines()
        self.calibration_id = self.pipeline.calibration_id
