"""``streamrec demo``: the system end to end on local infrastructure.

Today: start infra, apply topics, generate a synthetic stream with a preference shift, send it
through the real broker, read it back and print what arrived. Later work grows this into the
full loop (features, learning, drift, retraining, serving).
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
    seed: int = typer.Option(42),
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
        ("total time", f"{time.monotonic() - began:.1f}s"),
    ]:
        table.add_row(label, value)
    console.print(table)
    console.print("[green]round trip OK[/]" if check.ok else "[red]round trip FAILED[/]")
    console.print("services keep running; stop them with `streamrec infra down`")
    if not check.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(demo)
