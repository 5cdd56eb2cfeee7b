"""Errors tqcheck raises, each saying what failed, where, and how to fix it.

The CLI turns any ``TqcheckError`` into one line on stderr and exit code 2; library code never calls
``sys.exit``. Keep the cause: ``raise InputError(...) from exc``.
"""

from __future__ import annotations


class TqcheckError(Exception):
    """Base class. ``where`` is a location such as ``feed.csv:12`` or ``segment s-41``."""

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.message = message
        self.where = where
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f" ({self.fix})"
        return text


class UsageError(TqcheckError):
    """Options that do not fit together, or a missing required option."""


class ConfigError(TqcheckError):
    """A configuration file or value is invalid."""


class InputError(TqcheckError):
    """An input file or record cannot be read. Bad records in a feed are reported, not fatal."""


class RecordError(InputError):
    """One record of a feed is bad; the reader skips it (or aborts under ``--strict``)."""


class EngineError(TqcheckError):
    """An engine cannot be loaded or run."""


class EngineUnavailable(EngineError):
    """An engine is not installed, or has no model for the requested language pair."""


class ModelNotFound(EngineError):
    """Model weights are not on disk and cannot be fetched (offline)."""


class StoreError(TqcheckError):
    """The review store cannot be opened, is of another schema version, or refused a write."""


class ReviewConflict(StoreError):
    """Another reviewer saved the same segment since this reviewer loaded it."""
