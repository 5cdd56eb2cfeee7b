"""The pipeline: rule checks and model signals over batches of segments, fused into results.

It streams segments in batches (batches are where models are fast; streaming keeps memory flat for a
feed of a million lines), runs the rule checks and the model signals on each batch, and fuses them
into results in input order. ``evidence`` stops before the fusion: it yields what the fusion is
given (``Evidence``), which calibration fits on and cross-validation re-fuses.

``run`` may cascade (``tqcheck.cascade``): the cheap signals on every segment, the expensive ones only
where the cheap stage's calibrated risk reaches the calibration's threshold; ``thorough`` in the
configuration (``--thorough``) runs every signal on every segment. ``evidence`` always runs every
signal unless given a cascade rule: fitting needs every signal.

Languages, sinks, the summary and the run signature are the run's business (``tqcheck.run``); the
pipeline never reads files or prints.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from tqcheck.config import CheckConfig, default_cache_path
from tqcheck.fusion.fuse import Evidence
from tqcheck.model import EngineInfo, Segment, SegmentResult

if TYPE_CHECKING:
    from tqcheck.checks.base import Check
    from tqcheck.engines.cache import EngineCache
    from tqcheck.fusion.calibration import CascadeRule
    from tqcheck.fusion.fuse import Fusion
    from tqcheck.signals.base import Signal, SignalOutput

Progress = Callable[[int], None]


def batched(items: Iterable[Segment], size: int) -> Iterator[list[Segment]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


#: How long torch's OpenMP threads (libgomp) spin at a barrier before they sleep: ``GOMP_SPINCOUNT``, in spin
#: iterations, a few microseconds. Measured with SmolLM2 on 128 news segments (benchmarks/RESULTS.md, "OpenMP
#: wait policy"): sleeping at once (``OMP_WAIT_POLICY=PASSIVE``, this module's choice until then) pays a
#: futex wake-up at every one of the thousands of small parallel regions of a forward pass, 39 ms/segment on
#: an idle machine against 30 with a spin of 1,000; libgomp's default spin (300,000) is as fast when the
#: machine is idle but fights any other busy process for the cores: 87-120 ms/segment beside one busy process
#: or a second run, against 42-45 sleeping at once and 51-52 with a spin of 1,000.
SPIN_COUNT = "1000"


def bound_thread_spinning() -> None:
    """Let torch's OpenMP threads spin briefly, then sleep, while they wait (unless the user chose a wait
    policy), before any engine imports torch.

    Why: spinning without bound turns each wait into a fight for the cores on a machine that is busy (a CI
    runner, a desk server, a second run), and sleeping at once pays a wake-up per parallel region; a short
    spin (``SPIN_COUNT``) is close to the best of both. ``GOMP_SPINCOUNT`` is libgomp's (torch's OpenMP on
    Linux); other OpenMP runtimes (LLVM's libomp, Intel's) read ``KMP_BLOCKTIME``, which is set to 0 (sleep at
    once, as before: not measured with a short spin). Setting these after torch was imported changes nothing
    and harms nothing.
    """
    if any(name in os.environ for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")):
        return
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
    os.environ["KMP_BLOCKTIME"] = "0"


class Pipeline:
    """Runs rule checks and model signals over a stream of segments and fuses them into results.

    Components not given are built from the configuration on first use, so that a ``Pipeline`` is
    cheap to construct and a rules-only run never imports torch. Give ``checks``, ``signals`` or
    ``fusion`` to share loaded ones between pipelines (the UI keeps one set per configuration) or
    to fuse with another calibration.
    """

    def __init__(
        self,
        config: CheckConfig | None = None,
        *,
        checks: Sequence[Check] | None = None,
        signals: Sequence[Signal] | None = None,
        fusion: Fusion | None = None,
        cache: EngineCache | None = None,
    ) -> None:
        bound_thread_spinning()
        self.config = config or CheckConfig()
        self._checks = list(checks) if checks is not None else None
        self._signals = list(signals) if signals is not None else None
        self._fusion = fusion
        self._cache = cache
        self._cache_built = cache is not None

    # -- components, built on first use --------------------------------------------------------

    @property
    def checks(self) -> list[Check]:
        if self._checks is None:
            from tqcheck.checks import build_checks

            self._checks = build_checks(self.config)
        return self._checks

    @property
    def cache(self) -> EngineCache | None:
        if not self._cache_built:
            self._cache_built = True
            if not self.config.rules_only:
                from tqcheck.engines.cache import EngineCache

                self._cache = (EngineCache.disabled() if self.config.cache == "none"
                               else EngineCache(self.config.cache or default_cache_path()))
        return self._cache

    @property
    def signals(self) -> list[Signal]:
        if self._signals is None:
            if self.config.rules_only:
                self._signals = []
            else:
                from tqcheck.signals import build_signals

                self._signals = build_signals(self.config, cache=self.cache)
        return self._signals

    @property
    def fusion(self) -> Fusion:
        if self._fusion is None:
            from tqcheck.fusion.fuse import Fusion

            self._fusion = Fusion.load(self.config.calibration)
        return self._fusion

    # -- running --------------------------------------------------------------------------------

    def evidence(self, segments: Iterable[Segment], *, progress: Progress | None = None,
                 cascade: CascadeRule | None = None) -> Iterator[Evidence]:
        """The fusion's inputs for each segment, in input order, batch by batch: every signal on every
        segment, or with ``cascade`` the expensive signals only on the segments whose cheap-stage risk
        reaches its threshold (the others' evidence says what they skipped: ``tqcheck.cascade``).

        ``progress`` is told segments' worth of work: within a batch (512 segments, half a minute
        of the offline engines) it advances as each signal finishes, so a bar moves during a batch; a
        batch's reports always add up to its size by the time its evidence is yielded."""
        from tqcheck.cascade import CASCADE, skip_note, stages
        from tqcheck.checks import run_checks

        cheap, expensive = stages(self.signals, cascade.cheap_signals) if cascade else (self.signals, [])
        skipped = [signal.name for signal in expensive]
        for batch in batched(segments, max(1, self.config.batch_size)):
            share = _BatchShare(len(batch), steps=len(cheap) + len(expensive) + 1, progress=progress)
            rule_flags = [tuple(run_checks(self.checks, segment)) for segment in batch]
            share.step()
            outputs: list[dict[str, SignalOutput]] = [{} for _ in batch]
            _compute(cheap, batch, range(len(batch)), outputs, share.step)
            notes: list[SignalOutput | None] = [None] * len(batch)
            if cascade is not None and expensive:
                notes = [skip_note(self.fusion, cascade, Evidence(segment, rule_flags[i], outputs[i]), skipped)
                         for i, segment in enumerate(batch)]
            _compute(expensive, batch, [i for i, note in enumerate(notes) if note is None], outputs, share.step)
            for i, (segment, note) in enumerate(zip(batch, notes)):
                ordered = {s.name: outputs[i][s.name] for s in self.signals if s.name in outputs[i]}
                if note is not None:
                    ordered[CASCADE] = note
                yield Evidence(segment, rule_flags[i], ordered)
            share.finish()

    def run(self, segments: Iterable[Segment], *, progress: Progress | None = None) -> Iterator[SegmentResult]:
        """One result per segment, in input order; cascaded where the configuration and the calibration
        say so (``tqcheck.cascade.active_rule``)."""
        from tqcheck.cascade import active_rule

        fusion = self.fusion
        rule = active_rule(fusion.calibration.cascade if fusion.calibration else None,
                           thorough=self.config.thorough, cascade=self.config.cascade)
        for item in self.evidence(segments, progress=progress, cascade=rule):
            yield fusion.fuse(item.segment, item.rule_flags, item.outputs)

    def check(self, segments: Iterable[Segment]) -> list[SegmentResult]:
        """Convenience for small inputs: the results as a list."""
        return list(self.run(segments))

    # -- provenance -----------------------------------------------------------------------------

    def engines(self) -> tuple[EngineInfo, ...]:
        """The engines the signals used so far (``auto`` picks per language pair as pairs arrive)."""
        seen: dict[str, EngineInfo] = {}
        for signal in self._signals or ():
            for info in signal.engines:
                seen.setdefault(f"{info.role}|{info.key}", info)
        return tuple(seen.values())

    @property
    def calibration_id(self) -> str | None:
        """The calibration the fusion scores with (None before the fusion is loaded)."""
        return self._fusion.calibration_id if self._fusion is not None else None


