"""Answers reflect what the user just did, through the real path: Kafka -> the worker -> the
Feast online store and the seen-set in Redis -> the Recommender that serving runs, ranking with a
model that reads the online features."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from models.batch.data import frame_from_events
from models.batch.pipeline import TrainConfig, train_and_evaluate
from serving.cache import TTLCache
from serving.features import OnlineFeatures
from serving.recommender import Recommender
from serving.state import ModelState
from streams.core.contracts import Interaction, Item, RecommendationRequest
from streams.features.point_in_time import PointInTime
from streams.kafka.producer import EventProducer
from streams.sources.synthetic import SimulationConfig, simulate
from streams.stores.seen_items import SeenItems
from tests.streams.integration.test_worker_features import (
    publish,
    start_with_catalogue,
    wait_until_features_match,
)

pytestmark = pytest.mark.integration

REFLECTED_WITHIN_S = 0.5  # events acknowledged this long before a request are in its answer
CHANGED_WITHIN_S = 1.0  # a user's clicks on a category change their next answer within this
CLICKS = 8


def test_a_users_clicks_on_a_category_reach_their_next_answer_within_a_second(pipeline, feast_reader):
    settings, catalog, start = pipeline
    now = datetime.now(UTC)
    sim = SimulationConfig(
        n_events=4000, n_users=60, n_items=120, n_categories=6, seed=25, start=now - timedelta(hours=4)
    )
    messages = list(simulate(sim))
    items = [m for m in messages if isinstance(m, Item)]
    events = [m for m in messages if isinstance(m, Interaction) and m.timestamp < now]
    categories = {i.item_id: i.categories[0] for i in items}
    worker = start_with_catalogue(start, settings, catalog, items, "w-fresh")
    publish(settings, catalog, events)
    wait_until_features_match(settings, feast_reader(settings), items, events, 120, worker)

    # a model that ranks with the online features, trained point in time on the same events
    frame = frame_from_events(events)
    result = train_and_evaluate(frame, TrainConfig(use_sasrec=False), point_in_time=PointInTime(frame, categories))
    assert result.model.online
    state = ModelState("ranker")
    state.install(result.model, "1")
    features = OnlineFeatures.for_settings(settings)
    recommender = Recommender(state, cache=TTLCache(2.0), seen=SeenItems.for_settings(settings).read, features=features)

    def answer(user: str) -> list[str]:
        served, ranked = recommender.answer(RecommendationRequest(user_id=user, k=10))
        assert not ranked.fallback, ranked.reason
        return [i.item_id for i in served.items]

    # a user with a short history (what they do now weighs), and the category least present in their answer
    counts = frame["user_id"].value_counts()
    user = counts[counts >= 10].index[-1]
    before = answer(user)
    seen = set(frame.loc[frame["user_id"] == user, "item_id"])
    in_answer = {c: sum(categories[i] == c for i in before) for c in set(categories.values())}
    target = min(sorted(in_answer), key=lambda c: in_answer[c])
    fresh = [i.item_id for i in items if categories[i.item_id] == target and i.item_id not in seen][:CLICKS]
    assert len(fresh) == CLICKS
    session = f"fresh-{user}"
    clicks = [
        Interaction(
            user_id=user,
            item_id=item,
            event_type="click",
            session_id=session,
            timestamp=datetime.now(UTC) + timedelta(milliseconds=n),
        )
        for n, item in enumerate(fresh)
    ]
    with EventProducer(settings, catalog, report_successes=True) as producer:
        for click in clicks:
            producer.send(click)
        producer.flush()
    acknowledged = time.monotonic()

    # 0.5 s after the broker acknowledged them, the clicks are in the answer's inputs and output
    time.sleep(max(0.0, acknowledged + REFLECTED_WITHIN_S - time.monotonic()))
    reflected = answer(user)
    view = features.user(user)
    assert view.history[-CLICKS:] == fresh, f"history after {REFLECTED_WITHIN_S}s: {view.history[-CLICKS:]}"
    assert view.row["session_events"] == CLICKS and view.row["top_categories"][0] == target
    assert not set(reflected) & set(fresh), "clicked items are excluded (seen-set)"

    # and the answer turned towards the clicked category within a second
    def target_count(ranked: list[str]) -> int:
        return sum(categories[i] == target for i in ranked)

    changed_after = time.monotonic() - acknowledged
    while target_count(reflected) <= in_answer[target] and changed_after < CHANGED_WITHIN_S:
        time.sleep(0.02)
        reflected, changed_after = answer(user), time.monotonic() - acknowledged
    assert target_count(reflected) > in_answer[target], (
        f"{target} items: {in_answer[target]} before, {target_count(reflected)} {changed_after:.2f}s after the clicks"
    )
    assert changed_after <= CHANGED_WITHIN_S
    print(f"answer turned to {target} {changed_after:.3f}s after the broker acknowledged the clicks")
