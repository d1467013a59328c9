"""``streamrec bench faults``, the stream's part: two workers on a topic of their own, events
re-sent by their producer, poison records, one worker killed with SIGKILL mid-stream. Measured:
how soon the survivor has the dead worker's partitions caught up, and, once everything is
processed, events lost and counted twice (in the archive and in the online ``events_total``
of every user), and what reached the dead-letter topic with which reasons.

The serving part (outages under load) is :mod:`bench.outages`; the experiments' A/A false
promotions are :func:`a_a_false_promotions`.
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pyarrow.parquet as pq

from streams.core.contracts import Interaction, Item, encode
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.demo.processes import Service
from streams.kafka.admin import apply_topics
from streams.kafka.producer import EventProducer
from streams.kafka.readers import GroupLag, read_topic
from streams.sources.synthetic import SimulationConfig, simulate

POISON_KINDS = {
    "bad-json": b'{"user_id": "u1", "item_id": ',
    "wrong-type": b'{"user_id": "u1", "item_id": "i1", "event_type": "rating", "value": "five"}',
    "missing-field": b'{"user_id": "u1", "event_type": "view"}',
    "unknown-type": b'{"user_id": "u1", "item_id": "i1", "event_type": "teleport"}',
    "tombstone": None,
}
POISON_EACH = 20  # of every kind, plus as many events over max_event_bytes


@dataclass
class StreamFaults:
    events: int
    copies: int
    poison: int
    takeover_s: float  # the lag back under its level before the kill
    resumed_s: float  # the lag's peak: from here the dead worker's partitions are processed again
    lag_before_kill: int
    archived_rows: int
    archived_unique: int
    total_counted: int  # sum of the users' online events_total
    reasons: Counter = field(default_factory=Counter)
    dead_lettered: int = 0
    # copies inside the dedupe window, of them counted twice, copies outside it, of them counted twice
    by_window: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def lost(self) -> int:
        return self.events - self.archived_unique

    @property
    def double_counted_archive(self) -> int:
        return self.archived_rows - self.archived_unique

    @property
    def double_counted_features(self) -> int:
        return max(self.total_counted - self.events, 0)

    @property
    def missing_from_features(self) -> int:
        return max(self.events - self.total_counted, 0)


def stream_faults(settings: Settings, n_events: int, copies: int, rate: float, progress) -> StreamFaults:
    run = uuid.uuid4().hex[:8]
    s = settings.model_copy(
        update={
            "topic_prefix": f"faults{run}-",
            "worker_group": f"faults{run}-features",
            "archive_dir": settings.run_dir / "bench-faults" / run / "archive",
            "worker_metrics_port": 0,
        }
    )
    catalog = TopicCatalog.load(s.topics_file, s.topic_prefix)
    apply_topics(s, catalog)
    messages = list(simulate(SimulationConfig(n_events=n_events, n_users=400, n_items=300, n_categories=8, seed=11)))
    items = [m for m in messages if isinstance(m, Item)]
    events = [m for m in messages if isinstance(m, Interaction)]
    sent, inside = with_copies(events, copies, random.Random(5))
    half = len(sent) // 2
    first, second = sent[:half], sent[half:]
    log_dir = s.run_dir / "bench-faults" / run
    workers = [Service(f"worker-{k}", ["worker", "--worker-id", f"faults-{k}"], s, log_dir) for k in (1, 2)]
    lag = GroupLag(s, s.worker_group, catalog.name("interactions"))
    try:
        with EventProducer(s, catalog) as producer:
            for item in items:
                producer.send(item)
        for worker in workers:
            worker.start()
        progress(
            f"faults: 2 workers, {len(events):,} events, {copies:,} re-sent, {(len(POISON_KINDS) + 1) * POISON_EACH} poison"
        )
        _send_paced(s, catalog, first, rate)
        _send_poison(s, catalog, copies_each=POISON_EACH)
        _wait(lambda: lag() == 0, 300, "both workers to drain the first half")
        lag_before = _max_lag(lag, seconds=3.0)
        os.killpg(workers[0].process.pid, signal.SIGKILL)
        killed = time.monotonic()
        progress("faults: worker-1 killed with SIGKILL; the second half streams on")
        sender = _send_paced_in_background(s, catalog, second, rate)
        samples = _lag_samples(lag, until=lambda: not sender.is_alive(), every_s=0.2)
        sender.join()
        _wait(lambda: lag() == 0, 300, "the survivor to drain everything")
        samples.append((time.monotonic(), 0))
        takeover = _recovered_after(samples, killed, threshold=max(lag_before, int(rate)))
        resumed = max((sample for sample in samples if sample[0] >= killed), key=lambda sample: sample[1])[0] - killed
        progress(
            f"faults: the survivor resumed the dead partitions {resumed:.1f} s after the kill, caught up at {takeover:.1f} s"
        )
        time.sleep(3.0)  # the last archive files and feature writes land
        rows_per_event = _archive_rows(s)
        rows, unique = sum(rows_per_event.values()), len(rows_per_event)
        twice = {event_id for event_id, n in rows_per_event.items() if n > 1}
        counted = _events_total(s, sorted({e.user_id for e in events}))
        dead = list(read_topic(s, catalog.name("interactions-dlq"), idle_timeout_s=5, max_seconds=60))
    finally:
        lag.close()
        for worker in workers:
            worker.stop()
    reasons = Counter(dict(r.headers() or []).get("error.class", b"?").decode() for r in dead)
    outside = copies - len(inside)
    return StreamFaults(
        len(events),
        copies,
        (len(POISON_KINDS) + 1) * POISON_EACH,
        takeover,
        resumed,
        lag_before,
        rows,
        unique,
        counted,
        reasons,
        len(dead),
        (len(inside), len(twice & inside), outside, len(twice - inside)),
    )


def with_copies(events: list[Interaction], copies: int, rng: random.Random, late_share: float = 0.25):
    """The stream as sent: every event, plus ``copies`` re-sent ones (same event_id). Most come
    1-2,000 events after their original (a producer retrying); ``late_share`` come at the end
    (a file produced twice). Returns (sent, ids of the copies inside the dedupe window: fewer than
    its capacity of events of the same user applied between the original and the copy, copies
    applied again beyond the window included).

    >>> from streams.core.contracts import Interaction
    >>> evs = [Interaction(user_id="u", item_id=f"i{n}", event_type="view") for n in range(200)]
    >>> sent, inside = with_copies(evs, 10, random.Random(1), late_share=0.5)
    >>> len(sent), len({e.event_id for e in sent}), 0 < len(inside) < 10
    (210, 200, True)
    """
    from streams.core.dedupe import DEFAULT_CAPACITY

    chosen = rng.sample(range(len(events)), copies)
    late = set(rng.sample(chosen, int(copies * late_share)))
    keyed = [(float(n), e) for n, e in enumerate(events)]
    for n in chosen:
        at = len(events) + n / len(events) if n in late else min(n + rng.randint(1, 2_000), len(events)) + 0.5
        keyed.append((at, events[n]))
    keyed.sort(key=lambda pair: pair[0])
    sent = [e for _, e in keyed]
    first_at, applied, inside = {}, {}, set()  # applied: per user, positions of events that took a slot
    for position, event in enumerate(sent):
        if event.event_id in first_at:
            between = [p for p in applied[event.user_id] if p > first_at[event.event_id]]
            if len(between) < DEFAULT_CAPACITY:
                inside.add(event.event_id)
                continue
        first_at.setdefault(event.event_id, position)  # a copy beyond the window is applied again,
        applied.setdefault(event.user_id, []).append(position)  # and takes a slot like any event
    return sent, inside


def _send_paced(s: Settings, catalog: TopicCatalog, events: list[Interaction], rate: float) -> None:
    began = time.monotonic()
    with EventProducer(s, catalog) as producer:
        for n, event in enumerate(events):
            if (delay := began + n / rate - time.monotonic()) > 0:
                time.sleep(delay)
            producer.send(event)


def _send_paced_in_background(s, catalog, events, rate):
    import threading

    thread = threading.Thread(target=_send_paced, args=(s, catalog, events, rate), daemon=True)
    thread.start()
    return thread


def _send_poison(s: Settings, catalog: TopicCatalog, copies_each: int) -> None:
    from confluent_kafka import Producer

    raw = Producer({"bootstrap.servers": s.kafka_bootstrap_servers})
    big = encode(Interaction(user_id="u1", item_id="i1", event_type="view", context={"x": "y" * s.max_event_bytes}))
    for n in range(copies_each):
        for kind, value in [*POISON_KINDS.items(), ("oversized", big)]:
            raw.produce(catalog.name("interactions"), value, f"{kind}-{n}".encode())
    raw.flush(30)


def _wait(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"faults benchmark: {what} not within {timeout_s:.0f} s")
        time.sleep(0.2)


def _max_lag(lag, seconds: float) -> int:
    end, worst = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        worst = max(worst, lag())
        time.sleep(0.2)
    return worst


def _lag_samples(lag, until, every_s: float) -> list[tuple[float, int]]:
    samples = []
    while not until():
        samples.append((time.monotonic(), lag()))
        time.sleep(every_s)
    return samples


def _recovered_after(samples: list[tuple[float, int]], since: float, threshold: int) -> float:
    """Seconds from ``since`` to the end of the last stretch with lag above ``threshold`` (the
    dead worker's partitions waiting); 0 when the lag never rose.

    >>> _recovered_after([(1.0, 10), (2.0, 900), (3.0, 2000), (4.0, 50), (5.0, 0)], 1.0, 500)
    3.0
    """
    over = [t for t, value in samples if t >= since and value > threshold]
    if not over:
        return 0.0
    after = [t for t, value in samples if t > over[-1]]
    return (after[0] if after else over[-1]) - since


def _archive_rows(s: Settings) -> Counter:
    """event_id -> rows in the archive's files (read raw: ``read_archive`` drops copies)."""
    files = list(s.archive_dir.rglob("*.parquet"))
    return Counter(i for f in files for i in pq.read_table(f, columns=["event_id"]).column("event_id").to_pylist())


def _events_total(s: Settings, users: list[str]) -> int:
    from streams.stores.feast import open_store

    store = open_store(s)
    rows = store.get_online_features(
        features=["user_features:events_total"], entity_rows=[{"user_id": u} for u in users]
    ).to_dict()
    return sum(v or 0 for v in rows["events_total"])


def a_a_false_promotions(runs: int, confidence: float = 0.95, seed: int = 0) -> tuple[int, int]:
    """Identical variants (10 % conversion), looked at every 100 impressions for up to 12,000,
    under the experiments' own allocation and stopping rule: (false promotions, runs)."""
    import numpy as np

    from serving.experiments.plan import ExperimentSpec, Variant, VariantStats, allocate, decide

    spec = ExperimentSpec(
        name="a-a",
        variants=[Variant(name="A", model="champion"), Variant(name="B", model="challenger")],
        min_impressions=100,
        confidence=confidence,
    )
    promoted = 0
    for run in range(runs):
        rng = np.random.default_rng(seed + run)
        experiment = _experiment(spec.model_copy(update={"auto_promote": True}))
        counts = {"A": [0, 0], "B": [0, 0]}
        for _ in range(120):
            stats = {n: VariantStats(*c) for n, c in counts.items()}
            for _ in range(100):
                variant = allocate(experiment, "user", stats, rng)
                counts[variant][0] += 1
                counts[variant][1] += rng.random() < 0.1
            decision = decide(experiment, {n: VariantStats(*c) for n, c in counts.items()})
            if decision.action in ("promote", "complete"):
                promoted += decision.action == "promote"
                break
            if decision.action == "look":
                experiment = experiment.model_copy(update={"looks": experiment.looks + 1})
    return promoted, runs


def _experiment(spec):
    from serving.experiments.plan import Experiment

    return Experiment.from_spec(spec, "a-a").model_copy(update={"status": "running"})


def markdown(stream: StreamFaults, phases: list, a_a: tuple[int, int], command: str) -> str:
    from bench.outages import HEADER

    reasons = ", ".join(f"{kind} {n}" for kind, n in sorted(stream.reasons.items()))
    false_promotions, runs = a_a
    lines = [
        f"`{command}` (all services on this machine; the figures of one run)",
        "",
        "**The stream** (2 workers, one killed with SIGKILL mid-stream):",
        "",
        "| figure | measured | goal |",
        "|---|---|---|",
        f"| events / re-sent copies / poison records | {stream.events:,} / {stream.copies:,} / {stream.poison} | |",
        f"| the dead worker's partitions processed again (the lag's peak) after the SIGKILL | "
        f"{stream.resumed_s:.1f} s | ≤ 10 s |",
        f"| caught up (lag back under its level before the kill) | {stream.takeover_s:.1f} s | |",
        f"| events lost (archive) | {stream.lost} | 0 |",
        f"| events counted twice: archive rows / users' `events_total` | "
        f"{stream.double_counted_archive} / {stream.double_counted_features} | 0 |",
        f"| re-sent within the dedupe window (< 64 of the user's events applied in between): counted twice | "
        f"{stream.by_window[1]} of {stream.by_window[0]} | 0 |",
        f"| re-sent after the window (a file produced again much later): counted twice | "
        f"{stream.by_window[3]} of {stream.by_window[2]} | the stated bound: these count again |",
        f"| events missing from `events_total` | {stream.missing_from_features} | 0 |",
        f"| dead-lettered (with `error.class`) | {stream.dead_lettered} of {stream.poison} ({reasons}) | all |",
        "",
        "**Serving under outages** (`streamrec serve`, 4 clients on `/recommend`, one on `/events`; "
        "5xx and client timeouts: goal 0 on `/recommend`):",
        "",
        HEADER,
        *(phase.row() for phase in phases),
        "",
        f"**Experiments**: A/A false promotions {false_promotions} of {runs} runs "
        f"({false_promotions / runs:.1%}; goal ≤ 5 %), identical variants looked at every 100 impressions.",
    ]
    return "\n".join(lines) + "\n"