def _compute(signals: Sequence[Signal], batch: Sequence[Segment], which: Sequence[int],
             outputs: list[dict[str, SignalOutput]], done: Callable[[], None] = lambda: None) -> None:
    """Run ``signals`` on the segments of ``batch`` at positions ``which``, into ``outputs``, calling
    ``done`` after each signal (and for each signal, at once, when there is nothing to run it on)."""
    chosen = [batch[i] for i in which]
    for signal in signals:
        if chosen:
            for i, out in zip(which, signal.compute(chosen)):
                outputs[i][signal.name] = out
        done()


class _BatchShare:
    """Reports a batch's ``size`` to ``progress`` in ``steps`` even parts (rule checks, then each
    signal), so a long batch moves a progress bar; ``finish`` reports what is left."""

    def __init__(self, size: int, *, steps: int, progress: Progress | None) -> None:
        self.size, self.steps, self.progress = size, max(1, steps), progress
        self.taken = self.reported = 0

    def step(self) -> None:
        self.taken = min(self.steps, self.taken + 1)
        self._report(self.size * self.taken // self.steps)

    def finish(self) -> None:
        self._report(self.size)

    def _report(self, upto: int) -> None:
        if self.progress is not None and upto > self.reported:
            self.progress(upto - self.reported)
            self.reported = upto
