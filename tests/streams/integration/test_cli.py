"""The CLI end to end against the real broker, run as a user would (a subprocess)."""

import json
import os
import subprocess
import sys

import pytest

from streams.core.contracts import Interaction, decode
from streams.kafka.readers import read_topic

pytestmark = pytest.mark.integration


def streamrec(settings, *args, timeout=120):
    env = os.environ | {
        "STREAMREC_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "STREAMREC_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "streams.cli.main", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def test_topics_apply_dry_run_then_apply(settings):
    dry = streamrec(settings, "topics", "apply", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would create {settings.topic_prefix}interactions" in " ".join(dry.stdout.split())
    applied = streamrec(settings, "topics", "apply")
    assert applied.returncode == 0 and "create" in applied.stdout
    again = streamrec(settings, "topics", "apply")
    assert "nothing to change" in again.stdout


def test_produce_file_skips_and_reports_bad_lines(settings, catalog, tmp_path):
    good = [{"event_id": f"f{i}", "user_id": "u1", "item_id": f"i{i}", "event_type": "view"} for i in range(5)]
    lines = [json.dumps(g) for g in good]
    lines.insert(2, '{"user_id": "u1", "item_id": "i9", "event_type": "teleport"}')
    lines.insert(4, "garbage")
    path, rejects = tmp_path / "events.jsonl", tmp_path / "rejects.tsv"
    path.write_text("\n".join(lines) + "\n")

    result = streamrec(settings, "produce", str(path), "--rejects", str(rejects))
    assert result.returncode == 0, result.stderr
    assert "rejected 2" in result.stderr and "line 3: Interaction: field 'event_type'" in result.stderr
    assert rejects.read_text().count("\n") == 2
    records = list(read_topic(settings, catalog.name("interactions"), expected=5, max_seconds=30, idle_timeout_s=2))
    assert sorted(decode(Interaction, r.value()).event_id for r in records) == [f"f{i}" for i in range(5)]

    assert streamrec(settings, "produce", str(path), "--strict").returncode == 1


def test_generate_to_kafka_reports_the_shift(settings, catalog):
    result = streamrec(settings, "generate", "-n", "3000", "--users", "100", "--items", "80", "--shift-at", "0.5")
    assert result.returncode == 0, result.stderr
    assert "preference shift at event" in result.stderr
    records = list(read_topic(settings, catalog.name("interactions"), expected=3000, max_seconds=60))
    assert len(records) == 3000
    items = list(read_topic(settings, catalog.name("items"), expected=80, max_seconds=30, idle_timeout_s=2))
    assert len(items) >= 80


def test_replay_movielens_directory(settings, catalog, tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,4.0,1000000300\n2,10,3.0,1000000100\n")
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n10,Heat (1995),Action|Crime\n")
    result = streamrec(settings, "replay", str(tmp_path), "--speed", "100000000")
    assert result.returncode == 0, result.stderr
    records = list(read_topic(settings, catalog.name("interactions"), expected=2, max_seconds=30))
    events = sorted((decode(Interaction, r.value()) for r in records), key=lambda e: e.timestamp)
    assert [(e.user_id, e.value) for e in events] == [("2", 3.0), ("1", 4.0)]


def test_unknown_broker_is_a_readable_error(tmp_path):
    env = os.environ | {"STREAMREC_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli.main", "produce", str(tmp_path / "missing.jsonl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2 and "error: no such file" in result.stderr


def test_backfill_dry_run_shows_offsets_and_changes_nothing(settings, catalog, tmp_path):
    events = [
        {"event_id": f"b{i}", "user_id": f"u{i % 4}", "item_id": f"i{i}", "event_type": "view"} for i in range(40)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    assert streamrec(settings, "produce", str(path)).returncode == 0
    result = streamrec(settings, "backfill", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "40 records to re-read" in " ".join(result.stdout.split())
    later = streamrec(settings, "backfill", "--dry-run", "--from", "2999-01-01T00:00:00Z")
    assert "0 records to re-read" in " ".join(later.stdout.split())


def test_manual_retrain_request(settings, catalog):
    from streams.core.contracts import RetrainRequest

    result = streamrec(settings, "retrain", "--reason", "new catalogue", "--force")
    assert result.returncode == 0, result.stderr
    [record] = list(read_topic(settings, catalog.name("retrain-requests"), expected=1, max_seconds=30))
    request = decode(RetrainRequest, record.value())
    assert (request.trigger, request.reason, request.force, record.key()) == (
        "manual",
        "new catalogue",
        True,
        b"ranker",
    )
