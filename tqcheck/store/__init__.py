"""The persistent review store: runs, segments, flags and reviewer decisions (SQLAlchemy 2).

``Store.open(url_or_path)`` opens SQLite (WAL) by default or any SQLAlchemy URL; see ``store.py``.
Importing this package imports SQLAlchemy but nothing heavier.
"""

from tqcheck.store._base import CLAIM_TTL
from tqcheck.store.records import (
    QUEUE_ORDERS,
    Action,
    BulkConflict,
    BulkRecord,
    BulkResult,
    BulkSelection,
    Claim,
    Decision,
    DocumentSummary,
    FlagRecord,
    QueueFilter,
    QueueRow,
    ReviewAction,
    ReviewRecord,
    ReviewStatus,
    RunRecord,
    SegmentConflict,
    SegmentRecord,
)
from tqcheck.store.schema import SCHEMA_VERSION
from tqcheck.store.store import Store, default_store_path, store_url

__all__ = [
    "CLAIM_TTL",
    "QUEUE_ORDERS",
    "Action",
    "BulkConflict",
    "BulkRecord",
    "BulkResult",
    "BulkSelection",
    "Claim",
    "Decision",
    "DocumentSummary",
    "FlagRecord",
    "QueueFilter",
    "QueueRow",
    "ReviewAction",
    "ReviewRecord",
    "ReviewStatus",
    "RunRecord",
    "SCHEMA_VERSION",
    "SegmentConflict",
    "SegmentRecord",
    "Store",
    "default_store_path",
    "store_url",
]
