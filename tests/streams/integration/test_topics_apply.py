"""`topics apply` against the real broker: creates, is idempotent, grows, reconfigures, never shrinks."""

from dataclasses import replace
from types import MappingProxyType

import pytest

from streams.core.topics import AddPartitions, Refuse, SetConfig, TopicCatalog
from streams.kafka.admin import admin_client, apply_topics, current_state

pytestmark = pytest.mark.integration


def test_apply_creates_all_topics_then_changes_nothing(settings):
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    first = apply_topics(settings, catalog)
    assert len(first) == len(catalog.topics)
    state = current_state(admin_client(settings), [t.name for t in catalog])
    for spec in catalog:
        assert state[spec.name].partitions == spec.partitions
        for key, value in spec.config.items():
            assert state[spec.name].config[key] == value
    assert apply_topics(settings, catalog) == []
    assert apply_topics(settings, catalog, dry_run=True) == []


def test_apply_raises_partitions_and_updates_config_but_never_lowers(settings, catalog):
    spec = catalog["drift-events"]
    bigger = replace(
        spec, partitions=spec.partitions + 2, config=MappingProxyType(dict(spec.config) | {"retention.ms": "3600000"})
    )
    grown = TopicCatalog(MappingProxyType({"drift-events": bigger}), catalog.prefix)

    dry = apply_topics(settings, grown, dry_run=True)
    assert AddPartitions(spec.name, spec.partitions, spec.partitions + 2) in dry
    assert current_state(admin_client(settings), [spec.name])[spec.name].partitions == spec.partitions

    actions = apply_topics(settings, grown)
    assert any(isinstance(a, SetConfig) and a.key == "retention.ms" for a in actions)
    state = current_state(admin_client(settings), [spec.name])[spec.name]
    assert state.partitions == spec.partitions + 2 and state.config["retention.ms"] == "3600000"

    smaller = TopicCatalog(MappingProxyType({"drift-events": replace(bigger, partitions=1)}), catalog.prefix)
    refused = apply_topics(settings, smaller)
    assert [type(a) for a in refused] == [Refuse]
    assert current_state(admin_client(settings), [spec.name])[spec.name].partitions == spec.partitions + 2
