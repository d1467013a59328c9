"""``streamrec train`` (one training run by hand) and ``streamrec trainer`` (the retrain-request consumer)."""

from __future__ import annotations

import typer
from rich.console import Console

from streams.core.settings import get_settings

console = Console()


def train(
    model: str = typer.Option("ranker", help="registered model name"),
    reason: str = typer.Option("manual training", help="recorded on the run and the version"),
    dataset: str = typer.Option(None, help="train on a MovieLens dir / OTTO jsonl instead of the archive"),
    split: str = typer.Option(
        "auto",
        help="global (time cut), per_user (each user's last events) or auto (global unless it leaves "
        "fewer than 200 users to test)",
    ),
    force: bool = typer.Option(False, "--force", help="train even if this request already has a finished run"),
    dry_run: bool = typer.Option(False, "--dry-run", help="train and evaluate, register nothing"),
    tune: float = typer.Option(0.0, help="seconds of Optuna search over the ranker's settings (0 = off)"),
) -> None:
    """Run the training pipeline by hand (the same one the trainer runs for a retrain request)."""
    from models.batch.pipeline import TrainConfig
    from models.promotion import QualityGates
    from streams.core.contracts import RetrainRequest, main_categories
    from streams.kafka.producer import publish_acknowledged
    from streams.trainer.job import run_training
    from streams.trainer.service import item_categories, training_events

    settings = get_settings()
    request = RetrainRequest(model_name=model, trigger="manual", reason=reason, force=force, dry_run=dry_run)
    if dataset:
        from models.batch.data import frame_from_events
        from streams.sources.datasets import load
        from streams.sources.files import SourceReport

        data = load(dataset, SourceReport())
        events = frame_from_events(data.interactions)
        categories = main_categories(data.items)
    else:
        events, categories = training_events(settings, request), item_categories(settings)
    outcome = run_training(
        settings,
        request,
        events,
        TrainConfig(split=split, tune_budget_s=tune),
        QualityGates(margin=settings.trainer_promotion_margin),
        progress=console.print,
        categories=categories,
    )
    if outcome.updates:
        publish_acknowledged(settings, outcome.updates)
    console.print(outcome.table)
    console.print(f"[bold]{outcome.status}[/]: {outcome.reason} (run {outcome.run_id}, version {outcome.version})")
    if outcome.status == "failed":
        raise typer.Exit(1)


def trainer(idle_exit: float = typer.Option(None, help="stop after this many idle seconds")) -> None:
    """Consume retrain requests and train, one at a time."""
    import signal
    import threading

    from models.promotion import QualityGates
    from streams.trainer.service import run_trainer

    settings, stop = get_settings(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    yield_cpu(settings.trainer_nice)
    run_trainer(
        settings, stop, idle_exit, gates=QualityGates(margin=settings.trainer_promotion_margin), progress=console.print
    )


def yield_cpu(niceness: int) -> int:
    """Lower this process's CPU priority by ``niceness`` (0: unchanged) and return the new value.

    A training job spends tens of seconds on every core it can get (LightGBM, torch); on a
    shared machine that would starve the worker and the learner, whose freshness is the product.
    Niced, it takes only the cores they leave idle. Linux weighs sessions against each other
    first when autogroup scheduling is on (and each service runs in a session of its own), so the
    process's autogroup gets the same niceness.
    """
    import os
    from pathlib import Path

    value = os.nice(niceness)
    autogroup = Path("/proc/self/autogroup")
    if niceness and autogroup.exists():
        try:
            autogroup.write_text(str(value))
        except OSError as exc:  # a read-only /proc (some containers): the process's own niceness stays
            console.print(f"[yellow]could not renice the trainer's autogroup: {exc}[/]")
    return value
