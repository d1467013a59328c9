import pytest

from streams.core.contracts import CONTRACTS
from streams.core.errors import ConfigError
from streams.core.topics import AddPartitions, Create, Refuse, SetConfig, TopicCatalog, TopicState, plan

ARCHITECTURE_TOPICS = {
    "interactions",
    "items",
    "interactions-dlq",
    "recommendation-requests",
    "recommendations",
    "drift-events",
    "retrain-requests",
    "model-updates",
}


def test_project_topics_yaml_declares_every_architecture_topic(project_root):
    catalog = TopicCatalog.load(project_root / "topics.yaml")
    # + the internal repartition, and the feature log (issue 13: "on a topic of its own")
    assert set(catalog.topics) == ARCHITECTURE_TOPICS | {"interactions-by-item", "served-features"}
    assert catalog["interactions"].partitions >= 6
    assert catalog["interactions-dlq"].partitions >= catalog["interactions"].partitions
    assert catalog["items"].config["cleanup.policy"] == "compact"
    assert {t.value for t in catalog if t.value in CONTRACTS} == set(CONTRACTS)


def test_prefix_is_applied_and_unknown_names_are_explained(project_root):
    catalog = TopicCatalog.load(project_root / "topics.yaml", prefix="test-")
    assert catalog.name("interactions") == "test-interactions"
    with pytest.raises(ConfigError, match="known: drift-events"):
        catalog.name("clicks")


def test_bad_catalogs_are_rejected():
    with pytest.raises(ConfigError, match="not a contract"):
        TopicCatalog.from_dict({"topics": {"a": {"value": "Nope"}}})
    with pytest.raises(ConfigError, match="partitions"):
        TopicCatalog.from_dict({"topics": {"a": {"partitions": 0}}})
    with pytest.raises(ConfigError, match="no topics"):
        TopicCatalog.from_dict({"topics": {}})


def test_defaults_merge_into_topic_config():
    catalog = TopicCatalog.from_dict(
        {"defaults": {"replication_factor": 3, "config": {"a": 1, "b": 2}}, "topics": {"t": {"config": {"b": 5}}}}
    )
    spec = catalog["t"]
    assert spec.replication_factor == 3 and dict(spec.config) == {"a": "1", "b": "5"}


def test_plan_creates_grows_configures_and_never_shrinks():
    catalog = TopicCatalog.from_dict(
        {
            "topics": {
                "new": {"partitions": 2},
                "grow": {"partitions": 6, "config": {"retention.ms": "10"}},
                "shrink": {"partitions": 1},
            }
        }
    )
    current = {
        "grow": TopicState(3, {"retention.ms": "99", "other": "x"}),
        "shrink": TopicState(4, {}),
        "unrelated": TopicState(1, {}),
    }
    actions = plan(catalog, current)
    assert Create("new", 2, 1, {}) in actions
    assert AddPartitions("grow", 3, 6) in actions
    assert SetConfig("grow", "retention.ms", "99", "10") in actions
    assert any(isinstance(a, Refuse) and a.topic == "shrink" for a in actions)
    assert not any(getattr(a, "topic", None) == "unrelated" for a in actions)  # never deletes
    assert len(actions) == 4


def test_a_topic_another_process_created_meanwhile_is_not_an_error():
    """Set-up runs in several pods at once (Kubernetes init containers): a lost create race is fine,
    any other failure names its topic."""
    from concurrent.futures import Future

    from confluent_kafka import KafkaError, KafkaException

    from streams.core.errors import InfraError
    from streams.kafka.admin import _wait

    created, raced, refused = Future(), Future(), Future()
    created.set_result(None)
    raced.set_exception(KafkaException(KafkaError(KafkaError.TOPIC_ALREADY_EXISTS)))
    refused.set_exception(KafkaException(KafkaError(KafkaError.POLICY_VIOLATION)))
    _wait({"a": created, "b": raced}, "create")
    with pytest.raises(InfraError, match="could not create topic.*c:"):
        _wait({"a": created, "c": refused}, "create")
