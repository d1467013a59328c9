"""``topics.yaml`` as a frozen catalog, and the pure plan that brings a cluster in line with it.

Code never spells a topic name: it asks the catalog for a logical name, and the catalog adds
the configured prefix.

>>> spec = TopicSpec(name="interactions", partitions=6, replication_factor=1,
...                  config={"retention.ms": "1000"})
>>> plan([spec], {})
[Create(topic='interactions', partitions=6, replication_factor=1, config={'retention.ms': '1000'})]
>>> plan([spec], {"interactions": TopicState(3, {"retention.ms": "1000"})})
[AddPartitions(topic='interactions', current=3, target=6)]
>>> plan([spec], {"interactions": TopicState(6, {"retention.ms": "1000"})})
[]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from streams.core.contracts import CONTRACTS
from streams.core.errors import ConfigError


@dataclass(frozen=True)
class TopicSpec:
    """One topic as declared in ``topics.yaml`` (name already prefixed)."""

    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str] = field(default_factory=dict)
    key: str = ""
    value: str = ""
    description: str = ""


@dataclass(frozen=True)
class TopicCatalog:
    """All declared topics, looked up by their logical (unprefixed) name."""

    topics: Mapping[str, TopicSpec]
    prefix: str = ""

    def __getitem__(self, logical_name: str) -> TopicSpec:
        try:
            return self.topics[logical_name]
        except KeyError:
            known = ", ".join(sorted(self.topics))
            raise ConfigError(f"topic {logical_name!r} is not in topics.yaml (known: {known})") from None

    def name(self, logical_name: str) -> str:
        """The real topic name for a logical one, e.g. ``interactions`` -> ``t1-interactions``."""
        return self[logical_name].name

    def __iter__(self):
        return iter(self.topics.values())

    @classmethod
    def load(cls, path: Path, prefix: str = "") -> TopicCatalog:
        if not Path(path).is_file():
            raise ConfigError(
                f"no topics file at {path}: set STREAMREC_TOPICS_FILE to your topics.yaml "
                "(the checkout's, or the one an installed streamrec ships in <prefix>/share/streamrec)"
            )
        try:
            raw = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        return cls.from_dict(raw, prefix)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], prefix: str = "") -> TopicCatalog:
        defaults = raw.get("defaults") or {}
        default_config = {k: str(v) for k, v in (defaults.get("config") or {}).items()}
        topics: dict[str, TopicSpec] = {}
        for logical, body in (raw.get("topics") or {}).items():
            body = body or {}
            value = str(body.get("value", ""))
            if value and " " not in value and value not in CONTRACTS:
                raise ConfigError(f"topics.yaml: {logical}.value {value!r} is not a contract")
            partitions = int(body.get("partitions", 1))
            rf = int(body.get("replication_factor", defaults.get("replication_factor", 1)))
            if partitions < 1 or rf < 1:
                raise ConfigError(f"topics.yaml: {logical}: partitions and replication_factor must be >= 1")
            config = default_config | {k: str(v) for k, v in (body.get("config") or {}).items()}
            topics[logical] = TopicSpec(
                name=prefix + logical,
                partitions=partitions,
                replication_factor=rf,
                config=MappingProxyType(config),
                key=str(body.get("key", "")),
                value=value,
                description=str(body.get("description", "")),
            )
        if not topics:
            raise ConfigError("topics.yaml declares no topics")
        return cls(MappingProxyType(topics), prefix)


@dataclass(frozen=True)
class TopicState:
    """What the cluster has for one topic: partition count and its non-default configs."""

    partitions: int
    config: Mapping[str, str]


@dataclass(frozen=True)
class Create:
    topic: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str]

    def __str__(self) -> str:
        return f"create {self.topic} (partitions={self.partitions}, rf={self.replication_factor})"


@dataclass(frozen=True)
class AddPartitions:
    topic: str
    current: int
    target: int

    def __str__(self) -> str:
        return f"raise {self.topic} partitions {self.current} -> {self.target}"


@dataclass(frozen=True)
class SetConfig:
    topic: str
    key: str
    current: str | None
    target: str

    def __str__(self) -> str:
        return f"set {self.topic} {self.key}: {self.current} -> {self.target}"


@dataclass(frozen=True)
class Refuse:
    """A change the tool will not make (it would lose data); reported, never applied."""

    topic: str
    reason: str

    def __str__(self) -> str:
        return f"skip {self.topic}: {self.reason}"


Action = Create | AddPartitions | SetConfig | Refuse


def plan(desired: list[TopicSpec] | TopicCatalog, current: Mapping[str, TopicState]) -> list[Action]:
    """Actions that bring ``current`` in line with ``desired``; never a deletion."""
    actions: list[Action] = []
    for spec in desired:
        state = current.get(spec.name)
        if state is None:
            actions.append(Create(spec.name, spec.partitions, spec.replication_factor, dict(spec.config)))
            continue
        if spec.partitions > state.partitions:
            actions.append(AddPartitions(spec.name, state.partitions, spec.partitions))
        elif spec.partitions < state.partitions:
            actions.append(
                Refuse(
                    spec.name,
                    f"has {state.partitions} partitions, topics.yaml says "
                    f"{spec.partitions}; Kafka cannot lower a partition count",
                )
            )
        for key, value in spec.config.items():
            if state.config.get(key) != value:
                actions.append(SetConfig(spec.name, key, state.config.get(key), value))
    return actions
