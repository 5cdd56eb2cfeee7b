"""tqcheck: find machine-translation artifacts that metrics miss, say where and why.

Importing the package loads nothing heavy: engines, pandas and the UI are imported where used.
"""

__version__ = "0.1.0"
