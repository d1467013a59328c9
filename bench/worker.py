"""Worker benchmarks: throughput on a backlog, freshness at a fixed input rate, backfill rate.

All on the configured broker and Redis (``streamrec infra up``), in fresh topics (own prefix):
1. backlog: N events already in ``interactions``; one ``streamrec worker`` process starts;
   rate = N / (time from its first processed batch to the last event's item features);
2. freshness: with the worker caught up, events are produced at ``rate`` events/s for
   ``seconds``; freshness = record produce time -> that batch's user features written
   (the worker's status quantiles over the last 15 s, i.e. the paced phase only);
3. backfill: state and features of this prefix wiped, ``backfill`` from the beginning
   (rebuild rate), then again (replay rate: everything already applied).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from dataclasses import dataclass

from bench.cleanup import keys_dropped
from streams.core.contracts import Interaction, Item
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.infra.process import ManagedProcess
from streams.kafka.admin import apply_topics
from streams.kafka.producer import EventProducer
from streams.sources.publish import publish
from streams.sources.synthetic import SimulationConfig, simulate
from streams.stores.worker_status import read_statuses


@dataclass
class WorkerBenchResult:
    events: int
    faust_ceiling: float
    worker_rate: float
    freshness_rate: float
    freshness_p50: float
    freshness_p99: float
    backfill_rate: float
    replay_rate: float

    def markdown(self, command: str) -> str:
        return f"""## Stream worker (`streamrec bench worker`)

Command: `{command}`: one `streamrec worker` process (Faust 0.15.3, aiokafka, uvloop, micro-batches
of up to 2000), local KRaft broker, local Redis, Feast 0.67 Redis online store; synthetic stream,
{self.events:,} interactions. Each interaction is processed twice (user side, then item side
after the repartition), plus state in Redis and feature rows in Feast.

| measure | result | goal |
|---|---|---|
| events/s per worker process (backlog) | **{self.worker_rate:,.0f}** | ≥ 10,000 |
| baseline, same run: a Faust agent that only decodes | {self.faust_ceiling:,.0f} events/s | our worker = **{self.worker_rate / self.faust_ceiling:.2f}×** of it |
| event → user features freshness at {self.freshness_rate:,.0f} events/s input | p50 **{self.freshness_p50 * 1000:,.0f} ms**, p99 **{self.freshness_p99 * 1000:,.0f} ms** | p99 ≤ 500 ms |
| backfill, rebuilding state + features from scratch | **{self.backfill_rate:,.0f}** events/s | ≥ 20,000 |
| backfill replay, everything already applied (rows rewritten) | **{self.replay_rate:,.0f}** events/s | |

What limits it (py-spy on the worker and its processing child, 150k-event backlog, 2026-12-01):
- On a faster machine (2026-12-01, an AMD EPYC 2-vCPU VM, 300k-event backlog), the decode-only
  agent ran 19k events/s but the worker 9.9k: py-spy found Faust's loop about half idle and the
  processing child about 89 % busy, 29 % of it in pydantic decoding. A contract's own
  `__init__` made pydantic validate every model twice (the JSON, then the fields again as a
  dict), and the item side decodes each event a second time after the repartition. Contracts
  are now validated once: 9,875 / 9,869 -> 10,976 / 9,972 / 11,066 events/s.
