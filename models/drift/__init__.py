"""Drift detectors as pure, incremental objects; each returns :class:`Detection` records.

- :class:`~models.drift.data.KSMonitor`: two-sample KS tests of numeric features/scores
  against a reference window frozen at the last retrain (every k values, Bonferroni-corrected);
- :func:`~models.drift.data.psi`: population stability index for categorical features;
- :class:`~models.drift.concept.ErrorMonitor`: ADWIN and Page-Hinkley on the prequential error.
"""
from models.drift.concept import ErrorMonitor
from models.drift.data import KSMonitor, psi
from models.drift.detection import Detection

__all__ = ["Detection", "ErrorMonitor", "KSMonitor", "psi"]
