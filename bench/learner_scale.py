"""Scale-out learner benchmark: one `streamrec learner` process against two in one consumer group
(STREAMREC_LEARNER_SCALE_OUT), on the same stream already in Kafka. Events/s from each run's
first learned batch to its last (process start-up left out, the group's rebalance included),
and the prequential metrics pooled over the processes, weighted by what each evaluated."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.cleanup import keys_dropped
from streams.core.contracts import Interaction
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.admin import apply_topics
from streams.kafka.producer import EventProducer
from streams.learner.loop import LearnerConfig
from streams.sources.datasets import Dataset, load
from streams.sources.files import SourceReport
from streams.sources.publish import publish
from streams.sources.synthetic import SimulationConfig, simulate

METRICS = ("hit_rate", "rating_mae", "click_logloss", "click_auc")


@dataclass
class Run:
    processes: int
    events: int
    seconds: float
    metrics: dict[str, float]
    learner_cores: float = 0.0  # the learners' CPU seconds over the span, per second
    steady_rate: float = 0.0  # events/s while every process learns (last one's first batch to first one's last)
    machine_cores: float = 0.0  # every process's CPU (broker, Redis, ...) over the span, per second

    @property
    def rate(self) -> float:
        return self.events / self.seconds


@dataclass
class ScaleBenchResult:
    dataset: str
    events: int
    runs: list[Run] = field(default_factory=list)

    def median_rate(self, processes: int, steady: bool = False) -> float:
        return statistics.median(r.steady_rate if steady else r.rate for r in self.runs if r.processes == processes)

    def metric(self, processes: int, name: str) -> float:
        return statistics.median(r.metrics[name] for r in self.runs if r.processes == processes)

    def markdown(self, command: str) -> str:
        rows = "\n".join(
            f"| {n} | {r.processes} | {r.events:,} | {r.seconds:.1f} | {r.rate:,.0f} | {r.steady_rate:,.0f} | "
            f"{r.learner_cores:.2f} / {r.machine_cores:.2f} | "
            + " | ".join(f"{r.metrics[m]:.4f}" for m in METRICS)
            + " |"
            for n, r in enumerate(self.runs, 1)
        )
        speedup = self.median_rate(2) / self.median_rate(1)
        steady = self.median_rate(2, steady=True) / self.median_rate(1, steady=True)
        changes = ", ".join(
            f"{m} {100 * (self.metric(2, m) / self.metric(1, m) - 1):+.1f} %" for m in METRICS if self.metric(1, m)
        )
        return f"""## Learner scale-out (`streamrec bench learner-scale`)

Command: `{command}`. Dataset: {self.dataset} ({self.events:,} events), in Kafka before the
learners start. One run: one `streamrec learner` process (the default mode, all partitions),
or two processes with `STREAMREC_LEARNER_SCALE_OUT=true` in one consumer group (user state per
partition, item changes synced every {LearnerConfig().item_sync_every_events:,} events of each, docs/learning.md "Scaling it").
Events/s from the first learned batch of any process to the last (start-up left out; the
group's first rebalance included). Metrics pooled over the processes, weighted by their
evaluations. Runs alternate; Kafka and Redis run on the same 2 cores. "Cores busy": CPU seconds
per second over the span, of the learner processes and of the whole machine (/proc/stat).

| run | processes | events | seconds | events/s | events/s while all learn | cores busy: learners / machine | hit rate@10 | rating MAE | click log loss | click AUC |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}

