"""docker-compose.yml in real containers, driven from outside as a user would.

Run by `make compose-test` (infra/containers/compose-test.sh), which builds the images, brings the
stack up on ports of its own and takes it down afterwards; never collected by `make test`. The
checks, in order: every service healthy; events produced to Kafka become features in Redis; a
retrain asked over HTTP ends with a champion in MLflow, trained on the archive the worker wrote
(shared volume); `/recommend` answers from that champion; the API loads the learner's snapshot
(shared volume); Prometheus scrapes every service's /metrics and loads the alert rules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import wait_for

PORT = {
    name: int(os.environ.get(var, default))
    for name, var, default in [
        ("kafka", "KAFKA_PORT", 29092),
        ("redis", "REDIS_PORT", 26379),
        ("mlflow", "MLFLOW_PORT", 25000),
        ("api", "API_PORT", 28000),
        ("prometheus", "PROMETHEUS_PORT", 29090),
    ]
}
API = f"http://localhost:{PORT['api']}"
PROMETHEUS = f"http://localhost:{PORT['prometheus']}"
ROOT = Path(__file__).resolve().parents[2]


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def host_env(tmp_path_factory) -> dict[str, str]:
    """The stack's published ports as STREAMREC_* settings for host-side commands."""
    return {
        **os.environ,
        "STREAMREC_KAFKA_BOOTSTRAP_SERVERS": f"localhost:{PORT['kafka']}",
        "STREAMREC_REDIS_URL": f"redis://localhost:{PORT['redis']}/0",
        "STREAMREC_MLFLOW_TRACKING_URI": f"http://localhost:{PORT['mlflow']}",
        "STREAMREC_RUN_DIR": str(tmp_path_factory.mktemp("host-run")),
    }


@pytest.fixture(scope="module")
def events(host_env, tmp_path_factory) -> list[dict]:
    """A synthetic stream, produced to the stack's Kafka by the host's `streamrec produce`."""
    path = tmp_path_factory.mktemp("events") / "events.jsonl"
    cli = [sys.executable, "-m", "streams.cli.main"]
    subprocess.run(
        [*cli, "generate", "-n", "20000", "--users", "400", "--items", "300", "--seed", "7", "-o", str(path)],
        check=True,
        env=host_env,
        cwd=ROOT,
    )
    subprocess.run([*cli, "produce", str(path), "--strict"], check=True, env=host_env, cwd=ROOT)
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_service_comes_up():
    wait_for("the API answers /health", lambda: get(f"{API}/health").status_code == 200, 600)
    wait_for("Prometheus is ready", lambda: get(f"{PROMETHEUS}/-/ready").status_code == 200, 120)


def test_events_become_features_in_redis(events, host_env):
    """Read back through Feast on the host: the worker in its container wrote the rows."""
    from streams.core.settings import Settings
    from streams.stores.feast import FeatureReader, apply_definitions, open_store

    settings = Settings(
        _env_file=None, **{k[10:].lower(): v for k, v in host_env.items() if k.startswith("STREAMREC_")}
    )
    store = open_store(settings)
    apply_definitions(store, settings.feature_repo)  # the host's own registry file; the rows are in Redis
    reader = FeatureReader(store)
    last_user = events[-1]["user_id"]
    n_events = sum(e["user_id"] == last_user for e in events)

    def row():
        found = reader.read("user_features", "user_id", [last_user])[last_user]
        return found if found and found.get("events_total") == n_events else None

    features = wait_for(f"all {n_events} events of {last_user} in its features", row, 180)
    assert features["recent_items"][-1] == events[-1]["item_id"], features  # the newest last


def test_a_retrain_asked_over_http_ends_with_a_champion(events):
    """The trainer reads the archive the worker wrote on the shared volume and registers in MLflow."""
    answer = httpx.post(f"{API}/retrain", json={"reason": "compose-test", "force": True}, timeout=10)
    assert answer.status_code == 202, answer.text

    def champion():
        models = get(f"{API}/models")
        assert models.status_code == 200, models.text  # also before anything is registered
        registry = models.json().get("registry", {})
        return registry if registry.get("champion") else None

    registry = wait_for("a champion in MLflow", champion, 900, every_s=5)
    assert any(v["trigger"] == "manual" for v in registry["versions"]), registry


def test_recommend_answers_from_the_champion(events):
    wait_for("/ready", lambda: get(f"{API}/ready").status_code == 200, 120)
    champion = get(f"{API}/models").json()["registry"]["champion"]
    user = events[-1]["user_id"]
    answer = httpx.post(f"{API}/recommend", json={"user_id": user, "k": 10}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body["fallback"] and body["model_version"] == str(champion), body
    assert not body["cold_start"] and len(body["items"]) == 10, body
    seen = {e["item_id"] for e in events if e["user_id"] == user}
    assert not seen & {i["item_id"] for i in body["items"]}, "exclude_seen"


def test_the_api_loads_the_learners_snapshot():
    """The learner wrote it on the shared volume; the API (another container) reads it."""
    version = wait_for(
        "the learner's snapshot in the API",
        lambda: get(f"{API}/models").json()["online_learner"]["snapshot_version"],
        120,
    )
    assert int(version) >= 1


def test_prometheus_scrapes_every_service_and_loads_the_rules():
    def targets():
        active = get(f"{PROMETHEUS}/api/v1/targets").json()["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in active}
        return health if health and all(h == "up" for h in health.values()) else None

    health = wait_for("every scrape target up", targets, 120, every_s=5)
    assert set(health) == {"api", "worker", "learner", "trainer"}, health
    processes = get(f"{PROMETHEUS}/api/v1/query", params={"query": "process_resident_memory_bytes"}).json()
    assert {r["metric"]["job"] for r in processes["data"]["result"]} == set(health), processes

    declared = yaml.safe_load((ROOT / "infra" / "monitoring" / "alerts.yml").read_text())
    names = {r["alert"] for g in declared["groups"] for r in g["rules"]}
    groups = get(f"{PROMETHEUS}/api/v1/rules").json()["data"]["groups"]
    assert {r["name"] for g in groups for r in g["rules"]} == names
