"""The closed loop, end to end on real services: a stream with a preference shift goes through
Kafka; the worker builds features and the archive, the learner learns and watches for drift, the
trainer trains and promotes, the API serves and hot-reloads. This module drives and watches it;
:mod:`streams.demo.report` draws it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from streams.core.contracts import (
    Interaction,
    Item,
    RetrainRequest,
    TimeWindow,
)
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.demo.experiment import category_users, generator_users, run_experiment
from streams.demo.processes import Service
from streams.demo.results import DemoConfig, DemoResult
from streams.demo.watch import Watch
from streams.kafka.producer import EventProducer
from streams.sources.synthetic import SimulationConfig, SimulationFacts, simulate


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, services: list[Service] = ()) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        for s in services:
            if not s.alive():
                raise RuntimeError(f"{s.name} stopped (exit {s.process.returncode}); its log ends:\n{s.tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.25)


def first_model_request(settings: Settings, reason: str, end: datetime) -> RetrainRequest:
    """Train the first model on everything before ``end`` and promote it (no champion to beat yet)."""
    return RetrainRequest(
        model_name=settings.serve_model, trigger="manual", reason=reason, force=True, data_window=TimeWindow(end=end)
    )


def load_stream(config: DemoConfig) -> tuple[list, int, SimulationFacts | None]:
    """The messages, the index (in messages) where phase 2 starts, and the generator's facts
    (None for a dataset)."""
    if config.dataset is not None:  # a real dataset: the "shift" is simply the second part of its history
        from streams.sources.datasets import load
        from streams.sources.files import SourceReport

        data = load(Path(config.dataset), SourceReport(), limit=config.events or None)
        split = len(data.items) + int(len(data.interactions) * config.shift_at)
        return [*data.items, *data.interactions], split, None
    facts = SimulationFacts()
    # a small closed world (300 users, 300 items, 10 categories): users come back often enough
    # that the taste shift shows in their behaviour within a few thousand events
    world = SimulationConfig(
        n_events=config.events,
        n_users=300,
        n_items=300,
        n_categories=10,
        shift_at=config.shift_at,
        seed=config.seed,
        new_user_share=0.0,
        new_item_share=0.0,
    )
    messages = list(simulate(world, facts))
    interactions = 0
    for index, message in enumerate(messages):  # the message index of the shift's interaction
        if isinstance(message, Interaction):
            if interactions == facts.shift_event_index:
                return messages, index, facts
            interactions += 1
    return messages, len(messages), facts


def shifted_to(messages: list, end: datetime) -> list:
    """The messages moved in time so the newest ends at ``end``, their spacing kept: a generated
    or recorded stream played as if it had just happened. Serving reads features at the wall
    clock, so a stream stamped months ago would reach the ranker with every recency feature
    (idle time, item age, activity windows) far outside what it was trained on.

    >>> a = Interaction(user_id="u", item_id="i", event_type="click", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    >>> b = a.model_copy(update={"timestamp": datetime(2026, 1, 1, 0, 1, tzinfo=UTC)})
    >>> [m.timestamp.minute for m in shifted_to([a, b], datetime(2027, 5, 5, 12, 30, tzinfo=UTC))]
    [29, 30]
    """
    newest = max((m.timestamp for m in messages), default=end)
    return [m.model_copy(update={"timestamp": m.timestamp + (end - newest)}) for m in messages]


def recommend(http: httpx.Client, api: str, users: list[str]) -> dict[str, dict]:
    return {u: http.post(f"{api}/recommend", json={"user_id": u, "k": 5, "explain": True}).json() for u in users}


def run_closed_loop(
    settings: Settings,
    config: DemoConfig,
    log_dir: Path,
    say: Callable[[str], None] = print,
    result: DemoResult | None = None,
) -> DemoResult:
    """Start the services, stream, watch the loop close, stop everything. Never leaves a process behind.
    ``result``: an object to fill as the run goes (for a live view)."""
    from streams.kafka.admin import apply_topics

    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    apply_topics(settings, catalog)
    result, began = result or DemoResult(), time.monotonic()
    api = f"http://{settings.serve_host}:{settings.serve_port}"
    services = [Service(name, [name], settings, log_dir) for name in ("worker", "learner", "trainer", "serve")]
    messages, split, facts = load_stream(config)
    messages = [*shifted_to(messages[:split], datetime.now(UTC)), *messages[split:]]  # phase 1: just happened
    result.shift_index = sum(isinstance(m, Interaction) for m in messages[:split])  # in interactions
    result.item_categories = {m.item_id: list(m.categories) for m in messages if isinstance(m, Item)}
    produced_at: list[float] = []
    watch = Watch(settings, catalog, result, began, api, lambda: (len(produced_at), produced_at))

    def phase(name: str) -> None:
        result.phases[name] = round(time.monotonic() - began, 1)
        say(name)

    try:
        for s in services:
            s.start()
        watch.start()
        phase("services started: worker, learner, trainer, API")
        with httpx.Client(timeout=10.0) as http, EventProducer(settings, catalog, report_successes=True) as producer:
            wait_until(lambda: _ok(http, f"{api}/health"), 120, "the API", services)

            def send(batch: list, rate: float | None) -> None:
                started = time.monotonic()
                for message in batch:
                    if rate and isinstance(message, Interaction):  # a live stream: stamped as it is sent
                        message = message.model_copy(update={"timestamp": datetime.now(UTC)})
                    producer.send(message)
                    if isinstance(message, Interaction):
                        produced_at.append(time.monotonic())
                        if rate and len(produced_at) % 50 == 0:
                            ahead = (len(produced_at) - first) / rate - (time.monotonic() - started)
                            if ahead > 0:
                                time.sleep(ahead)
                producer.flush()

            first = 0
            send(messages[:split], None)
            phase(f"phase 1: {len(produced_at):,} events before the shift produced")
            last_time = max(m.timestamp for m in messages[:split] if isinstance(m, Interaction))
            wait_until(
                lambda: (
                    bool(result.samples)
                    and result.samples[-1].get("worker_lag") == 0
                    and result.samples[-1]["produced"] == len(produced_at)
                ),
                300,
                "the worker to catch up",
                services,
            )
            producer.send_and_wait(first_model_request(settings, "demo: the first model", last_time))
            phase("first model requested")
            wait_until(lambda: watch.served is not None, config.timeout_s, "the first model to be served", services)
            result.first_version = watch.served
            phase(f"serving v{result.first_version}")
            users = _busiest_users(messages[:split], config.sample_users)
            result.answers["before"] = recommend(http, api, users)

            first = len(produced_at)
            phase(f"phase 2 starts: the new regime at {config.rate:,.0f} events/s")
            send(messages[split:], config.rate)
            phase(f"phase 2: {len(produced_at) - first:,} events after the shift produced")
            retry = {"sent": False}

            def decided() -> bool:
                """A retrained model is served, or the gate kept the champion twice."""
                if watch.served not in (None, result.first_version):
                    return True
                rejected = rejected_versions(result.markers, settings.serve_model, result.first_version, watch.now())
                if rejected and not retry["sent"]:  # the drift retrain failed a gate: once more, on all the new data
                    retry["sent"] = True
                    phase(f"v{rejected[0]} did not pass the promotion gates; retraining on the whole new regime")
                    producer.send_and_wait(
                        RetrainRequest(
                            model_name=settings.serve_model,
                            trigger="manual",
                            force=True,
                            reason=f"demo: v{rejected[0]} (drift retrain) failed a gate; again with more new-regime data",
                        )
                    )
                return len(rejected) >= 2

            try:
                wait_until(decided, config.timeout_s, "a decision on a retrained model", services)
                drifted = any(m["kind"] == "drift-events" for m in result.markers)
                rejected = rejected_versions(result.markers, settings.serve_model, result.first_version, watch.now())
                promoted = watch.served not in (None, result.first_version)
                result.retrained_version = watch.served if promoted else rejected[-1]
                result.closed = drifted
                if not drifted:
                    result.note = "a new model was trained, but no drift event was seen"
                elif promoted:
                    result.note = "drift detected, retrained, promoted and served"
                    if retry["sent"]:
                        result.note += " (after a second retrain: the first did not pass the gates)"
                else:
                    result.note = (
                        f"drift detected, retrained twice (v{rejected[0]}, v{rejected[-1]}); the champion "
                        f"v{result.first_version} ranks better on the same holdout, so it stays"
                    )
            except TimeoutError as error:
                result.note = f"the loop did not close: {error}"
            result.final_version = watch.served
            phase(f"serving v{result.final_version}")
            result.answers["after"] = recommend(http, api, users)
            result.evaluation = _evaluation(settings, result.final_version)
            if result.closed and config.experiment_requests:
                phase(f"experiment: v{result.first_version} vs v{result.retrained_version}, Thompson sampling decides")
                users = (
                    generator_users(facts, messages[split:])
                    if facts is not None
                    else category_users(messages[split:], result)
                )
                result.experiment = run_experiment(http, api, producer, users, result, config)
                phase(f"experiment {result.experiment['status']}: {result.experiment.get('outcome') or 'no decision'}")
                winner = result.experiment.get("winner_version")
                if result.experiment["status"] == "promoted" and winner:
                    wait_until(lambda: watch.served == winner, 60, "the live winner to be served", services)
                    result.final_version = watch.served
                    result.note += f"; the live experiment promoted v{winner}"
    finally:
        watch.close()
        for s in reversed(services):
            s.stop()
        phase("stopped")
    return result


def rejected_versions(
    markers: list[dict], model: str, first: str | None, now: float, settle_s: float = 10.0
) -> list[str]:
    """Versions after ``first`` registered as challenger but not made champion within ``settle_s``.

    >>> m = [{"t": 1.0, "kind": "model-updates", "label": "ranker v2 -> challenger"}]
    >>> rejected_versions(m, "ranker", "1", now=30.0), rejected_versions(m, "ranker", "1", now=5.0)
    (['2'], [])
    >>> rejected_versions(m + [{"t": 1.1, "kind": "model-updates", "label": "ranker v2 -> champion"}], "ranker", "1",
    ...                   now=30.0)
    []
    """
    updates = [m for m in markers if m["kind"] == "model-updates" and m["label"].startswith(f"{model} v")]
    champions = {m["label"].split()[1][1:] for m in updates if m["label"].endswith("-> champion")}
    return [
        version
        for m in updates
        if m["label"].endswith("-> challenger")
        and (version := m["label"].split()[1][1:]) != first
        and version not in champions
        and now - m["t"] >= settle_s
    ]


def _ok(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _busiest_users(messages: list, n: int) -> list[str]:
    counts: dict[str, int] = {}
    for m in messages:
        if isinstance(m, Interaction):
            counts[m.user_id] = counts.get(m.user_id, 0) + 1
    return sorted(counts, key=lambda u: -counts[u])[:n]


def _evaluation(settings: Settings, version: str | None) -> dict | None:
    """The offline table (ours vs baselines on the holdout) logged with that version's training run."""
    if version is None:
        return None
    try:
        import json

        import mlflow

        from streams.stores.registry import Registry

        registry = Registry.for_settings(settings, settings.serve_model)
        run_id = registry.client.get_model_version(settings.serve_model, version).run_id
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="evaluation.json", tracking_uri=settings.mlflow_tracking_uri
        )
        return json.loads(Path(path).read_text())
    except Exception:  # noqa: BLE001 -- the report says it is missing
        return None
