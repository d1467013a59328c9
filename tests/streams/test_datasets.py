"""MovieLens and OTTO readers on small files that the test writes itself (no external data)."""

import json

import pytest

from streams.core.errors import ConfigError
from streams.sources.datasets import detect_format, load
from streams.sources.files import SourceReport


@pytest.fixture
def movielens(tmp_path):
    root = tmp_path / "ml"
    root.mkdir()
    (root / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n"
        "1,10,4.0,1000000300\n"
        "1,20,3.5,1000000100\n"
        "2,10,5.0,1000000200\n"
        "2,30,oops,1000000400\n"
    )
    (root / "movies.csv").write_text(
        'movieId,title,genres\n10,"Heat (1995)",Action|Crime|Thriller\n20,Up (2009),Animation\n'
        "30,Unknown,(no genres listed)\n"
    )
    return root


def test_movielens_ratings_in_time_order_with_genres(movielens):
    report = SourceReport()
    data = load(movielens, report)
    assert detect_format(movielens) == "movielens"
    assert [(e.user_id, e.item_id, e.value) for e in data.interactions] == [
        ("1", "20", 3.5),
        ("2", "10", 5.0),
        ("1", "10", 4.0),
    ]
    assert all(e.event_type == "rating" for e in data.interactions)
    assert {i.item_id: i.categories for i in data.items} == {
        "10": ["Action", "Crime", "Thriller"],
        "20": ["Animation"],
        "30": [],
    }
    assert report.rejected == 1 and "ValueError" in report.rejections[0].reason


def test_replayed_ids_are_stable(movielens):
    first = [e.event_id for e in load(movielens, SourceReport()).interactions]
    again = [e.event_id for e in load(movielens, SourceReport()).interactions]
    assert first == again and len(set(first)) == len(first)


def test_otto_sessions_become_typed_events_in_time_order(tmp_path):
    path = tmp_path / "otto.jsonl"
    sessions = [
        {
            "session": 7,
            "events": [
                {"aid": 1, "ts": 1659304800000, "type": "clicks"},
                {"aid": 1, "ts": 1659304900000, "type": "carts"},
                {"aid": 1, "ts": 1659305000000, "type": "orders"},
            ],
        },
        {"session": 8, "events": [{"aid": 2, "ts": 1659304850000, "type": "clicks"}]},
        {"session": 9, "events": [{"aid": 3, "ts": 1659304860000, "type": "wishlist"}]},
    ]
    path.write_text("\n".join(json.dumps(s) for s in sessions) + "\n")
    report = SourceReport()
    data = load(path, report)
    assert [(e.user_id, e.event_type.value) for e in data.interactions] == [
        ("7", "click"),
        ("8", "click"),
        ("7", "add_to_cart"),
        ("7", "purchase"),
    ]
    assert data.interactions[0].session_id == "7"
    assert {i.item_id for i in data.items} == {"1", "2"}
    assert report.rejected == 1 and "wishlist" in report.rejections[0].reason


def test_limit_and_unknown_format(movielens, tmp_path):
    assert len(load(movielens, SourceReport(), limit=2).interactions) == 2
    with pytest.raises(ConfigError, match="not a MovieLens directory"):
        detect_format(tmp_path)
