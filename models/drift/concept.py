"""Concept drift: ADWIN and Page-Hinkley (River) on the prequential error stream.

>>> m = ErrorMonitor()
>>> [d.detector for e in [0.1] * 2000 + [0.9] * 300 for d in m.update(e)][:1]
['adwin']
"""

from __future__ import annotations

from river import drift

from models.drift.detection import Detection


class ErrorMonitor:
    """Feeds each prequential error to ADWIN and Page-Hinkley; reports when either finds the
    error has gone *up* (a falling error, e.g. while a fresh model learns, is no alarm).
    Each detection's statistic and threshold are on one scale: ADWIN reports the recent mean
    error against the mean before the change, Page-Hinkley its test value against its threshold."""

    name = "concept"

    def __init__(
        self,
        subject: str = "prequential_error",
        adwin_delta: float = 0.002,
        ph_threshold: float = 50.0,
        ph_delta: float = 0.005,
        ph_min_instances: int = 100,
    ):
        self.subject = subject
        self.params = dict(
            adwin_delta=adwin_delta, ph_threshold=ph_threshold, ph_delta=ph_delta, ph_min_instances=ph_min_instances
        )
        self.adwin = drift.ADWIN(delta=adwin_delta)
        self.page_hinkley = drift.PageHinkley(
            min_instances=ph_min_instances, delta=ph_delta, threshold=ph_threshold, mode="up"
        )
        self.seen = 0
        self._since_ph_reset = 0  # values Page-Hinkley has seen since it last fired

    def update(self, x: float) -> list[Detection]:
        """``x``: the latest prequential error."""
        error = x
        self.seen += 1
        found = []
        before = self.adwin.estimation
        self.adwin.update(error)
        if self.adwin.drift_detected and self.adwin.estimation > before:
            found.append(
                Detection(
                    "adwin",
                    "concept",
                    self.subject,
                    float(self.adwin.estimation),  # the mean error of the recent window ...
                    float(before),  # ... crossed the mean error before the change
                    None,
                    self.seen,
                    int(self.adwin.width),
                )
            )
        self.page_hinkley.update(error)
        self._since_ph_reset += 1
        if self.page_hinkley.drift_detected:
            found.append(
                Detection(
                    "page_hinkley",
                    "concept",
                    self.subject,
                    self._ph_statistic(),  # the cumulative deviation, on the threshold's scale
                    self.params["ph_threshold"],
                    None,
                    self.seen,
                    self._since_ph_reset,
                )
            )
            self._since_ph_reset = 0
        return found

    def _ph_statistic(self) -> float:
        """Page-Hinkley's test value (cumulative rise over its minimum), compared with its threshold.
        River keeps it in private fields; river is pinned below 0.27, where these names hold."""
        ph = self.page_hinkley
        return float(ph._sum_increase - ph._min_increase)
