"""Message contracts: one pydantic model per message kind carried on a topic.

Every message has ``schema_version``, an id field and an event ``timestamp`` (UTC).
Encoding and decoding use pydantic-core's JSON (Rust), so no Python-level dict detour.

>>> e = Interaction(user_id="u1", item_id="i9", event_type="click",
...                 timestamp="2026-01-01T00:00:00Z", event_id="e1")
>>> decode(Interaction, encode(e)) == e
True
>>> Interaction(user_id="", item_id="i9", event_type="click")
Traceback (most recent call last):
...
streams.core.errors.InvalidEvent: Interaction: field 'user_id': String should have at least 1 character
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

from streams.core import events
from streams.core.errors import InvalidEvent

SCHEMA_VERSION: Literal[1] = 1


def _as_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def _utf8(value: str) -> str:
    """Text that can be written as UTF-8 (a lone surrogate cannot: it would fail every JSON encoder)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return value


def _json_integer(value: object) -> object:
    """What JSON Schema calls an integer: 3 and 3.0, not "3" or true."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON integer")
    return value


# an int as JSON Schema means it: 3.0 passes, "3" and true do not (pydantic's lax int takes both)
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
# taken as given (no stripping), so the schema and the validation agree on every id
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"\S"), AfterValidator(_utf8)]
UtcTime = Annotated[datetime, AfterValidator(_as_utc)]
ContextValue = str | int | float | bool | None
Context = Annotated[dict[str, ContextValue], Field(max_length=64)]


# What a user did with an item; the members come from the one table (streams.core.events).
EventType = StrEnum("EventType", [(k.name.upper(), k.name) for k in events.EVENT_KINDS])
EventType.__doc__ = "What a user did with an item. Implicit events carry no value; ``rating`` does."


class Message(BaseModel):
    """Base of every contract: strict keys, immutable, versioned."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    key_field: ClassVar[str]  # the field used as the Kafka record key

    schema_version: Literal[1] = SCHEMA_VERSION
    timestamp: UtcTime = Field(default_factory=_now, description="event time, UTC")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InvalidEvent(describe_validation_error(type(self).__name__, exc)) from None

    # Pydantic calls a model's own __init__ when it validates it (JSON, and every nested model):
    # the fields were then validated twice, the JSON as a dict the second time, which cost the
    # worker a quarter of its processing. This __init__ only renames the error, so pydantic is
    # told it is the base one: constructing a contract still raises InvalidEvent, and ``decode``
    # renames the errors of validation.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def kafka_key(self) -> bytes:
        return str(getattr(self, self.key_field)).encode()


def _explicit_events_need_a_value(schema: dict) -> None:
    """The JSON Schema states the rule :meth:`Interaction._rating_has_value` enforces."""
    explicit = [name for name in events.names() if events.kind(name).explicit]
    schema["if"] = {"properties": {"event_type": {"enum": explicit}}, "required": ["event_type"]}
    schema["then"] = {"properties": {"value": {"type": "number"}}, "required": ["value"]}


class Interaction(Message):
    """A user did something with an item. Topic ``interactions``, key ``user_id``."""

    model_config = ConfigDict(json_schema_extra=_explicit_events_need_a_value)
    key_field: ClassVar[str] = "user_id"
    event_id: Id = Field(default_factory=_new_id, description="stable across retries and replays")
    user_id: Id
    item_id: Id
    event_type: EventType
    value: float | None = Field(None, strict=True, description="rating value or event weight")
    session_id: Id | None = None
    recommendation_id: Id | None = Field(None, description="set when the item came from a served list")
    context: Context = Field(default_factory=dict, description="device, location, ...")

    @model_validator(mode="after")
    def _rating_has_value(self) -> Interaction:
        if events.kind(self.event_type.value).explicit and self.value is None:
            raise ValueError("field 'value': a rating event needs a value")
        return self


class Item(Message):
    """Catalogue entry for an item. Topic ``items`` (compacted), key ``item_id``."""

    key_field: ClassVar[str] = "item_id"
    item_id: Id
    title: str | None = Field(None, max_length=512)
    categories: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default_factory=list, max_length=64)
    attributes: Context = Field(default_factory=dict)
    available: bool = True


def main_categories(messages: Iterable[object]) -> dict[str, str]:
    """Item id -> main category (its first), for the :class:`Item` records among ``messages``: the
    category the features (affinity, category match) use.

    >>> main_categories([Item(item_id="a", categories=["books", "maps"]), Item(item_id="b")])
    {'a': 'books'}
    """
    return {m.item_id: m.categories[0] for m in messages if isinstance(m, Item) and m.categories}


class RecommendationRequest(Message):
    """Ask for a ranked list for a user. Topic ``recommendation-requests``, key ``user_id``."""

    key_field: ClassVar[str] = "user_id"
    request_id: Id = Field(default_factory=_new_id)
    user_id: Id
    k: JsonInt = Field(10, ge=1, le=1000)
    context: Context = Field(default_factory=dict)
    exclude_seen: StrictBool = True
    explain: StrictBool = False


