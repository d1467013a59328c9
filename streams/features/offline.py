"""Features recomputed from scratch from a list of events, written independently of the
incremental state machines, so that tests can hold the online path to it.

Events are taken once each (first copy by ``event_id``), in the order the stream delivered
them for each user (arrival order = partition order).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from streams.core.contracts import Interaction
from streams.core.trending import TRENDING_HALF_LIFE_S
from streams.core.verify import first_copies
from streams.features.user import EVENT_TYPES, RECENT_ITEMS, SESSION_GAP_S, TOP_CATEGORIES, event_weight
from streams.features.windows import WINDOWS


def offline_user_features(events: Iterable[Interaction], categories: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    by_user: dict[str, list[Interaction]] = defaultdict(list)
    for e in first_copies(events):
        by_user[e.user_id].append(e)
    return {user: _user_row(evs, categories) for user, evs in by_user.items()}


def _user_row(events: list[Interaction], categories: Mapping[str, str]) -> dict[str, Any]:
    times = [e.timestamp.timestamp() for e in events]
    ref = max(times)
    row: dict[str, Any] = {}
    for kind in EVENT_TYPES:
        for name, w in WINDOWS.items():
            first_bucket = math.floor(ref / w.bucket_s) - w.length_s // w.bucket_s + 1
            row[f"{kind}_{name}"] = sum(
                1
                for e, t in zip(events, times, strict=True)
                if e.event_type.value == kind and math.floor(t / w.bucket_s) >= first_bucket
            )
    affinity: dict[str, float] = defaultdict(float)
    for e in events:
        if e.item_id in categories:
            affinity[categories[e.item_id]] += event_weight(e)
    positive = sorted(((w, c) for c, w in affinity.items() if w > 0), key=lambda x: (-x[0], x[1]))
    ratings = [e.value for e in events if e.event_type.value == "rating" and e.value is not None]
    # sessions: explicit ids when given, else a new one after SESSION_GAP_S of silence
    sessions, current, start, last, count = 0, object(), 0.0, 0.0, 0
    for e, t in zip(events, times, strict=True):
        new = (e.session_id != current) if e.session_id is not None else (sessions == 0 or t - last > SESSION_GAP_S)
        if new:
            sessions, current, start, last, count = sessions + 1, e.session_id, t, t, 0
        count, last = count + 1, max(last, t)
    row.update(
        events_total=len(events),
        first_event_at=int(min(times)),
        last_event_at=int(ref),
        recent_items=[e.item_id for e in events][-RECENT_ITEMS:],
        top_categories=[c for _, c in positive[:TOP_CATEGORIES]],
        top_category_share=positive[0][0] / sum(w for w, _ in positive) if positive else 0.0,
        session_events=count,
        session_duration_s=last - start,
        sessions_total=sessions,
        mean_rating=sum(ratings) / len(ratings) if ratings else 0.0,
    )
    return row


def offline_item_features(events: Iterable[Interaction]) -> dict[str, dict[str, Any]]:
    by_item: dict[str, list[Interaction]] = defaultdict(list)
    for e in first_copies(events):
        by_item[e.item_id].append(e)
    rows = {}
    for item, evs in by_item.items():
        n = {k: sum(1 for e in evs if e.event_type.value == k) for k in EVENT_TYPES}
        ref = max(e.timestamp.timestamp() for e in evs)
        ratings = [e.value for e in evs if e.event_type.value == "rating" and e.value is not None]
        rows[item] = {
            "trending_score": sum(
                (abs(event_weight(e)) or 1.0) * 2.0 ** (-(ref - e.timestamp.timestamp()) / TRENDING_HALF_LIFE_S)
                for e in evs
            ),
            "views": n["view"],
            "clicks": n["click"],
            "carts": n["add_to_cart"],
            "purchases": n["purchase"],
            "likes": n["like"],
            "dislikes": n["dislike"],
            "ratings": n["rating"],
            "interactions_total": len(evs),
            "click_rate": n["click"] / n["view"] if n["view"] else 0.0,
            "purchase_rate": n["purchase"] / n["click"] if n["click"] else 0.0,
            "distinct_users": len({e.user_id for e in evs}),
            "mean_rating": sum(ratings) / len(ratings) if ratings else 0.0,
            "last_event_at": int(ref),
        }
    return rows
