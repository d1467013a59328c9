"""Experiments through the real API, Kafka and Redis: variants serve requests, rewards are
interactions carrying a recommendation_id that the attribution stream counts once, and the
allocation moves to the better variant."""

import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from serving.experiments.attribution import attribute_rewards
from serving.experiments.router import ExperimentRouter
from serving.experiments.store import ExperimentStore
from serving.state import ModelState
from streams.core.contracts import Interaction
from streams.kafka.producer import EventProducer
from tests.serving.wiring import make_app

KEY = {"X-API-Key": "admin-key"}


@pytest.fixture
def rig(settings, catalog, redis_url, model):
    import redis

    s = settings.model_copy(update={"redis_url": redis_url, "serve_api_keys": SecretStr("admin-key")})
    state = ModelState("ranker")
    state.install(model, "1")
    promoted = []
    store = ExperimentStore(redis.Redis.from_url(redis_url), s.topic_prefix)
    router = ExperimentRouter(
        store,
        state,
        load_model=lambda version: model,
        resolve={"champion": "1", "challenger": "2", "1": "1", "2": "2"}.get,
        promote=lambda *args: promoted.append(args),
        refresh_s=0.05,
        seed=3,
    )
    producer = EventProducer(s, catalog, report_successes=True)
    api = TestClient(make_app(s, state, lambda user: [], producer, admin=None, experiments=router))
    yield s, api, router, producer, promoted
    producer.flush(raise_on_failure=False)


def create(api, **spec) -> str:
    body = {
        "name": "ranker v2",
        "variants": [{"name": "control", "model": "champion"}, {"name": "candidate", "model": "challenger"}],
    } | spec
    response = api.post("/experiments", json=body, headers=KEY)
    assert response.status_code == 201, response.text
    return response.json()["experiment_id"]


