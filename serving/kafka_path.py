"""The Kafka serving path: consume ``recommendation-requests``, answer each with the same
pipeline as HTTP (:func:`serving.ranking.answer`), produce to ``recommendations``.

At-least-once: offsets are committed after the answers are acknowledged, so a crash can answer
a request twice; both answers carry the request's ``request_id`` for consumers to dedupe.
Undecodable or invalid requests go to the dead-letter topic with headers saying why and where from.
"""

from __future__ import annotations

import threading
import time

from confluent_kafka import Consumer

from serving.ranking import answer
from serving.state import ModelState
from streams.core.contracts import RecommendationRequest, decode
from streams.kafka.dead_letters import dead_letter
from streams.core.errors import InvalidEvent
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog


def serve_requests(settings: Settings, state: ModelState, history_of, producer, stop: threading.Event,
                   idle_exit_s: float | None = None, experiments=None, explorer=None,
                   online=None) -> dict[str, int]:
    """``experiments``, ``explorer`` and ``online`` as on HTTP (:func:`serving.app.create_app`)."""
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    topic, group = catalog.name("recommendation-requests"), f"{settings.worker_group}-serving"
    consumer = Consumer(settings.kafka_client_config() | {"group.id": group, "enable.auto.commit": False,
                                                          "auto.offset.reset": "earliest"})
    assigned = threading.Event()
    consumer.subscribe([topic], on_assign=lambda *_: assigned.set())
    counts = {"answered": 0, "dead_lettered": 0}
    last = time.monotonic()
    try:
        while not stop.is_set():
            batch = consumer.consume(num_messages=500, timeout=0.2)
            if not batch:
                if not assigned.is_set():
                    last = time.monotonic()  # idle time counts from the group assignment
                elif idle_exit_s is not None and time.monotonic() - last > idle_exit_s:
                    break
                continue
            last = time.monotonic()
            for msg in batch:
                if msg.error() is not None:
                    continue
                try:
                    request = decode(RecommendationRequest, msg.value() or b"")
                except InvalidEvent as error:
                    letter = dead_letter(error, msg.key(), msg.value(), topic, msg.partition(), msg.offset(), group)
                    producer.send_bytes(catalog.name("interactions-dlq"), letter.key, letter.value, letter.headers)
                    counts["dead_lettered"] += 1
                    continue
                served_list, _ = answer(state.served, history_of, request.user_id, request.k,
                                        exclude_seen=request.exclude_seen, explain_items=request.explain,
                                        request_id=request.request_id, context=request.context, explorer=explorer,
                                        online=online, experiments=experiments)
                producer.send(served_list)
                counts["answered"] += 1
            producer.flush()  # acknowledged before the offsets move on
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return counts
