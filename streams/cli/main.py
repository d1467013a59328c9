"""Entry point of the ``streamrec`` console script: one module of :mod:`streams.cli` per command group."""

from __future__ import annotations

import typer

from streams.cli import (
    backfill,
    bench,
    demo,
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

app = typer.Typer(help="streamrec: a Kafka-native real-time recommender.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.add_typer(infra.app, name="infra")
app.add_typer(topics.app, name="topics")
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
