"""Mutated inputs for the readers, and what running one through read, check and report gives.

Shared by ``tests/fuzz/test_fuzz_readers.py`` (a CI subset) and ``benchmarks/fuzz_readers.py`` (any
number of cases). Why a seeded mutation fuzzer of its own rather than a property-testing library: the
inputs that matter are files (bytes, encodings, markup), a case must be reproducible from two numbers
(``make_case(index, seed=...)``) by anyone who reads a failure, and the benchmark needs the same cases
in the hundred thousands without a library's shrinking and database.

Seeds are the files in ``samples/`` (JSONL, CSV, TMX, XLIFF 2.1) plus an XLIFF 1.2 and an SDLXLIFF
document written below. A case is a seed with one to three mutations: byte-level (bytes flipped,
slices deleted, duplicated or spliced in from another seed, tokens that break decoders and parsers
inserted, truncation, a slice repeated into a line tens of thousands of characters long) or aware of
the format (a JSON value replaced by deep nesting, lone surrogate escapes, NULs, bidi controls or odd
types; CSV quoting and separators; XML encoding declarations and re-encodings, inline tags nested
deep, ``<cp>`` code points, character references, DTD entities, attributes, dropped and duplicated
elements).

``run_case`` writes the case to a file and runs what a user's ``tqcheck check`` runs: ``read_segments``,
a rules-only ``Pipeline`` and the JSONL report writer, then reads the report back. Its outcome is
``checked`` (bad records may have been skipped), ``refused`` (a ``TqcheckError``: the file cannot be
read, with a message), ``crash`` (any other exception: a bug) or ``timeout`` (over the time limit: a bug).
"""

from __future__ import annotations

import json
import random
import re
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"

#: Seconds one case may take (reading, checking and writing), as issue 17 asks.
CASE_LIMIT_S = 10.0

XLIFF12 = """<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file original="page.html" source-language="fr-FR" target-language="en-US" datatype="html">
  <body>
   <group id="g1">
    <trans-unit id="1">
     <source>Cliquez <g id="1">ici</g><x id="2"/> pour <bx id="3" rid="7"/>lire<ex id="4" rid="7"/> la suite.</source>
     <target state="translated">Click <g id="1">here</g> to <bx id="3" rid="7"/>read<ex id="4" rid="7"/> more.</target>
    </trans-unit>
   </group>
   <trans-unit id="2">
     <source>Plus de 3 000 manifestants, selon @JeanDupont75.</source>
     <target>More than 300 demonstrators, according to @ JeanDupont75.</target>
   </trans-unit>
   <trans-unit id="3" translate="no">
     <source>ACME®</source>
   </trans-unit>
   <trans-unit id="4">
     <source>Prix : <ph id="1">&lt;span class="p"&gt;</ph>{0} €</source>
     <target xml:lang="en-GB">Price: <ph id="1">&lt;span class="p"&gt;</ph>€{0}</target>
   </trans-unit>
  </body>
 </file>
</xliff>
"""

SDLXLIFF = """<?xml version="1.0" encoding="utf-8"?>
<xliff xmlns:sdl="http://sdl.com/FileTypes/SdlXliff/1.0" xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2">
 <file original="doc.docx" source-language="fr" target-language="en" datatype="x-sdlfilterframework2">
  <body>
   <trans-unit id="a7">
    <source>Premier. Second.</source>
    <seg-source><mrk mtype="seg" mid="1">Premier.</mrk> <mrk mtype="seg" mid="2">Second <g id="5">gras</g>.</mrk></seg-source>
    <target><mrk mtype="seg" mid="1">First.</mrk> <mrk mtype="seg" mid="2">Second <g id="5">bold</g>.</mrk></target>
   </trans-unit>
   <trans-unit id="a8">
    <source>Le 12/03/2025 à 14h.</source>
    <seg-source><mrk mtype="seg" mid="3">Le 12/03/2025 à 14h.</mrk></seg-source>
    <target><mrk mtype="seg" mid="3">On 12/03/2025 at 2 p.m.</mrk></target>
   </trans-unit>
  </body>
 </file>
</xliff>
"""  # noqa: E501 - an XLIFF document as a tool writes it

