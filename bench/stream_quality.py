"""Recommendation quality through the real path: a dataset replayed through Kafka in event-time
order while the worker, learner, trainer and API run as processes; `/recommend` is called just
before every n-th positive rating is produced, and the served list is scored on that rating
(prequential). Streaming popularity and River's BiasedMF, computed here on the same points over
the same event sequence, are the baselines.

The scoring is pure (:func:`score_points`); the run (:func:`run`) is the Kafka/HTTP edge.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

from streams.core.contracts import Interaction, Item, main_categories
from streams.core.settings import Settings

POSITIVE = 4.0  # a rating at or above this is a positive (the protocol's target)
MF_CANDIDATES = 500
RECENT_EVENTS = 10_000  # the window of the recent-popularity baseline
AGE_EDGES = (0.05, 0.5)  # seconds between a served already-seen item's event and the request
AGE_BUCKETS = (
    "sent < 50 ms before",
    "sent 50-500 ms before",
    "sent ≥ 0.5 s before",
)  # BiasedMF ranks the items most popular so far (River scores one item per call)


@dataclass
class Point:
    """One prequential point: the user's next positive item, and what each system showed before it."""

    index: int  # position of the target event in the replayed sequence
    user: str
    target: str
    served: list[str] = field(default_factory=list)
    cold_start: bool = False
    fallback: bool = False
    version: str = ""
    latency_s: float = 0.0
    earlier_events: int = 0  # the user's events produced before this one
    last_event_age_s: float | None = None  # wall-clock age of the user's previous event at the request


def hit_and_ndcg(items: list[str], target: str) -> tuple[float, float]:
    """Recall@k and NDCG@k of one list against one held-out item.

    >>> hit_and_ndcg(["a", "b", "c"], "b")
    (1.0, 0.6309297535714575)
    >>> hit_and_ndcg(["a"], "z")
    (0.0, 0.0)
    """
    if target not in items:
        return 0.0, 0.0
    return 1.0, 1.0 / math.log2(items.index(target) + 2)


def baseline_lists(
    events: list[Interaction], points: list[Point], k: int = 10, seed: int = 73, recent_events: int = RECENT_EVENTS
) -> dict:
    """Streaming popularity (all events so far, and the last ``recent_events`` only) and River
    BiasedMF, each updated on every event in order, asked for their top ``k`` (seen items
    excluded) at each point just before its event."""
    from models.learners.matrix_factorization import MatrixFactorization

    item_index: dict[str, int] = {}
    for e in events:
        item_index.setdefault(e.item_id, len(item_index))
    names = list(item_index)
    counts, recent = np.zeros(len(names)), np.zeros(len(names))
    seen: dict[str, set[int]] = {}
    mf = MatrixFactorization(y_min=0.5, y_max=5.0, seed=seed)
    at = {p.index: p for p in points}
    popular, lately, factorised = {}, {}, {}
    for n, e in enumerate(events):
        if n in at:
            user_seen = seen.get(e.user_id, set())
            order = np.argsort(-counts, kind="stable")[: int(np.count_nonzero(counts))]  # items seen so far
            popular[n] = [names[i] for i in order[: k + len(user_seen)] if i not in user_seen][:k]
            newest = np.argsort(-recent, kind="stable")[: int(np.count_nonzero(recent))]
            lately[n] = [names[i] for i in newest[: k + len(user_seen)] if i not in user_seen][:k]
            pool = [names[i] for i in order[: MF_CANDIDATES + len(user_seen)] if i not in user_seen][:MF_CANDIDATES]
            scores = [mf.predict_one(e.user_id, item) for item in pool]
            factorised[n] = [pool[i] for i in np.argsort(-np.asarray(scores), kind="stable")[:k]]
        i = item_index[e.item_id]
        counts[i] += 1
        recent[i] += 1
        if n >= recent_events:
            recent[item_index[events[n - recent_events].item_id]] -= 1
        seen.setdefault(e.user_id, set()).add(i)
        mf.learn_one(e.user_id, e.item_id, float(e.value if e.value is not None else 1.0))
    return {
        "streaming popularity": popular,
        f"popularity of the last {recent_events:,} events": lately,
        "River BiasedMF": factorised,
    }


