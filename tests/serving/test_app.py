"""The HTTP edge with a real trained two-stage model; histories from a dict (a store that is up,
down, or has never seen the user). Ingest talks to the real broker and dedupes in real Redis."""

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from models.batch.data import frame_from_events
from models.batch.pipeline import TrainConfig
from serving.state import ModelState
from streams.core.contracts import Interaction
from streams.sources.synthetic import SimulationConfig, simulate
from streams.stores.seen_items import SeenSet
from tests.serving.wiring import make_app


def client(settings, model, histories, producer=None, seen=None, down=False):
    state = ModelState("ranker")
    if model is not None:
        state.install(model, "7")

    def history(user):
        if down:
            return None  # the history store's adapter: "unavailable"
        return histories.get(user, [])

    return TestClient(make_app(settings, state, history, producer, seen))


def test_known_user_gets_a_ranked_list_without_seen_items_and_with_reasons(settings, model):
    api = client(settings, model, {"u1": ["i1", "i2", "i3"]})
    body = api.post("/recommend", json={"user_id": "u1", "k": 5, "explain": True}).json()
    items = [i["item_id"] for i in body["items"]]
    assert len(items) == 5 and not set(items) & {"i1", "i2", "i3"} and body["fallback"] is False
    assert body["cold_start"] is False
    assert body["model_version"] == "7" and body["recommendation_id"]
    assert any(i["reasons"] for i in body["items"])  # explanations in words
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_exclude_seen_excludes_the_whole_seen_set_not_only_the_recent_history(settings, model):
    state = ModelState("ranker")
    state.install(model, "7")
    history = ["i1", "i2"]
    plain = [i for i, _ in model.recommend(history, 10)]
    seen = set(history) | set(plain[:6])  # items seen long ago: no longer in the recent history
    seen_sets = {"u1": SeenSet(frozenset(seen), latest=1.0)}
    api = TestClient(make_app(settings, state, {"u1": history}.get, seen=seen_sets.get))
    body = api.post("/recommend", json={"user_id": "u1", "k": 10}).json()
    items = [i["item_id"] for i in body["items"]]
    assert len(items) == 10 and not set(items) & seen and body["fallback"] is False
    kept = api.post("/recommend", json={"user_id": "u1", "k": 10, "exclude_seen": False}).json()
    assert set(plain[:6]) <= {i["item_id"] for i in kept["items"]}  # asked to keep them: they come back
    down = TestClient(make_app(settings, state, {"u1": history}.get, seen=lambda user: None))
    assert down.post("/recommend", json={"user_id": "u1", "k": 10}).json()["fallback"] is False  # recent only


def test_unknown_user_gets_a_list_too(settings, model):
    body = client(settings, model, {}).post("/recommend", json={"user_id": "new", "k": 3}).json()
    assert len(body["items"]) == 3 and body["fallback"] is False and body["cold_start"] is True


def test_store_down_gives_a_flagged_fallback_not_a_5xx(settings, model):
    api = client(settings, model, {}, down=True)
    response = api.post("/recommend", json={"user_id": "u1", "k": 4})
    assert response.status_code == 200
    body = response.json()
    assert (
        body["fallback"] is True and body["fallback_reason"] == "user history unavailable" and len(body["items"]) == 4
    )
    assert 'streamrec_api_fallbacks_total{reason="user history unavailable"} 1.0' in api.get("/metrics").text


def test_no_model_yet_is_not_ready_but_still_answers(settings):
    api = client(settings, None, {})
    assert api.get("/ready").status_code == 503 and api.get("/health").status_code == 200
    body = api.post("/recommend", json={"user_id": "u1", "k": 2}).json()
    assert body["fallback"] is True and body["fallback_reason"] == "no model loaded"


@pytest.mark.parametrize(
    "payload, status, words",
    [
        ({"user_id": "u1", "k": 0}, 422, "greater than or equal to 1"),
        ({"user_id": "u1", "k": 10_000}, 422, "over the limit"),
        ({"k": 3}, 422, "user_id"),
        ({"user_id": "u1", "surprise": 1}, 422, "surprise"),
    ],
)
def test_bad_requests_get_readable_4xx(settings, model, payload, status, words):
    response = client(settings, model, {}).post("/recommend", json=payload)
    assert response.status_code == status and words in response.text


