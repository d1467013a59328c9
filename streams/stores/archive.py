"""The event archive: date-partitioned Parquet, the offline store that training reads.

Layout: ``<archive_dir>/date=YYYY-MM-DD/part-p<partition>-o<first offset>.parquet``; one file
per (event date, source partition) of a micro-batch, named by the first source offset in it
and written atomically (temp file + rename). A re-delivered batch starts at the same committed
offset, so it rewrites the same file instead of adding a copy; :func:`read_archive` also drops
repeated ``event_id``s, which covers replays from arbitrary offsets.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("user_id", pa.string()),
        ("item_id", pa.string()),
        ("event_type", pa.string()),
        ("value", pa.float64()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("session_id", pa.string()),
        ("recommendation_id", pa.string()),
        ("context", pa.string()),
        ("source_partition", pa.int32()),
        ("source_offset", pa.int64()),
    ]
)


def write_batch(root: Path, events) -> int:
    """``events``: iterable of (partition, offset, Interaction). Returns files written."""
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for partition, offset, event in events:
        groups[(int(event.timestamp.timestamp() // 86400), partition)].append((partition, offset, event))
    for (day_number, partition), rows in groups.items():
        day = datetime.fromtimestamp(day_number * 86400, UTC).strftime("%Y-%m-%d")
        rows.sort(key=lambda r: r[1])
        directory = Path(root) / f"date={day}"
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"part-p{partition:03d}-o{rows[0][1]:012d}.parquet"
        table = pa.Table.from_pylist([_row(p, o, e) for p, o, e in rows], schema=SCHEMA)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, target)
    return len(groups)


def _row(partition: int, offset: int, e) -> dict:
    return {
        "event_id": e.event_id,
        "user_id": e.user_id,
        "item_id": e.item_id,
        "event_type": e.event_type.value,
        "value": e.value,
        "timestamp": e.timestamp,
        "session_id": e.session_id,
        "recommendation_id": e.recommendation_id,
        "context": orjson.dumps(e.context).decode(),
        "source_partition": partition,
        "source_offset": offset,
    }


def read_archive(root: Path, start: datetime | None = None, end: datetime | None = None):
    """All archived events with ``start <= timestamp < end`` as a pandas DataFrame, one row per
    event_id, sorted by event time."""
    import pandas as pd

    files = sorted(_files(Path(root), start, end))
    if not files:
        return pd.DataFrame({f.name: pd.Series(dtype=object) for f in SCHEMA})
    frame = pa.concat_tables([pq.read_table(f, schema=SCHEMA) for f in files]).to_pandas()
    frame = frame.sort_values(["source_partition", "source_offset"]).drop_duplicates("event_id", keep="first")
    if start is not None:
        frame = frame[frame["timestamp"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["timestamp"] < pd.Timestamp(end)]
    return frame.sort_values(["timestamp", "source_partition", "source_offset"]).reset_index(drop=True)


def _files(root: Path, start: datetime | None, end: datetime | None):
    for directory in root.glob("date=*"):
        day = datetime.strptime(directory.name[5:], "%Y-%m-%d").replace(tzinfo=UTC)
        if start is not None and day.date() < start.astimezone(UTC).date():
            continue
        if end is not None and day.date() > end.astimezone(UTC).date():
            continue
        yield from directory.glob("*.parquet")
