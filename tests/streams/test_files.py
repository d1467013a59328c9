import json

import pytest

from streams.core.errors import ConfigError
from streams.sources.files import SourceReport, read_interactions

GOOD = {"user_id": "u1", "item_id": "i1", "event_type": "view", "timestamp": "2026-01-01T00:00:00Z"}


def test_jsonl_bad_lines_are_reported_counted_and_skipped(tmp_path):
    path = tmp_path / "events.jsonl"
    lines = [
        json.dumps(GOOD | {"event_id": "a"}),
        "{not json",
        json.dumps(GOOD | {"event_type": "rating"}),  # rating without value
        "",
        json.dumps(GOOD | {"event_id": "b", "user_id": "u2"}),
        json.dumps({"user_id": "u3", "event_type": "view"}),  # no item_id
    ]
    path.write_text("\n".join(lines) + "\n")
    report = SourceReport()
    events = list(read_interactions(path, report))
    assert [e.event_id for e in events] == ["a", "b"]
    assert (report.accepted, report.rejected) == (2, 3)
    assert [r.line for r in report.rejections] == [2, 3, 6]
    assert "Invalid JSON" in report.rejections[0].reason
    assert "field 'value'" in report.rejections[1].reason
    assert "field 'item_id'" in report.rejections[2].reason


def test_csv_with_header_context_json_and_bad_rows(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,user_id,item_id,event_type,value,timestamp,context\n"
        'e1,u1,i1,rating,4.5,2026-01-01T00:00:00Z,"{""device"": ""web""}"\n'
        "e2,u1,i2,click,,2026-01-01T00:01:00Z,\n"
        "e3,u1,i3,click,,not-a-time,\n"
        "e4,u2,i4,click,,2026-01-01T00:02:00Z,,surplus\n"
    )
    report = SourceReport()
    events = list(read_interactions(path, report))
    assert [e.event_id for e in events] == ["e1", "e2"]
    assert events[0].value == 4.5 and events[0].context == {"device": "web"}
    assert events[1].value is None
    assert report.rejected == 2
    assert "field 'timestamp'" in report.rejections[0].reason and report.rejections[0].line == 4
    assert "__extra_cells__" in report.rejections[1].reason


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        list(read_interactions(tmp_path / "nope.jsonl", SourceReport()))
