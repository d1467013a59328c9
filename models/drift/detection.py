"""What a detector reports (turned into a DriftEvent contract at the Kafka edge)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    detector: str  # ks, psi, adwin, page_hinkley
    kind: str  # data | concept
    subject: str  # the feature or metric
    statistic: float
    threshold: float
    p_value: float | None
    at_index: int  # how many values the detector had seen
    window: int  # values in the current window
