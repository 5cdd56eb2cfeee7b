"""URLs, e-mail addresses, @handles and #hashtags: broken, altered, missing, added or duplicated.

These tokens are addresses, not words: a reader (or a link) needs them byte for byte, and MT breaks
them in characteristic ways: ``@ LaurentRaphael1`` (space after the @), ``pic.twitter.com/ xyz``
(split URL), ``#migrantes`` -> ``#migrants`` (translated hashtag), ``#mexico #mexico`` (two
different source hashtags collapsed into one).

Category: **Markup** for broken, altered and duplicated tokens. They behave like markup (machine-
readable codes embedded in the text that must survive translation intact) rather than like a
locale convention (which is about how a locale writes dates, numbers or addresses). A missing
token is Accuracy/Omission, an added one Accuracy/Addition.

Severity: major for URLs, e-mails and handles altered, split or missing (the link or the mention no
longer works); minor for hashtags (a translated or duplicated hashtag still reads) and for a broken
handle (``@ name``): what a run without a calibration shows. The development data holds none of these
tokens, so a pair's fit cannot measure this check; the rule checks' own model, fit on the MQM sets of
../shared/train (``tqcheck calibrate --rule-checks``), measures each kind of claim (``kind`` in the
evidence) apart. On that news a broken handle lands on a human error 37 times in 66 but on a major one
once, while an altered URL was major 2 times in 3 (``benchmarks/link_check_precision.py``, RESULTS
"The link check on labelled news").

Spans: on the MT token (the whole broken form, e.g. ``@ LaurentRaphael1``, so the editor sees what
to rejoin); a source token missing from the MT is reported on its source span.

The target-only rules (broken handle, split URL, duplicated hashtag) also run with a source; a
duplicate the source has too is not flagged.
"""

from __future__ import annotations

import bisect
import re
from collections import deque
from collections.abc import Iterator

from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity, Side
from tqcheck.text.tokens import TLDS, Token, tokens_of

_KINDS = ("url", "email", "handle", "hashtag")
_TRIGGER = re.compile(r"[@#/]|\.[a-z]")
_KIND_NAMES = {"url": "URL", "email": "e-mail address", "handle": "handle", "hashtag": "hashtag"}

# "@ LaurentRaphael1": an @ standing alone, then spaces, then a name.
_BROKEN_HANDLE = re.compile(r"(?<![\w@.])@[ \u00a0\u202f]+(?P<name>[A-Za-z0-9_]{2,30})(?![\w@])")
_BROKEN_HASHTAG = re.compile(r"(?<![\w#&])#[ \u00a0\u202f]+(?P<name>[^\W\d]\w*)")
_HANDLE_LIKE = re.compile(r"\d|_|[a-z][A-Z]")
# URLs with a space inside: "https: //x.org", "www. example.com", "pic.twitter. com/xyz". A match
# counts only if it has whitespace in it and ends in a known top-level domain (plus path). Host
# names are bounded as DNS bounds them (labels of at most 63 characters; here at most 12 labels):
# unbounded, a failing match backtracked through every way to split a long "a.b.c..." run, from
# each of its labels (quadratic on a line of "www.www.www...").
_URL_TAIL = r"[^\s<>\"«»“”]*"
_LABEL = r"[a-z0-9-]{1,63}"
_SPLIT_URLS = (
    re.compile(r"\b(?:https?|ftp)\s*:\s*/\s*/\s*[\w-]+(?:\.[\w-]+)+" + _URL_TAIL, re.IGNORECASE),
    re.compile(r"\b(?:www|pic)\s*\.\s*" + _LABEL + r"(?:\." + _LABEL + r"){0,10}\.(?P<tld>[a-z]{2,6})(?:/"
               + _URL_TAIL + ")?"),
    re.compile(r"\b" + _LABEL + r"(?:\." + _LABEL + r"){0,10}\s*\.\s*(?P<tld>[a-z]{2,6})/" + _URL_TAIL),
)
_URL_TRAIL = ".,;:!?)]}'\"’”»"
# After a URL that ends with "/", an id-like token (digits or mixed case) glued on by the reader.
_ID_LIKE = re.compile(r"[A-Za-z0-9_\-]*(?:\d|[a-z][A-Z]|[A-Z][a-z]*[A-Z])[A-Za-z0-9_\-]*")
#: Hosts whose URLs always end with an id: "pic.twitter.com/" followed by a word is a split URL.
_ID_HOSTS = ("pic.twitter.com", "t.co", "bit.ly", "youtu.be", "goo.gl", "ow.ly", "buff.ly",
             "tinyurl.com", "fb.me", "instagr.am", "lnkd.in", "dlvr.it")


_SPACE = re.compile(r"\s")


