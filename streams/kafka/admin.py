"""Thin Kafka admin edge: read the cluster's topic state and carry out a :func:`topics.plan`."""

from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)

from streams.core.errors import InfraError
from streams.core.settings import Settings
from streams.core.topics import Action, AddPartitions, Create, Refuse, SetConfig, TopicCatalog, TopicState, plan
from streams.kafka.clients import admin_config

TIMEOUT_S = 30.0


def admin_client(settings: Settings) -> AdminClient:
    return AdminClient(admin_config(settings))


def wait_until_ready(settings: Settings, timeout_s: float = 60.0) -> float:
    """Block until the cluster answers a metadata request with at least one broker.

    Returns the seconds waited; raises :class:`InfraError` on time-out.
    """
    admin, start = admin_client(settings), time.monotonic()
    last_error: Exception | None = None
    while time.monotonic() - start < timeout_s:
        try:
            if admin.list_topics(timeout=2).brokers:
                return time.monotonic() - start
        except KafkaException as exc:
            last_error = exc
        time.sleep(0.25)
    raise InfraError(f"Kafka at {settings.kafka_bootstrap_servers} not ready after {timeout_s:.0f}s: {last_error}")


def current_state(admin: AdminClient, names: Iterable[str]) -> dict[str, TopicState]:
    """Partition counts and configs of those of ``names`` that exist."""
    metadata = admin.list_topics(timeout=TIMEOUT_S).topics
    present = [n for n in names if n in metadata and metadata[n].error is None]
    if not present:
        return {}
    resources = [ConfigResource(ConfigResource.Type.TOPIC, n) for n in present]
    configs = {res.name: fut.result(TIMEOUT_S) for res, fut in admin.describe_configs(resources).items()}
    return {n: TopicState(len(metadata[n].partitions), {k: e.value for k, e in configs[n].items()}) for n in present}


def execute(admin: AdminClient, actions: list[Action]) -> None:
    """Carry out the actions; raises :class:`InfraError` naming the topic that failed."""
    creates = [a for a in actions if isinstance(a, Create)]
    if creates:
        futures = admin.create_topics(
            [NewTopic(a.topic, a.partitions, a.replication_factor, config=dict(a.config)) for a in creates],
            operation_timeout=TIMEOUT_S,
        )
        _wait(futures, "create")
    grows = [a for a in actions if isinstance(a, AddPartitions)]
    if grows:
        _wait(admin.create_partitions([NewPartitions(a.topic, a.target) for a in grows]), "add partitions to")
    by_topic: dict[str, list[SetConfig]] = {}
    for a in actions:
        if isinstance(a, SetConfig):
            by_topic.setdefault(a.topic, []).append(a)
    if by_topic:
        resources = [
            ConfigResource(
                ConfigResource.Type.TOPIC,
                topic,
                incremental_configs=[
                    ConfigEntry(s.key, s.target, incremental_operation=AlterConfigOpType.SET) for s in sets
                ],
            )
            for topic, sets in by_topic.items()
        ]
        _wait(admin.incremental_alter_configs(resources), "configure")


def apply_topics(settings: Settings, catalog: TopicCatalog, dry_run: bool = False) -> list[Action]:
    """Plan against the live cluster and (unless ``dry_run``) apply; returns the plan."""
    admin = admin_client(settings)
    names = [t.name for t in catalog]
    actions = plan(catalog, current_state(admin, names))
    changes = [a for a in actions if not isinstance(a, Refuse)]
    if not dry_run and changes:
        execute(admin, changes)
        _wait_until_visible(admin, catalog, names)
    return actions


def _wait_until_visible(
    admin: AdminClient, catalog: TopicCatalog, names: list[str], timeout_s: float = TIMEOUT_S
) -> None:
    """Metadata and configs reach every client a moment after the futures complete: wait for
    them, so that a caller (or the next `apply`) sees what was just applied."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(isinstance(a, Refuse) for a in plan(catalog, current_state(admin, names))):
            return
        time.sleep(0.2)
    raise InfraError(f"topic changes not visible after {timeout_s:.0f}s")


def _wait(futures: dict, verb: str) -> None:
    errors = []
    for key, fut in futures.items():
        try:
            fut.result(TIMEOUT_S)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # another process applied it first (set-up run by several pods at once)
            errors.append(f"{getattr(key, 'name', key)}: {exc.args[0].str() if exc.args else exc}")
    if errors:
        raise InfraError(f"could not {verb} topic(s): " + "; ".join(errors))
