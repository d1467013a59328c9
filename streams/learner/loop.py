"""The online learning loop: every interaction is scored, then learned; drift is watched; the
retrain policy decides; the state is checkpointed and published; a degradation rolls back.

Drift is measured on a *reference* model: a copy of the live ranker frozen at the last retrain
request (or after a warm-up). The live model adapts within a few thousand events, so its own
error hardly moves when tastes shift (hit rate 0.88 -> 0.80 on the generator's shift); the
frozen reference falls from about 0.6 to 0.36, which the detectors see within ~1.5k events.
Data drift is tested against a reference window that starts at the same moment: KS on the
reference model's scores and on rating values, PSI on event types and categorical context.

Three learners, each scored before it learns: the implicit MF ranker (top-k hit rate), the
rating MF (MAE, explicit ratings only) and a contextual engagement model (log loss, AUC): each
positive event is a 1 and, in the same context, a random known item is a 0 (dislikes are 0s).

No Kafka here: :meth:`LearningLoop.process` takes one event and returns the messages to publish
(DriftEvent, RetrainRequest, ModelUpdate). The state, including the last offset applied per
partition, is what a snapshot holds, so a restart from a snapshot resumes exactly there.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

from models.drift import DataDriftWatch, Detection, ErrorMonitor
from models.evaluation import Prequential, ProbabilisticPrequential
from models.learners import (
    IMPLICIT_RANKER,
    ContextualLogistic,
    MatrixFactorization,
    implicit_target,
    is_positive,
)
from models.policy import ModelHistory, RetrainPolicy, decide
from models.snapshots import RollbackGuard, Snapshot, SnapshotSchedule, SnapshotStore
from streams.core.contracts import (
    DriftEvent,
    Interaction,
    Message,
    ModelUpdate,
    RetrainRequest,
    TimeWindow,
)
from streams.core.dedupe import RecentIds


@dataclass
class LearnerConfig:
    model_name: str = "online-ranker"
    retrain_model: str = "ranker"  # what a RetrainRequest asks to retrain
    snapshot_every_events: int = 5_000
    snapshot_every_seconds: float = 60.0
    item_sync_every_events: int = 1_000  # scale-out: this process's item changes go to the others this often
    reference_after: int = 10_000  # events before the drift reference is first frozen
    drift_settle_events: int = 0  # a drift-triggered retrain waits for this many events of the new regime
    rank_every: int = 5
    candidates: int = 50
    k: int = 10
    context_features: tuple[str, ...] = ("device",)  # categorical context watched for drift (PSI)
    policy: RetrainPolicy = field(default_factory=RetrainPolicy)
    guard: RollbackGuard = field(default_factory=lambda: RollbackGuard(max_drop=0.15, min_evaluations=200))


class LearnerState:
    """Everything a snapshot holds."""

    def __init__(self, config: LearnerConfig):
        self.ranker = Prequential(
            MatrixFactorization(**IMPLICIT_RANKER),
            k=config.k,
            candidates=config.candidates,
            rank_every=config.rank_every,
        )
        self.rating = Prequential(MatrixFactorization(y_min=0.5, y_max=5.0), rank_every=10**9)
        self.click = ProbabilisticPrequential(ContextualLogistic())
        self.monitor = reference_monitor(config)
        self.data_drift: DataDriftWatch | None = None  # starts with the first reference
        self.offsets: dict[int, int] = {}
        self.recent_ids: dict[str, RecentIds] = {}  # per user: the newest event ids learned (re-sent copies)
        self.user_partition: dict[str, int] = {}  # scale-out only: which partition each user's events come from
        self.duplicates = 0
        self.events = 0
        self.first_event_at: float | None = None
        self.last_event_at: float | None = None


def reference_monitor(config: LearnerConfig) -> ErrorMonitor:
    """Drift = the reference model (frozen at the last retrain) ranks worse than it used to."""
    return ErrorMonitor(subject=f"reference_top{config.k}_miss", ph_delta=0.02)


class LearningLoop:
    tracks_partitions = False  # scale-out learners hand users over with their partitions

    def __init__(self, config: LearnerConfig, snapshots: Path, clock=time.time):
        self.config, self.clock = config, clock
        self.store = SnapshotStore(snapshots)
        self.schedule = SnapshotSchedule(config.snapshot_every_events, config.snapshot_every_seconds)
        latest = self._resume_from()
        self.state: LearnerState = self.store.load(latest) if latest else LearnerState(config)
        self.snapshot_hit_rate = latest.metrics.get("hit_rate") if latest else None
        self.snapshot_version = latest.version if latest else 0
        self.evaluations_at_snapshot = self.state.ranker.hit_rate.n
        self.history = ModelHistory(last_trained_at=clock())
        self.rollback_reasons: list[str] = []
        self.pending_request = None  # (decision, due at event count): a drift retrain waiting for data

    def _resume_from(self) -> Snapshot | None:
        """The snapshot whose state this loop starts from (the newest)."""
        return self.store.latest()

    def claim(self, trigger: str) -> bool:
        """May this process publish a drift or retrain request now? One process alone decides here;
        scale-out learners ask the group (:class:`~streams.learner.sharded.ShardedLearningLoop`)."""
        return True

    def adopt_request(self) -> None:
        """Another process asked for a retrain: measure drift from here, and wait out the cooldown."""
        self.history.last_request_at = self.clock()
        self.history.events_since_training = 0
        self.refresh_reference()

    def process(self, partition: int, offset: int, event: Interaction, live: bool = True) -> list[Message]:
        """Learn one event; what to publish. ``live`` False: the event is backlog (read long after
        it reached Kafka), so it is learned but not fed to the data-drift watch -- a reference taken
        from, or tested on, a backlog compares old periods with each other, not now with before."""
        state = self.state
        if offset <= state.offsets.get(partition, -1):
            return []  # already learned (a re-delivery or a replay)
        state.offsets[partition] = offset
        if not hasattr(state, "recent_ids"):  # a snapshot from before the event-id window
            state.recent_ids, state.duplicates = {}, 0
        ids = state.recent_ids.setdefault(event.user_id, RecentIds())
        if event.event_id in ids:
            state.duplicates += 1
            return []  # a re-sent copy (same event_id, another offset): learned once already
        ids.add(event.event_id)
        if self.tracks_partitions:
            state.user_partition[event.user_id] = partition
        state.events += 1
        self.history.events_since_training += 1
        ts = event.timestamp.timestamp()
        if state.first_event_at is None:
            state.first_event_at = ts
        state.last_event_at = ts
        kind = event.event_type.value
        out: list[Message] = []
        detections: list[Detection] = []
        positive = is_positive(kind, event.value)
        self._learn_engagement(event, positive)
        reference_score = None
        if kind == "rating":
            state.rating.update(event.user_id, event.item_id, float(event.value))
        if kind != "view":
            if state.ranker.shadow is not None:
                reference_score = state.ranker.shadow.predict_one(event.user_id, event.item_id)
            step = state.ranker.update(
                event.user_id, event.item_id, implicit_target(kind, event.value), positive=positive
            )
            if state.ranker.shadow is None and state.events >= self.config.reference_after:
                self.refresh_reference()
            if step.shadow_hit is not None:
                detections = state.monitor.update(0.0 if step.shadow_hit else 1.0)
            if step.hit is not None:
                rollback = self._degraded()
                if rollback:
                    out.append(self.rollback(rollback))
        if state.data_drift is not None and live:
            rating = float(event.value) if kind == "rating" else None
            categorical = {"event_type": kind} | {
                f: _category(event.context.get(f)) for f in self.config.context_features
            }
            detections += state.data_drift.update({"reference_score": reference_score, "rating": rating} | categorical)
        if detections and not self.claim("drift"):
            detections = []  # another process raised this drift and asked for the retrain
            self.adopt_request()
        out += [self._drift_event(d) for d in detections]
        # building the metrics dict reads every metric (the AUC walks its bins): only when the policy reads them
        metrics = self.metrics() if self.config.policy.min_metrics else None
        decision = decide(self.config.policy, self.history, self.clock(), detections=detections, metrics=metrics)
        if decision.retrain and decision.trigger != "drift" and not self.claim(decision.trigger):
            self.adopt_request()
        elif decision.retrain:
            self.history.last_request_at = self.clock()
            self.history.events_since_training = 0  # the volume trigger counts from this request
            if decision.trigger == "drift" and self.config.drift_settle_events > 0:
                # right after a shift the new regime has too few events to train on: collect some first
                self.pending_request = (decision, state.events + self.config.drift_settle_events)
            else:
                out.append(self._retrain_request(decision))
            self.refresh_reference()  # what a retrained model will know; drift is measured from here
        if self.pending_request is not None and state.events >= self.pending_request[1]:
            decision = self.pending_request[0]
            self.pending_request = None
            out.append(
                self._retrain_request(
                    decision, f" (sent after {self.config.drift_settle_events:,} events of the new regime)"
                )
            )
        if self.schedule.due(state.events):
            out += self.checkpoint()
        return out

    def _learn_engagement(self, event: Interaction, positive: bool) -> None:
        kind, click, context = event.event_type.value, self.state.click, click_context(event)
        if positive:
            click.update(event.user_id, event.item_id, 1, context)
            negative = self.state.ranker.sample_item(exclude=event.item_id)
            if negative is not None:
                click.update(event.user_id, negative, 0, context)
        elif kind == "dislike":
            click.update(event.user_id, event.item_id, 0, context)

    def refresh_reference(self) -> None:
        """Freeze a copy of the live ranker as the drift reference and restart the monitor."""
        self.state.ranker.shadow = copy.deepcopy(self.state.ranker.learner)
        self.state.monitor = reference_monitor(self.config)
        self.state.data_drift = DataDriftWatch(
            numeric=("reference_score", "rating"), categorical=("event_type", *self.config.context_features)
        )

    def _degraded(self) -> str | None:
        """The guard's reason when the ranker fell too far below its last snapshot (checked every 50 evaluations)."""
        since = int(self.state.ranker.hit_rate.n - self.evaluations_at_snapshot)
        if self.snapshot_hit_rate is None or since % 50:
            return None
        rollback, reason = self.config.guard.check(self.snapshot_hit_rate, self.recent_hit_rate(), since)
        return reason if rollback else None

    def recent_hit_rate(self) -> float:
        return self.state.ranker.rolling_hit_rate.get()

    def checkpoint(self) -> list[Message]:
        """Snapshot the state and publish it as a ModelUpdate (alias ``online``)."""
        hit_rate = self.recent_hit_rate()
        snapshot = self.store.save(self.state, self.state.events, self.metrics(), online=self.state.ranker.learner)
        self.snapshot_hit_rate, self.snapshot_version = hit_rate, snapshot.version
        self.evaluations_at_snapshot = self.state.ranker.hit_rate.n
        return [
            ModelUpdate(
                model_name=self.config.model_name,
                version=str(snapshot.version),
                alias="online",
                uri=snapshot.path.as_uri(),
                metrics=self.metrics(),
            )
        ]

    def rollback(self, reason: str) -> ModelUpdate:
        """Back to the last snapshot's model; keeps the stream position (offsets) where it is."""
        snapshot = self.store.latest()
        offsets, events = dict(self.state.offsets), self.state.events
        self.state = self.store.load(snapshot)
        self.state.offsets, self.state.events = offsets, events
        self.evaluations_at_snapshot = self.state.ranker.hit_rate.n
        self.rollback_reasons.append(reason)
        return ModelUpdate(
            model_name=self.config.model_name,
            version=str(snapshot.version),
            alias="online",
            uri=snapshot.path.as_uri(),
            metrics=self.metrics() | {"rolled_back": 1.0},
        )

    def metrics(self) -> dict[str, float]:
        s = self.state
        out = {
            "events": float(s.events),
            "duplicates": float(getattr(s, "duplicates", 0)),
            "hit_rate": s.ranker.hit_rate.get(),
            "rolling_hit_rate": s.ranker.rolling_hit_rate.get(),
            "implicit_mae": s.ranker.mae.get(),
        }
        if s.click.n:
            out |= {
                "click_logloss": s.click.logloss.get(),
                "rolling_click_logloss": s.click.rolling_logloss.get(),
                "click_auc": float(s.click.auc.get()),
            }
        if s.rating.n:
            out |= {"rating_mae": s.rating.mae.get(), "rolling_rating_mae": s.rating.rolling_mae.get()}
        return out

    def _window(self) -> TimeWindow:
        s = self.state
        return TimeWindow(start=s.first_event_at, end=s.last_event_at, events=s.events)

    def _drift_event(self, d: Detection) -> DriftEvent:
        return DriftEvent(
            detector=d.detector,
            kind=d.kind,
            subject=d.subject,
            statistic=d.statistic,
            threshold=d.threshold,
            p_value=d.p_value,
            window=TimeWindow(end=self.state.last_event_at, events=d.window),
        )

    def _retrain_request(self, decision, note: str = "") -> RetrainRequest:
        return RetrainRequest(
            model_name=self.config.retrain_model,
            trigger=decision.trigger,
            reason=decision.reason + note,
            data_window=self._window(),
            statistics=decision.statistics,
        )


def click_context(event: Interaction) -> dict[str, str]:
    """The click model's context: the event's categorical context and the hour of day (UTC)."""
    context = {k: str(v) for k, v in event.context.items() if isinstance(v, str | bool)}
    return context | {"hour": str(event.timestamp.hour)}


def _category(value) -> str | None:
    return None if value is None else str(value)
