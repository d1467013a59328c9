"""Public datasets as streams: MovieLens CSV directories and OTTO JSONL sessions.

Both come out in event-time order with stable, deterministic event ids, so a replay of the
same file produces the same ids (and downstream dedup can recognise it).
"""

from __future__ import annotations

import csv
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from streams.core.contracts import EventType, Interaction, Item
from streams.core.errors import ConfigError, InvalidEvent
from streams.sources.files import SourceReport

EVENT_ID_NAMESPACE = uuid.UUID("8a6f0c2e-5d0b-4c8e-9a53-6b1f3f1d2e10")
OTTO_TYPES = {"clicks": EventType.CLICK, "carts": EventType.ADD_TO_CART, "orders": EventType.PURCHASE}


@dataclass
class Dataset:
    """A loaded dataset: catalogue items and time-ordered interactions."""

    name: str
    items: list[Item]
    interactions: list[Interaction]


def stable_event_id(*parts: object) -> str:
    """The same inputs give the same id on every replay.

    >>> stable_event_id("ml", 1, 31, 1260759144) == stable_event_id("ml", 1, 31, 1260759144)
    True
    """
    return uuid.uuid5(EVENT_ID_NAMESPACE, ":".join(map(str, parts))).hex


def detect_format(path: Path) -> str:
    """``movielens`` for a directory (or file) holding ratings.csv; ``otto`` for JSONL."""
    path = Path(path)
    if (path / "ratings.csv").is_file() or path.name == "ratings.csv":
        return "movielens"
    if path.is_file() and path.suffix.lower() in {".jsonl", ".ndjson"}:
        return "otto"
    raise ConfigError(f"{path}: not a MovieLens directory (ratings.csv) nor an OTTO .jsonl file")


def load(path: Path, report: SourceReport, limit: int | None = None) -> Dataset:
    fmt = detect_format(path)
    return load_movielens(path, report, limit) if fmt == "movielens" else load_otto(path, report, limit)


def load_movielens(path: Path, report: SourceReport, limit: int | None = None) -> Dataset:
    """ratings.csv rows become ``rating`` events; movies.csv genres become item categories."""
    root = Path(path) if Path(path).is_dir() else Path(path).parent
    items: list[Item] = []
    movies = root / "movies.csv"
    if movies.is_file():
        with movies.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                genres = [g for g in row.get("genres", "").split("|") if g and g != "(no genres listed)"]
                items.append(
                    Item(
                        item_id=row["movieId"],
                        title=row.get("title") or None,
                        categories=genres,
                        timestamp=datetime(1995, 1, 1, tzinfo=UTC),
                    )
                )
    events: list[Interaction] = []
    with (root / "ratings.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            try:
                ts = int(row["timestamp"])
                events.append(
                    Interaction(
                        event_id=stable_event_id("movielens", row["userId"], row["movieId"], ts),
                        user_id=row["userId"],
                        item_id=row["movieId"],
                        event_type=EventType.RATING,
                        value=float(row["rating"]),
                        timestamp=datetime.fromtimestamp(ts, UTC),
                    )
                )
                report.accepted += 1
            except (KeyError, TypeError, ValueError, InvalidEvent) as exc:
                report.reject(reader.line_num, f"{type(exc).__name__}: {exc}", str(row))
    events.sort(key=lambda e: (e.timestamp, e.user_id))
    return Dataset("movielens", items, events[:limit] if limit else events)


def load_otto(path: Path, report: SourceReport, limit: int | None = None) -> Dataset:
    """Each session is a user; clicks/carts/orders become click/add_to_cart/purchase events."""
    events: list[Interaction] = []
    seen_items: dict[str, datetime] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                session = json.loads(line)
                sid = str(session["session"])
                for ev in session["events"]:
                    ts = datetime.fromtimestamp(int(ev["ts"]) / 1000, UTC)
                    item = str(ev["aid"])
                    events.append(
                        Interaction(
                            event_id=stable_event_id("otto", sid, item, ev["ts"], ev["type"]),
                            user_id=sid,
                            item_id=item,
                            event_type=OTTO_TYPES[ev["type"]],
                            timestamp=ts,
                            session_id=sid,
                        )
                    )
                    seen_items.setdefault(item, ts)
                    report.accepted += 1
            except (KeyError, TypeError, ValueError, InvalidEvent) as exc:
                report.reject(line_no, f"{type(exc).__name__}: {exc}", line)
    events.sort(key=lambda e: (e.timestamp, e.user_id))
    items = [Item(item_id=i, timestamp=ts) for i, ts in seen_items.items()]
    return Dataset("otto", items, events[:limit] if limit else events)
