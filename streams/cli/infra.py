"""``streamrec infra up|down|status``: the local Kafka, Redis and MLflow."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from streams.core.settings import get_settings

app = typer.Typer(help="Start, stop and inspect local Kafka (KRaft), Redis and MLflow.", no_args_is_help=True)
console = Console()
SERVICES = ["kafka", "redis", "mlflow"]


def _selected(only: list[str] | None):
    from streams.infra import local_services

    services = local_services(get_settings())
    unknown = set(only or []) - set(services)
    if unknown:
        raise typer.BadParameter(f"unknown service(s) {sorted(unknown)}; choose from {SERVICES}")
    return {n: s for n, s in services.items() if not only or n in only}


@app.command()
def up(only: list[str] = typer.Option(None, "--only", help="start just these (kafka, redis, mlflow)")) -> None:
    """Start the services that are not running and wait until each answers (idempotent)."""
    for name, service in _selected(only).items():
        with console.status(f"starting {name}..."):
            started, seconds = service.start()
        verb = "started" if started else "already running"
        console.print(f"[green]✓[/] {name:7s} {verb} ({seconds:.1f}s) — {_where(name, service)}")


@app.command()
def down(only: list[str] = typer.Option(None, "--only", help="stop just these")) -> None:
    """Stop the services (idempotent); data stays under the run directory."""
    for name, service in reversed(list(_selected(only).items())):
        console.print(f"{'stopped' if service.stop() else 'was not running':16s} {name}")


@app.command()
def status() -> None:
    """Show each service's state and address; exit code 1 if any is not running."""
    table = Table("service", "state", "address", "log")
    states = []
    for name, service in _selected(None).items():
        state = service.status()
        states.append(state)
        colour = "green" if state.startswith("running") else "red"
        table.add_row(name, f"[{colour}]{state}[/]", _where(name, service), str(service.process.log_file))
    console.print(table)
    if any(not s.startswith("running") for s in states):
        raise typer.Exit(1)


def _where(name: str, service) -> str:
    if name == "kafka":
        return service.bootstrap
    if name == "redis":
        return f"redis://{service.host}:{service.port}"
    return service.url
