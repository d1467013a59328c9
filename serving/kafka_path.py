"""The Kafka serving path: consume ``recommendation-requests``, answer each with the same
pipeline as HTTP (:func:`serving.ranking.answer`), produce to ``recommendations``.

At-least-once: offsets are committed after the answers are acknowledged, so a crash can answer
a request twice; both answers carry the request's ``request_id`` for consumers to dedupe.
Undecodable or invalid requests go to the dead-letter topic with headers saying why and where from.
"""

from __future__ import annotations

import threading

from serving.ranking import answer
from serving.state import ModelState
from streams.core.contracts import RecommendationRequest, decode
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.runner import Batch, ConsumeRunner, DeadLetterBadRecords


def serve_requests(settings: Settings, state: ModelState, history_of, producer, stop: threading.Event,
                   idle_exit_s: float | None = None, experiments=None, explorer=None,
                   online=None) -> dict[str, int]:
    """``experiments``, ``explorer`` and ``online`` as on HTTP (:func:`serving.app.create_app`)."""
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    letters = DeadLetterBadRecords(producer, catalog.name("interactions-dlq"))
    runner = ConsumeRunner(settings, group=f"{settings.worker_group}-serving",
                           topics=[catalog.name("recommendation-requests")],
                           decode=lambda value: decode(RecommendationRequest, value), bad_records=letters,
                           batch_size=500)
    counts = {"answered": 0, "dead_lettered": 0}

    def handle(batch: Batch[RecommendationRequest]) -> None:
        for request in batch.events():
            served_list, _ = answer(state.served, history_of, request.user_id, request.k,
                                    exclude_seen=request.exclude_seen, explain_items=request.explain,
                                    request_id=request.request_id, context=request.context, explorer=explorer,
                                    online=online, experiments=experiments)
            producer.send(served_list)
            counts["answered"] += 1
        producer.flush()  # acknowledged before the offsets move on

    runner.run(handle, stop, idle_exit_s)
    counts["dead_lettered"] = letters.dead_lettered
    return counts