#: Format -> (file suffix, seed bytes). The suffix decides how ``read_segments`` reads the case.
FORMATS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "jsonl": (".jsonl", lambda: (SAMPLES / "feed.jsonl").read_bytes()),
    "csv": (".csv", lambda: (SAMPLES / "feed.csv").read_bytes()),
    "tmx": (".tmx", lambda: (SAMPLES / "feed.tmx").read_bytes()),
    "xliff2": (".xlf", lambda: (SAMPLES / "feed.xlf").read_bytes()),
    "xliff12": (".xlf", lambda: XLIFF12.encode("utf-8")),
    "sdlxliff": (".sdlxliff", lambda: SDLXLIFF.encode("utf-8")),
}
XML_FORMATS = frozenset({"tmx", "xliff2", "xliff12", "sdlxliff"})


@dataclass(frozen=True)
class Case:
    """One input: reproduce it with ``make_case(index, seed=seed, fmt=fmt)``."""

    index: int
    seed: int
    fmt: str
    suffix: str
    data: bytes
    mutations: tuple[str, ...]

    def describe(self) -> str:
        return (f"case {self.index} (seed {self.seed}, {self.fmt}, {len(self.data):,} bytes): "
                f"{' + '.join(self.mutations) or 'seed as is'}")


@dataclass
class Outcome:
    kind: str  # checked, refused, crash, timeout
    seconds: float
    segments: int = 0
    bad_records: int = 0
    warnings: int = 0
    error: str = ""  # the exception's class name ("timeout" for one over the limit)
    detail: str = field(default="", repr=False)  # its message; the traceback for crash and timeout
    where: str = ""  # for crash and timeout: the innermost tqcheck frame (where the time went, for a timeout)


# --------------------------------------------------------------------------------------- making cases

_SEEDS: dict[str, bytes] = {}


def seed_bytes(fmt: str) -> bytes:
    if fmt not in _SEEDS:
        _SEEDS[fmt] = FORMATS[fmt][1]()
    return _SEEDS[fmt]


def make_case(index: int, *, seed: int = 0, fmt: str | None = None) -> Case:
    """Case ``index`` of the run ``seed``; the format cycles through ``FORMATS`` unless given."""
    names = list(FORMATS)
    fmt = fmt or names[index % len(names)]
    rng = random.Random(f"{seed}:{fmt}:{index}")
    data = seed_bytes(fmt)
    applied = []
    if fmt in XML_FORMATS:  # most byte mutations make XML ill-formed: keep some, favour structure
        pool = [(name, weight * 0.3, mutate) for name, weight, mutate in _GENERIC] + _XML
    else:
        pool = _GENERIC + (_JSONL if fmt == "jsonl" else _CSV)
    weights = [w for _, w, _ in pool]
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        name, _, mutate = rng.choices(pool, weights)[0]
        data = mutate(rng, data, fmt)
        applied.append(name)
    return Case(index, seed, fmt, FORMATS[fmt][0], data, tuple(applied))


