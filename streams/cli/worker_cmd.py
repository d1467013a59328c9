"""``streamrec worker`` (run, status) and ``streamrec backfill``."""

from __future__ import annotations

import os
import socket
import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from streams.settings import get_settings

app = typer.Typer(help="The stream worker: features from interactions (Faust).", invoke_without_command=True)
console = Console()


@app.callback()
def worker(ctx: typer.Context,
           worker_id: str = typer.Option(None, help="name in `worker status` (default host-pid)"),
           loglevel: str = typer.Option("warn", help="crit, error, warn, info, debug")) -> None:
    """Run a worker process; start more of them to split the partitions."""
    if ctx.invoked_subcommand is not None:
        return
    from streams.worker.app import create_app

    settings = get_settings()
    wid = worker_id or f"{socket.gethostname()}-{os.getpid()}"
    faust_app = create_app(settings, wid)
    # Faust parses its own argv: run it as `<app> worker` with uvloop (about 1.6x faster here).
    sys.argv = [sys.argv[0], "--loop", "uvloop", "worker", "-l", loglevel, "--without-web"]
    faust_app.main()


@app.command()
def status() -> None:
    """Each worker's last heartbeat: processed, dead-lettered, lag, freshness."""
    from streams.worker.metrics import read_statuses

    rows = read_statuses(get_settings())
    if not rows:
        console.print("no worker has reported yet")
        raise typer.Exit(1)
    table = Table("worker", "state", "processed", "skipped (replays)", "dead-lettered", "lag",
                  "freshness p50 / p99", "metrics")
    now = time.time()
    for r in rows:
        alive = now - r["heartbeat"] < 10
        fresh = f"{r['freshness_p50_s']}s / {r['freshness_p99_s']}s" if r.get("freshness_p50_s") is not None else "-"
        table.add_row(r["worker"], "[green]up[/]" if alive else f"[red]silent {now - r['heartbeat']:.0f}s[/]",
                      f"{r['processed']:,}", f"{r['skipped']:,}", f"{r['dead_lettered']:,}", f"{r['lag']:,}", fresh,
                      f"127.0.0.1:{r['metrics_port']}/metrics" if r.get("metrics_port") else "off")
    console.print(table)


def _when(text: str | None):
    from datetime import UTC, datetime, timedelta

    if text in (None, "", "beginning"):
        return None
    if text.endswith(("h", "d", "m")) and text[:-1].isdigit():  # relative: 6h, 2d, 30m ago
        unit = {"h": "hours", "d": "days", "m": "minutes"}[text[-1]]
        return datetime.now(UTC) - timedelta(**{unit: int(text[:-1])})
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def backfill(
    from_: str = typer.Option("beginning", "--from", help="ISO time, '6h'/'2d' ago, or 'beginning' (Kafka record time)"),
    to: str = typer.Option(None, "--to", help="ISO time or '1h' ago; default: the end now"),
    features: bool = typer.Option(True, "--features/--no-features", help="rebuild state + online features"),
    archive: bool = typer.Option(True, "--archive/--no-archive", help="rewrite the Parquet archive"),
    dry_run: bool = typer.Option(False, "--dry-run", help="show offsets and counts, change nothing"),
) -> None:
    """Re-read `interactions` from a time and rebuild features/archive, idempotently."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from streams.backfill import plan, run
    from streams.topics import TopicCatalog

    settings = get_settings()
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    topic = catalog.name("interactions")
    ranges = plan(settings, topic, _when(from_), _when(to))
    table = Table("partition", "from offset", "to offset", "records")
    for r in ranges:
        table.add_row(str(r.partition), str(r.start), str(r.end), f"{r.count:,}")
    console.print(table)
    total = sum(r.count for r in ranges)
    console.print(f"{total:,} records to re-read from {topic}; features={features}, archive={archive}")
    if dry_run or not total or not (features or archive):
        return
    from streams.features.wiring import build_processor

    with console.status("opening Redis and Feast..."):
        processor = build_processor(settings, catalog, features=features, archive=archive, write_unchanged=True)
    with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("backfill", total=total)
        report = run(settings, topic, ranges, processor, progress=lambda n: bar.advance(task, n))
    console.print(f"read {report.read:,} records in {report.seconds:.1f}s ({report.rate:,.0f}/s): "
                  f"applied {report.applied:,}, already applied {report.skipped:,}, invalid {report.invalid:,}, "
                  f"feature rows written {report.rows_written:,}")


def learner() -> None:
    """Run the online learner: prequential metrics, drift, retrain requests, snapshots."""
    import signal
    import threading

    from streams.learner.service import run_learner

    settings, stop = get_settings(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def progress(loop, n):
        if loop.state.events % 10_000 < n:
            m = loop.metrics()
            console.print(f"{int(m['events']):,} events; hit rate@10 {m['rolling_hit_rate']:.3f}; "
                          f"rating MAE {m.get('rolling_rating_mae', float('nan')):.4f}")

    try:
        report = run_learner(settings, stop=stop, on_batch=progress)
    except KeyboardInterrupt:
        return
    console.print(f"learned {report.processed:,} events; published {report.published}")


def retrain(
    reason: str = typer.Option(..., help="why (recorded on the request and the model version)"),
    model: str = typer.Option("ranker", help="model to retrain"),
    force: bool = typer.Option(False, "--force", help="ignore the cooldown"),
    dry_run: bool = typer.Option(False, "--dry-run", help="the trainer plans but registers nothing"),
) -> None:
    """Ask for a retrain by hand (a RetrainRequest with trigger=manual on `retrain-requests`)."""
    from streams.contracts import RetrainRequest, RetrainTrigger
    from streams.producer import EventProducer
    from streams.topics import TopicCatalog

    settings = get_settings()
    request = RetrainRequest(model_name=model, trigger=RetrainTrigger.MANUAL, reason=reason, force=force,
                             dry_run=dry_run)
    producer = EventProducer(settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix),
                             report_successes=True)
    partition, offset = producer.send_and_wait(request)
    console.print(f"retrain request {request.request_id} for {model} published "
                  f"(partition {partition}, offset {offset}); force={force}, dry_run={dry_run}")
