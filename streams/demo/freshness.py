"""Freshness while phase 2 streams: issue 14's goal, 1 s for the learner and the features with
every service on the machine (`streamrec demo`'s summary and `streamrec bench loop`)."""

from __future__ import annotations

GOAL_S = 1.0


def phase2_start(phases: dict[str, float]) -> float | None:
    """When phase 2 (the new regime) started, on the demo's clock.

    >>> phase2_start({"serving v1": 80.0, "phase 2 starts: the new regime at 1,500 events/s": 81.5})
    81.5
    """
    return next((t for name, t in phases.items() if name.startswith("phase 2 starts")), None)


def phase2_freshness(samples: list[dict], start: float | None) -> list[tuple[str, str]]:
    """Freshness and lag while phase 2 streams, from the live view's one-per-second samples.

    >>> rows = phase2_freshness([{"t": 1, "produced": 0}, {"t": 2, "produced": 9, "freshness_s": 0.2,
    ...     "learner_lag": 30, "worker_lag": 5, "feature_freshness_p99_s": 0.3},
    ...     {"t": 3, "produced": 9, "freshness_s": 0.0}], start=1.5)
    >>> rows[0]
    ('phase 2: learner freshness (oldest unlearned event), p99 / max of 1 samples', '0.20 s / 0.20 s')
    """
    if start is None:
        return []
    produced = [s for s in samples if s["t"] >= start]
    streaming = [s for before, s in zip(produced, produced[1:], strict=False) if s["produced"] > before["produced"]]
    streaming = streaming or [s for s in produced if s.get("produced")][:1]

    def spread(key: str) -> str:
        values = sorted(s[key] for s in streaming if s.get(key) is not None)
        if not values:
            return "n/a"
        return f"{values[min(len(values) - 1, int(0.99 * len(values)))]:.2f} s / {values[-1]:.2f} s"

    def peak(key: str) -> str:
        values = [s[key] for s in streaming if s.get(key) is not None]
        return f"{max(values):,}" if values else "n/a"

    n = len(streaming)
    return [
        (f"phase 2: learner freshness (oldest unlearned event), p99 / max of {n} samples", spread("freshness_s")),
        (
            "phase 2: feature freshness p99 of the slowest worker (15 s windows), p99 / max",
            spread("feature_freshness_p99_s"),
        ),
        ("phase 2: largest learner lag / worker lag (events)", f"{peak('learner_lag')} / {peak('worker_lag')}"),
    ]
