"""``streamrec learner`` (the online learner) and ``streamrec retrain`` (a manual retrain request)."""

from __future__ import annotations

import typer
from rich.console import Console

from streams.core.settings import get_settings

console = Console()


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
            console.print(
                f"{int(m['events']):,} events; hit rate@10 {m['rolling_hit_rate']:.3f}; "
                f"rating MAE {m.get('rolling_rating_mae', float('nan')):.4f}"
            )

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
    from streams.core.contracts import RetrainRequest, RetrainTrigger
    from streams.kafka.producer import publish_acknowledged

    settings = get_settings()
    request = RetrainRequest(
        model_name=model, trigger=RetrainTrigger.MANUAL, reason=reason, force=force, dry_run=dry_run
    )
    [(partition, offset)] = publish_acknowledged(settings, [request])
    console.print(
        f"retrain request {request.request_id} for {model} published "
        f"(partition {partition}, offset {offset}); force={force}, dry_run={dry_run}"
    )
