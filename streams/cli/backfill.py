"""``streamrec backfill``: re-read ``interactions`` and rebuild features and archive."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from streams.core.settings import get_settings

console = Console()


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
    from_: str = typer.Option(
        "beginning", "--from", help="ISO time, '6h'/'2d' ago, or 'beginning' (Kafka record time)"
    ),
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

    from streams.core.topics import TopicCatalog
    from streams.worker.backfill import plan, run

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
    with Progress(
        TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("backfill", total=total)
        report = run(settings, topic, ranges, processor, progress=lambda n: bar.advance(task, n))
    console.print(
        f"read {report.read:,} records in {report.seconds:.1f}s ({report.rate:,.0f}/s): "
        f"applied {report.applied:,}, already applied {report.skipped:,}, invalid {report.invalid:,}, "
        f"feature rows written {report.rows_written:,}"
    )