- Then the processing itself (cProfile of the user and item sides in one process, 40,000
  events, 2026-12-01): building a protobuf `Value` per feature and serialising it took about a
  sixth. Feature values are now written as protobuf's bytes directly
  (`streams/stores/feast_values.py`; a test compares them with protobuf's), and a user's
  event-id window is decoded once per batch instead of twice per event. In-process 12.3-12.8k
  -> 14.6-17.2k events/s; backfill 12,259 -> 15,892-17,469; the worker 11,090 / 10,918 /
  10,951 / 12,350 (four runs). The worker gained less than its child, which suggests Faust's side
  limits it again (not yet profiled).
- The event loop. Faust takes its loop from `--loop` when `faust` is first imported; the worker
  passed the flag after that import, so it ran on asyncio's own loop, and so did the decode-only
  baseline. Both now choose uvloop before any loop exists (the heartbeat reports which, a test
  checks): the worker went from 6,305 to 8,151–8,231 events/s and the baseline from 9,814 to
  11,004–11,679 (same day, nothing else running). With every service running, 3,000 events/s
  now keeps both freshness figures under 1 s (`bench loop`).
- Now the Faust process is the limit: its loop was 94 % busy, the processing child 71 %. Of the
  loop's time, Faust's delivery of each message (`Consumer._drain_messages` awaits
  `wait_first(callback(message), suspend_flow.wait())`, two tasks per message) took about 33 %,
  the stream's iteration 13 %, Faust's per-message decode 7.5 %, our acks 7.8 % (one
  `stream.ack` per event; Faust has no bulk ack) and the batch metrics 2.5 %. The decode-only
  baseline pays the same delivery, and decodes where the worker acks.
- The points below were measured before the loop was fixed (2026-11-30, asyncio's loop).
- Batches in flight. py-spy found the Faust process busy about 60 % of the time and the
  processing child about 55 % while each agent awaited its batch's processing before taking
  the next (4,926–5,024 events/s). Now two batches are in flight: the child processes batch
  n+1 while the Faust process sends batch n's results on and acks it (processing and acks
  stay in order; `streams/worker/app.py::batches`): 6,302–6,329 events/s. A second child
  instead (the user and item sides in parallel) gained nothing. The broker and Redis share
  the 2 cores.
- In the processing child: the item side (`process_routed`) about 27 %, the user side about
  30 %, Feast's Redis `online_write_batch` about 21 % (0.15–0.2 ms per row of 31 features,
  even with protos built directly; one row per touched key per micro-batch), Redis state
  pipelines about 10 %, decoding 7 %. The event archive took 18 % while it wrote one Parquet
  file per source partition and batch; one file per batch and date, built by columns, costs
  5x less (35 -> 6.5 ms per 2,000 events). Feature rows are now written in Feast's format by
  one pipeline of `HSET`s, keys and fields computed once (`streams/stores/feast_layout.py`),
  instead of through `online_write_batch`: backfill went from 11,975 to 12,118–12,766 events/s
  and the replay from 13,838 to 14,104–15,108, while the backlog rate stayed at 6,120–6,161
  (three runs, 2026-11-30): with two batches in flight the child is not what limits it.
- The Faust process: aiokafka's fetcher and connection, and Faust's per-message tasks
  (`faust/transport/consumer.py::_drain_messages` awaits `wait_first()`, two asyncio tasks per
  message); the decode-only agent above is its ceiling. aiokafka's loggers answered DEBUG and
  built a log record for every fetch (8 % of the loop); the worker now sets them to INFO.