def _char_before(text: str, index: int) -> str:
    """The last non-space character before ``index`` ("" at the start)."""
    j = index
    while j > 0 and text[j - 1].isspace():
        j -= 1
    return text[j - 1:j]


def _any_within(positions: list[int], target: int, distance: int) -> bool:
    """Whether a value of the sorted ``positions`` is closer than ``distance`` to ``target``."""
    i = bisect.bisect_left(positions, target - distance + 1)
    return i < len(positions) and positions[i] < target + distance


def _key(tok: Token) -> str:
    text = tok.text
    if tok.kind == "url":
        # Host names are case-insensitive, paths are not; a trailing slash is not a difference.
        _, sep, rest = text.partition("://")
        if not sep:
            rest = text
        host, slash, path = rest.partition("/")
        host = host.lower()
        host = host.removeprefix("www.")
        return f"{host}{slash}{path}".rstrip("/")
    return text.casefold()


def _items(tokens: tuple[Token, ...]) -> list[Token]:
    return [t for t in tokens if t.kind in _KINDS]


def _hashtag_runs(tokens: tuple[Token, ...]) -> list[list[Token]]:
    runs: list[list[Token]] = []
    current: list[Token] = []
    for tok in tokens:
        if tok.kind == "hashtag":
            current.append(tok)
        elif tok.kind == "space":
            continue
        else:
            if len(current) > 1:
                runs.append(current)
            current = []
    if len(current) > 1:
        runs.append(current)
    return runs


def _duplicates(tokens: tuple[Token, ...]) -> list[tuple[Token, Token]]:
    """(first, repeat) pairs of hashtags repeated, case-insensitively, in one run of hashtags."""
    dups = []
    for run in _hashtag_runs(tokens):
        seen: dict[str, Token] = {}
        for tok in run:
            key = tok.text.casefold()
            if key in seen:
                dups.append((seen[key], tok))
            else:
                seen[key] = tok
    return dups


