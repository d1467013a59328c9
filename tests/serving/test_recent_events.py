"""Events still on their way through the worker: the API follows the real broker's
``interactions`` itself, so a user whose events the store does not hold yet is not served as new,
and what they just rated is not served back."""

import threading
import time

import pytest
from fastapi.testclient import TestClient

from serving.recent_events import RecentEvents, follow_interactions
from serving.state import ModelState
from streams.core.contracts import Interaction
from streams.kafka.producer import EventProducer
from streams.stores.seen_items import SeenSet
from tests.serving.wiring import make_app

pytestmark = pytest.mark.integration


def test_events_in_flight_shape_the_answer_before_the_store_has_them(settings, catalog, model):
    state = ModelState("ranker")
    state.install(model, "1")
    recent, stop = RecentEvents(horizon_s=60), threading.Event()
    tail = threading.Thread(target=follow_interactions, args=(settings, recent, stop))
    tail.start()

    def store_history(user: str) -> list[str]:
        return []  # the online store: it has seen nothing of this user yet

    store_seen = {"fresh-user": SeenSet(frozenset())}
    api = TestClient(make_app(settings, state, store_history, seen=store_seen.get, recent=recent))
    try:
        before = api.post("/recommend", json={"user_id": "fresh-user", "k": 10}).json()
        assert before["cold_start"] is True
        just_done = [i["item_id"] for i in before["items"][:3]]  # the user acts on what was shown
        time.sleep(1.0)  # the tail's consumer has joined and sits at the topic's end
        with EventProducer(settings, catalog, report_successes=True) as producer:
            for item in just_done:
                producer.send(Interaction(user_id="fresh-user", item_id=item, event_type="click"))
            producer.flush()
        deadline = time.monotonic() + 10
        while len(recent.since("fresh-user", 0.0)) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        after = api.post("/recommend", json={"user_id": "fresh-user", "k": 10}).json()
    finally:
        stop.set()
        tail.join(timeout=30)
    assert after["cold_start"] is False and after["fallback"] is False
    served = [i["item_id"] for i in after["items"]]
    assert not set(served) & set(just_done)  # not served back, though the store has not seen them
    assert served != [i["item_id"] for i in before["items"]]  # a new answer, not the cached cold start