- The backfill rate (same processing, no Faust) is the processing's ceiling. It runs in a
  child process (`STREAMREC_WORKER_PROCESSING_PROCESS`) so that it overlaps with Faust's loop;
  in a thread the two costs added up (2.7k events/s). Several worker processes split the
  partitions: the way to use more cores (`docs/operations.md`)."""


def run(
    settings: Settings, events: int = 200_000, rate: float = 1500.0, seconds: float = 20.0, progress=print
) -> WorkerBenchResult:
    prefix = f"bench{uuid.uuid4().hex[:6]}-"
    s = settings.model_copy(
        update={
            "topic_prefix": prefix,
            "worker_group": f"{prefix}features",
            "worker_metrics_port": 0,
            "archive_dir": settings.run_dir / "bench-archive" / prefix,
        }
    )
    with keys_dropped(s, progress=progress):
        catalog = TopicCatalog.load(s.topics_file, prefix)
        apply_topics(s, catalog)
        messages = list(simulate(SimulationConfig(n_events=events, seed=3)))
        items = [m for m in messages if isinstance(m, Item)]
        with EventProducer(s, catalog) as producer:
            publish(producer, items + [m for m in messages if isinstance(m, Interaction)], show_progress=False)
        progress(f"{events:,} events + {len(items):,} items in fresh topics ({prefix}*)")
        ceiling = _faust_ceiling(s, catalog.name("interactions"), events)
        progress(f"baseline: Faust decode-only agent {ceiling:,.0f} events/s")

        worker = _worker(s)
        worker.start(timeout_s=180)
        try:
            target = events * 2 + len(items)
            first = _wait(s, lambda st: st["processed"] > 0, 180)
            t0 = time.monotonic()
            _wait(s, lambda st: st["processed"] >= target, 900)
            worker_rate = events / (time.monotonic() - t0)
            progress(f"backlog: {worker_rate:,.0f} events/s (first batch after {first:.1f}s)")

            live = list(simulate(SimulationConfig(n_events=int(rate * seconds), seed=4)))
            live_events = [m for m in live if isinstance(m, Interaction)]
            with EventProducer(s, catalog) as producer:
                publish(producer, _paced(live_events, rate), show_progress=False)
            _wait(s, lambda st: st["processed"] >= target + 2 * len(live_events), 300)
            status = read_statuses(s)[0]
            progress(f"freshness at {rate:,.0f}/s: p50 {status['freshness_p50_s']}s p99 {status['freshness_p99_s']}s")
        finally:
            worker.stop()

        backfill_rate, replay_rate = _backfill(s, catalog, progress)
        return WorkerBenchResult(
            events,
            ceiling,
            worker_rate,
            rate,
            status["freshness_p50_s"],
            status["freshness_p99_s"],
            backfill_rate,
            replay_rate,
        )


def _faust_ceiling(s: Settings, topic: str, events: int) -> float:
    import subprocess

    env = os.environ | {
        "STREAMREC_KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers,
        "STREAMREC_RUN_DIR": str(s.run_dir),
    }
    out = subprocess.run(
        [sys.executable, "-m", "bench.faust_ceiling", topic, str(events)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    rates = [line.split("RATE ")[1].split()[0] for line in out.stdout.splitlines() if "RATE " in line]
    if not rates:
        raise RuntimeError(f"Faust baseline failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return float(rates[0])


def _paced(events, rate: float):
    began = time.monotonic()
    for n, event in enumerate(events):
        delay = began + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield event


def _worker(s: Settings) -> ManagedProcess:
    env = {
        "STREAMREC_KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers,
        "STREAMREC_TOPIC_PREFIX": s.topic_prefix,
        "STREAMREC_REDIS_URL": s.redis_url,
        "STREAMREC_WORKER_GROUP": s.worker_group,
        "STREAMREC_WORKER_METRICS_PORT": "0",
        "STREAMREC_ARCHIVE_DIR": str(s.archive_dir),
        "STREAMREC_RUN_DIR": str(s.run_dir),
    }
    return ManagedProcess(
        f"bench-worker-{os.getpid()}",
        s.run_dir,
        [sys.executable, "-m", "streams.cli.main", "worker", "--worker-id", "bench"],
        ready=lambda: bool(read_statuses(s)),
        env=env,
    )


def _wait(s: Settings, condition, timeout_s: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        statuses = read_statuses(s)
        if statuses and condition(statuses[0]):
            return time.monotonic() - began
        time.sleep(0.2)
    raise TimeoutError(f"worker benchmark: condition not reached in {timeout_s}s: {read_statuses(s)}")


def _backfill(s: Settings, catalog: TopicCatalog, progress) -> tuple[float, float]:
    from streams.features.wiring import build_processor
    from streams.worker.backfill import plan
    from streams.worker.backfill import run as run_backfill

    processor = build_processor(s, catalog, write_unchanged=True)
    processor.users.delete_all()
    processor.items.delete_all()
    processor.item_users.delete_all()
    topic = catalog.name("interactions")
    rebuild = run_backfill(s, topic, plan(s, topic, None, None), processor)
    replay = run_backfill(s, topic, plan(s, topic, None, None), processor)
    progress(
        f"backfill: rebuild {rebuild.rate:,.0f}/s ({rebuild.applied:,} applied), "
        f"replay {replay.rate:,.0f}/s ({replay.skipped:,} already applied)"
    )
    return rebuild.rate, replay.rate
