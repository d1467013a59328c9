"""Shared fixtures. One Kafka fixture for the whole suite, in this order of preference:

1. ``KAFKA_BOOTSTRAP_SERVERS`` (a broker someone already runs, e.g. ``streamrec infra up``);
2. a throw-away broker started from the local jars (free ports, temp dir) -- the usual case;
3. testcontainers, where a Docker engine exists.

With ``CI=true`` a missing broker fails the run; elsewhere the integration tests skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from streams.core.settings import Settings
from streams.core.topics import TopicCatalog

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def required_tool(name: str, installed_by: str) -> str:
    """The path of a program a test needs: a failure in CI when it is missing, a skip elsewhere."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI needs {name} ({installed_by})", pytrace=False)
        pytest.skip(f"{name} not installed")
    return path


def wait_for(what: str, check, timeout_s: float, every_s: float = 1.0, retry_on=(OSError, ValueError)):
    """``check()``'s first truthy answer; fails naming ``what`` and the last answer after ``timeout_s``.
    Exceptions in ``retry_on`` (besides httpx's errors) count as "not yet"."""
    import time

    import httpx

    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (httpx.HTTPError, *retry_on) as error:
            last = repr(error)
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s (last: {last})")


def _no_broker(reason: str):
    if IN_CI:
        pytest.fail(f"CI needs a real Kafka broker: {reason}", pytrace=False)
    pytest.skip(f"no Kafka broker: {reason}")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory) -> str:
    from streams.kafka.admin import wait_until_ready

    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        wait_until_ready(Settings(kafka_bootstrap_servers=bootstrap), timeout_s=30)
        yield bootstrap
        return
    reasons = []
    if shutil.which("java"):
        from streams.infra.kafka import LocalKafka, free_port

        for _attempt in range(2):  # a second try on fresh ports (a port can be taken between pick and bind)
            broker = LocalKafka(tmp_path_factory.mktemp("kafka"), free_port(), free_port(), heap="768m")
            try:
                broker.start(timeout_s=120)
            except Exception as exc:  # noqa: BLE001 - reported below
                broker.stop()
                reasons.append(f"local jars: {exc}")
                continue
            yield broker.bootstrap
            broker.stop()
            return
    else:
        reasons.append("java not found")
    try:
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft().start()
    except Exception as exc:  # noqa: BLE001 - no Docker engine
        reasons.append(f"testcontainers: {type(exc).__name__}")
        _no_broker("; ".join(reasons))
    else:
        yield container.get_bootstrap_server()
        container.stop()


@pytest.fixture
def settings(kafka_bootstrap, tmp_path) -> Settings:
    """Settings on the test broker, with a unique topic prefix so tests never share topics."""
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}-",
        run_dir=tmp_path / "run",
        _env_file=None,
    )


@pytest.fixture
def catalog(settings) -> TopicCatalog:
    """The project's topics.yaml under the test prefix, applied to the broker."""
    from streams.kafka.admin import apply_topics

    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    apply_topics(settings, catalog)
    return catalog


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A throw-away redis-server on a free port (REDIS_URL to use an existing one)."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    from streams.infra.kafka import free_port
    from streams.infra.redis import LocalRedis

    if not shutil.which("redis-server"):
        if IN_CI:
            pytest.fail("CI needs redis-server (infra/setup.sh installs it)", pytrace=False)
        pytest.skip("redis-server not installed")
    server = LocalRedis(tmp_path_factory.mktemp("redis"), f"redis://127.0.0.1:{free_port()}/0", allow_install=False)
    server.start()
    yield f"redis://127.0.0.1:{server.port}/0"
    server.stop()


@pytest.fixture
def feature_settings(settings, redis_url, tmp_path) -> Settings:
    """Settings for the feature pipeline: test broker, test Redis, own group, prefix and run dir."""
    return settings.model_copy(
        update={
            "redis_url": redis_url,
            "worker_group": f"{settings.topic_prefix}features",
            "worker_metrics_port": 0,
            "archive_dir": tmp_path / "archive",
            "worker_batch_size": 500,
        }
    )


# tests/containers drives the compose stack that `make compose-test` brings up; never in `make test`
collect_ignore_glob = [] if os.environ.get("STREAMREC_CONTAINERS") == "1" else ["containers/*"]