def _position(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _text_position(rng: random.Random, data: bytes, fmt: str) -> int:
    """A place where text starts (an XML text node; a JSON or CSV value), else anywhere."""
    pattern = _XML_TEXT if fmt in XML_FORMATS else _TEXT
    starts = [m.end() for m in pattern.finditer(data)]
    return rng.choice(starts) if starts else _position(rng, data)


_XML_TEXT = re.compile(rb">(?=[A-Za-z\xc0-\xff])")
_TEXT = re.compile(rb'[",](?=[A-Za-z\xc0-\xff])')


# Tokens that break decoders, parsers and checks.
_TOKENS = [
    b"\x00", b"\xff", b"\xfe\xff", b"\xef\xbb\xbf", b"\xed\xbf\xbf", b"\xed\xa0\x80", b"\xc3", b"\xe2\x80",
    b"\xf4\x90\x80\x80", "\u202e".encode(), "\u2066".encode(), "\u200f".encode(), "\ufeff".encode(),
    b"\r", b"\r\n", b"\n", b"\t", b'"', b"'", b"\\", b"\\u", b"\\udfff", b"\\ud800", b"\\u0000", b",", b";",
    b"<", b">", b"&", b"&amp;", b"&#0;", b"&#xD800;", b"]]>", b"<!--", b"{", b"}", b"[", b"]",
    b"{1}", b"{/1}", b"%s", b"@", b"#", b"http://", b"www.", "«".encode(), "»".encode(), b" ,", b" .",
    b"3 000", b"1,5", b"12/03/2025", "\u00a0".encode(), "\u202f".encode(), b"  ", "😀".encode(),
    "é".encode("latin-1"), b"\x1b", b"\x7f",
]


def _flip(rng: random.Random, data: bytes, fmt: str) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _delete(rng: random.Random, data: bytes, fmt: str) -> bytes:
    start = _position(rng, data)
    return data[:start] + data[start + rng.randint(1, 64):]


def _duplicate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    start = _position(rng, data)
    piece = data[start:start + rng.randint(1, 200)]
    at = _position(rng, data)
    return data[:at] + piece + data[at:]


def _splice(rng: random.Random, data: bytes, fmt: str) -> bytes:
    other = seed_bytes(rng.choice(list(FORMATS)))
    start = _position(rng, other)
    at = _position(rng, data)
    return data[:at] + other[start:start + rng.randint(1, 400)] + data[at:]


def _insert_token(rng: random.Random, data: bytes, fmt: str) -> bytes:
    at = _text_position(rng, data, fmt) if rng.random() < 0.7 else _position(rng, data)
    return data[:at] + rng.choice(_TOKENS) * rng.choice((1, 1, 2, 50)) + data[at:]


def _truncate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    return data[:_position(rng, data)]


def _inflate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """One text grows by a slice repeated into thousands of characters: a long line, as in a dump."""
    at = _text_position(rng, data, fmt)
    unit = rng.choice([data[at:at + rng.randint(1, 40)], rng.choice(_TOKENS) + b"a", b"word ", b"( ",
                       b"1 ", b"A", b"Aa ", b"www.", b"12/03 ", b" ?", b"{1}", b"<b>", b"@a "])
    if not unit:
        unit = b"x "
    size = rng.choice((2_000, 8_000, 19_000, 25_000, 60_000))
    return data[:at] + unit * max(1, size // len(unit)) + data[at:]


_GENERIC = [
    ("flip", 3, _flip),
    ("delete", 2, _delete),
    ("duplicate", 2, _duplicate),
    ("splice", 1, _splice),
    ("token", 5, _insert_token),
    ("truncate", 1, _truncate),
    ("inflate", 0.6, _inflate),
]


# -- JSONL

_JSON_KEYS = ["id", "source", "mt", "reference", "lp", "src", "hyp", "ref", "doc_id", "metadata",
              "source_lang", "target_lang", "tgt_lang"]


def _odd_json_text(rng: random.Random, ascii_only: bool) -> str:
    """A JSON value as text: nested deeper than Python could build it, or an odd value."""
    depth = rng.choice((2, 30, 63, 64, 65, 300, 3000))
    if rng.random() < 0.25:
        return rng.choice(["[" * depth + "]" * depth, '{"a": ' + "[" * depth + "]" * depth + "}",
                           '{"a":' * depth + "1" + "}" * depth])
    value = rng.choice([
        "x\udfff y", "\ud800", "\ud83d\ude00 ok", "nul\x00here", "abc \u202edcba\u202c", "", " ", None, True, 3.5,
        float("nan"), float("inf"), 10 ** 30, ["a", "b"], {"k": "v"}, "fr-en-de", "\x1b[31m red \x7f",
        "x" * rng.choice((19_999, 20_000, 20_001, 100_000)),
    ])
    return json.dumps(value, ensure_ascii=ascii_only)


def _json_value(rng: random.Random, data: bytes, fmt: str) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    try:
        record = json.loads(lines[i])
    except (ValueError, RecursionError):  # not a record, or one an earlier mutation nested deep
        return data
    if not isinstance(record, dict):
        return data
    ascii_only = rng.random() < 0.5
    record[rng.choice(_JSON_KEYS + list(record))] = "@@fuzz@@"
    text = json.dumps(record, ensure_ascii=ascii_only).replace('"@@fuzz@@"', _odd_json_text(rng, ascii_only))
    lines[i] = text.encode("utf-8", "surrogatepass")  # a raw surrogate is bytes no UTF-8 decoder takes
    return b"\n".join(lines)


def _json_raw(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """A whole line that is not a record: deep brackets, a bare value, huge numbers."""
    depth = rng.choice((100, 1000, 5000, 50_000))
    line = rng.choice([b"[" * depth + b"]" * depth, b"{\"a\":" * depth + b"1" + b"}" * depth, b"[" * depth,
                       b"1" * 5000, b"1e999999", b"-0", b"\"str\"", b"null", b"NaN", b"{}", b"{\"mt\":1e400}",
                       b'{"mt": "a", "mt": "b"}', b"\xef\xbb\xbf{\"mt\": \"bom\"}"])
    lines = data.split(b"\n")
    lines.insert(rng.randrange(len(lines) + 1), line)
    return b"\n".join(lines)


_JSONL = [("json-value", 6, _json_value), ("json-line", 2, _json_raw)]


# -- CSV


def _csv_structure(rng: random.Random, data: bytes, fmt: str) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    choice = rng.randrange(6)
    if choice == 0:
        lines[i] = lines[i].replace(b",", b";", rng.randint(1, 3))
    elif choice == 1:
        lines[i] += b',"extra' + rng.choice((b'"', b"", b'""'))
    elif choice == 2:
        lines[i] = b'"' + lines[i]
    elif choice == 3:
        lines[0] = rng.choice((b"id,source,hyp", b"source,mt,mt", b"", b"a;b;c", b"\xef\xbb\xbfid,source,mt,reference",
                               b"id\tsource\tmt"))
    elif choice == 4:
        lines[i] = lines[i].split(b",", 1)[0]
    else:
        lines.insert(i, b'"' + b"multi\nline " * rng.randint(1, 5000) + b'"')
    return b"\n".join(lines)


_CSV = [("csv", 6, _csv_structure)]


# -- XML

_ENCODINGS = ["bogus", "UTF-16", "UTF-32", "utf-16le", "UTF-16BE", "ISO-8859-1", "windows-1252", "Shift_JIS",
              "hex", "rot13", "ascii", "utf-7", "cp037", "idna", "", "UTF8", "utf-8-sig", "koi8-r", "undefined",
              "unicode_escape", "punycode", "euc-jp", "\xe9"]
_RECODINGS = [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b""),
              ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b""), ("latin-1", b""),
              ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"\xff\xfe")]


