"""``streamrec train``, ``streamrec trainer`` and ``streamrec models ...``: the batch trainer and the registry."""

from __future__ import annotations

import typer
from rich.console import Console

from streams.settings import get_settings

console = Console()
models_app = typer.Typer(help="The model registry (MLflow): aliases and rollback.", no_args_is_help=True)


def train(
    model: str = typer.Option("ranker", help="registered model name"),
    reason: str = typer.Option("manual training", help="recorded on the run and the version"),
    dataset: str = typer.Option(None, help="train on a MovieLens dir / OTTO jsonl instead of the archive"),
    split: str = typer.Option("global", help="global (time cut) or per_user (each user's last events)"),
    force: bool = typer.Option(False, "--force", help="train even if this request already has a finished run"),
    dry_run: bool = typer.Option(False, "--dry-run", help="train and evaluate, register nothing"),
    tune: float = typer.Option(0.0, help="seconds of Optuna search over the ranker's settings (0 = off)"),
) -> None:
    """Run the training pipeline by hand (the same one the trainer runs for a retrain request)."""
    from models.batch.pipeline import TrainConfig
    from streams.contracts import RetrainRequest
    from streams.trainer.job import run_training
    from streams.trainer.promotion import QualityGates
    from streams.trainer.service import training_events

    settings = get_settings()
    request = RetrainRequest(model_name=model, trigger="manual", reason=reason, force=force, dry_run=dry_run)
    if dataset:
        from models.batch.data import frame_from_events
        from streams.sources.datasets import load
        from streams.sources.files import SourceReport

        events = frame_from_events(load(dataset, SourceReport()).interactions)
    else:
        events = training_events(settings, request)
    outcome = run_training(settings, request, events, TrainConfig(split=split, tune_budget_s=tune),
                           QualityGates(margin=settings.trainer_promotion_margin), progress=console.print)
    if outcome.updates:
        _publish(settings, outcome.updates)
    console.print(outcome.table)
    console.print(f"[bold]{outcome.status}[/]: {outcome.reason} (run {outcome.run_id}, version {outcome.version})")
    if outcome.status == "failed":
        raise typer.Exit(1)


def trainer(idle_exit: float = typer.Option(None, help="stop after this many idle seconds")) -> None:
    """Consume retrain requests and train, one at a time."""
    import signal
    import threading

    from streams.trainer.promotion import QualityGates
    from streams.trainer.service import run_trainer

    settings, stop = get_settings(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    run_trainer(settings, stop, idle_exit, gates=QualityGates(margin=settings.trainer_promotion_margin),
                progress=console.print)


@models_app.command("rollback")
def rollback(model: str = typer.Option("ranker")) -> None:
    """Move `champion` back to the version the current champion replaced (published as a ModelUpdate)."""
    from streams.trainer.registry import Registry

    settings = get_settings()
    update = Registry.for_settings(settings, model).rollback()
    _publish(settings, [update])
    console.print(f"{model}: champion is version {update.version} again")


@models_app.command("show")
def show(model: str = typer.Option("ranker")) -> None:
    """The versions behind the champion and challenger aliases."""
    from streams.trainer.registry import Registry

    settings = get_settings()
    registry = Registry.for_settings(settings, model)
    for alias in ("champion", "challenger"):
        version = registry.alias_version(alias)
        tags = registry.version_tags(version) if version else {}
        console.print(f"{alias}: {version or '—'}  {tags.get('promotion', '')}")


def _publish(settings, updates) -> None:
    from streams.producer import EventProducer
    from streams.topics import TopicCatalog

    with EventProducer(settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix),
                       report_successes=True) as producer:
        for update in updates:
            producer.send_and_wait(update)


def serve(workers: int = typer.Option(1, help="uvicorn worker processes (one per core: ranking is CPU-bound)")) -> None:
    """Run the HTTP API (/recommend, /events, /health, /ready, /metrics, /models, /experiments) and,
    in background threads of each worker, the Kafka path (recommendation-requests ->
    recommendations), the champion watch, experiment control, reward attribution and the online
    learner's snapshots."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("serving.main:build_app", factory=True, workers=workers, host=settings.serve_host,
                port=settings.serve_port, log_level="warning")