class UrlsHandlesCheck(Check):
    name = "urls_handles"
    severity = Severity.MAJOR
    category = Category.MARKUP
    description = "URLs, e-mails, @handles and #hashtags broken, altered, missing, added or duplicated"

    def __init__(self, *, additions: bool = True, duplicate_hashtags: bool = True) -> None:
        super().__init__(additions=additions, duplicate_hashtags=duplicate_hashtags)
        self.additions = additions
        self.duplicate_hashtags = duplicate_hashtags

    def run(self, segment: Segment) -> Iterator[Flag]:
        mt = segment.mt
        source = segment.source or ""
        if not _TRIGGER.search(mt) and not _TRIGGER.search(source):
            return
        mt_tokens = tokens_of(mt)
        src_tokens = tokens_of(source) if source else ()
        flagged = bytearray(len(mt) + 1)  # 1 for each MT character inside a span already reported
        repaired: set[str] = set()  # keys of broken MT tokens, so a source token is not "missing"

        for flag, key in self._broken(mt, mt_tokens, source):
            assert flag.span is not None  # a broken token is always placed
            flagged[flag.span.start:flag.span.end] = b"\x01" * (flag.span.end - flag.span.start)
            repaired.add(key)
            yield flag

        if self.duplicate_hashtags:
            src_dups = {first.text.casefold() for first, _ in _duplicates(src_tokens)}
            for first, repeat in _duplicates(mt_tokens):
                if repeat.text.casefold() in src_dups:
                    continue
                flagged[repeat.start:repeat.end] = b"\x01" * (repeat.end - repeat.start)
                yield self.flag(
                    f"hashtag {repeat.text} repeats {first.text} in the same run of hashtags",
                    (repeat.start, repeat.end), severity=Severity.MINOR, kind="hashtag_repeated",
                    evidence={"hashtag": repeat.text, "first": [first.start, first.end]},
                )

        if segment.source is None:
            return
        # Each source token takes the first MT token left of its kind and key; then each source token
        # left over takes the first MT token left of its kind. Queues by key and by kind keep this
        # linear in the number of tokens (a scan of the MT tokens per source token was not).
        mt_items = _items(mt_tokens)
        taken = [False] * len(mt_items)
        by_key: dict[tuple[str, str], deque[int]] = {}
        by_kind: dict[str, deque[int]] = {}
        for i, m in enumerate(mt_items):
            by_key.setdefault((m.kind, _key(m)), deque()).append(i)
            by_kind.setdefault(m.kind, deque()).append(i)

        def take(queue: deque[int] | None) -> int | None:
            while queue:
                i = queue.popleft()
                if not taken[i]:
                    taken[i] = True
                    return i
            return None

        left_src = []
        for tok in _items(src_tokens):
            key = _key(tok)
            if take(by_key.get((tok.kind, key))) is None and key not in repaired:
                left_src.append(tok)

        def already(tok: Token) -> bool:
            return flagged.find(1, tok.start, tok.end) >= 0

        for s in left_src:
            minor = Severity.MINOR if s.kind == "hashtag" else None
            j = take(by_kind.get(s.kind))
            if j is not None:
                m = mt_items[j]
                if already(m):
                    continue
                yield self.flag(
                    f"{_KIND_NAMES[s.kind]} {s.text} of the source became {m.text}",
                    (m.start, m.end), severity=minor, kind=f"{m.kind}_changed",
                    evidence={"source": s.text, "mt": m.text, "source_span": [s.start, s.end]},
                )
            else:
                yield self.flag(
                    f"{_KIND_NAMES[s.kind]} {s.text} of the source is missing from the MT",
                    (s.start, s.end), side=Side.SOURCE, severity=minor, kind=f"{s.kind}_missing",
                    category=Category.OMISSION, evidence={"source": s.text},
                )
        if self.additions:
            for m in (m for i, m in enumerate(mt_items) if not taken[i]):
                if already(m):
                    continue
                yield self.flag(
                    f"{_KIND_NAMES[m.kind]} {m.text} of the MT is not in the source",
                    (m.start, m.end), severity=Severity.MINOR, category=Category.ADDITION, kind=f"{m.kind}_added",
                    evidence={"mt": m.text},
                )

    def _broken(self, mt: str, tokens: tuple[Token, ...], source: str) -> Iterator[tuple[Flag, str]]:
        """Broken handles, hashtags and URLs in the MT, with the key of the repaired token."""
        folded_source = source.casefold()
        in_source: dict[str, bool] = {}

        def said_in_source(token: str) -> bool:
            if token not in in_source:
                in_source[token] = token.casefold() in folded_source
            return in_source[token]

        if "@" in mt:
            for match in _BROKEN_HANDLE.finditer(mt):
                name = match.group("name")
                if not (_HANDLE_LIKE.search(name) or _char_before(mt, match.start()) == "("
                        or said_in_source("@" + name)):
                    continue
                yield self.flag(
                    f"broken handle {match.group()!r}: a space after the @",
                    (match.start(), match.end()), severity=Severity.MINOR, kind="broken_handle",
                    evidence={"mt": match.group(), "expected": "@" + name},
                ), "@" + name.casefold()
        if "#" in mt:
            starts = [t.start for t in tokens if t.kind == "hashtag"]  # in order: sorted
            ends = [t.end for t in tokens if t.kind == "hashtag"]
            for match in _BROKEN_HASHTAG.finditer(mt):
                name = match.group("name")
                near = _any_within(starts, match.end(), 3) or _any_within(ends, match.start(), 3)
                if not (near or said_in_source("#" + name)):
                    continue
                yield self.flag(
                    f"broken hashtag {match.group()!r}: a space after the #",
                    (match.start(), match.end()), severity=Severity.MINOR, kind="broken_hashtag",
                    evidence={"mt": match.group(), "expected": "#" + name},
                ), "#" + name.casefold()
        if "." in mt:
            seen = bytearray(len(mt) + 1)  # characters inside a split URL already reported
            for pattern in _SPLIT_URLS:
                for match in pattern.finditer(mt):
                    text = match.group().rstrip(_URL_TRAIL)
                    start, end = match.start(), match.start() + len(text)
                    if not _SPACE.search(text) or seen.find(1, start, end) >= 0:
                        continue
                    if "tld" in pattern.groupindex and match.group("tld") not in TLDS:
                        continue
                    seen[start:end] = b"\x01" * (end - start)
                    joined = re.sub(r"\s+", "", text)
                    yield self.flag(
                        f"URL split by a space: {text!r}", (start, end), kind="split_url",
                        evidence={"mt": text, "expected": joined},
                    ), _key(Token(0, len(joined), joined, "url"))
        for i, tok in enumerate(tokens):
            if tok.kind != "url" or not tok.text.endswith("/"):
                continue
            j = i + 1
            if j < len(tokens) and tokens[j].kind == "space" and "\n" not in tokens[j].text:
                j += 1
            if j == i + 1 or j >= len(tokens):
                continue
            nxt = tokens[j]
            host = tok.text.split("://")[-1].split("/")[0].lower()
            if nxt.kind not in ("word", "number"):
                continue
            if not (_ID_LIKE.fullmatch(nxt.text) or host.removeprefix("www.") in _ID_HOSTS):
                continue
            joined = tok.text + nxt.text
            yield self.flag(
                f"URL split by a space: {mt[tok.start:nxt.end]!r}", (tok.start, nxt.end), kind="split_url",
                evidence={"mt": mt[tok.start:nxt.end], "expected": joined},
            ), _key(Token(0, len(joined), joined, "url"))
