"""Read your writes, on the real broker: an event the broker acknowledged is reflected by the very
next answer, with no pause between the acknowledgement and the request."""

import threading

import pytest
from fastapi.testclient import TestClient

from serving.read_your_writes import ReadYourWrites, Settled, partition_of
from serving.recent_events import RecentEvents, follow_interactions
from serving.state import ModelState
from streams.core.contracts import Interaction
from streams.kafka.producer import EventProducer
from streams.stores.seen_items import SeenSet
from tests.serving.wiring import make_app

pytestmark = pytest.mark.integration

ROUNDS = 20


def test_an_acknowledged_event_is_never_served_back(settings, catalog, model):
    state = ModelState("ranker")
    state.install(model, "1")
    recent, stop = RecentEvents(horizon_s=60), threading.Event()
    outcomes: list[Settled] = []
    reads = ReadYourWrites(settings, recent, budget_s=2.0, counted=outcomes.append)
    tail = threading.Thread(target=follow_interactions, args=(settings, recent, stop))
    tail.start()
    store_seen = {f"ryw-{n}": SeenSet(frozenset()) for n in range(ROUNDS)}  # the store has seen nothing yet
    api = TestClient(
        make_app(settings, state, lambda user: [], seen=store_seen.get, recent=recent, settle=reads.settle)
    )
    served_back = []
    try:
        with EventProducer(settings, catalog, report_successes=True) as producer:
            for n in range(ROUNDS):
                user = f"ryw-{n}"
                top = [i["item_id"] for i in api.post("/recommend", json={"user_id": user, "k": 5}).json()["items"]]
                producer.send(Interaction(user_id=user, item_id=top[0], event_type="click"))
                producer.flush()  # acknowledged: from here on, every answer must reflect it
                after = api.post("/recommend", json={"user_id": user, "k": 5}).json()
                assert after["cold_start"] is False, f"round {n}: answered as a new user ({outcomes})"
                served_back += [top[0]] if top[0] in {i["item_id"] for i in after["items"]} else []
    finally:
        stop.set()
        tail.join(timeout=30)
        reads.close()
    assert served_back == [], outcomes
    assert outcomes.count(Settled.CAUGHT_UP) == len(outcomes) == 2 * ROUNDS


def test_the_users_partition_is_the_one_the_producer_chose(settings, catalog):
    partitions = catalog["interactions"].partitions
    with EventProducer(settings, catalog, report_successes=True) as producer:
        chosen = {
            f"where-{n}": producer.send_and_wait(Interaction(user_id=f"where-{n}", item_id="i", event_type="view"))[0]
            for n in range(30)
        }
    assert len(set(chosen.values())) > 1  # the users spread over partitions: the check below means something
    assert {user: partition_of(user, partitions) for user in chosen} == chosen