Two processes against one (medians): **{speedup:.2f}×** events/s over the whole stream, **{steady:.2f}×**
while both learn (goal ≥ 1.6×); metrics {changes} (goal within 2 %). Over the whole stream, one
process starts learning before the other has joined, and the one whose partitions end first
stops while the other goes on: a partition is never split between processes."""


SYNTHETIC_USERS = 20_000  # many users: the partitions' shares of the stream come out even


def run(settings: Settings, dataset_path, repeats: int = 2, events: int = 500_000, progress=print) -> ScaleBenchResult:
    """``dataset_path`` "synthetic": ``events`` of the synthetic stream (seeded), else a dataset."""
    data = _stream(dataset_path, events)
    prefix = f"benchs{uuid.uuid4().hex[:6]}-"
    s = settings.model_copy(update={"topic_prefix": prefix, "learner_metrics_port": 0})
    catalog = TopicCatalog.load(s.topics_file, prefix)
    apply_topics(s, catalog)
    with EventProducer(s, catalog) as producer:
        publish(producer, data.interactions, show_progress=False)
    progress(f"{len(data.interactions):,} events of {data.name} in {prefix}interactions")
    result = ScaleBenchResult(data.name, len(data.interactions))
    with keys_dropped(s, progress=progress):
        for n in range(repeats):
            for processes in (1, 2):
                result.runs.append(_run(s, processes, f"{prefix}r{n}p{processes}"))
                r = result.runs[-1]
                progress(
                    f"{processes} process(es): {r.events:,} events in {r.seconds:.1f} s = {r.rate:,.0f}/s; {r.metrics}"
                )
    return result


def _stream(dataset_path, events: int) -> Dataset:
    if str(dataset_path) != "synthetic":
        return load(dataset_path, SourceReport())
    config = SimulationConfig(n_events=events, n_users=SYNTHETIC_USERS, n_items=5_000, seed=17)
    stream = [m for m in simulate(config) if isinstance(m, Interaction)]
    return Dataset(f"synthetic (seed 17, {SYNTHETIC_USERS:,} users at start)", [], stream)


def _run(s: Settings, processes: int, group: str) -> Run:
    """``processes`` learners on their own group and snapshot directory (removed after); wait
    until all are idle."""
    run_dir = Path(tempfile.mkdtemp(prefix="streamrec-scale-"))
    try:
        return _learn(s, processes, group, run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)  # snapshots of 50-90 MB a run: nothing reads them after


def _learn(s: Settings, processes: int, group: str, run_dir: Path) -> Run:
    s = s.model_copy(update={"worker_group": group, "run_dir": run_dir, "learner_scale_out": processes > 1})
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_learner, args=(s, results)) for _ in range(processes)]
    busy: list[tuple[float, float]] = []  # (time, machine CPU seconds so far)
    sampling = threading.Event()
    sampler = threading.Thread(target=_sample_machine, args=(busy, sampling), daemon=True)
    sampler.start()
    for w in workers:
        w.start()
    reports = [results.get(timeout=900) for _ in workers]
    sampling.set()
    sampler.join()
    for w in workers:
        w.join(60)
    first, last = min(r["first"] for r in reports), max(r["last"] for r in reports)
    start, end = max(r["first"] for r in reports), min(r["last"] for r in reports)
    steady = sum(_events_at(r["timeline"], end) - _events_at(r["timeline"], start) for r in reports) / max(
        end - start, 1e-9
    )
    inside = [(t, c) for t, c in busy if first <= t <= last] or busy[-2:]
    machine = (inside[-1][1] - inside[0][1]) / max(inside[-1][0] - inside[0][0], 1e-9)
    pooled = {}
    for name, weight in (
        ("hit_rate", "ranked"),
        ("rating_mae", "rated"),
        ("click_logloss", "clicks"),
        ("click_auc", "clicks"),
    ):
        total = sum(r[weight] for r in reports)
        pooled[name] = sum(r["metrics"].get(name, 0.0) * r[weight] for r in reports) / max(total, 1)
    cores = sum(r["cpu"] for r in reports) / (last - first)
    return Run(processes, sum(r["events"] for r in reports), last - first, pooled, cores, steady, machine)


def _events_at(timeline: list[tuple[float, int]], at: float) -> float:
    """A learner's events learned by ``at`` (interpolated between its batches)."""
    before = [(t, n) for t, n in timeline if t <= at] or timeline[:1]
    after = [(t, n) for t, n in timeline if t >= at] or timeline[-1:]
    (t0, n0), (t1, n1) = before[-1], after[0]
    return n0 if t1 <= t0 else n0 + (n1 - n0) * (at - t0) / (t1 - t0)


def _sample_machine(samples: list, stop: threading.Event) -> None:
    """Every 0.2 s: the machine's busy CPU seconds (all cores, /proc/stat: everything but idle and iowait)."""
    ticks = os.sysconf("SC_CLK_TCK")
    while not stop.wait(0.2):
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        samples.append((time.time(), (sum(fields) - fields[3] - fields[4]) / ticks))


def _learner(s: Settings, results) -> None:
    """One `streamrec learner` (its service function) until idle for 5 s; what it learned, and when."""
    from streams.learner.service import run_learner

    seen = {"first": None, "last": None, "loop": None}
    timeline: list[tuple[float, int]] = []

    def on_batch(loop, n):
        now, cpu = time.time(), time.process_time()
        if seen["first"] is None:
            seen["first"], seen["cpu_first"] = now, cpu
        seen["last"], seen["cpu_last"], seen["loop"] = now, cpu, loop
        timeline.append((now, loop.state.events))

    run_learner(
        s, LearnerConfig(snapshot_every_events=5_000, snapshot_every_seconds=60), idle_exit_s=5, on_batch=on_batch
    )
    loop = seen["loop"]
    results.put(
        {
            "first": seen["first"],
            "last": seen["last"],
            "events": loop.state.events,
            "cpu": seen["cpu_last"] - seen["cpu_first"],
            "timeline": timeline,
            "metrics": loop.metrics(),
            "ranked": loop.state.ranker.hit_rate.n,
            "rated": loop.state.rating.n,
            "clicks": loop.state.click.n,
        }
    )
