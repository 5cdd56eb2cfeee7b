"""Text no engine should translate: URLs, e-mail addresses and @handles, kept out of its reach.

Apertium translates inside them as if they were words: ``pic.twitter.com/g4OZBVpQIY`` comes back from
French as ``pic.twitter.comme/g4OZBVpQIY`` and goes through Catalan as ``pic.tuitar.how/...``,
``https://example.com/path?a=1`` as ``.../camí?près de=1``, ``press@example.org`` as
``presser@example.org``. A back-translation or a reference-model output that garbles them reads to a
copy editor as the tool's own mistake, and lowers round-trip and pseudo-reference scores for nothing.

:func:`mask` swaps each such token for a placeholder of capital letters (``ZQXA``, ``ZQXB``, ...) that
engines pass through as an unknown name, and :meth:`Masked.restore` puts the originals back. A
translation that lost, doubled or changed a placeholder cannot be restored faithfully: ``restore``
then says so (None) and the caller translates the original text instead. A text without such tokens
is left exactly as it is, so its translation, and everything measured on it, does not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tqcheck.text.tokens import tokens_of

#: Token kinds (``tqcheck.text.tokens``) an engine gets as placeholders.
PROTECTED_KINDS = frozenset({"url", "email", "handle"})
_PREFIX = "ZQX"


def _placeholder(index: int) -> str:
    """``ZQXA``, ``ZQXB``, ... ``ZQXZ``, ``ZQXBA``, ...: letters only (Apertium splits a token at digits)."""
    letters = ""
    while True:
        index, digit = divmod(index, 26)
        letters = chr(ord("A") + digit) + letters
        if index == 0:
            return _PREFIX + letters


@dataclass(frozen=True)
class Masked:
    """``text`` as an engine should see it, and the original each placeholder stands for, in order."""

    text: str
    originals: tuple[str, ...] = ()

    def restore(self, translated: str) -> str | None:
        """``translated`` with the originals back in place of their placeholders; None where a
        placeholder is missing, doubled or altered (the translation cannot be trusted to hold them)."""
        if not self.originals:
            return translated
        for index, original in enumerate(self.originals):
            pattern = re.compile(rf"(?<![A-Za-z]){_placeholder(index)}(?![A-Za-z])")
            pieces = pattern.split(translated)
            if len(pieces) != 2:
                return None
            translated = pieces[0] + original + pieces[1]
        return translated


def mask(text: str) -> Masked:
    """``text`` with its URLs, e-mail addresses and @handles swapped for placeholders (see the module
    docstring); the text unchanged when it has none, or already holds something like a placeholder."""
    spans = [(t.start, t.end) for t in tokens_of(text) if t.kind in PROTECTED_KINDS]
    if not spans or _PREFIX in text:
        return Masked(text)
    parts: list[str] = []
    originals: list[str] = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        parts.append(_placeholder(len(originals)))
        originals.append(text[start:end])
        position = end
    parts.append(text[position:])
    return Masked("".join(parts), tuple(originals))
