"""Serving benchmark: /recommend latency with one client (about 100 candidates per request),
throughput at p99 <= 50 ms with concurrent clients, and ingest through /events/batch. The API
runs in its own process (uvicorn, one worker); clients run here."""

from __future__ import annotations

import asyncio
import http.client
import json
import pickle
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np

from bench.cleanup import keys_dropped
from models.batch.data import frame_from_events, histories
from models.batch.pipeline import TrainConfig, train_and_evaluate
from models.batch.ranker import RankerConfig
from streams.core.contracts import Interaction, Item, main_categories
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.features.point_in_time import PointInTime
from streams.infra.kafka import free_port
from streams.kafka.admin import apply_topics
from streams.sources.synthetic import SimulationConfig, simulate

JSON = {"Content-Type": "application/json"}


def _percentile(values, q) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _start_server(directory: str, port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "bench.serve_server", directory, str(port), str(workers)])
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the bench API did not become ready")


def _stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(20)


def _throughput(base: str, users: list[str], progress, label: str) -> list[tuple[int, float, float, float]]:
    rows = []
    for clients in (1, 2, 4, 8, 16):
        rate, p50, p99 = asyncio.run(_load(f"{base}/recommend", users, clients, 8.0))
        rows.append((clients, rate, p50, p99))
        progress(f"{label}, {clients} clients: {rate:,.0f} req/s, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    return rows


def _best_within(rows, p99_s: float = 0.050):
    within = [r for r in rows if r[3] <= p99_s]
    return max(within, key=lambda r: r[1]) if within else None


async def _load(url: str, users: list[str], clients: int, seconds: float) -> tuple[float, float, float]:
    """(requests/s, p50, p99) with ``clients`` concurrent closed-loop clients."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def client(n: int):
        async with httpx.AsyncClient(timeout=10) as http:
            i = n
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                r = await http.post(url, json={"user_id": users[i % len(users)], "k": 10})
                r.raise_for_status()
                latencies.append(time.perf_counter() - began)
                i += clients

    began = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies) / (time.perf_counter() - began), _percentile(latencies, 50), _percentile(latencies, 99)


def write_online_store(settings: Settings, frame, items: list[Item], categories: dict[str, str]) -> None:
    """The online store as the worker leaves it after these events: every user's and item's row in
    Feast (the replay of the worker's feature code up to the last event)."""
    from streams.stores.feast import FeatureWriter, apply_definitions, open_store

    store = open_store(settings)
    apply_definitions(store, settings.feature_repo)
    writer = FeatureWriter(store)
    end = frame["timestamp"].max().timestamp() + 1
    replay = PointInTime(frame, categories)
    users = sorted(frame["user_id"].unique())
    snapshots = replay([(u, end, []) for u in users[:-1]] + [(users[-1], end, [i.item_id for i in items])])
    user_rows = {u: dict(s.user) for u, s in zip(users, snapshots, strict=True) if s.user}
    item_rows = {i: dict(row) for i, row in snapshots[-1].items.items()}
    for view, key, rows in (
        ("user_features", "user_id", user_rows),
        ("item_features", "item_id", item_rows),
        (
            "item_catalog",
            "item_id",
            {
                i.item_id: {
                    "title": i.title or "",
                    "category": categories.get(i.item_id, ""),
                    "categories": i.categories,
                }
                for i in items
            },
        ),
    ):
        for start in range(0, len(rows), 500):
            chunk = dict(list(rows.items())[start : start + 500])
            writer.write(view, key, chunk, {e: end for e in chunk})


def _one_client(base: str, users: list[str], n: int = 2_000) -> list[float]:
    """Latencies of ``n`` sequential requests from one httpx client (after 200 to warm up)."""
    with httpx.Client(timeout=10) as http:
        for u in users[:200]:  # warm-up
            http.post(f"{base}/recommend", json={"user_id": u, "k": 10})
        latencies = []
        for i in range(n):
            began = time.perf_counter()
            http.post(f"{base}/recommend", json={"user_id": users[i % len(users)], "k": 10}).raise_for_status()
            latencies.append(time.perf_counter() - began)
    return latencies


def _one_lean_client(port: int, users: list[str], n: int = 2_000) -> list[float]:
    """The same with the standard library's keep-alive connection, whose own cost per request is
    a fraction of httpx's (both run on the server's 2 vCPUs)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(user: str) -> None:
        connection.request("POST", "/recommend", json.dumps({"user_id": user, "k": 10}), JSON)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"/recommend answered {response.status}: {response.read()[:200]!r}")
        response.read()

    for u in users[:200]:
        post(u)
    latencies = []
    for i in range(n):
        began = time.perf_counter()
        post(users[i % len(users)])
        latencies.append(time.perf_counter() - began)
    connection.close()
    return latencies


def gauge(base: str, name: str) -> float | None:
    """One unlabelled series of the API's ``/metrics`` (None when absent)."""
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def popular_now_state(base: str) -> tuple[float, float]:
    """The API's popular-now weight and how many answers its judge has judged."""
    return gauge(base, "streamrec_api_popular_now_weight"), gauge(base, "streamrec_api_popular_now_judgments") or 0.0


def run(settings: Settings, progress=print) -> str:
    messages = list(simulate(SimulationConfig(n_events=60_000, n_users=2_000, n_items=2_000, seed=3)))
    events = [m for m in messages if isinstance(m, Interaction)]
    items = [m for m in messages if isinstance(m, Item)]
    categories = main_categories(items)
    frame = frame_from_events(events)
    config = TrainConfig(sasrec_epochs=3, ranker=RankerConfig(candidates_per_generator=35))
    model = train_and_evaluate(frame, replace(config, online_features=False), progress).model
    with_features = train_and_evaluate(frame, config, progress, PointInTime(frame, categories)).model
    user_histories = {u: h[-50:] for u, h in histories(frame).items()}
    pools = [len(model.candidates(h)[0]) for h in list(user_histories.values())[:300]]
    prefix = f"benchs{uuid.uuid4().hex[:6]}-"
    s = settings.model_copy(update={"topic_prefix": prefix, "feast_project": prefix.strip("-")})
    apply_topics(s, TopicCatalog.load(s.topics_file, prefix))
    write_online_store(s, frame, items, categories)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, keys_dropped(s, feast_project=True, progress=progress):
        root = Path(tmp)
        (root / "model.pkl").write_bytes(pickle.dumps(model))
        (root / "histories.pkl").write_bytes(pickle.dumps(user_histories))
        (root / "settings.json").write_text(s.model_dump_json())
        server = _start_server(tmp, port, workers=1)
        base = f"http://127.0.0.1:{port}"
        users = list(user_histories)
        try:
            one = _one_client(base, users)
            progress(f"one client: p50 {_percentile(one, 50) * 1000:.2f} ms, p99 {_percentile(one, 99) * 1000:.2f} ms")
            rows = _throughput(base, users, progress, "1 worker")
            batch = [
                Interaction(user_id=f"u{n % 500}", item_id=f"i{n % 700}", event_type="click").model_dump(mode="json")
                for n in range(100_000)
            ]
            sent, began = 0, time.perf_counter()
            with httpx.Client(timeout=60) as http:
                for start in range(0, len(batch), 2_000):
                    chunk = batch[start : start + 2_000]
                    r = http.post(f"{base}/events/batch", json=chunk)
                    r.raise_for_status()
                    sent += r.json()["accepted"]
            ingest = sent / (time.perf_counter() - began)
            progress(f"ingest: {ingest:,.0f} events/s through /events/batch")
        finally:
            _stop_server(server)
        server = _start_server(tmp, port, workers=2)
        try:
            rows2 = _throughput(base, users, progress, "2 workers")
        finally:
            _stop_server(server)
        # the feature-based ranker, reading the user's row and the candidates' rows from Feast
        (root / "model.pkl").write_bytes(pickle.dumps(with_features))
        (root / "online").touch()
        server = _start_server(tmp, port, workers=1)
        try:
            featured = _one_client(base, users)
            lean = _one_lean_client(port, users)
            refresh_s = gauge(base, "streamrec_api_item_features_refresh_seconds")
            progress(
                f"one client, online features from Feast: p50 {_percentile(featured, 50) * 1000:.2f} ms, "
                f"p99 {_percentile(featured, 99) * 1000:.2f} ms (httpx); p50 {_percentile(lean, 50) * 1000:.2f} ms, "
                f"p99 {_percentile(lean, 99) * 1000:.2f} ms (http.client)"
            )
        finally:
            _stop_server(server)
    best, best2 = _best_within(rows), _best_within(rows2)
    table = "\n".join(
        f"| {w} | {c} | {rate:,.0f} | {p50 * 1000:.1f} | {p99 * 1000:.1f} |"
        for w, data in (("1", rows), ("2", rows2))
        for c, rate, p50, p99 in data
    )
    return f"""## Serving (`streamrec bench serve`)

Command: `streamrec bench serve`. The API (`serving/app.py`, uvicorn) serves a
two-stage model trained on 60k synthetic events (2,000 users, 2,000 items; popularity, item-kNN,
EASE and SASRec generators, top 35 each: **{np.mean(pools):.0f} candidates** per request on average,
LightGBM scoring them). Histories come from an in-process dict, so a Feast read (about 0.3 ms p50
at 1 row, ml-stack notes) is not included. Clients run in the benchmark process on the same
2 vCPUs.

One client, sequential, 2,000 requests (k=10): p50 **{_percentile(one, 50) * 1000:.2f} ms**, p99
**{_percentile(one, 99) * 1000:.2f} ms** (httpx).

With the online features, wired as `streamrec serve` wires them (the feature-based ranker;
`serving/features.py` reads the user's row from the Feast online store in Redis in the same round
trip as the seen-set, which also gives the history; the candidates' item rows come from an
in-process cache that a background thread refreshes every `STREAMREC_SERVE_ITEM_FEATURES_TTL_S`
(2 s); the stream tail; the impression and feature logs on `recommendations` and
`served-features`), for the same 2,000 requests (2,000 users, so no answer comes from the answer
cache):

| client | p50 ms | p99 ms |
|---|---|---|
| httpx | {_percentile(featured, 50) * 1000:.2f} | **{_percentile(featured, 99) * 1000:.2f}** |
| `http.client` (standard library, keep-alive) | {_percentile(lean, 50) * 1000:.2f} | **{_percentile(lean, 99) * 1000:.2f}** |

Goal p99 ≤ 5 ms. The client runs on the same 2 vCPUs as the API, Redis and the broker; httpx
spends about half a millisecond of its own per request. Item features are at most the TTL plus
one refresh old: the latest refresh took **{(refresh_s or 0) * 1000:.0f} ms** for the items asked
for in the last five minutes (here all 2,000).

| uvicorn workers | concurrent clients | requests/s | p50 ms | p99 ms |
|---|---|---|---|---|
{table}

Throughput at p99 ≤ 50 ms: one worker **{f"{best[1]:,.0f} requests/s ({best[0]} clients)" if best else "not reached"}**,
two workers (`streamrec serve --workers 2`) **{f"{best2[1]:,.0f} requests/s ({best2[0]} clients)" if best2 else "not reached"}**
(goal ≥ 1,000/s on 2 cores; the clients share the same 2 vCPUs).

Ingest: 100,000 click events through `POST /events/batch` in batches of 2,000 (validated,
deduplicated in Redis, acknowledged by the broker before the 202): **{ingest:,.0f} events/s**
(goal ≥ 20k/s)."""
