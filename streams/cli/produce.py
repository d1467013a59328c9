"""``streamrec produce FILE``, ``streamrec generate`` and ``streamrec replay DATASET``."""

from __future__ import annotations

import itertools
from pathlib import Path

import typer
from rich.console import Console

from streams.core.settings import get_settings

console = Console(stderr=True)


def _producer():
    from streams.core.topics import TopicCatalog
    from streams.kafka.producer import EventProducer

    settings = get_settings()
    return EventProducer(settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix))


def _print_rejections(report, rejects_file: Path | None) -> None:
    if not report.rejected:
        return
    console.print(f"[yellow]{report.rejected} line(s) rejected and skipped[/]; first ones:")
    for rejection in report.rejections[:10]:
        console.print(f"  {rejection}")
    if rejects_file:
        rejects_file.write_text("".join(f"{r.line}\t{r.reason}\t{r.raw}\n" for r in report.rejections))
        console.print(f"  all kept rejections written to {rejects_file}")


def produce(
    file: Path = typer.Argument(..., help="events as JSONL (.jsonl/.ndjson) or CSV with a header"),
    speed: float = typer.Option(0.0, help="event-time seconds per wall second; 0 = as fast as possible"),
    rejects: Path = typer.Option(None, help="write rejected lines (line, reason, raw) to this file"),
    strict: bool = typer.Option(False, help="exit 1 if any line was rejected"),
) -> None:
    """Validate every line and send the valid events to `interactions` (key = user_id)."""
    from streams.sources.files import SourceReport, read_interactions
    from streams.sources.publish import publish

    report = SourceReport()
    with _producer() as producer:
        result = publish(producer, read_interactions(file, report), speed=speed)
    console.print(
        f"sent {result.sent:,} events from {len(result.users):,} users "
        f"in {result.seconds:.1f}s; rejected {report.rejected:,}"
    )
    _print_rejections(report, rejects)
    if strict and report.rejected:
        raise typer.Exit(1)


def generate(
    events: int = typer.Option(100_000, "--events", "-n", help="interactions to generate"),
    users: int = typer.Option(2_000, help="initial users (more join over time)"),
    items: int = typer.Option(1_000, help="initial items (more are released over time)"),
    categories: int = typer.Option(20, help="item categories users have tastes over"),
    shift_at: float = typer.Option(None, help="fraction of the stream at which tastes shift, e.g. 0.5"),
    seed: int = typer.Option(42, help="same seed, same stream"),
    speed: float = typer.Option(0.0, help="event-time seconds per wall second; 0 = as fast as possible"),
    output: Path = typer.Option(None, "--output", "-o", help="write JSONL here instead of Kafka"),
) -> None:
    """A synthetic stream of realistic users (tastes, popularity, sessions, funnels, drift)."""
    from streams.core.contracts import Interaction, encode
    from streams.sources.publish import publish
    from streams.sources.synthetic import SimulationConfig, SimulationFacts, simulate

    cfg = SimulationConfig(
        n_events=events, n_users=users, n_items=items, n_categories=categories, shift_at=shift_at, seed=seed
    )
    facts = SimulationFacts()
    stream = simulate(cfg, facts)
    if output:
        with output.open("wb") as fh:
            for message in stream:
                if isinstance(message, Interaction):
                    fh.write(encode(message) + b"\n")
        console.print(f"wrote {events:,} events to {output}")
    else:
        with _producer() as producer:
            result = publish(producer, stream, speed=speed, total=events + items, label="generating")
        console.print(
            f"sent {result.sent_by_contract} in {result.seconds:.1f}s "
            f"({result.sent / max(result.seconds, 1e-9):,.0f} msg/s)"
        )
    console.print(f"users {facts.users:,}, items {facts.items:,}, events by type {facts.events_by_type}")
    if facts.shift_time:
        console.print(f"preference shift at event {facts.shift_event_index:,} ({facts.shift_time.isoformat()})")


def replay(
    dataset: Path = typer.Argument(..., help="a MovieLens directory (ratings.csv, movies.csv) or an OTTO .jsonl"),
    speed: float = typer.Option(
        0.0, help="event-time seconds per wall second (e.g. 86400 = a day per second); 0 = max"
    ),
    limit: int = typer.Option(None, help="only the first N events (in time order)"),
    items: bool = typer.Option(True, help="also publish the catalogue to `items`"),
) -> None:
    """Replay a real dataset in event-time order, with stable event ids."""
    from streams.sources.datasets import load
    from streams.sources.files import SourceReport
    from streams.sources.publish import publish

    report = SourceReport()
    with console.status(f"loading {dataset}..."):
        data = load(dataset, report, limit)
    console.print(f"{data.name}: {len(data.interactions):,} events, {len(data.items):,} items")
    stream = itertools.chain(data.items if items else [], data.interactions)
    with _producer() as producer:
        result = publish(
            producer,
            stream,
            speed=speed,
            label=f"replaying {data.name}",
            total=len(data.interactions) + (len(data.items) if items else 0),
        )
    console.print(f"sent {result.sent_by_contract} in {result.seconds:.1f}s")
    _print_rejections(report, None)


def register(app: typer.Typer) -> None:
    app.command()(produce)
    app.command()(generate)
    app.command()(replay)
