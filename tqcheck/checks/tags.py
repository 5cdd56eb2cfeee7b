"""Inline tags and placeholders missing, added, reordered or broken in the MT.

Recognised codes (the tokenizer's ``placeholder`` kind): Okapi/XLIFF-style ``{1}`` ``{/1}``
``{2/}``, named ``{name}`` / ``{{name}}`` / ``${name}``, printf ``%s`` ``%d`` ``%1$s`` ``%(name)s``,
XML/HTML tags ``<b>`` ``</b>`` ``<br/>`` and character entities ``&amp;`` ``&#39;``.

What is flagged (Markup, major):

* a code of the source missing from the MT (on its source span) or an MT code not in the source
  (on its MT span); codes compare exactly, except that tag attributes' whitespace is ignored;
* a closing tag before its opening tag, or tags that no longer nest (``<b><i></b></i>``), when
  the source was well formed;
* unnumbered printf placeholders (``%s`` ... ``%d``) in another order: they are filled by position,
  so swapping them swaps the values. Numbered codes (``{1}``, ``%1$s``, ``<b>``) may move with the
  word order, which is translation, not an error; ``strict_order=True`` flags any reordering
  (minor) as Xbench does.

Target-only: an opening tag never closed or a closing tag never opened (HTML void elements such as
``<br>`` excepted).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator

from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity, Side
from tqcheck.text.tokens import Token, tokens_of

_VOID = frozenset("area base br col embed hr img input link meta param source track wbr x ph it "
                  "bx ex g".split())
_XML_TAG = re.compile(r"<(/?)([A-Za-z][\w:\-]*)([^<>]*?)(/?)>")
_BRACE = re.compile(r"\{(/?)(\w*)(/?)\}")
_PRINTF_POSITIONAL = re.compile(r"%[-+#0]?\d*(?:\.\d+)?[sdif]")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pair_role(text: str) -> tuple[str, str] | None:
    """("open"|"close", name) for paired codes; None for standalone codes."""
    match = _XML_TAG.fullmatch(text)
    if match:
        slash, name, _, selfclose = match.groups()
        if selfclose or name.lower() in _VOID:
            return None
        return ("close" if slash else "open"), "<" + name.lower()
    match = _BRACE.fullmatch(text)
    if match:
        slash, name, selfclose = match.groups()
        if selfclose or not name.isdigit():
            return None
        return ("close" if slash else "open"), "{" + name
    return None


def _codes(text: str) -> list[Token]:
    return [t for t in tokens_of(text) if t.kind == "placeholder"]


def _nesting_problems(codes: list[Token]) -> list[tuple[Token, str]]:
    """Codes that break nesting: closing without opening, crossing, or never closed."""
    problems: list[tuple[Token, str]] = []
    stack: list[tuple[str, Token]] = []
    open_names: Counter[str] = Counter()  # names on the stack, so a stray closer costs no walk down it
    # A numbered brace code "{1}" may be standalone in some formats: only treat it as opening when
    # a matching "{/1}" exists.
    closers = Counter(r[1] for t in codes if (r := _pair_role(t.text)) and r[0] == "close")
    for tok in codes:
        role = _pair_role(tok.text)
        if role is None:
            continue
        kind, name = role
        if kind == "open":
            if name.startswith("{") and not closers.get(name):
                continue
            stack.append((name, tok))
            open_names[name] += 1
        else:
            if stack and stack[-1][0] == name:
                open_names[stack.pop()[0]] -= 1
            elif open_names[name]:
                problems.append((tok, f"closing {tok.text} crosses another tag"))
                while stack and stack[-1][0] != name:
                    open_names[stack.pop()[0]] -= 1
                open_names[stack.pop()[0]] -= 1
            else:
                problems.append((tok, f"closing {tok.text} without an opening tag before it"))
    problems.extend((tok, f"{tok.text} is never closed") for _, tok in stack)
    return problems


class TagsCheck(Check):
    name = "tags"
    severity = Severity.MAJOR
    category = Category.MARKUP
    description = "inline tags and placeholders missing, added, reordered or badly nested"

    def __init__(self, *, strict_order: bool = False) -> None:
        super().__init__(strict_order=strict_order)
        self.strict_order = strict_order

    def run(self, segment: Segment) -> Iterator[Flag]:
        mt_codes = _codes(segment.mt) if any(c in segment.mt for c in "{<%&$") else []
        source = segment.source
        src_codes = _codes(source) if source and any(c in source for c in "{<%&$") else []
        if not mt_codes and not src_codes:
            return
        problems = _nesting_problems(mt_codes)
        if problems and source is not None:
            src_problem_texts = Counter(_norm(t.text) for t, _ in _nesting_problems(src_codes))
            kept = []
            for tok, why in problems:
                key = _norm(tok.text)
                if src_problem_texts[key]:
                    src_problem_texts[key] -= 1
                else:
                    kept.append((tok, why))
            problems = kept
        for tok, why in problems:
            yield self.flag(f"tag {why}", (tok.start, tok.end), evidence={"tag": tok.text}, kind="malformed")
        if source is None:
            return

        # Each source code takes the first MT code left with the same text (queues by text: linear).
        by_text: dict[str, deque[int]] = {}
        for i, tok in enumerate(mt_codes):
            by_text.setdefault(_norm(tok.text), deque()).append(i)
        matched: set[int] = set()
        missing = []
        for tok in src_codes:
            queue = by_text.get(_norm(tok.text))
            if queue:
                matched.add(queue.popleft())
            else:
                missing.append(tok)
        left_mt = [tok for i, tok in enumerate(mt_codes) if i not in matched]
        for src_tok, tok in zip(missing, left_mt):
            yield self.flag(f"{src_tok.text} of the source became {tok.text}", (tok.start, tok.end), kind="changed",
                            evidence={"tag": tok.text, "source_tag": src_tok.text,
                                      "source_span": [src_tok.start, src_tok.end]})
        paired = min(len(missing), len(left_mt))
        for tok in missing[paired:]:
            yield self.flag(f"{tok.text} of the source is missing from the MT", (tok.start, tok.end),
                            side=Side.SOURCE, evidence={"tag": tok.text}, kind="missing")
        for tok in left_mt[paired:]:
            yield self.flag(f"{tok.text} is not in the source", (tok.start, tok.end),
                            evidence={"tag": tok.text}, kind="added")
        if missing or left_mt:
            return
        yield from self._order(src_codes, mt_codes)

    def _order(self, src_codes: list[Token], mt_codes: list[Token]) -> Iterator[Flag]:
        src_printf = [t.text for t in src_codes if _PRINTF_POSITIONAL.fullmatch(t.text)]
        mt_printf = [t for t in mt_codes if _PRINTF_POSITIONAL.fullmatch(t.text)]
        if src_printf != [t.text for t in mt_printf]:
            for expected, tok in zip(src_printf, mt_printf):
                if expected != tok.text:
                    yield self.flag(
                        f"placeholders filled by position are in another order: {tok.text} where "
                        f"the source has {expected}", (tok.start, tok.end),
                        evidence={"source_order": src_printf, "mt_order": [t.text for t in mt_printf]},
                    )
                    return
        if self.strict_order and [_norm(t.text) for t in src_codes] != [_norm(t.text) for t in mt_codes]:
            for src_tok, tok in zip(src_codes, mt_codes):
                if _norm(src_tok.text) != _norm(tok.text):
                    yield self.flag(
                        f"tags in another order than the source: {tok.text} where the source has "
                        f"{src_tok.text}", (tok.start, tok.end), severity=Severity.MINOR,
                        evidence={"source_order": [t.text for t in src_codes],
                                  "mt_order": [t.text for t in mt_codes]},
                    )
                    return
