"""``streamrec models ...``: the model registry (MLflow): aliases and rollback."""

from __future__ import annotations

import typer
from rich.console import Console

from streams.core.settings import get_settings

console = Console()
app = typer.Typer(help="The model registry (MLflow): aliases and rollback.", no_args_is_help=True)


@app.command("rollback")
def rollback(model: str = typer.Option("ranker")) -> None:
    """Move `champion` back to the version the current champion replaced (published as a ModelUpdate)."""
    from streams.kafka.producer import publish_acknowledged
    from streams.stores.registry import Registry

    settings = get_settings()
    update = Registry.for_settings(settings, model).rollback()
    publish_acknowledged(settings, [update])
    console.print(f"{model}: champion is version {update.version} again")


@app.command("show")
def show(model: str = typer.Option("ranker")) -> None:
    """The versions behind the champion and challenger aliases."""
    from streams.stores.registry import Registry

    settings = get_settings()
    registry = Registry.for_settings(settings, model)
    for alias in ("champion", "challenger"):
        version = registry.alias_version(alias)
        tags = registry.version_tags(version) if version else {}
        console.print(f"{alias}: {version or '—'}  {tags.get('promotion', '')}")