def _xml_encoding(rng: random.Random, data: bytes, fmt: str) -> bytes:
    text = data.decode("utf-8", "replace")
    declared = rng.choice(_ENCODINGS)
    if text.startswith("<?xml"):
        end = text.find("?>")
        head = f'<?xml version="1.0" encoding="{declared}"?>' if rng.random() < 0.85 else '<?xml version="1.0"?>'
        text = head + text[end + 2:] if end > 0 else text
    if rng.random() < 0.4:
        codec, bom = rng.choice(_RECODINGS)
        return bom + text.encode(codec, "replace")
    return text.encode("utf-8", "replace")


_INLINE = {"tmx": ["hi", "sub", "bpt", "ph", "it", "ut"], "xliff2": ["pc", "mrk", "sm", "ph", "sc", "cp"],
           "xliff12": ["g", "mrk", "bx", "x", "ph", "bpt", "sub"], "sdlxliff": ["g", "mrk", "x", "bpt"]}


def _xml_nest(rng: random.Random, data: bytes, fmt: str) -> bytes:
    tag = rng.choice(_INLINE[fmt] + ["b"]).encode()
    depth = rng.choice((1, 5, 49, 50, 51, 200, 5000))
    at = _text_position(rng, data, fmt)
    open_, close = b"<" + tag + b' id="1">', b"</" + tag + b">"
    return data[:at] + open_ * depth + b"x" + close * depth + data[at:]


