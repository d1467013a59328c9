"""The trainer's Kafka edge: consume ``retrain-requests`` one at a time (at-least-once: the
offset is committed after the job), train from the archive, publish alias changes to
``model-updates``. A re-delivered request finds its finished run and is skipped."""

from __future__ import annotations

import threading
import time

from confluent_kafka import Consumer

from streams.stores.archive import read_archive
from streams.core.contracts import RetrainRequest, decode
from streams.core.errors import InvalidEvent
from streams.kafka.producer import EventProducer
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.trainer.job import TrainingOutcome, run_training
from streams.trainer.metrics import TrainerMetrics


def training_events(settings: Settings, request: RetrainRequest):
    """The archive up to the end of the request's data window (everything before it is history)."""
    return read_archive(settings.archive_dir, end=request.data_window.end)[
        ["user_id", "item_id", "event_type", "value", "timestamp"]]


def run_trainer(settings: Settings, stop: threading.Event | None = None, idle_exit_s: float | None = None,
                config=None, gates=None, progress=lambda _: None) -> list[TrainingOutcome]:
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    topic = catalog.name("retrain-requests")
    consumer = Consumer(settings.kafka_client_config() | {
        "group.id": f"{settings.worker_group}-trainer", "enable.auto.commit": False, "auto.offset.reset": "earliest",
        "max.poll.interval.ms": 3_600_000})  # a training job may take long between polls
    consumer.subscribe([topic])
    outcomes: list[TrainingOutcome] = []
    stop = stop or threading.Event()
    metrics = TrainerMetrics()
    metrics.start(settings.trainer_metrics_port, settings.metrics_host)
    last = time.monotonic()
    try:
        with EventProducer(settings, catalog, report_successes=True) as producer:
            while not stop.is_set():
                msg = consumer.poll(0.5)
                if msg is None or msg.error() is not None:
                    if idle_exit_s is not None and time.monotonic() - last > idle_exit_s:
                        break
                    continue
                try:
                    request = decode(RetrainRequest, msg.value() or b"")
                except InvalidEvent as error:
                    progress(f"skipping an invalid retrain request at offset {msg.offset()}: {error}")
                    consumer.commit(msg, asynchronous=False)
                    continue
                progress(f"retrain request {request.request_id} ({request.trigger.value}): {request.reason}")
                began = time.monotonic()
                outcome = run_training(settings, request, training_events(settings, request), config, gates, progress)
                metrics.observe(request.trigger.value, outcome, time.monotonic() - began)
                for update in outcome.updates:
                    producer.send_and_wait(update)
                outcomes.append(outcome)
                progress(f"request {request.request_id}: {outcome.status} -- {outcome.reason}")
                consumer.commit(msg, asynchronous=False)
                last = time.monotonic()
    finally:
        consumer.close()
        metrics.stop()
    return outcomes
