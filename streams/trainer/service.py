"""The trainer's Kafka edge: consume ``retrain-requests`` one at a time (at-least-once: the
offset is committed after the job), train from the archive, publish alias changes to
``model-updates``. A re-delivered request finds its finished run and is skipped."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from streams.core.contracts import RetrainRequest, decode
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.producer import EventProducer
from streams.kafka.runner import Batch, ConsumeRunner, SkipBadRecords
from streams.stores.archive import read_archive
from streams.stores.registry_errors import RegistryUnavailable
from streams.trainer.job import TrainingOutcome, run_training
from streams.trainer.metrics import TrainerMetrics

log = logging.getLogger("streamrec.trainer")
ARCHIVE_TIME_SLACK = timedelta(milliseconds=1)  # epoch floats and datetimes round differently


def training_events(settings: Settings, request: RetrainRequest, sleep=time.sleep, clock=time.monotonic):
    """The archive up to the end of the request's data window (everything before it is history).

    The worker archives an event a moment after the learner learns it, so a request can come
    before its window's newest events are in the archive (on a fast replay, a volume retrain
    found 0 events and failed). So the job first waits, at most ``trainer_archive_wait_s``, for
    the archive to hold an event from the window's end on; then it trains on what is there. A
    window set by hand (no event count) is read as it is."""
    window = request.data_window
    end = window.end
    if end is not None and window.events:  # a window the learner drew: it ends at its newest event
        newest = end - ARCHIVE_TIME_SLACK
        deadline = clock() + settings.trainer_archive_wait_s
        while read_archive(settings.archive_dir, start=newest).empty:
            if clock() >= deadline:
                log.warning(
                    "the archive has no event from %s on after %.0f s; training on what it holds",
                    end,
                    settings.trainer_archive_wait_s,
                )
                break
            sleep(0.5)
    return read_archive(settings.archive_dir, end=end)[
        ["user_id", "item_id", "event_type", "value", "timestamp", "session_id"]
    ]


def item_categories(settings: Settings) -> dict[str, str] | None:
    """Every item's main category, as the worker keeps it in Redis (from the ``items`` topic).
    None when Redis cannot answer: the job then trains a ranker without online features (never
    one whose category features would be missing in training and present in serving)."""
    from streams.features.state_store import CatalogStore
    from streams.stores.redis_client import RedisUnavailable, open_redis

    try:
        return CatalogStore(open_redis(settings), settings.topic_prefix).all()
    except RedisUnavailable as error:
        log.warning("item categories unavailable (%s): training without online features", error)
        return None


def until_the_registry_answers(job, stop: threading.Event | None, progress, first_wait_s: float = 1.0):
    """``job()``, again after a growing pause (up to 30 s) while the registry is unreachable: the
    request stays uncommitted, so it is neither lost nor half-done. Raises RegistryUnavailable if
    ``stop`` is set meanwhile (the offset stays uncommitted for the next trainer)."""
    wait = first_wait_s
    while True:
        try:
            return job()
        except RegistryUnavailable as error:
            progress(f"the registry is unavailable ({error}); retrying in {wait:.0f} s")
            log.warning("registry unavailable, retrying in %.0f s: %s", wait, error)
            if stop is not None and stop.wait(wait):
                raise
            if stop is None:
                time.sleep(wait)
            wait = min(wait * 2, 30.0)


def run_trainer(
    settings: Settings,
    stop: threading.Event | None = None,
    idle_exit_s: float | None = None,
    config=None,
    gates=None,
    progress=lambda _: None,
) -> list[TrainingOutcome]:
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    invalid = SkipBadRecords(
        "trainer",
        on_skip=lambda record, error: progress(
            f"skipping an invalid retrain request at offset {record.offset}: {error}"
        ),
    )
    runner = ConsumeRunner(
        settings,
        group=f"{settings.worker_group}-trainer",
        topics=[catalog.name("retrain-requests")],
        decode=lambda value: decode(RetrainRequest, value),
        bad_records=invalid,
        batch_size=1,
        poll_timeout_s=0.5,  # one job at a time, committed after it
        config={"max.poll.interval.ms": 3_600_000},
    )  # a job may take long between polls
    outcomes: list[TrainingOutcome] = []
    metrics = TrainerMetrics()
    metrics.start(settings.trainer_metrics_port, settings.metrics_host)
    try:
        with EventProducer(settings, catalog, report_successes=True) as producer:

            def handle(batch: Batch[RetrainRequest]) -> None:
                for request in batch.events():
                    progress(f"retrain request {request.request_id} ({request.trigger.value}): {request.reason}")
                    began = time.monotonic()
                    outcome = until_the_registry_answers(
                        lambda request=request: run_training(
                            settings,
                            request,
                            training_events(settings, request),
                            config,
                            gates,
                            progress,
                            categories=item_categories(settings),
                        ),
                        stop,
                        progress,
                    )
                    metrics.observe(request.trigger.value, outcome, time.monotonic() - began)
                    for update in outcome.updates:
                        producer.send_and_wait(update)
                    outcomes.append(outcome)
                    progress(f"request {request.request_id}: {outcome.status} -- {outcome.reason}")

            runner.run(handle, stop, idle_exit_s)
    finally:
        metrics.stop()
    return outcomes
