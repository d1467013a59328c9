"""``streamrec serve``: the HTTP API and its background consumers."""

from __future__ import annotations

import typer
from rich.console import Console

from streams.core.settings import get_settings

console = Console()


def serve(workers: int = typer.Option(1, help="uvicorn worker processes (one per core: ranking is CPU-bound)")) -> None:
    """Run the HTTP API (/recommend, /events, /health, /ready, /metrics, /models, /experiments) and,
    in background threads of each worker, the Kafka path (recommendation-requests ->
    recommendations), the champion watch, experiment control, reward attribution and the online
    learner's snapshots."""
    import signal

    import uvicorn

    settings = get_settings()
    # uvicorn stops cleanly on SIGTERM, then raises the signal again, so the process would die of
    # it (exit -15); a clean stop is exit 0, as for every other service
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.run(
        "serving.main:build_app",
        factory=True,
        workers=workers,
        host=settings.serve_host,
        port=settings.serve_port,
        log_level=settings.log_level.lower(),
        log_config=None,
    )  # uvicorn's access and error logs go through streamrec's logging set-up


def _stopped(signum, frame) -> None:
    raise SystemExit(0)
