from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from streams.core.contracts import (
    CONTRACTS,
    SCHEMA_VERSION,
    DriftEvent,
    EventType,
    Interaction,
    Item,
    ItemEventBatch,
    ModelUpdate,
    Recommendation,
    RecommendationRequest,
    RetrainRequest,
    RoutedInteraction,
    ScoredItem,
    ServedFeatures,
    decode,
    encode,
    parse,
)
from streams.core.errors import InvalidEvent


def interaction(**overrides):
    data = dict(user_id="u1", item_id="i1", event_type="click", timestamp="2026-03-01T12:00:00Z")
    return Interaction(**(data | overrides))


EXAMPLES = [
    interaction(value=None, context={"device": "ios", "hour": 13}),
    Item(item_id="i1", title="A film", categories=["Drama"], attributes={"year": 1999}),
    RecommendationRequest(user_id="u1", k=20, context={"page": "home"}),
    Recommendation(
        user_id="u1",
        items=[ScoredItem(item_id="i1", score=0.9, reasons=["popular"])],
        model_name="ranker",
        model_version="3",
        variant="B",
    ),
    ServedFeatures(
        recommendation_id="r1",
        user_id="u1",
        model_name="ranker",
        model_version="3",
        feature_names=["item_log_count", "u_mean_rating"],
        items=["i1"],
        values=[[1.5, None]],
    ),
    DriftEvent(detector="ks", kind="data", subject="score", statistic=0.31, threshold=0.1, p_value=1e-6),
    RetrainRequest(model_name="ranker", trigger="drift", reason="KS on score", statistics={"ks": 0.31}),
    ModelUpdate(model_name="ranker", version="4", alias="champion", uri="models:/ranker/4"),
    ItemEventBatch(
        events=[
            RoutedInteraction(
                source_partition=2, source_offset=9, event=Interaction(user_id="u", item_id="i", event_type="view")
            )
        ]
    ),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_contract_round_trips_through_json(message):
    payload = encode(message)
    assert decode(type(message), payload) == message
    assert message.schema_version == SCHEMA_VERSION
    assert message.timestamp.tzinfo is not None
    assert message.kafka_key() == str(getattr(message, message.key_field)).encode()


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_fast_encoding_is_byte_identical_to_pydantic_json(message):
    assert encode(message) == message.model_dump_json().encode()


def test_not_a_number_is_rejected():
    with pytest.raises(InvalidEvent, match="field 'value'"):
        interaction(event_type="rating", value=float("nan"))


def test_every_contract_is_exercised():
    assert {type(m).__name__ for m in EXAMPLES} == set(CONTRACTS)


def test_times_are_normalised_to_utc():
    paris = timezone(timedelta(hours=2))
    e = interaction(timestamp=datetime(2026, 3, 1, 14, 0, tzinfo=paris))
    assert e.timestamp == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert interaction(timestamp="2026-03-01T12:00:00").timestamp.tzinfo == UTC  # naive = UTC


def test_ids_are_generated_when_missing_and_kept_when_given():
    a, b = (
        Interaction(user_id="u", item_id="i", event_type="view"),
        Interaction(user_id="u", item_id="i", event_type="view"),
    )
    assert a.event_id != b.event_id
    assert interaction(event_id="client-42").event_id == "client-42"


@pytest.mark.parametrize(
    "overrides, field, reason",
    [
        ({"user_id": ""}, "user_id", "at least 1 character"),
        ({"user_id": "x" * 129}, "user_id", "at most 128"),
        ({"event_type": "teleport"}, "event_type", "Input should be"),
        ({"timestamp": "last tuesday"}, "timestamp", "valid datetime"),
        ({"event_type": "rating"}, "value", "rating event needs a value"),
        ({"context": {"nested": {"a": 1}}}, "context.nested", "Input should be"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_invalid_interactions_name_the_field_and_the_reason(overrides, field, reason):
    with pytest.raises(InvalidEvent) as info:
        interaction(**overrides)
    message = str(info.value)
    assert f"field '{field}" in message and reason in message


def test_missing_field_is_named():
    with pytest.raises(InvalidEvent, match="field 'item_id': Field required"):
        parse(Interaction, {"user_id": "u", "event_type": "view"})


def test_decode_rejects_broken_json_and_wrong_types():
    with pytest.raises(InvalidEvent, match="Invalid JSON"):
        decode(Interaction, b'{"user_id": ')
    with pytest.raises(InvalidEvent, match="field 'value'"):
        decode(Interaction, b'{"user_id":"u","item_id":"i","event_type":"rating","value":"five"}')


def test_messages_are_immutable():
    e = interaction()
    with pytest.raises(ValidationError, match="frozen"):
        e.user_id = "someone else"  # type: ignore[misc]


def test_request_limits():
    with pytest.raises(InvalidEvent, match="field 'k'"):
        RecommendationRequest(user_id="u", k=0)
    assert RecommendationRequest(user_id="u").k == 10


def test_event_types_cover_the_funnel():
    assert {"view", "click", "add_to_cart", "purchase", "like", "dislike", "rating"} <= {t.value for t in EventType}
