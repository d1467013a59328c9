"""The streaming-quality protocol's scoring: baselines see only events before each point, seen
items are excluded, and a served list is counted for already-seen items and cold starts."""

from datetime import UTC, datetime, timedelta

from bench.stream_quality import Point, baseline_lists, retimed, score_points
from streams.core.contracts import Interaction

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rating(n: int, user: str, item: str, value: float = 5.0) -> Interaction:
    return Interaction(
        user_id=user, item_id=item, event_type="rating", value=value, timestamp=T0 + timedelta(seconds=n)
    )


def test_baselines_use_only_the_past_and_exclude_seen_items():
    events = [rating(0, "a", "x"), rating(1, "b", "x"), rating(2, "b", "y"), rating(3, "a", "z"), rating(4, "c", "z")]
    points = [Point(index=3, user="a", target="z"), Point(index=4, user="c", target="z")]
    lists = baseline_lists(events, points, k=2)
    popular = lists["streaming popularity"]
    assert popular[3] == ["y"]  # x seen by a; z not yet seen by anyone
    assert popular[4] == ["x", "y"]  # z (seen once, at index 3) ranks after x (2) and ties y (1) by order
    assert "z" not in lists["River BiasedMF"][3]  # unknown to the past: never a candidate


def test_recent_popularity_counts_only_the_last_events():
    events = [rating(0, "a", "x"), rating(1, "b", "x"), rating(2, "c", "y"), rating(3, "d", "z"), rating(4, "e", "w")]
    points = [Point(index=4, user="e", target="w")]
    lists = baseline_lists(events, points, k=2, recent_events=2)
    assert lists["popularity of the last 2 events"][4] == ["y", "z"]  # x's two events are older than the window
    assert lists["streaming popularity"][4][0] == "x"


def test_served_lists_are_scored_with_seen_items_and_cold_starts():
    events = [rating(0, "a", "x"), rating(1, "a", "y"), rating(2, "a", "z"), rating(3, "b", "x")]
    points = [
        Point(index=2, user="a", target="z", served=["x", "z"], earlier_events=2, last_event_age_s=1.0),
        Point(index=3, user="b", target="x", served=["y", "w"], cold_start=True, earlier_events=0),
    ]
    baselines = {"streaming popularity": {2: ["z"], 3: ["x"]}}
    result = score_points(events, points, baselines)
    ours = result["rows"]["streamrec (served by /recommend)"]
    assert ours["recall@10"] == 0.5 and ours["already_seen"] == 0.5  # x was seen by a before
    assert result["rows"]["streaming popularity"]["recall@10"] == 1.0
    assert result["already_seen_by_age"]["sent ≥ 0.5 s before"] == 0.5  # x, two seconds before
    assert result["cold_start"] == 0.5 and result["cold_start_new"] == 1.0 and result["cold_start_known"] == 0.0


def test_retimed_keeps_the_spacing_and_ends_at_the_given_time():
    events = [rating(0, "a", "x"), rating(90, "a", "y")]
    end = datetime(2030, 5, 1, tzinfo=UTC)
    moved = retimed(events, end)
    assert moved[-1].timestamp == end and moved[-1].timestamp - moved[0].timestamp == timedelta(seconds=90)
    assert [e.event_id for e in moved] == [e.event_id for e in events]


def test_the_freshness_curve_scores_a_model_blind_to_the_newest_events():
    from bench.freshness import freshness_curve
    from models.batch.pipeline import TrainConfig
    from streams.sources.synthetic import SimulationConfig, simulate

    messages = list(simulate(SimulationConfig(n_events=4_000, n_users=60, n_items=60, n_categories=4, seed=4)))
    events = [m for m in messages if isinstance(m, Interaction)]
    points = [Point(index=n, user=e.user_id, target=e.item_id) for n, e in enumerate(events) if n >= 2_000][::20]
    curve = freshness_curve(
        events, points, 2_000, {f"i{n}": "c0" for n in range(60)}, lags=(0, 200), config=TrainConfig(use_sasrec=False)
    )
    assert curve[0]["already_seen"] == 0.0  # a store that is never behind excludes everything seen
    assert curve[200]["already_seen"] > 0.0  # blind to the newest events: some come back
    assert curve[0]["recall@10"] > 0 and 0 <= curve[200]["cold_start"] <= 1


def test_the_freshness_plot_is_written(tmp_path):
    from bench.freshness import plot_freshness

    curve = {0: {"recall@10": 0.05}, 5: {"recall@10": 0.04}, 25: {"recall@10": 0.02}}
    path = plot_freshness(curve, 0.046, 0.041, tmp_path / "img" / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
