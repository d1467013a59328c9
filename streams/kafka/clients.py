"""The librdkafka configuration of every streamrec client, built in one place from Settings.

>>> from streams.core.settings import Settings
>>> conf = consumer_config(Settings(_env_file=None, kafka_bootstrap_servers="b:9092"), "g1")
>>> conf["bootstrap.servers"], conf["group.id"], conf["enable.auto.commit"]
('b:9092', 'g1', False)
>>> producer_config(Settings(_env_file=None))["acks"]
'all'
"""

from __future__ import annotations

from typing import Any

from streams.core.settings import Settings


def client_config(settings: Settings) -> dict[str, Any]:
    """What every client shares: the brokers and the security settings."""
    return settings.kafka_client_config()


def consumer_config(settings: Settings, group: str, **overrides: Any) -> dict[str, Any]:
    """A consumer of ``group`` that commits only when told (after effects) and starts from the
    beginning of a partition it has no offset for."""
    return (
        client_config(settings)
        | {
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
        | overrides
    )


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Every streamrec producer (shared with the raw baseline in bench): idempotent, acks=all, batched."""
    return (
        client_config(settings)
        | {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": settings.producer_linger_ms,
            "batch.size": settings.producer_batch_size,
            "compression.type": settings.producer_compression,
            "queue.buffering.max.messages": 500_000,
            # librdkafka's default, stated: CRC-32 of the key; the API's read-your-writes relies on it
            "partitioner": "consistent_random",
        }
        | overrides
    )


def admin_config(settings: Settings) -> dict[str, Any]:
    return client_config(settings)