def _xml_inline(rng: random.Random, data: bytes, fmt: str) -> bytes:
    piece = rng.choice([
        b'<x id="9"/>', b'<bx id="8" rid="8"/>', b'<ex id="8" rid="8"/>', b'<ph id="1">&lt;b&gt;</ph>', b'<ph/>',
        b'<bpt i="1">&lt;b&gt;</bpt>', b'<ept i="1">&lt;/b&gt;</ept>', b'<sc id="1"/>', b'<ec startRef="1"/>',
        b'<ec/>', b'<em startRef="x"/>', b'<sm id="x"/>', b'<it pos="begin">x</it>', b'<ut>u</ut>', b'<g>',
        b'</g>', b'<!-- c -->', b'<?pi x?>', b'<![CDATA[ {1} <b> & ]]>', b'<mrk mtype="seg" mid="1">m</mrk>',
        b'<unknown a="1">u</unknown>', b'<sub>s</sub>', b'<hi x="1">h</hi>', b'<x id="1"/>' * 500,
    ])
    at = _text_position(rng, data, fmt)
    return data[:at] + piece + data[at:]


def _xml_cp(rng: random.Random, data: bytes, fmt: str) -> bytes:
    value = rng.choice(["99999999999999999999", "D800", "DFFF", "110000", "0", "0000", "1F600", "zz", "", "-1",
                        "0x41", " 41", "41", "FFFE", "7F", "1" * 5000])
    at = _text_position(rng, data, fmt)
    return data[:at] + f'<cp hex="{value}"/>'.encode() + data[at:]


def _xml_reference(rng: random.Random, data: bytes, fmt: str) -> bytes:
    ref = rng.choice([b"&#0;", b"&#xD800;", b"&#x110000;", b"&#99999999999;", b"&#x202E;", b"&unknown;",
                      b"&#x1F600;", b"&#9;", b"&#xFFFE;", b"&lt;", b"&", b"&#;", b"&#x;"])
    at = _text_position(rng, data, fmt)
    return data[:at] + ref + data[at:]


def _xml_entity(rng: random.Random, data: bytes, fmt: str) -> bytes:
    dtd = rng.choice([
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        b'<!DOCTYPE x SYSTEM "http://example.com/x.dtd">',
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE x>',
    ])
    end = data.find(b"?>")
    at = end + 2 if end > 0 else 0
    return data[:at] + dtd + data[at:]


_ATTRIBUTES = [b'id="', b'srcLang="', b'trgLang="', b'xml:lang="', b'version="', b'source-language="',
               b'target-language="', b'tuid="', b'srclang="', b'mid="', b'rid="', b'original="', b'state="']
_VALUES = [b"", b"*all*", b"2.0", b"1.2", b"3", b"no", b"x" * 300, b"fr", b"en-US", b"zz-ZZ", b"\xc3\xa9",
           b"1/2", b"#2", b"{1}", b"&amp;"]


def _xml_attribute(rng: random.Random, data: bytes, fmt: str) -> bytes:
    name = rng.choice(_ATTRIBUTES)
    at = data.find(name, _position(rng, data))
    if at < 0:
        at = data.find(name)
    if at < 0:
        return data
    start = at + len(name)
    end = data.find(b'"', start)
    if end < 0:
        return data
    if rng.random() < 0.15:
        return data[:at] + b'translate="no" ' + data[at:]
    return data[:start] + rng.choice(_VALUES) + data[end:]