def score_points(events: list[Interaction], points: list[Point], baselines: dict) -> dict:
    """Per system: recall@10, NDCG@10 and already-seen items per list; for the served lists also
    the shares of cold-start and fallback answers, split by what the store could know."""
    seen: dict[str, dict[str, float]] = {}  # user -> item -> time of its newest event
    already, ages = [], Counter()
    at = {p.index: p for p in points}
    for n, e in enumerate(events):
        if n in at:
            user_seen = seen.get(e.user_id, {})
            repeats = [e.timestamp.timestamp() - user_seen[item] for item in at[n].served if item in user_seen]
            already.append(len(repeats))
            ages.update(AGE_BUCKETS[sum(age >= edge for edge in AGE_EDGES)] for age in repeats)
        seen.setdefault(e.user_id, {})[e.item_id] = e.timestamp.timestamp()
    rows = {}
    served = [hit_and_ndcg(p.served, p.target) for p in points]
    rows["streamrec (served by /recommend)"] = scores_row(served, already)
    for name, lists in baselines.items():
        rows[name] = scores_row([hit_and_ndcg(lists[p.index], p.target) for p in points], [0] * len(points))
    known = [p for p in points if p.last_event_age_s is not None and p.last_event_age_s >= 0.5]
    in_flight = [p for p in points if p.last_event_age_s is not None and p.last_event_age_s < 0.5]
    new = [p for p in points if p.earlier_events == 0]
    return {
        "rows": rows,
        "points": len(points),
        "cold_start": _share(points, lambda p: p.cold_start),
        "fallback": _share(points, lambda p: p.fallback),
        "cold_start_known": _share(known, lambda p: p.cold_start),
        "cold_start_in_flight": _share(in_flight, lambda p: p.cold_start),
        "cold_start_new": _share(new, lambda p: p.cold_start),
        "known": len(known),
        "in_flight": len(in_flight),
        "new": len(new),
        "already_seen_by_age": {b: ages[b] / len(points) if points else 0.0 for b in AGE_BUCKETS},
        "latency_p99_ms": float(np.percentile([p.latency_s for p in points], 99) * 1000) if points else float("nan"),
        "versions": Counter(p.version for p in points),
        "by_version": by_version(points, served, baselines["streaming popularity"]),
    }


def by_version(points: list[Point], served: list[tuple[float, float]], popular: dict) -> dict[str, float]:
    """Per served model version: recall@10 of its lists over streaming popularity's on the same points."""
    ratios = {}
    for version in sorted({p.version for p in points}):
        mine = [(s, p) for s, p in zip(served, points, strict=True) if p.version == version]
        ours = sum(hit for (hit, _), _ in mine)
        theirs = sum(hit_and_ndcg(popular[p.index], p.target)[0] for _, p in mine)
        ratios[version] = ours / theirs if theirs else float("nan")
    return ratios


def scores_row(scores: list[tuple[float, float]], already: list[int]) -> dict[str, float]:
    hits, ndcgs = zip(*scores, strict=True) if scores else ((), ())
    return {
        "recall@10": float(np.mean(hits)) if hits else float("nan"),
        "ndcg@10": float(np.mean(ndcgs)) if ndcgs else float("nan"),
        "already_seen": float(np.mean(already)) if already else float("nan"),
    }


def _share(points: list[Point], test) -> float:
    return sum(map(test, points)) / len(points) if points else float("nan")


def retimed(events: list[Interaction], end: datetime) -> list[Interaction]:
    """The same events shifted so the last one happens at ``end`` (their spacing kept)."""
    if not events:
        return []
    shift = end - events[-1].timestamp
    return [e.model_copy(update={"timestamp": e.timestamp + shift}) for e in events]


