"""``streamrec worker`` (run a worker process) and ``streamrec worker status``."""

from __future__ import annotations

import os
import socket
import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from streams.core.settings import get_settings

console = Console()
app = typer.Typer(help="The stream worker: features from interactions (Faust).", invoke_without_command=True)


@app.callback()
def worker(
    ctx: typer.Context,
    worker_id: str = typer.Option(None, help="name in `worker status` (default host-pid)"),
    loglevel: str = typer.Option("warn", help="crit, error, warn, info, debug"),
) -> None:
    """Run a worker process; start more of them to split the partitions."""
    if ctx.invoked_subcommand is not None:
        return
    import mode.loop

    # Faust reads `--loop` from argv only when `faust` is first imported, which is before this
    # runs: so the loop is chosen here, before any exists (uvloop, about 1.3x the events/s)
    mode.loop.use("uvloop")
    from streams.worker.app import create_app

    settings = get_settings()
    wid = worker_id or f"{socket.gethostname()}-{os.getpid()}"
    faust_app = create_app(settings, wid)
    sys.argv = [sys.argv[0], "worker", "-l", loglevel, "--without-web"]  # Faust parses its own argv
    faust_app.main()


@app.command()
def status() -> None:
    """Each worker's last heartbeat: processed, dead-lettered, lag, freshness."""
    from streams.stores.worker_status import read_statuses

    rows = read_statuses(get_settings())
    if not rows:
        console.print("no worker has reported yet")
        raise typer.Exit(1)
    table = Table(
        "worker", "state", "processed", "skipped (replays)", "dead-lettered", "lag", "freshness p50 / p99", "metrics"
    )
    now = time.time()
    for r in rows:
        alive = now - r["heartbeat"] < 10
        fresh = f"{r['freshness_p50_s']}s / {r['freshness_p99_s']}s" if r.get("freshness_p50_s") is not None else "-"
        table.add_row(
            r["worker"],
            "[green]up[/]" if alive else f"[red]silent {now - r['heartbeat']:.0f}s[/]",
            f"{r['processed']:,}",
            f"{r['skipped']:,}",
            f"{r['dead_lettered']:,}",
            f"{r['lag']:,}",
            fresh,
            f"127.0.0.1:{r['metrics_port']}/metrics" if r.get("metrics_port") else "off",
        )
    console.print(table)
