"""``streamrec bench ...``: benchmarks that write docs/benchmarks.md."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from streams.settings import get_settings

app = typer.Typer(help="Benchmarks; each rewrites its section of docs/benchmarks.md.", no_args_is_help=True)
console = Console()


@app.command()
def produce(
    events: int = typer.Option(200_000, "--events", "-n"),
    repeats: int = typer.Option(3),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """Our producer vs raw confluent-kafka (same run, same broker), and the consume rate."""
    from bench.produce import run
    from bench.report import write_section

    result = run(get_settings(), events, repeats, progress=console.print)
    text = result.markdown(f"streamrec bench produce --events {events} --repeats {repeats}")
    console.print(text)
    if write:
        console.print(f"written to {write_section('produce', text)}")
    if result.ratio("streamrec") < 0.8:
        console.print("[yellow]below the 0.8× goal[/]", file=sys.stderr)
