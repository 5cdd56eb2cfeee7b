"""Fusion: from evidence to flags a copy editor can trust, fit and measured on human labels.

- ``calibration``: the calibration file (risk and span models per language pair) and the features
  they read;
- ``fuse``: the running fusion (``Fusion``): one segment's evidence -> its flags and calibrated risk;
- ``fit``: fitting a calibration on labelled data or reviewer decisions, and cross-validation;
- ``labels``: reading labelled data; ``metrics``: ROC-AUC, span overlap, bootstrap intervals;
  ``evaluate``: tqcheck's results against the labels.
"""

from tqcheck.fusion.calibration import Calibration, load_calibration
from tqcheck.fusion.fuse import Evidence, Fusion

__all__ = ["Calibration", "Evidence", "Fusion", "load_calibration"]
