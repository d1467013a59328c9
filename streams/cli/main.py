"""Entry point of the ``streamrec`` console script: one module of :mod:`streams.cli` per command group."""

from __future__ import annotations

import typer

from streams.cli import (
    backfill,
    bench,
    demo,
    features,
    infra,
    learner,
    models,
    produce,
    schemas,
    serve,
    topics,
    trainer,
    worker,
)
from streams.core.errors import StreamrecError
from streams.core.settings import get_settings

app = typer.Typer(
    help="streamrec: a Kafka-native real-time recommender.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"streamrec {version('streamrec')}")
        raise typer.Exit()


@app.callback()
def options(
    log_level: str = typer.Option(None, help="DEBUG, INFO, WARNING, ERROR (default: STREAMREC_LOG_LEVEL or INFO)"),
    log_json: bool = typer.Option(None, "--log-json/--log-text", help="log JSON lines (default: STREAMREC_LOG_JSON)"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version"),
) -> None:
    """Options of every command. Child processes (API workers, demo services) inherit them."""
    import os

    from streams.core.logs import configure_logging

    if log_level:
        os.environ["STREAMREC_LOG_LEVEL"] = log_level.upper()
    if log_json is not None:
        os.environ["STREAMREC_LOG_JSON"] = "true" if log_json else "false"
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)


app.add_typer(infra.app, name="infra")
app.add_typer(topics.app, name="topics")
app.add_typer(features.app, name="features")
app.add_typer(schemas.app, name="schemas")
app.add_typer(bench.app, name="bench")
app.add_typer(worker.app, name="worker")
app.add_typer(models.app, name="models")
produce.register(app)
demo.register(app)
app.command()(backfill.backfill)
app.command()(learner.learner)
app.command()(learner.retrain)
app.command()(trainer.train)
app.command()(trainer.trainer)
app.command()(serve.serve)


def main() -> None:
    try:
        app()
    except StreamrecError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
