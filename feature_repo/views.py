"""Feature views. Column names match streams/features/{user,item}.py; add a feature there
first (state + row + offline recomputation), then declare it here."""

from datetime import timedelta

from feast import FeatureView, Field
from feast.types import Array, Float32, Int64, String

from entities import item, user
from sources import item_catalog_push, item_features_push, user_features_push

from streams.core import events

EVENT_TYPES = events.names()  # the one event table
WINDOWS = ["1h", "24h", "7d"]

user_features = FeatureView(
    name="user_features",
    entities=[user],
    ttl=timedelta(days=30),
    source=user_features_push,
    schema=[Field(name=f"{kind}_{w}", dtype=Int64) for kind in EVENT_TYPES for w in WINDOWS]
    + [
        Field(name="events_total", dtype=Int64),
        Field(name="first_event_at", dtype=Int64),
        Field(name="last_event_at", dtype=Int64),
        Field(name="recent_items", dtype=Array(String)),
        Field(name="top_categories", dtype=Array(String)),
        Field(name="top_category_share", dtype=Float32),
        Field(name="session_events", dtype=Int64),
        Field(name="session_duration_s", dtype=Float32),
        Field(name="sessions_total", dtype=Int64),
        Field(name="mean_rating", dtype=Float32),
    ],
    description="windowed activity, recency, category affinity, recent items, session",
)

item_features = FeatureView(
    name="item_features",
    entities=[item],
    ttl=timedelta(days=30),
    source=item_features_push,
    schema=[
        Field(name="trending_score", dtype=Float32),
        *[
            Field(name=n, dtype=Int64)
            for n in (
                "views",
                "clicks",
                "carts",
                "purchases",
                "likes",
                "dislikes",
                "ratings",
                "interactions_total",
                "distinct_users",
                "last_event_at",
            )
        ],
        Field(name="click_rate", dtype=Float32),
        Field(name="purchase_rate", dtype=Float32),
        Field(name="mean_rating", dtype=Float32),
    ],
    description="decayed popularity, counts, ratios, distinct users",
)

item_catalog = FeatureView(
    name="item_catalog",
    entities=[item],
    ttl=timedelta(days=3650),
    source=item_catalog_push,
    schema=[
        Field(name="title", dtype=String),
        Field(name="category", dtype=String),
        Field(name="categories", dtype=Array(String)),
    ],
    description="metadata from the items topic",
)
