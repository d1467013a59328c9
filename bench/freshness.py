"""What freshness is worth, for `streamrec bench stream-quality`: the first model asked at the
same points in-process while blind to the newest events of the stream, and its plot."""

from __future__ import annotations

from pathlib import Path

from bench.stream_quality import Point, hit_and_ndcg, scores_row
from streams.core.contracts import Interaction


def freshness_curve(
    events: list[Interaction],
    points: list[Point],
    bootstrap: int,
    categories: dict[str, str],
    lags=(0, 5, 25, 100),
    config=None,
) -> dict[int, dict[str, float]]:
    """What freshness is worth: a model trained like the first one (on the first ``bootstrap``
    events, with point-in-time online features), asked at the same points in-process while
    blind to the newest ``lag`` events of the stream (history, seen items and features as of
    ``lag`` events before the point). Lag 0 is the ceiling of a store that is never behind."""
    from models.batch.data import frame_from_events
    from models.batch.pipeline import TrainConfig, train_and_evaluate
    from streams.features.point_in_time import PointInTime

    first = frame_from_events(events[:bootstrap])
    model = train_and_evaluate(first, config or TrainConfig(), point_in_time=PointInTime(first, categories)).model
    replay = PointInTime(frame_from_events(events), categories)
    at_points, user_items, truly_seen = {p.index for p in points}, {}, {}
    for n, e in enumerate(events):
        if n in at_points:
            truly_seen[n] = set(user_items.get(e.user_id, ()))
        user_items.setdefault(e.user_id, []).append(e.item_id)
    curve = {}
    for lag in lags:
        stale, seen = {}, {}
        wanted = {p.index - lag: p.index for p in points}
        for n, e in enumerate(events):
            if n in wanted:
                stale[wanted[n]] = list(seen.get(events[wanted[n]].user_id, []))
            seen.setdefault(e.user_id, []).append(e.item_id)
        requests = []
        for p in points:
            history = stale.get(p.index, [])
            at = events[max(p.index - lag, 0)].timestamp.timestamp()
            requests.append((p.user, at, model.snapshot_items(history[-20:], model.pool(history[-20:], history))))
        scores, already, cold = [], [], 0
        for p, snapshot in zip(points, replay(requests), strict=True):
            history = stale.get(p.index, [])
            served = [i for i, _ in model.recommend(history[-20:], 10, exclude=history, features=snapshot)]
            scores.append(hit_and_ndcg(served, p.target))
            already.append(len(set(served) & truly_seen[p.index]))
            cold += not history
        row = scores_row(scores, already)
        curve[lag] = row | {"cold_start": cold / len(points) if points else float("nan")}
    return curve


def plot_freshness(curve: dict, popularity: float, served: float, path: Path) -> Path:
    """Recall@10 against how many of the newest events the answer is blind to, with streaming
    popularity and the served lists as lines: what the stream's freshness buys."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lags = sorted(curve)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    ax.plot(lags, [curve[lag]["recall@10"] for lag in lags], "o-", label="first model, blind to the newest n events")
    ax.axhline(popularity, color="grey", linestyle="--", label="streaming popularity (never blind)")
    ax.axhline(served, color="tab:green", linestyle=":", label="served by /recommend (measured)")
    ax.set_xscale("symlog", linthresh=5)
    ax.set_xticks(lags, [str(lag) for lag in lags])
    ax.set_xlabel("newest events not yet seen by the answer (at 500 events/s, 5 = 10 ms)")
    ax.set_ylabel("recall@10")
    ax.set_title("What freshness is worth (MovieLens replay)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
