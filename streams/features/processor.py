"""One micro-batch through the feature pipeline. The Faust agents and ``streamrec backfill``
call the same methods, so streaming and backfill compute identical features.

Order of effects per batch, chosen for at-least-once with idempotent results:
1. decode and validate every record; the bad ones become dead letters (nothing else is lost);
2. load the touched states, apply the events (states skip offsets they already applied);
3. write the feature rows to Feast, then compare-and-set the states. A crash between the two
   re-delivers the batch, which recomputes and rewrites the same rows; a lost compare-and-set
   (another worker got there first) reloads that key and applies again.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from streams.core.contracts import Interaction, Item, ItemEventBatch, RoutedInteraction, decode, encode, main_categories
from streams.core.errors import InvalidEvent
from streams.features.item import ItemState, item_features
from streams.features.state_store import CatalogStore, ItemUsers, StateStore
from streams.features.user import UserState, user_features
from streams.kafka.dead_letters import DeadLetter, dead_letter
from streams.kafka.runner import Record
from streams.stores import archive
from streams.stores.seen_items import DEFAULT_CAP, SeenItems

MAX_CAS_ROUNDS = 5
# a forwarded micro-batch stays far below the producer's 1 MiB request limit, whatever its events'
# sizes (each is at most max_event_bytes); an event's routed form adds its source position
MAX_FORWARD_BYTES = 512 * 1024
ROUTED_OVERHEAD_BYTES = 96


@dataclass
class BatchResult:
    valid: list[tuple[Record, Interaction]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    forwards: list[tuple[int, bytes]] = field(default_factory=list)  # (item partition, ItemEventBatch bytes)
    applied: int = 0
    skipped: int = 0  # already applied (re-delivery / replay) or a re-sent copy
    duplicates: int = 0  # re-sent copies of events applied before (another offset, same event_id)
    rows_written: int = 0

    def merge(self, other: BatchResult) -> None:
        self.valid += other.valid
        self.dead_letters += other.dead_letters
        self.forwards += other.forwards
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.skipped += other.skipped
        self.rows_written += other.rows_written


def item_partition(item_id: str, partitions: int) -> int:
    """Stable partition of an item in the repartition topic.

    >>> item_partition("i42", 6) == item_partition("i42", 6)
    True
    """
    return zlib.crc32(item_id.encode()) % partitions


def routed_events(valid: list[tuple[Record, Interaction]]) -> list[RoutedInteraction]:
    """Valid events with their source position (no re-validation: they are contracts already)."""
    return [
        RoutedInteraction.model_construct(source_partition=r.partition, source_offset=r.offset, event=e)
        for r, e in valid
    ]


class FeatureProcessor:
    """Applies batches of interactions (user side), routed item batches and catalogue entries."""

    def __init__(
        self,
        redis_client,
        writer,
        *,
        prefix: str,
        group: str,
        item_partitions: int,
        max_event_bytes: int,
        archive_dir=None,
        write_unchanged: bool = False,
        seen_items_cap: int = DEFAULT_CAP,
    ):
        """``archive_dir``: also archive valid events (None = off). ``write_unchanged``: rewrite the
        feature rows of keys whose events were all applied before (backfill into a wiped store)."""
        self.users: StateStore[UserState] = StateStore(redis_client, prefix, "user", UserState)
        self.items: StateStore[ItemState] = StateStore(redis_client, prefix, "item", ItemState)
        self.catalog = CatalogStore(redis_client, prefix)
        self.item_users = ItemUsers(redis_client, prefix)
        self.seen = SeenItems(redis_client, prefix, seen_items_cap)
        self.writer, self.group = writer, group
        self.item_partitions, self.max_event_bytes = item_partitions, max_event_bytes
        self.archive_dir, self.write_unchanged = archive_dir, write_unchanged

    def ping(self, _: Any = None) -> BatchResult:
        """A no-op round trip (lets a child process report that it is ready)."""
        return BatchResult()

    # -- user side
    def decode_batch(self, records: list[Record]) -> BatchResult:
        result = BatchResult()
        for record in records:
            try:
                if record.value is None:
                    raise InvalidEvent("empty record (tombstone) on interactions")
                if len(record.value) > self.max_event_bytes:
                    raise InvalidEvent(
                        f"record of {len(record.value)} bytes exceeds max_event_bytes={self.max_event_bytes}"
                    )
                result.valid.append((record, decode(Interaction, record.value)))
            except InvalidEvent as exc:
                result.dead_letters.append(self._dead(exc, record))
        return result

    def process_interactions(self, records: list[Record], route: bool = True) -> BatchResult:
        """User side of a batch; ``route=False`` leaves the item side to the caller (backfill)."""
        result = self.decode_batch(records)
        by_user: dict[str, list[tuple[Record, Interaction]]] = defaultdict(list)
        for record, event in result.valid:
            by_user[event.user_id].append((record, event))
        categories = self.catalog.categories({e.item_id for _, e in result.valid})

        copies: dict[str, set[tuple[int, int]]] = {}  # user -> positions of re-sent copies (per CAS round)

        def apply(state: UserState, pairs) -> tuple[int, int, bool]:
            applied, mine = 0, set()
            for r, e in pairs:
                kind = state.classify(e, r.partition, r.offset)
                if kind == "new":
                    applied += state.apply(e, r.partition, r.offset, categories.get(e.item_id))
                elif kind in ("duplicate", "redelivered_duplicate"):
                    mine.add((r.partition, r.offset))
            copies[pairs[0][1].user_id] = mine
            return applied, len(pairs) - applied, bool(mine)  # a copy changes the state (its offset)

        result.applied, result.skipped, result.rows_written = self._update(
            self.users,
            by_user,
            apply,
            lambda states: {u: user_features(s) for u, s in states.items()},
            "user_features",
            "user_id",
        )
        # re-sent copies stop here: not forwarded, not archived, not in the seen-set; re-deliveries of
        # records applied before go on (the item side and the archive skip what they already have)
        dropped = set().union(*copies.values()) if copies else set()
        once = [(r, e) for r, e in result.valid if (r.partition, r.offset) not in dropped]
        result.duplicates = len(result.valid) - len(once)
        self.seen.add((e.user_id, e.item_id, e.timestamp.timestamp()) for _, e in once)
        if route:
            result.forwards = self._route_to_items(once)
        if self.archive_dir is not None and once:
            archive.write_batch(self.archive_dir, ((r.partition, r.offset, e) for r, e in once))
        result.valid = once
        return result

    def _route_to_items(self, valid: list[tuple[Record, Interaction]]) -> list[tuple[int, bytes]]:
        """Micro-batches per item partition, each well under the producer's request limit."""
        routed: dict[int, list[list[RoutedInteraction]]] = defaultdict(lambda: [[]])
        sizes: dict[int, int] = defaultdict(int)
        for (record, _), r in zip(valid, routed_events(valid), strict=True):
            partition = item_partition(r.event.item_id, self.item_partitions)
            size = len(record.value or b"") + ROUTED_OVERHEAD_BYTES
            if routed[partition][-1] and sizes[partition] + size > MAX_FORWARD_BYTES:
                routed[partition].append([])  # a new micro-batch: the current one is full
                sizes[partition] = 0
            routed[partition][-1].append(r)
            sizes[partition] += size
        return [
            (p, encode(ItemEventBatch.model_construct(events=chunk)))
            for p, chunks in routed.items()
            for chunk in chunks
        ]

    # -- item side
    def process_item_batches(self, payloads: list[bytes]) -> BatchResult:
        return self.process_routed([r for payload in payloads for r in decode(ItemEventBatch, payload).events])

    def process_routed(self, routed_list: list[RoutedInteraction]) -> BatchResult:
        result = BatchResult()
        by_item: dict[str, list[RoutedInteraction]] = defaultdict(list)
        for routed in routed_list:
            by_item[routed.event.item_id].append(routed)
        distinct = self.item_users.add_and_count({i: {r.event.user_id for r in rs} for i, rs in by_item.items()})

        def apply(state: ItemState, routed) -> tuple[int, int, bool]:
            done = [state.apply(r.event, r.source_partition, r.source_offset) for r in routed]
            return sum(done), len(done) - sum(done), False

        result.applied, result.skipped, result.rows_written = self._update(
            self.items,
            by_item,
            apply,
            lambda states: {i: item_features(s, distinct[i]) for i, s in states.items()},
            "item_features",
            "item_id",
        )
        return result

    # -- catalogue
    def process_catalog(self, records: list[Record]) -> BatchResult:
        result = BatchResult()
        latest: dict[str, Item] = {}
        for record in records:
            if record.value is None:
                continue  # a tombstone on the compacted topic: nothing to apply
            try:
                item = decode(Item, record.value)
            except InvalidEvent as exc:
                result.dead_letters.append(self._dead(exc, record))
                continue
            latest[item.item_id] = item
        self.catalog.set_categories(main_categories(latest.values()))
        rows = {
            i: {
                "title": it.title or "",
                "category": it.categories[0] if it.categories else "",
                "categories": it.categories,
            }
            for i, it in latest.items()
        }
        result.rows_written = self.writer.write(
            "item_catalog", "item_id", rows, {i: it.timestamp.timestamp() for i, it in latest.items()}
        )
        result.applied = len(latest)
        return result

    # -- shared: load, apply, write rows, compare-and-set (retrying the keys that lost)
    def _update(self, store: StateStore, groups: dict[str, list], apply, to_rows, view: str, key: str):
        applied = skipped = written = 0
        pending = dict(groups)
        for _ in range(MAX_CAS_ROUNDS):
            if not pending:
                break
            loaded = store.load(pending)
            changed: dict[str, Any] = {}
            for entity, items in pending.items():
                state, _version = loaded[entity]
                a, s, dirty = apply(state, items)
                applied, skipped = applied + a, skipped + s
                if a or dirty or self.write_unchanged:
                    changed[entity] = state
            if changed:
                written += self.writer.write(
                    view, key, to_rows(changed), {e: s.reference_ts or 0.0 for e, s in changed.items()}
                )
            lost = store.save({e: loaded[e] for e in changed})
            pending = {e: pending[e] for e in lost}
            applied -= sum(len(pending[e]) for e in pending)  # recounted next round
        if pending:
            raise RuntimeError(f"state of {len(pending)} {key}(s) kept changing under us: {sorted(pending)[:5]}")
        return applied, skipped, written

    def _dead(self, exc: BaseException, record: Record) -> DeadLetter:
        return dead_letter(exc, record.key, record.value, record.topic, record.partition, record.offset, self.group)
