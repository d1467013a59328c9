"""Drift detectors as pure, incremental objects; each returns :class:`Detection` records.

- :class:`~models.drift.data.KSMonitor`: two-sample KS tests of numeric features/scores
  against a reference window frozen at the last retrain (every k values, Bonferroni-corrected);
- :func:`~models.drift.data.psi` / :class:`~models.drift.data.PSIMonitor`: population stability
  index for categorical features;
- :class:`~models.drift.data.DataDriftWatch`: both of the above on values collected in the stream,
  with the reference frozen on demand (at each retrain);
- :class:`~models.drift.concept.ErrorMonitor`: ADWIN and Page-Hinkley on the prequential error.
"""

from models.drift.concept import ErrorMonitor
from models.drift.data import DataDriftWatch, KSMonitor, PSIMonitor, psi
from models.drift.detection import Detection

__all__ = ["DataDriftWatch", "Detection", "ErrorMonitor", "KSMonitor", "PSIMonitor", "psi"]