def wait_for(condition, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_thompson_moves_traffic_to_the_variant_whose_lists_convert(rig):
    settings, api, router, producer, _ = rig
    experiment_id = create(api, policy="thompson", min_impressions=50)
    assert api.post(f"/experiments/{experiment_id}/start").status_code == 401  # admin endpoint
    assert api.post(f"/experiments/{experiment_id}/start", headers=KEY).json()["status"] == "running"

    stop = threading.Event()
    counts = {}
    attribution = threading.Thread(
        target=lambda: counts.update(attribute_rewards(settings, router.store, stop, refresh_s=0.5))
    )
    attribution.start()
    rng, served, rewards = np.random.default_rng(0), [], []
    rates = {"control": 0.04, "candidate": 0.30}
    try:
        for round_ in range(8):  # 8 rounds of 100 requests; rewards flow back through Kafka between rounds
            for n in range(100):
                body = api.post("/recommend", json={"user_id": f"u{round_}-{n}", "k": 5}).json()
                served.append(body["variant"])
                if rng.random() < rates[body["variant"]]:
                    rewards.append(
                        Interaction(
                            user_id=body["user_id"],
                            item_id=body["items"][0]["item_id"],
                            event_type="click",
                            recommendation_id=body["recommendation_id"],
                        )
                    )
                    producer.send(rewards[-1])
                    producer.send(
                        Interaction(
                            user_id=body["user_id"],
                            item_id=body["items"][1]["item_id"],
                            event_type="click",
                            recommendation_id=body["recommendation_id"],
                        )
                    )
            producer.flush()
            wait_for(lambda: sum(s.conversions for s in router.store.stats(experiment_id).values()) == len(rewards))
        results = api.get(f"/experiments/{experiment_id}/results").json()
        by_name = {row["variant"]: row for row in results["variants"]}
        assert sum(row["conversions"] for row in by_name.values()) == len(rewards)  # two clicks, one conversion
        assert by_name["candidate"]["probability_to_be_best"] > 0.95
        assert served[-200:].count("candidate") / 200 > 0.7  # the allocation moved
        assert served[:100].count("candidate") < 80

        for event in rewards:  # a replay of the same interactions counts nothing new
            producer.send(event)
        producer.flush()
        time.sleep(2.0)
        again = api.get(f"/experiments/{experiment_id}/results").json()
        assert [r["conversions"] for r in again["variants"]] == [r["conversions"] for r in results["variants"]]
    finally:
        stop.set()
        attribution.join(timeout=30)

    assert api.post(f"/experiments/{experiment_id}/stop", headers=KEY).json()["status"] == "stopped"
    assert api.post("/recommend", json={"user_id": "after", "k": 3}).json()["variant"] is None


def test_canary_steps_up_and_promotes_the_challenger_when_guardrails_hold(rig):
    _, api, router, _, promoted = rig
    # the latency guardrail has its own tests (test_experiment_rules); here the mean of ~30 requests on a
    # loaded two-core machine is noise, so it is loosened to keep this test about stepping up
    experiment_id = create(
        api,
        policy="canary",
        canary_stages=[10, 50, 100],
        # the 10 % stage gets about 30 of the 300 requests (users are hashed with the experiment's
        # random id); 20 failed to be reached about once in 50 runs, 10 practically never
        min_impressions=10,
        auto_promote=True,
        guardrails={"max_latency_ratio": 50},
    )
    api.post(f"/experiments/{experiment_id}/start", headers=KEY)
    shares = []
    for stage in range(3):
        variants = [
            api.post("/recommend", json={"user_id": f"s{stage}-{n}", "k": 3}).json()["variant"] for n in range(300)
        ]
        shares.append(variants.count("candidate") / len(variants))
        router.step()
    assert shares[0] < 0.2 and 0.35 < shares[1] < 0.65 and shares[2] == 1.0
    state = api.get(f"/experiments/{experiment_id}").json()
    assert state["status"] == "promoted" and state["winner"] == "candidate"
    assert promoted and promoted[0][:2] == ("ranker", "2")


def test_a_second_running_experiment_and_bad_variants_are_refused(rig):
    _, api, _, _, _ = rig
    first = create(api)
    api.post(f"/experiments/{first}/start", headers=KEY)
    second = create(api)
    assert api.post(f"/experiments/{second}/start", headers=KEY).status_code == 409
    missing = create(api, variants=[{"name": "a", "model": "champion"}, {"name": "b", "model": "99"}])
    api.post(f"/experiments/{first}/stop", headers=KEY)
    response = api.post(f"/experiments/{missing}/start", headers=KEY)
    assert response.status_code == 422 and "99" in response.text
    assert api.post("/experiments", json={"name": "x", "variants": []}, headers=KEY).status_code == 422
    assert api.get("/experiments/nope").status_code == 404


def test_new_users_get_an_explored_list_that_learns_from_attributed_clicks(settings, catalog, redis_url, model):
    import redis

    from serving.exploration import ColdStartExplorer

    s = settings.model_copy(update={"redis_url": redis_url, "serve_cache_ttl_s": 0.0})
    state = ModelState("ranker")
    state.install(model, "1")
    explorer = ColdStartExplorer(redis.Redis.from_url(redis_url), s.topic_prefix, candidates=40, refresh_s=0.0, seed=1)
    producer = EventProducer(s, catalog, report_successes=True)
    api = TestClient(make_app(s, state, lambda user: [], producer, explorer=explorer))
    cold = [i for i, _ in model.recommend([], 40)]
    liked = cold[25]  # deep in the model's cold-start list: mobile users love it

    def shown(n, round_):
        return [
            api.post(
                "/recommend", json={"user_id": f"new-{round_}-{i}", "k": 5, "context": {"device": "mobile"}}
            ).json()
            for i in range(n)
        ]

    before = sum(liked in [i["item_id"] for i in body["items"]] for body in shown(100, "a"))
    stop, store = threading.Event(), ExperimentStore(redis.Redis.from_url(redis_url), s.topic_prefix)
    worker = threading.Thread(target=attribute_rewards, args=(s, store, stop), kwargs={"explorer": explorer})
    worker.start()
    try:
        for round_ in range(6):
            for body in shown(100, round_):
                if liked in (items := [i["item_id"] for i in body["items"]]):
                    producer.send(
                        Interaction(
                            user_id=body["user_id"],
                            item_id=liked,
                            event_type="click",
                            recommendation_id=body["recommendation_id"],
                        )
                    )
                assert body["fallback"] is False and len(items) == 5
            producer.flush()
            time.sleep(1.0)
    finally:
        stop.set()
        worker.join(timeout=30)
    after = sum(liked in [i["item_id"] for i in body["items"]] for body in shown(100, "z"))
    desktop = api.post("/recommend", json={"user_id": "new-desk", "k": 5, "context": {"device": "desktop"}}).json()
    assert after > 80 and after > 3 * max(before, 1), (before, after)
    assert desktop["items"] and desktop["fallback"] is False


def test_experiments_answer_503_not_500_while_redis_is_away(settings, model):
    import redis

    from streams.infra.kafka import free_port

    away = redis.Redis(port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    state = ModelState("ranker")
    state.install(model, "1")
    router = ExperimentRouter(
        ExperimentStore(away, settings.topic_prefix), state, load_model=lambda v: model, resolve={"1": "1"}.get
    )
    api = TestClient(make_app(settings, state, lambda user: [], experiments=router))
    listed = api.get("/experiments")
    assert listed.status_code == 503 and "store is unavailable" in listed.json()["detail"]
