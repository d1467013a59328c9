"""Entry point of the ``streamrec`` console script."""

from __future__ import annotations

import typer

from streams.cli import (
    bench_cmd,
    demo_cmd,
    infra_cmd,
    produce_cmd,
    topics_cmd,
    trainer_cmd,
    worker_cmd,
)
from streams.errors import StreamrecError

app = typer.Typer(help="streamrec: a Kafka-native real-time recommender.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.add_typer(infra_cmd.app, name="infra")
app.add_typer(topics_cmd.app, name="topics")
app.add_typer(topics_cmd.schemas_app, name="schemas")
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(worker_cmd.app, name="worker")
produce_cmd.register(app)
demo_cmd.register(app)
app.command()(worker_cmd.backfill)
app.command()(worker_cmd.learner)
app.command()(worker_cmd.retrain)
app.command()(trainer_cmd.train)
app.command()(trainer_cmd.trainer)
app.command()(trainer_cmd.serve)
app.add_typer(trainer_cmd.models_app, name="models")


def main() -> None:
    try:
        app()
    except StreamrecError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