def _xml_element(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """Drop a tag, or duplicate a whole unit."""
    if rng.random() < 0.5:
        tags = [m.start() for m in re.finditer(rb"<", data)]
        if not tags:
            return data
        at = rng.choice(tags)
        end = data.find(b">", at)
        return data[:at] + data[end + 1:] if end > 0 else data
    for name in (b"trans-unit", b"unit", b"tu"):
        start = data.find(b"<" + name + b" ")
        end = data.find(b"</" + name + b">", start)
        if start >= 0 and end > 0:
            unit = data[start:end + len(name) + 3]
            return data[:start] + unit * rng.choice((2, 3, 300)) + data[start:]
    return data


_XML = [
    ("xml-encoding", 3, _xml_encoding),
    ("xml-nest", 2, _xml_nest),
    ("xml-inline", 3, _xml_inline),
    ("xml-cp", 1.5, _xml_cp),
    ("xml-reference", 1.5, _xml_reference),
    ("xml-entity", 0.7, _xml_entity),
    ("xml-attribute", 3, _xml_attribute),
    ("xml-element", 2, _xml_element),
]


# ---------------------------------------------------------------------------------------- running


class CaseTimeout(BaseException):
    """Raised in the case's own thread when it runs over its limit (a BaseException: no
    ``except Exception`` in the code under test can swallow it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM: the main thread of a POSIX process; regular
    expressions and Python loops alike are interrupted)."""
    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def rules_only_pipeline() -> Any:
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    return Pipeline(CheckConfig().with_rules_only())


def signature() -> Any:
    from tqcheck.model import RunSignature

    return RunSignature(tqcheck_version="fuzz", config_hash="fuzz00000000")


def run_case(case: Case, workdir: Path, pipeline: Any, *, limit_s: float = CASE_LIMIT_S) -> Outcome:
    """Read, check and report ``case`` as ``tqcheck check case --rules-only -o report.jsonl`` does.

    A case over the limit runs once more: the first text of a language the process meets loads lingua's
    models for it (seconds on a busy machine), a cost of the process and not of the input; a case slow
    for its own sake is over the limit again.
    """
    outcome = _run_once(case, workdir, pipeline, limit_s)
    if outcome.kind == "timeout":
        outcome = _run_once(case, workdir, pipeline, limit_s)
    return outcome


def _run_once(case: Case, workdir: Path, pipeline: Any, limit_s: float) -> Outcome:
    from tqcheck.errors import TqcheckError
    from tqcheck.io import read_segments
    from tqcheck.io.reports import open_report, read_report

    path = workdir / f"case{case.suffix}"
    path.write_bytes(case.data)
    report = workdir / "report.jsonl"
    bad: list[Any] = []
    warnings: list[str] = []
    start = time.perf_counter()
    outcome = Outcome("checked", 0.0)
    try:
        with time_limit(limit_s):
            segments = read_segments([path], source_lang="fr", target_lang="en", on_bad_record=bad.append,
                                     on_warning=warnings.append)
            with open_report(report, signature=signature()) as writer:
                for result in pipeline.run(segments):
                    writer.write(result)
            _, results, _ = read_report(report)
            outcome.segments = sum(1 for _ in results)
    except TqcheckError as exc:
        outcome = Outcome("refused", 0.0, error=type(exc).__name__, detail=str(exc))
    except CaseTimeout as exc:
        outcome = Outcome("timeout", 0.0, error="timeout", detail=f"{exc}\n{traceback.format_exc()}",
                          where=_innermost_tqcheck_frame(exc))
    except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
        outcome = Outcome("crash", 0.0, error=type(exc).__name__, detail=traceback.format_exc(),
                          where=_innermost_tqcheck_frame(exc))
    outcome.seconds = time.perf_counter() - start
    outcome.bad_records, outcome.warnings = len(bad), len(warnings)
    return outcome


def _innermost_tqcheck_frame(exc: BaseException) -> str:
    """``tqcheck/fusion/fuse.py:290 in _same_category_overlap``: the deepest frame of tqcheck's own code."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).as_posix()
        if "/tqcheck/" in path:
            return f"tqcheck/{path.rsplit('/tqcheck/', 1)[1]}:{frame.lineno} in {frame.name}"
    return ""