def run(
    settings: Settings,
    dataset: Path,
    rate: float = 500.0,
    bootstrap: float = 0.2,
    every: int = 10,
    limit: int | None = None,
    retrain_every: int = 20_000,
    progress=print,
    plot: Path | None = Path("docs/img/stream_quality_freshness.png"),
) -> str:
    """The section's markdown; ``plot``: where the freshness plot goes (None: nowhere)."""
    from bench.cleanup import keys_dropped
    from bench.serve import popular_now_state
    from streams.core.topics import TopicCatalog
    from streams.demo.isolation import demo_settings
    from streams.demo.loop import first_model_request, wait_until
    from streams.demo.processes import Service
    from streams.kafka.admin import apply_topics
    from streams.kafka.producer import EventProducer
    from streams.kafka.readers import GroupLag
    from streams.sources.datasets import load
    from streams.sources.files import SourceReport

    data = load(Path(dataset), SourceReport(), limit=limit)
    split = int(len(data.interactions) * bootstrap)
    first, rest = retimed(data.interactions[:split], datetime.now(UTC)), data.interactions[split:]
    run_id = time.strftime("%Y%m%d%H%M%S")
    root = settings.run_dir / "bench-stream-quality" / run_id
    s = demo_settings(settings, f"q{run_id}", root).model_copy(
        update={"learner_retrain_every_events": retrain_every, "learner_retrain_cooldown_s": 30.0}
    )
    with keys_dropped(s, feast_project=True, progress=progress):
        catalog = TopicCatalog.load(s.topics_file, s.topic_prefix)
        apply_topics(s, catalog)
        api = f"http://{s.serve_host}:{s.serve_port}"
        services = [Service(name, [name], s, root / "logs") for name in ("worker", "learner", "trainer", "serve")]
        points: list[Point] = []
        sequence: list[Interaction] = list(first)
        began = time.monotonic()
        try:
            for service in services:
                service.start()
            with httpx.Client(timeout=10.0) as http, EventProducer(s, catalog, report_successes=True) as producer:
                items: list[Item] = data.items
                for message in [*items, *first]:
                    producer.send(message)
                producer.flush()
                progress(f"bootstrap: {len(items):,} items and {len(first):,} ratings produced ({bootstrap:.0%})")
                lag = GroupLag(s, s.worker_group, catalog.name("interactions"))
                try:
                    wait_until(lambda: lag() == 0, 600, "the worker to process the bootstrap", services)
                finally:
                    lag.close()
                end = first[-1].timestamp + timedelta(seconds=1)
                producer.send_and_wait(first_model_request(s, "stream-quality: the first model, on the bootstrap", end))
                wait_until(lambda: _ready(http, api), 900, "the first model to be served", services)
                progress(f"first model served after {time.monotonic() - began:.0f} s; replaying {len(rest):,} ratings")
                weights: list[tuple[int, float, float]] = [(0, *popular_now_state(api))]
                _replay(http, api, producer, rest, rate, every, points, sequence, progress, weights)
                weights.append((len(rest), *popular_now_state(api)))
        finally:
            for service in reversed(services):
                service.stop()
        progress(f"scoring {len(points):,} points against the baselines")
        baselines = baseline_lists(sequence, points)
        result = score_points(sequence, points, baselines)
        known = {e.item_id for e in first}
        result["new_targets"] = sum(p.target not in known for p in points) / max(len(points), 1)
        result["popular_now"] = weights
        from bench.freshness import freshness_curve, plot_freshness

        progress("what freshness is worth: the first model, in-process, blind to the newest events")
        result["freshness"] = freshness_curve(sequence, points, len(first), main_categories(data.items))
        rows = result["rows"]
        if plot is not None:
            plot_freshness(
                result["freshness"],
                rows["streaming popularity"]["recall@10"],
                rows["streamrec (served by /recommend)"]["recall@10"],
                plot,
            )
        return markdown(result, dataset, rate, bootstrap, every, len(first), len(rest), retrain_every)


def _ready(http: httpx.Client, api: str) -> bool:
    try:
        return http.get(f"{api}/ready").status_code == 200
    except httpx.HTTPError:
        return False


def _replay(http, api, producer, rest, rate, every, points, sequence, progress, weights) -> None:
    """Produce ``rest`` at ``rate``, stamped with the time they are sent; before every
    ``every``-th positive, ask `/recommend` for the user. ``weights`` receives (events replayed,
    popular-now weight, judgments) every 10,000 events."""
    from bench.serve import popular_now_state

    earlier = Counter(e.user_id for e in sequence)
    last_sent = dict.fromkeys(earlier, float("-inf"))  # bootstrap events: long in the store
    positives, started = 0, time.monotonic()
    for n, event in enumerate(rest):
        if event.value is not None and event.value >= POSITIVE:
            positives += 1
            if positives % every == 0:
                producer.flush()  # the user's earlier events acknowledged, as a client that waits for its writes
                points.append(_ask(http, api, event, len(sequence), earlier, last_sent))
        event = event.model_copy(update={"timestamp": datetime.now(UTC)})
        producer.send(event)
        sequence.append(event)
        earlier[event.user_id] += 1
        last_sent[event.user_id] = time.monotonic()
        if n % 50 == 0:
            ahead = n / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        if n and n % 10_000 == 0:
            weights.append((n, *popular_now_state(api)))
            progress(
                f"  {n:,} of {len(rest):,} ratings replayed, {len(points):,} answers scored; "
                f"popular-now weight {weights[-1][1]:g} after {weights[-1][2]:,.0f} judgments"
            )
    producer.flush()


def _ask(http, api, event: Interaction, index: int, earlier: Counter, last_sent: dict) -> Point:
    began = time.monotonic()
    response = http.post(f"{api}/recommend", json={"user_id": event.user_id, "k": 10, "exclude_seen": True})
    response.raise_for_status()
    body = response.json()
    sent = last_sent.get(event.user_id)
    return Point(
        index=index,
        user=event.user_id,
        target=event.item_id,
        served=[i["item_id"] for i in body["items"]],
        cold_start=bool(body.get("cold_start")),
        fallback=bool(body["fallback"]),
        version=body["model_version"],
        latency_s=time.monotonic() - began,
        earlier_events=earlier[event.user_id],
        last_event_age_s=None if sent is None else began - sent,
    )


