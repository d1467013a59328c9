"""The Kafka serving path: consume ``recommendation-requests``, answer each with the same
pipeline as HTTP (:class:`serving.recommender.Recommender`), produce to ``recommendations``.

At-least-once: offsets are committed after the answers are acknowledged, so a crash can answer
a request twice; both answers carry the request's ``request_id`` for consumers to dedupe.
Undecodable or invalid requests go to the dead-letter topic with headers saying why and where from.
"""

from __future__ import annotations

import threading

from serving.feature_log import served_features
from serving.recommender import Recommender
from streams.core.contracts import RecommendationRequest, decode
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.runner import Batch, ConsumeRunner, DeadLetterBadRecords


def serve_requests(
    settings: Settings, recommender: Recommender, producer, stop: threading.Event, idle_exit_s: float | None = None
) -> dict[str, int]:
    """Answer until ``stop`` (or ``idle_exit_s`` without requests); counts of what was done."""
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    letters = DeadLetterBadRecords(producer, catalog.name("interactions-dlq"))
    runner = ConsumeRunner(
        settings,
        group=f"{settings.worker_group}-serving",
        topics=[catalog.name("recommendation-requests")],
        decode=lambda value: decode(RecommendationRequest, value),
        bad_records=letters,
        batch_size=500,
    )
    counts = {"answered": 0, "dead_lettered": 0}

    def handle(batch: Batch[RecommendationRequest]) -> None:
        for request in batch.events():
            served_list, ranked = recommender.answer(request)
            producer.send(served_list)
            if settings.serve_log_features and (logged := served_features(served_list, ranked)) is not None:
                producer.send(logged)
            counts["answered"] += 1
        producer.flush()  # acknowledged before the offsets move on

    runner.run(handle, stop, idle_exit_s)
    counts["dead_lettered"] = letters.dead_lettered
    return counts
