"""``streamrec demo``: the system end to end on local infrastructure.

Today: start infra, apply topics, generate a synthetic stream with a preference shift, send it
through the real broker, read it back, run a stream worker until the online features are
fresh, and show some. Later work grows this into the full loop (learning, drift, retraining,
serving).
"""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from streams.settings import get_settings

console = Console()


def demo(
    events: int = typer.Option(20_000, "--events", "-n", help="interactions to generate"),
    shift_at: float = typer.Option(0.5, help="fraction of the stream at which user tastes shift"),
    seed: int = typer.Option(None, help="fixed seed; default: a new stream every run (new event ids)"),
    features: bool = typer.Option(True, "--features/--no-features", help="run a worker and show online features"),
) -> None:
    """Start infra, apply topics, produce a synthetic stream, consume it back, summarise."""
    from streams.admin import apply_topics
    from streams.consumer import end_offsets, read_range
    from streams.contracts import Interaction, decode
    from streams.infra import local_services
    from streams.producer import EventProducer
    from streams.publish import publish
    from streams.sources.synthetic import SimulationConfig, SimulationFacts, simulate
    from streams.topics import TopicCatalog
    from streams.verify import compare

    settings = get_settings()
    began = time.monotonic()
    seed = seed if seed is not None else int(time.time()) % 100_000
    console.rule("[bold]1. local infrastructure")
    for name, service in local_services(settings).items():
        with console.status(f"starting {name}..."):
            started, seconds = service.start()
        console.print(f"[green]✓[/] {name} {'started' if started else 'already running'} ({seconds:.1f}s)")

    console.rule("[bold]2. topics")
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    actions = apply_topics(settings, catalog)
    console.print(f"{len(actions)} change(s): " + ("; ".join(map(str, actions)) or "already up to date"))

    console.rule("[bold]3. a synthetic stream through the broker")
    facts = SimulationFacts()
    messages = list(simulate(SimulationConfig(n_events=events, shift_at=shift_at, seed=seed), facts))
    sent = [m for m in messages if isinstance(m, Interaction)]
    topic = catalog.name("interactions")
    before = end_offsets(settings, topic)
    with EventProducer(settings, catalog) as producer:
        produced = publish(producer, messages, total=len(messages))
    after = end_offsets(settings, topic)

    console.rule("[bold]4. read back")
    read_began = time.monotonic()
    received = [decode(Interaction, m.value()) for m in read_range(settings, topic, before, after)]
    read_seconds = time.monotonic() - read_began
    check = compare(sent, received)

    table = Table(title="demo summary", show_header=False)
    for label, value in [
        ("interactions produced", f"{len(sent):,} ({produced.sent / produced.seconds:,.0f} msg/s incl. items)"),
        ("items produced", f"{produced.sent_by_contract.get('Item', 0):,}"),
        ("interactions consumed back", f"{check.received:,} ({check.received / max(read_seconds, 1e-9):,.0f} msg/s)"),
        ("users", f"{check.users:,}"),
        ("missing / duplicated / altered", f"{check.missing} / {check.duplicates} / {check.altered}"),
        ("users with events out of order", f"{check.order_violations}"),
        ("events by type", ", ".join(f"{k} {v:,}" for k, v in sorted(facts.events_by_type.items()))),
        ("preference shift", f"at event {facts.shift_event_index:,}" if facts.shift_time else "none"),
        ("partitions used", f"{sum(1 for p in after if after[p] > before.get(p, 0))} of {len(after)}"),
    ]:
        table.add_row(label, value)
    console.print(table)
    console.print("[green]round trip OK[/]" if check.ok else "[red]round trip FAILED[/]")
    if not check.ok:
        raise typer.Exit(1)
    if features:
        _show_features(settings, sent)
    console.print(f"total time {time.monotonic() - began:.1f}s; services keep running "
                  "(`streamrec infra down` stops them)")


def _show_features(settings, sent) -> None:
    """Run one worker until every event of this run is in the online store; show a user and items."""
    import sys
    from collections import Counter

    from streams.infra.process import ManagedProcess
    from streams.worker.metrics import read_statuses

    console.rule("[bold]5. streaming features (streamrec worker)")
    worker = ManagedProcess("demo-worker", settings.run_dir, [sys.executable, "-m", "streams.cli.main", "worker",
                                                               "--worker-id", "demo"],
                            ready=lambda: any(s["worker"] == "demo" for s in read_statuses(settings)))
    user = Counter(e.user_id for e in sent).most_common(1)[0][0]
    last = max((e for e in sent if e.user_id == user), key=lambda e: e.timestamp)
    try:
        with console.status("starting a worker (Feast import takes a few seconds)..."):
            worker.start(timeout_s=180)
        store = _feast(settings)
        with console.status("waiting for the online features of this run..."):
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                row = store.get_online_features(features=["user_features:last_event_at"],
                                                entity_rows=[{"user_id": user}]).to_dict()
                if (row["last_event_at"][0] or 0) >= int(last.timestamp.timestamp()):
                    break
                time.sleep(1)
        status = next(s for s in read_statuses(settings) if s["worker"] == "demo")
        console.print(f"worker: {status['processed']:,} records processed, {status['dead_lettered']} dead-lettered")
        names = ["events_total", "click_24h", "purchase_7d", "top_categories", "recent_items", "session_events"]
        data = store.get_online_features(features=[f"user_features:{n}" for n in names],
                                         entity_rows=[{"user_id": user}]).to_dict()
        table = Table(title=f"online features of the most active user, {user}", show_header=False)
        for n in names:
            value = data[n][0]
            table.add_row(n, str(value[-8:] if n == "recent_items" and value else value))
        console.print(table)
        top = [i for i, _ in Counter(e.item_id for e in sent).most_common(5)]
        items = store.get_online_features(features=["item_features:trending_score", "item_features:views",
                                                    "item_features:click_rate", "item_catalog:category"],
                                          entity_rows=[{"item_id": i} for i in top]).to_dict()
        t = Table("item", "category", "views", "click rate", "trending", title="most viewed items")
        for k, i in enumerate(top):
            t.add_row(i, str(items["category"][k]), str(items["views"][k]), f"{items['click_rate'][k] or 0:.2f}",
                      f"{items['trending_score'][k] or 0:.1f}")
        console.print(t)
    finally:
        worker.stop()


def _feast(settings):
    from streams.feature_store import open_store

    return open_store(settings)


def register(app: typer.Typer) -> None:
    app.command()(demo)