def markdown(result: dict, dataset, rate, bootstrap, every, n_first, n_rest, retrain_every) -> str:
    rows = result["rows"]
    pop = rows["streaming popularity"]
    table = "\n".join(
        f"| {name} | {r['recall@10']:.4f} | {r['ndcg@10']:.4f} | {r['recall@10'] / pop['recall@10']:.2f}x "
        f"| {r['already_seen']:.2f} |"
        for name, r in rows.items()
    )
    freshness = "\n".join(
        f"| {lag} events | {r['recall@10']:.4f} | {r['recall@10'] / pop['recall@10']:.2f}x | {r['ndcg@10']:.4f} "
        f"| {r['already_seen']:.2f} | {r['cold_start']:.1%} |"
        for lag, r in result.get("freshness", {}).items()
    )
    ratio = result.get("by_version", {})
    versions = ", ".join(
        f"v{v}: {n:,} (recall {ratio.get(v, float('nan')):.2f}x popularity's on them)"
        for v, n in sorted(result["versions"].items())
    )
    ours = rows["streamrec (served by /recommend)"]
    return f"""## Streaming quality through the real path (`streamrec bench stream-quality`)

Command: `streamrec bench stream-quality --dataset {dataset} --rate {rate:.0f} --retrain-every
{retrain_every}`. The worker, learner, trainer and API run as processes on the local Kafka, Redis and MLflow (sqlite), all on
the same 2 vCPUs as this driver. The first {bootstrap:.0%} of the ratings ({n_first:,}, their time
spacing kept, shifted to end now) bootstrap the stream and the first model (a manual retrain,
promoted by the same gates as any other). The learner asks for a retrain every {retrain_every:,} new
events (`STREAMREC_LEARNER_RETRAIN_EVERY_EVENTS`; 30 s cooldown) and on drift: the replay packs
years of ratings into minutes, so models age fast. The remaining {n_rest:,} are replayed in event-time order
at {rate:,.0f} events/s, each stamped with the time it is sent. Just before every {every}th positive
rating (≥ {POSITIVE:g}) is produced, the driver waits until the broker has acknowledged what it
sent so far (a flush, as a client does that wants its answer to reflect its events), then
`/recommend` (k=10, `exclude_seen`) is asked for its user and the list is scored on that rating: **{result["points"]:,} points**. The baselines see the same
events in the same order and are asked at the same points, in this process: streaming popularity
(all events so far) and River's BiasedMF (learning every rating; it ranks the {MF_CANDIDATES} items
most popular so far, as River scores one item per call); popularity over the last {RECENT_EVENTS:,}
events is there to show how much of the signal is recent. Seen items are excluded for all.

| system | recall@10 | NDCG@10 | recall vs popularity | already-seen items per list |
|---|---|---|---|---|
{table}

Goal: ≥ 1.25x popularity and 0 already-seen items; measured
**{ours["recall@10"] / pop["recall@10"]:.2f}x** and **{ours["already_seen"]:.2f}**.

What a model trained on the bootstrap cannot do: **{result.get("new_targets", 0):.1%}** of the
points' targets are items that first appear after the bootstrap. A model ranks the items of its
training data, so until a retrain it cannot serve them, while streaming popularity counts a new
item from its first event.

Answers: cold-start **{result["cold_start"]:.1%}**, fallback **{result["fallback"]:.1%}**;
/recommend p99 {result["latency_p99_ms"]:.1f} ms (under the full load). By what the store could
know at the request:

| the user's events | points | cold-start answers |
|---|---|---|
| none before (new user) | {result["new"]:,} | {result["cold_start_new"]:.1%} |
| the latest sent ≥ 0.5 s before | {result["known"]:,} | {result["cold_start_known"]:.1%} |
| the latest sent < 0.5 s before (in flight) | {result["in_flight"]:,} | {result["cold_start_in_flight"]:.1%} |

What freshness is worth. The same protocol in this process, with a model trained like the
first one (bootstrap only, no retrains), blind to the newest *n* events of the stream (its
history, seen items and online features as of *n* events before the point; at {rate:,.0f}
events/s, 5 events are 10 ms):

| blind to the newest | recall@10 | vs popularity | NDCG@10 | already-seen per list | cold-start |
|---|---|---|---|---|---|
{freshness}

![recall@10 against the newest events not yet seen](img/stream_quality_freshness.png)

Already-seen items per list, by how long before the request their event was sent:
{", ".join(f"{b}: {v:.2f}" for b, v in result["already_seen_by_age"].items())}.

Served versions: {versions}.

What is popular right now, fused into the answers (`docs/serving.md`): the weight the API served
with, by ratings replayed (the model's own until the API's judge, scoring every weight on the
answers and the users' next ratings, found a clearly better one):
{", ".join(f"{n:,}: {w:g} ({j:,.0f} judged)" for n, w, j in result.get("popular_now", []))}."""
