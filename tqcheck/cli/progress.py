"""The progress bar of the commands that run the pipeline (check, eval, calibrate)."""

from __future__ import annotations

import sys


class ProgressBar:
    """A tqdm bar of segments on stderr, shown only on a terminal; a no-op under ``--quiet``.

    ``total`` is the number of segments where it is known (``eval`` and ``calibrate`` read their
    data first); ``check`` streams its input, so its bar counts without a total."""

    def __init__(self, *, quiet: bool, desc: str = "checking", total: int | None = None) -> None:
        self._bar = None
        if not quiet:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="seg", desc=desc, file=sys.stderr, disable=None,
                             dynamic_ncols=True)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
