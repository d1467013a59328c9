"""What a detector is and what it reports (a Detection, turned into a DriftEvent contract at the
Kafka edge). Every detector follows :class:`Detector`; ``tests/models/test_detector_contract.py``
runs one contract suite over all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


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


@runtime_checkable
class Detector(Protocol):
    """An incremental drift detector: feed it one observation at a time, get what it detected.

    ``x`` is whatever the detector watches: an error value (concept drift) or a mapping of
    feature name to value (data drift). ``name`` is what its detections say in ``detector``
    unless it runs several tests (then each detection names its own test)."""

    name: str

    def update(self, x: Any) -> list[Detection]: ...