class ScoredItem(BaseModel):
    """One entry of a served list."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    item_id: Id
    score: float
    reasons: list[str] = Field(default_factory=list)


class Recommendation(Message):
    """A served list (the impression log). Topic ``recommendations``, key ``user_id``."""

    key_field: ClassVar[str] = "user_id"
    recommendation_id: Id = Field(default_factory=_new_id)
    request_id: Id | None = None
    user_id: Id
    items: list[ScoredItem]
    model_name: str
    model_version: str
    variant: str | None = None
    fallback: bool = Field(False, description="true when a store or model was unavailable")


class ServedFeatures(Message):
    """The features each item of a served list was ranked with, in the model's feature order
    (missing values null). Topic ``served-features``, key ``user_id``; joined to the impression
    by ``recommendation_id``, so later training can learn from exactly what was served."""

    key_field: ClassVar[str] = "user_id"
    recommendation_id: Id
    user_id: Id
    model_name: str
    model_version: str
    feature_names: list[str]
    items: list[Id]
    values: list[list[float | None]] = Field(description="one row per item, in feature_names order")


class TimeWindow(BaseModel):
    """A half-open interval of event time, ``[start, end)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: UtcTime | None = None
    end: UtcTime | None = None
    events: int | None = Field(None, ge=0)


class DriftEvent(Message):
    """A detector fired. Topic ``drift-events``, key ``detector``."""

    key_field: ClassVar[str] = "detector"
    drift_id: Id = Field(default_factory=_new_id)
    detector: Id = Field(description="e.g. ks, adwin, page_hinkley, psi")
    kind: Literal["data", "concept"]
    subject: str = Field(description="feature or metric that drifted")
    statistic: float
    threshold: float
    p_value: float | None = None
    window: TimeWindow = Field(default_factory=TimeWindow)


class RetrainTrigger(StrEnum):
    DRIFT = "drift"
    VOLUME = "volume"
    SCHEDULE = "schedule"
    PERFORMANCE = "performance"
    MANUAL = "manual"


class RetrainRequest(Message):
    """A decision to retrain a model, with its reason. Topic ``retrain-requests``, key ``model_name``."""

    key_field: ClassVar[str] = "model_name"
    request_id: Id = Field(default_factory=_new_id)
    model_name: Id
    trigger: RetrainTrigger
    reason: str = Field(min_length=1, max_length=2048)
    data_window: TimeWindow = Field(default_factory=TimeWindow)
    statistics: dict[str, float] = Field(default_factory=dict)
    force: bool = False
    dry_run: bool = False


class ModelUpdate(Message):
    """A model version got an alias or a snapshot. Topic ``model-updates``, key ``model_name``."""

    key_field: ClassVar[str] = "model_name"
    update_id: Id = Field(default_factory=_new_id)
    model_name: Id
    version: str
    alias: Id = Field(description="champion, challenger, online, ...")
    uri: str = Field(description="where to load it from, e.g. models:/ranker/3")
    metrics: dict[str, float] = Field(default_factory=dict)


class RoutedInteraction(BaseModel):
    """An interaction with where it came from (for per-source-partition dedup after repartition)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source_partition: int = Field(ge=0)
    source_offset: int = Field(ge=0)
    event: Interaction


class ItemEventBatch(Message):
    """Internal: interactions repartitioned by item (topic ``interactions-by-item``), in micro-batches."""

    key_field: ClassVar[str] = "batch_id"
    batch_id: Id = Field(default_factory=_new_id)
    events: list[RoutedInteraction]


CONTRACTS: dict[str, type[Message]] = {
    cls.__name__: cls
    for cls in (
        Interaction,
        Item,
        RecommendationRequest,
        Recommendation,
        ServedFeatures,
        DriftEvent,
        RetrainRequest,
        ModelUpdate,
        ItemEventBatch,
    )
}

M = TypeVar("M", bound=Message)


def encode(message: Message) -> bytes:
    """Serialize to compact JSON bytes (None fields kept, so consumers see every key).

    orjson over the validated fields: byte-identical to ``model_dump_json()`` (a test holds
    it to that) at less than half the cost, which is most of the producer's overhead.
    """
    return orjson.dumps(message.__dict__, default=_nested, option=orjson.OPT_UTC_Z)


def _nested(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(contract: type[M], payload: bytes | str) -> M:
    """Parse and validate JSON bytes into ``contract``; raises :class:`InvalidEvent`."""
    try:
        return contract.model_validate_json(payload)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(contract.__name__, exc)) from None


def parse(contract: type[M], data: dict[str, Any]) -> M:
    """Validate a Python dict (e.g. a CSV row) into ``contract``; raises :class:`InvalidEvent`."""
    try:
        return contract.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(contract.__name__, exc)) from None


def describe_validation_error(name: str, exc: ValidationError) -> str:
    """One readable line per problem: ``Interaction: field 'timestamp': <reason>``."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(msg if msg.startswith("field '") or not loc else f"field '{loc}': {msg}")
    return f"{name}: " + "; ".join(parts)


def json_schema(contract: type[Message]) -> dict[str, Any]:
    """The JSON Schema of a contract, as published in ``docs/schemas/``."""
    schema = contract.model_json_schema(mode="validation")
    schema["$id"] = f"https://streamrec.dev/schemas/{contract.__name__}.v{SCHEMA_VERSION}.json"
    schema["x-kafka-key"] = contract.key_field
    return schema