def test_body_size_and_batch_limits(settings, model):
    small = settings.model_copy(update={"serve_max_body_bytes": 1000, "serve_max_batch": 2})
    api = client(small, model, {})
    assert (
        api.post(
            "/recommend", content=b"{" + b" " * 2000 + b"}", headers={"content-type": "application/json"}
        ).status_code
        == 413
    )


def test_a_chunked_body_cannot_pass_the_size_limit(settings, model):
    small = settings.model_copy(update={"serve_max_body_bytes": 10_000})
    api = client(small, model, {})

    def chunks():  # no Content-Length: the body arrives in pieces
        yield b'[{"user_id": "u1", "item_id": "i1", "event_type": "click", "context": {"x": "'
        for _ in range(50):
            yield b"y" * 1000
        yield b'"}}]'

    response = api.post("/events/batch", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert api.post("/recommend", json={"user_id": "u1", "k": 2}).status_code == 200  # small bodies pass


def test_write_endpoints_need_the_api_key(settings, model):
    locked = settings.model_copy(update={"serve_api_keys": SecretStr("k1,k2")})
    api = client(locked, model, {})
    event = {"user_id": "u1", "item_id": "i1", "event_type": "click"}
    assert api.post("/events", json=event).status_code == 401
    assert api.post("/events", json=event, headers={"X-API-Key": "nope"}).status_code == 401
    assert api.post("/events", json=event, headers={"X-API-Key": "k2"}).status_code == 503  # authorised; no broker here
    assert "k1" not in api.post("/events", json=event).text  # the keys never leak


@pytest.mark.integration
def test_events_reach_kafka_once_per_event_id(feature_settings, catalog, model):
    from serving.runtime import redis_dedup
    from streams.kafka.producer import EventProducer
    from streams.kafka.readers import read_topic

    s = feature_settings
    with EventProducer(s, catalog, report_successes=True) as producer:
        api = client(s, model, {}, producer=producer, seen=redis_dedup(s))
        event = {"event_id": "e-1", "user_id": "u1", "item_id": "i1", "event_type": "click"}
        first = api.post("/events", json=event)
        again = api.post("/events", json=event)
        batch = api.post("/events/batch", json=[event, {**event, "event_id": "e-2"}])
        bad = api.post("/events", json={**event, "event_type": "teleport"})
    assert first.status_code == 202 and first.json()["accepted"] == 1
    assert again.json() == {"accepted": 0, "duplicates": 1, "event_id": "e-1"}
    assert batch.json() == {"accepted": 1, "duplicates": 1}
    assert bad.status_code == 422 and "event_type" in bad.text
    records = read_topic(s, catalog.name("interactions"), expected=2, max_seconds=20, idle_timeout_s=2)
    assert sorted(Interaction.model_validate_json(r.value()).event_id for r in records) == ["e-1", "e-2"]


@pytest.mark.integration
def test_the_kafka_path_answers_requests_with_the_same_pipeline(feature_settings, catalog, model):
    import threading

    from serving.kafka_path import serve_requests
    from serving.recommender import Recommender
    from streams.core.contracts import Recommendation, RecommendationRequest, decode
    from streams.kafka.producer import EventProducer
    from streams.kafka.readers import read_topic

    s = feature_settings
    state = ModelState("ranker")
    state.install(model, "7")
    histories = {"u1": ["i1", "i2"]}
    with EventProducer(s, catalog, report_successes=True) as producer:
        producer.send(RecommendationRequest(request_id="r-1", user_id="u1", k=4))
        producer.send(RecommendationRequest(request_id="r-2", user_id="stranger", k=2))
        producer.send_bytes(catalog.name("recommendation-requests"), b"u9", b'{"user_id": "u9", "k": -1}')
        producer.flush()
        counts = serve_requests(s, Recommender(state, histories.get), producer, threading.Event(), idle_exit_s=3)
    assert counts == {"answered": 2, "dead_lettered": 1}
    answers = {
        r.request_id: r
        for r in (
            decode(Recommendation, m.value())
            for m in read_topic(s, catalog.name("recommendations"), expected=2, max_seconds=20, idle_timeout_s=2)
        )
    }
    assert len(answers["r-1"].items) == 4 and not {i.item_id for i in answers["r-1"].items} & {"i1", "i2"}
    assert answers["r-1"].model_version == "7" and len(answers["r-2"].items) == 2
    letters = list(read_topic(s, catalog.name("interactions-dlq"), expected=1, max_seconds=20, idle_timeout_s=2))
    headers = dict(letters[0].headers())
    assert headers["original.topic"].decode() == catalog.name("recommendation-requests")
    assert b"k" in headers["error.message"]


@pytest.mark.integration
def test_models_answers_before_anything_is_registered(settings, catalog, tmp_path):
    """A fresh deployment: the registry has no model of that name yet (found by make compose-test)."""
    from serving.admin import Admin
    from streams.kafka.producer import EventProducer

    s = settings.model_copy(update={"mlflow_tracking_uri": f"sqlite:///{tmp_path}/mlflow.db", "run_dir": tmp_path})
    with EventProducer(s, catalog) as producer:
        api = TestClient(make_app(s, ModelState("ranker"), {}.get, producer, admin=Admin(s, producer)))
        answer = api.get("/models")
    assert answer.status_code == 200, answer.text
    assert answer.json()["registry"] == {"champion": None, "challenger": None, "versions": []}


@pytest.mark.integration
def test_admin_endpoints_and_hot_reload_against_mlflow_and_kafka(settings, catalog, tmp_path):
    import threading
    import time

    from pydantic import SecretStr

    from models.batch.ranker import RankerConfig
    from serving.admin import Admin
    from serving.runtime import watch_champion
    from streams.core.contracts import RetrainRequest
    from streams.kafka.producer import EventProducer
    from streams.trainer.job import run_training

    s = settings.model_copy(
        update={
            "mlflow_tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
            "run_dir": tmp_path,
            "serve_api_keys": SecretStr("admin-key"),
        }
    )
    sim = SimulationConfig(n_events=8_000, n_users=100, n_items=80, n_categories=4, seed=2)
    frame = frame_from_events([m for m in simulate(sim) if isinstance(m, Interaction)])
    manual = RetrainRequest(model_name="ranker", trigger="manual", reason="test")
    assert run_training(s, manual, frame, TrainConfig(use_sasrec=False)).version == "1"
    worse = TrainConfig(
        use_sasrec=False, ease_l2=1e9, knn_neighbours=1, ranker=RankerConfig(candidates_per_generator=2)
    )
    assert run_training(s, manual.model_copy(update={"request_id": "second"}), frame, worse).status == "not_promoted"

    state, stop = ModelState("ranker"), threading.Event()
    threading.Thread(target=watch_champion, args=(s, state, stop, 0.3), daemon=True).start()
    key = {"X-API-Key": "admin-key"}
    with EventProducer(s, catalog, report_successes=True) as producer:
        api = TestClient(make_app(s, state, {}.get, producer, admin=Admin(s, producer)))
        deadline = time.monotonic() + 30
        while state.served.version != "1" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert api.get("/ready").status_code == 200
        listed = api.get("/models").json()
        assert listed["registry"]["champion"] == "1" and listed["registry"]["challenger"] == "2"
        by_version = {v["version"]: v["aliases"] for v in listed["registry"]["versions"]}
        assert by_version["1"] == ["champion"] and by_version["2"] == ["challenger"]  # each version says its aliases
        assert api.post("/models/ranker/promote", json={"version": "2"}).status_code == 401
        answers = []
        promoted = api.post("/models/ranker/promote", json={"version": "2"}, headers=key)
        assert promoted.status_code == 200 and promoted.json()["alias"] == "champion"
        while state.served.version != "2" and time.monotonic() < deadline:  # hot reload, answering all along
            answers.append(api.post("/recommend", json={"user_id": "u1", "k": 3}).status_code)
        assert state.served.version == "2" and set(answers) <= {200}
        assert api.post("/models/ranker/promote", json={"version": "99"}, headers=key).status_code == 404
        rolled = api.post("/models/ranker/rollback", headers=key)
        assert rolled.status_code == 200 and rolled.json()["version"] == "1"
        retrain = api.post("/retrain", json={"reason": "from the API", "dry_run": True}, headers=key)
        assert retrain.status_code == 202 and retrain.json()["request_id"]
        assert "learner" in api.get("/drift").json()
    stop.set()


def test_ingest_that_the_broker_refused_can_be_retried(settings, model, redis_url):
    from serving.runtime import redis_dedup
    from streams.core.errors import DeliveryError

    class RefusingProducer:
        def send(self, message):
            pass

        def send_all_and_wait(self, messages, timeout_s):
            raise DeliveryError("broker unavailable")

    s = settings.model_copy(update={"redis_url": redis_url})
    api = client(s, model, {}, producer=RefusingProducer(), seen=redis_dedup(s))
    event = {"event_id": "retry-me", "user_id": "u1", "item_id": "i1", "event_type": "click"}
    refused = api.post("/events", json=event)
    assert refused.status_code == 503 and "retry" in refused.json()["detail"]
    assert redis_dedup(s)(["retry-me"]) == [False]  # not remembered as accepted: the retry goes through


def test_repeated_requests_reuse_the_ranking_until_the_model_changes(settings, model):
    calls = []

    def history(user):
        calls.append(user)
        return ["i1", "i2"]

    state = ModelState("ranker")
    state.install(model, "7")
    api = TestClient(make_app(settings.model_copy(update={"serve_cache_ttl_s": 60.0}), state, history))
    first = api.post("/recommend", json={"user_id": "u1", "k": 3}).json()
    second = api.post("/recommend", json={"user_id": "u1", "k": 3}).json()
    assert first["items"] == second["items"] and len(calls) == 1  # the second came from the cache
    assert first["recommendation_id"] != second["recommendation_id"]  # still its own impression
    state.install(model, "8")
    api.post("/recommend", json={"user_id": "u1", "k": 3})
    assert len(calls) == 2  # a new version is never answered from the old one's cache


def test_the_cache_never_serves_a_list_from_before_the_users_latest_event(settings, model):
    calls, seen = [], {"u1": SeenSet(frozenset({"i1"}), latest=100.0)}

    def history(user):
        calls.append(user)
        return sorted(seen[user].items)

    state = ModelState("ranker")
    state.install(model, "7")
    api = TestClient(make_app(settings.model_copy(update={"serve_cache_ttl_s": 60.0}), state, history, seen=seen.get))
    first = [i["item_id"] for i in api.post("/recommend", json={"user_id": "u1", "k": 5}).json()["items"]]
    api.post("/recommend", json={"user_id": "u1", "k": 5})
    assert len(calls) == 1  # nothing happened since: cached
    seen["u1"] = SeenSet(frozenset({"i1", first[0]}), latest=101.0)  # the user took the top item
    after = [i["item_id"] for i in api.post("/recommend", json={"user_id": "u1", "k": 5}).json()["items"]]
    assert len(calls) == 2 and first[0] not in after  # ranked again, from the new history


@pytest.mark.parametrize(
    "raw",
    [
        b'{"user_id": "u1", "k": NaN}',
        b'{"user_id": "u1", "k": 1e400}',
        b'{"user_id": "u1", "k": -Infinity}',
        b'{"user_id": "\\ud800", "k": 3}',
        b'{"user_id": "u1", "k": 3, "context": {"device": NaN}}',
    ],
)
def test_odd_json_gets_a_readable_422_never_a_500(settings, model, raw):
    api = TestClient(make_app(settings, ModelState("ranker"), lambda user: []), raise_server_exceptions=False)
    response = api.post("/recommend", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]  # says what is wrong (a field list, or the contract's message)


def test_the_api_key_is_checked_before_the_body(settings, model):
    from pydantic import SecretStr

    locked = settings.model_copy(update={"serve_api_keys": SecretStr("k1")})
    api = TestClient(make_app(locked, ModelState("ranker"), lambda user: []))
    malformed = {"content": b"{not json", "headers": {"content-type": "application/json"}}
    assert api.post("/events", **malformed).status_code == 401  # a stranger learns nothing about the body
    assert (
        api.post(
            "/events", content=b"{not json", headers={"content-type": "application/json", "X-API-Key": "k1"}
        ).status_code
        == 422
    )


def test_the_openapi_document_names_the_key_only_when_keys_are_configured(settings, model):
    open_doc = client(settings, model, {}).get("/openapi.json").json()
    keyed = settings.model_copy(update={"serve_api_keys": SecretStr("k1")})
    keyed_doc = client(keyed, model, {}).get("/openapi.json").json()
    retrain, events = ("/retrain", "post"), ("/events", "post")
    for path, method in (retrain, events):
        assert "security" not in open_doc["paths"][path][method]
        assert "401" not in open_doc["paths"][path][method]["responses"]
        assert keyed_doc["paths"][path][method]["security"] and "401" in keyed_doc["paths"][path][method]["responses"]
    assert "securitySchemes" not in open_doc["components"] and "securitySchemes" in keyed_doc["components"]
    recommend = keyed_doc["paths"]["/recommend"]["post"]
    assert "security" not in recommend and {"400", "413", "422", "503"} <= set(recommend["responses"])
    assert keyed_doc["components"]["schemas"]["RecommendBody"]["properties"]["k"]["maximum"] == settings.serve_max_k
