"""The retrain policy: a pure decision from what the stream observed.

Triggers, strongest first: manual, drift, performance (a metric or the aggregate below its
threshold), volume (events since the last training), schedule (interval or cron). A cooldown
per model (default 24 h) suppresses automatic and manual triggers alike unless ``force``.

>>> p = RetrainPolicy(volume_events=1000, cooldown_s=3600)
>>> h = ModelHistory(last_trained_at=0.0, events_since_training=1500)
>>> d = decide(p, h, now=10_000.0)
>>> d.retrain, d.trigger
(True, 'volume')
>>> h.last_request_at = 9_000.0
>>> d = decide(p, h, now=10_000.0); (d.retrain, d.suppressed_by_cooldown)
(False, True)
>>> decide(p, h, now=10_000.0, force=True).retrain
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from models.drift.detection import Detection


@dataclass(frozen=True)
class RetrainPolicy:
    cooldown_s: float = 24 * 3600
    volume_events: int | None = 100_000
    schedule_interval_s: float | None = None
    schedule_cron: str | None = None  # e.g. "0 3 * * *" (UTC)
    min_metrics: Mapping[str, float] = field(default_factory=dict)  # e.g. {"hit_rate@10": 0.3}
    min_aggregate: float | None = None  # mean of the metrics named in min_metrics
    # None: every detector's detections count; a set: only those detectors' (the others are
    # reported as ignored in the decision, never dropped silently)
    drift_detectors: frozenset[str] | None = None


@dataclass
class ModelHistory:
    last_trained_at: float | None = None  # epoch seconds
    events_since_training: int = 0
    last_request_at: float | None = None


@dataclass(frozen=True)
class Decision:
    retrain: bool
    trigger: str | None
    reason: str
    statistics: dict[str, float] = field(default_factory=dict)
    suppressed_by_cooldown: bool = False
    dry_run: bool = False


def decide(
    policy: RetrainPolicy,
    history: ModelHistory,
    now: float,
    *,
    detections: Iterable[Detection] = (),
    metrics: Mapping[str, float] | None = None,
    manual_reason: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> Decision:
    """Whether to ask for a retrain now, why, and with which statistics."""
    detections = list(detections)
    found = _trigger(policy, history, now, detections, dict(metrics or {}), manual_reason)
    if found is None:
        ignored = sorted({d.detector for d in detections if not _counts(policy, d)})
        why = (
            f"no trigger; ignored drift from {', '.join(ignored)} (not in drift_detectors)" if ignored else "no trigger"
        )
        return Decision(False, None, why, dry_run=dry_run)
    trigger, reason, stats = found
    stats["events_since_training"] = float(history.events_since_training)
    if not force and history.last_request_at is not None and now - history.last_request_at < policy.cooldown_s:
        waited = now - history.last_request_at
        return Decision(
            False,
            trigger,
            f"{reason}; suppressed: cooldown {policy.cooldown_s:.0f}s, last request "
            f"{waited:.0f}s ago (use force to override)",
            stats,
            True,
            dry_run,
        )
    return Decision(True, trigger, reason + (" (forced)" if force else ""), stats, False, dry_run)


def _trigger(policy, history, now, detections, metrics, manual_reason):
    if manual_reason:
        return "manual", manual_reason, {}
    relevant = [d for d in detections if _counts(policy, d)]
    if relevant:
        d = relevant[0]
        return (
            "drift",
            (
                f"{d.detector} detected {d.kind} drift on {d.subject} (statistic {d.statistic:.4g}, "
                f"threshold {d.threshold:.4g})"
            ),
            {f"drift.{d.detector}.statistic": d.statistic},
        )
    below = {k: v for k, v in metrics.items() if k in policy.min_metrics and v < policy.min_metrics[k]}
    if below:
        name = sorted(below)[0]
        return "performance", f"{name} = {below[name]:.4g} < {policy.min_metrics[name]:.4g}", dict(below)
    named = [metrics[k] for k in policy.min_metrics if k in metrics]
    if policy.min_aggregate is not None and named:
        aggregate = sum(named) / len(named)
        if aggregate < policy.min_aggregate:
            return (
                "performance",
                f"aggregate score {aggregate:.4g} < {policy.min_aggregate:.4g}",
                {"aggregate": aggregate},
            )
    if policy.volume_events is not None and history.events_since_training >= policy.volume_events:
        return (
            "volume",
            f"{history.events_since_training} new events since the last training (threshold {policy.volume_events})",
            {},
        )
    due = _schedule_due(policy, history, now)
    if due:
        return "schedule", due, {}
    return None


def _counts(policy: RetrainPolicy, detection: Detection) -> bool:
    return policy.drift_detectors is None or detection.detector in policy.drift_detectors


def _schedule_due(policy: RetrainPolicy, history: ModelHistory, now: float) -> str | None:
    last = history.last_trained_at
    if policy.schedule_interval_s is not None and (last is None or now - last >= policy.schedule_interval_s):
        return f"every {policy.schedule_interval_s:.0f}s; last training {'never' if last is None else f'{now - last:.0f}s ago'}"
    if policy.schedule_cron:
        from croniter import croniter

        base = datetime.fromtimestamp(last if last is not None else 0.0, UTC)
        next_run = croniter(policy.schedule_cron, base).get_next(datetime)
        if next_run.timestamp() <= now:
            return f"cron {policy.schedule_cron!r} was due at {next_run.isoformat()}"
    return None
