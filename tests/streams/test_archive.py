from datetime import UTC, datetime

from streams.core.contracts import Interaction
from streams.stores.archive import read_archive, write_batch


def ev(i, day, user="u1"):
    return Interaction(
        event_id=f"e{i}",
        user_id=user,
        item_id=f"i{i}",
        event_type="view",
        timestamp=datetime(2026, 1, day, 12, i % 60, tzinfo=UTC),
        context={"k": i},
    )


def test_date_partitioned_and_redelivery_rewrites_instead_of_duplicating(tmp_path):
    batch = [(0, 10 + i, ev(i, 1 + i % 2)) for i in range(6)]
    assert write_batch(tmp_path, batch) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["date=2026-01-01", "date=2026-01-02"]
    write_batch(tmp_path, batch[:4])  # the same batch re-delivered, cut shorter by a crash
    write_batch(tmp_path, batch[4:])  # ... and the rest in the next batch
    frame = read_archive(tmp_path)
    assert sorted(frame["event_id"]) == sorted(f"e{i}" for i in range(6))
    assert frame["timestamp"].is_monotonic_increasing
    assert list(read_archive(tmp_path, start=datetime(2026, 1, 2, tzinfo=UTC))["event_id"]) == ["e1", "e3", "e5"]


def test_replays_from_other_offsets_are_deduplicated_on_read(tmp_path):
    write_batch(tmp_path, [(1, o, ev(o, 3)) for o in range(5)])
    write_batch(tmp_path, [(1, o, ev(o, 3)) for o in range(2, 8)])  # overlapping replay
    frame = read_archive(tmp_path)
    assert len(frame) == 8 and frame["event_id"].is_unique
    assert frame.iloc[0]["context"] == '{"k":0}' and frame.iloc[0]["source_offset"] == 0


def test_empty_archive_reads_as_empty_frame(tmp_path):
    assert read_archive(tmp_path).empty
