"""What is popular right now, from the real broker: the API's tail counts the newest interactions
(reading the window back from the topic when it starts, a re-sent copy once), an answer fuses
them with the model's list, and the judge of the weight learns from the user's next interaction."""

import threading
import time

import pytest
from fastapi.testclient import TestClient

from serving.fusion_judge import FusionJudge
from serving.recent_events import RecentEvents, follow_interactions
from serving.state import ModelState
from streams.core.contracts import Interaction
from streams.core.popular_now import PopularNow
from streams.kafka.producer import EventProducer
from tests.serving.wiring import make_app

pytestmark = pytest.mark.integration


def _clicks(item: str, n: int, event_id: str | None = None) -> list[Interaction]:
    return [
        Interaction(
            user_id=f"crowd{k}", item_id=item, event_type="click", **({"event_id": event_id} if event_id else {})
        )
        for k in range(n)
    ]


def _until(condition, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_the_tail_counts_the_newest_interactions_and_answers_fuse_them(settings, catalog, model):
    judge = FusionJudge()
    with EventProducer(settings, catalog, report_successes=True) as producer:
        for event in _clicks("hot-before-start", 30):
            producer.send(event)
        producer.flush()
    popular, recent, stop = PopularNow(window=200, rebuild_s=0), RecentEvents(horizon_s=60), threading.Event()
    tail = threading.Thread(target=follow_interactions, args=(settings, recent, stop, popular, judge))
    tail.start()
    state = ModelState("ranker")
    state.install(model, "1")
    fused = TestClient(
        make_app(settings, state, lambda u: ["i1"], recent=recent, popular_now=popular, popular_now_weight=0.5)
    )
    alone = TestClient(make_app(settings, state, lambda u: ["i1"], recent=recent, popular_now=popular, judge=judge))
    try:
        assert _until(lambda: popular.top(1) == ["hot-before-start"])  # read back from before the API started
        with EventProducer(settings, catalog, report_successes=True) as producer:
            for event in _clicks("hot-now", 60) + _clicks("re-sent", 40, event_id="one-event"):
                producer.send(event)
            producer.flush()
        assert _until(lambda: len(popular) == 30 + 60 + 1)  # forty copies of one event count once
        assert popular.top(3) == ["hot-now", "hot-before-start", "re-sent"]
        answer = fused.post("/recommend", json={"user_id": "someone", "k": 10, "explain": True}).json()
        model_only = alone.post("/recommend", json={"user_id": "someone-else", "k": 10}).json()
        with EventProducer(settings, catalog, report_successes=True) as producer:  # what the user did next
            producer.send(Interaction(user_id="someone-else", item_id="hot-now", event_type="click"))
            producer.flush()
        judged = _until(lambda: judge.judged == 1)
    finally:
        stop.set()
        tail.join(timeout=30)
    served = {i["item_id"]: i["reasons"] for i in answer["items"]}
    assert "hot-now" in served and "popular right now" in served["hot-now"]  # unknown to the model, trending
    assert not {"hot-now", "hot-before-start"} & {i["item_id"] for i in model_only["items"]}
    assert answer["fallback"] is False
    assert judged  # the answer under the model's own weight (0), judged on the user's next interaction
