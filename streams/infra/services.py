"""The set of local services `streamrec infra` manages, built from Settings."""

from __future__ import annotations

from urllib.parse import urlparse

from streams.core.settings import Settings
from streams.infra.kafka import LocalKafka
from streams.infra.mlflow_server import LocalMlflow
from streams.infra.redis import LocalRedis


def local_services(settings: Settings) -> dict[str, LocalKafka | LocalRedis | LocalMlflow]:
    """Kafka, Redis and MLflow, in start order."""
    host, _, port = settings.kafka_bootstrap_servers.split(",")[0].rpartition(":")
    mlflow_port = urlparse(settings.mlflow_tracking_uri).port or settings.mlflow_port
    return {
        "kafka": LocalKafka(
            settings.run_dir / "kafka", int(port), settings.kafka_controller_port, heap=settings.kafka_heap
        ),
        "redis": LocalRedis(settings.run_dir, settings.redis_url, settings.allow_system_install),
        "mlflow": LocalMlflow(settings.run_dir, mlflow_port),
    }
