"""The learner's Kafka edge: read ``interactions``, run the :class:`LearningLoop`, publish what it
says (DriftEvent -> drift-events, RetrainRequest -> retrain-requests, ModelUpdate -> model-updates).

By default one learner reads all partitions (``assign``, no group rebalancing). It resumes from
the offsets stored in its latest snapshot, so a restart re-reads what the snapshot has not
learned and nothing else: each event is learned once, whatever the crash.

With ``STREAMREC_LEARNER_SCALE_OUT`` several learners join one consumer group and split the
partitions; the group's rebalances hand each partition's state over
(:mod:`streams.learner.sharded`), and a Redis claim lets one of them speak for drift.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from models.policy import RetrainPolicy
from streams.core.contracts import Interaction, decode
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.producer import EventProducer
from streams.kafka.readers import GroupLag, partitions
from streams.kafka.runner import Batch, ConsumeRunner, SkipBadRecords
from streams.learner.loop import LearnerConfig, LearningLoop
from streams.learner.metrics import LearnerMetrics
from streams.learner.sharded import ShardedLearningLoop
from streams.stores.learner_status import claim_retrain, publish_status, read_retrain_claim, snapshot_dir
from streams.stores.redis_client import open_redis


@dataclass
class LearnerReport:
    processed: int = 0
    invalid: int = 0
    published: dict[str, int] | None = None
    seconds: float = 0.0
    # (record produce time, seconds until learned) of the most recent events, for latency figures
    latencies: deque = field(default_factory=lambda: deque(maxlen=200_000))


def run_learner(
    settings: Settings,
    config: LearnerConfig | None = None,
    stop: threading.Event | None = None,
    idle_exit_s: float | None = None,
    on_batch=lambda loop, n: None,
) -> LearnerReport:
    """Run until ``stop`` is set (or nothing arrived for ``idle_exit_s``); a final snapshot is published.
    ``on_batch(loop, n)`` is called after each batch; the loop's ``metrics_port`` attribute is where
    Prometheus metrics are served (None when off)."""
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    topic = catalog.name("interactions")
    config = config or LearnerConfig(
        drift_settle_events=settings.learner_drift_settle_events,
        policy=RetrainPolicy(
            volume_events=settings.learner_retrain_every_events or None,
            cooldown_s=settings.learner_retrain_cooldown_s,
        ),
    )
    status_client = _redis_or_none(settings)
    member = member_name() if settings.learner_scale_out else None
    if member is None:
        loop = LearningLoop(config, snapshot_dir(settings))
        where = {
            "assignment": [
                TopicPartition(topic, p, loop.state.offsets[p] + 1 if p in loop.state.offsets else OFFSET_BEGINNING)
                for p in partitions(settings, topic)
            ]
        }
    else:
        loop = _sharded_loop(settings, config, member, status_client)
        where = _group_membership(loop, topic)
    gc.collect()
    gc.freeze()  # the loaded model's millions of objects are not scanned by every full collection
    report, stop = LearnerReport(published={}), stop or threading.Event()
    metrics = LearnerMetrics()

    def skipped(record, error) -> None:
        report.invalid += 1  # the features worker dead-letters it; nothing to learn
        metrics.invalid.inc()

    runner = ConsumeRunner(
        settings,
        group=f"{settings.worker_group}-learner",
        **where,
        decode=lambda value: decode(Interaction, value),
        bad_records=SkipBadRecords("learner", on_skip=skipped),
        commit="async",  # for lag monitoring only; snapshots hold the truth
        batch_size=1000,
        poll_timeout_s=0.1,
    )  # short: latency at low rates
    metrics.start(settings.learner_metrics_port, settings.metrics_host)
    loop.metrics_port = metrics.port
    lag_stop = threading.Event()  # set when the learner returns, whatever made it return
    if metrics.port is not None:  # the gauges are only read from /metrics
        threading.Thread(
            target=_watch_lag, args=(settings, topic, metrics, lag_stop), name="learner-lag", daemon=True
        ).start()
    last_status = 0.0
    last_data = began = time.monotonic()

    def report_status() -> float:
        """Prometheus gauges and the Redis status (read by the API's /drift); returns when."""
        metrics.observe_loop(loop.metrics(), loop.snapshot_version)
        if status_client is not None:
            _safely(_publish_status, status_client, settings, loop)
            if member is not None:
                _safely(_follow_claim, status_client, settings, loop)
        return time.monotonic()

    def idle() -> None:
        nonlocal last_status
        if last_status < last_data and time.monotonic() - last_status > 1.0:
            last_status = report_status()  # the last batch's figures, even when nothing follows

    with EventProducer(settings, catalog) as producer:

        def handle(batch: Batch[Interaction]) -> None:
            nonlocal last_status, last_data
            last_data = time.monotonic()
            backlog_before = (time.time() - settings.learner_backlog_s) * 1000
            for record in batch.records:
                live = record.timestamp_ms <= 0 or record.timestamp_ms >= backlog_before
                for out in loop.process(record.partition, record.offset, record.event, live=live):
                    producer.send(out)
                    metrics.observe_message(out)
                    name = type(out).__name__
                    report.published[name] = report.published.get(name, 0) + 1
            report.processed += len(batch)
            metrics.events.inc(len(batch))
            producer.flush()
            learned_at = time.time()
            for record in batch.records:
                produced = record.timestamp_ms / 1000
                if produced > 0:
                    metrics.newest_learned_at = max(metrics.newest_learned_at, produced)
                    report.latencies.append((produced, learned_at - produced))
                    metrics.latency.observe(learned_at - produced)
            if time.monotonic() - last_status > 1.0:
                last_status = report_status()
            on_batch(loop, len(batch))

        try:
            runner.run(handle, stop, idle_exit_s, on_idle=idle)
        finally:
            for out in loop.checkpoint():
                producer.send(out)
                report.published[type(out).__name__] = report.published.get(type(out).__name__, 0) + 1
            lag_stop.set()
            metrics.stop()
            if status_client is not None:
                _safely(_publish_status, status_client, settings, loop)
    report.seconds = time.monotonic() - began
    return report


LAG_EVERY_S = 2.0


def _watch_lag(settings: Settings, topic: str, metrics: LearnerMetrics, stop: threading.Event) -> None:
    """Broker-side lag, independent of the learning loop: it grows while a batch is stuck."""
    lag = GroupLag(settings, f"{settings.worker_group}-learner", topic)
    try:
        while not stop.wait(LAG_EVERY_S):
            try:
                metrics.observe_lag(lag(), time.time())
            except Exception:  # noqa: BLE001 - the broker may be away for a while; lag is best effort
                continue
    finally:
        lag.close()


def _redis_or_none(settings: Settings):
    import redis

    try:
        client = open_redis(settings, timeout_s=2.0)
        client.ping()
        return client
    except redis.RedisError:
        return None  # status is optional; learning goes on without Redis


def _safely(fn, *args) -> None:
    import redis

    try:
        fn(*args)
    except redis.RedisError:
        pass


def _publish_status(client, settings: Settings, loop: LearningLoop) -> None:
    publish_status(
        client,
        settings,
        loop.metrics(),
        loop.snapshot_version,
        loop.rollback_reasons,
        loop.state.offsets,
        member=getattr(loop, "member", None),
    )


# -- scale-out


def member_name() -> str:
    """This learner's name in the group: host, process and a random part (several may share a process in tests)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _sharded_loop(settings: Settings, config: LearnerConfig, member: str, client) -> ShardedLearningLoop:
    claim = (
        claim_retrain(client, settings, member, config.policy.cooldown_s)
        if client is not None
        else (lambda trigger: True)
    )
    return ShardedLearningLoop(config, snapshot_dir(settings), member, claim)


def _group_membership(loop: ShardedLearningLoop, topic: str) -> dict:
    """Subscribe; a partition the group assigns is read from right after its last learned offset."""

    def assigned(tps: list[TopicPartition]) -> list[TopicPartition]:
        starts = loop.assign(tp.partition for tp in tps)
        return [TopicPartition(topic, p, OFFSET_BEGINNING if at is None else at) for p, at in starts.items()]

    return {
        "topics": [topic],
        "on_assign": assigned,
        "on_revoke": lambda tps: loop.revoke(tp.partition for tp in tps),
        "on_lost": lambda tps: loop.revoke((tp.partition for tp in tps), save=False),
    }


def _follow_claim(client, settings: Settings, loop: ShardedLearningLoop) -> None:
    claim = read_retrain_claim(client, settings)
    if claim is not None:
        loop.adopt(*claim)
