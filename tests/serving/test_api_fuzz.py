"""Schemathesis over the OpenAPI schema: generated requests to every endpoint (the app wired to a
real broker, Redis and an MLflow registry with a trained champion) never get a 5xx."""

import threading
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from models.batch.data import frame_from_events
from models.batch.pipeline import TrainConfig
from serving.admin import Admin
from serving.runtime import experiment_router, redis_dedup, watch_champion
from serving.state import ModelState
from streams.core.contracts import Interaction, RetrainRequest
from streams.kafka.producer import EventProducer
from streams.sources.synthetic import SimulationConfig, simulate
from streams.trainer.job import run_training
from tests.serving.wiring import make_app


@pytest.fixture(scope="module")
def wired_app(kafka_bootstrap, redis_url, tmp_path_factory):
    import uuid

    from streams.core.settings import Settings
    from streams.core.topics import TopicCatalog
    from streams.kafka.admin import apply_topics

    tmp = tmp_path_factory.mktemp("fuzz")
    s = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}-",
        run_dir=tmp,
        redis_url=redis_url,
        mlflow_tracking_uri=f"sqlite:///{tmp}/mlflow.db",
        _env_file=None,
    )
    catalog = TopicCatalog.load(s.topics_file, s.topic_prefix)
    apply_topics(s, catalog)
    sim = SimulationConfig(n_events=8_000, n_users=100, n_items=50, n_categories=4, seed=3)  # >= 20 test users
    frame = frame_from_events([m for m in simulate(sim) if isinstance(m, Interaction)])
    run_training(
        s, RetrainRequest(model_name="ranker", trigger="manual", reason="fuzz"), frame, TrainConfig(use_sasrec=False)
    )
    state, stop = ModelState("ranker"), threading.Event()
    threading.Thread(target=watch_champion, args=(s, state, stop, 0.5), daemon=True).start()
    deadline = time.monotonic() + 60
    while state.served.model is None and time.monotonic() < deadline:
        time.sleep(0.1)
    producer = EventProducer(s, catalog, report_successes=True)
    admin = Admin(s, producer)
    yield make_app(s, state, lambda user: ["i1"], producer, redis_dedup(s), admin, experiment_router(s, state, admin))
    stop.set()
    producer.flush(raise_on_failure=False)


def test_no_generated_request_gets_a_5xx(wired_app):
    # schemathesis' pytest plugin (from_fixture) does not run on pytest 9, so each operation's
    # strategy is driven by hypothesis directly
    schema = schemathesis.openapi.from_asgi("/openapi.json", wired_app)
    failures, calls = [], []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def probe(case):
            response = case.call()
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.body!r:.200} -> "
                    f"{response.status_code}: {response.text[:200]}"
                )

        probe()
    assert len(calls) > 100 and not failures, "\n".join(failures[:10])
