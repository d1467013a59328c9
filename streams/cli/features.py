"""``streamrec features apply|list``: the Feast definitions of feature_repo/ in the registry."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from streams.core.settings import get_settings

app = typer.Typer(help="Feast definitions (feature_repo/): apply to the registry, list.", no_args_is_help=True)
console = Console()


@app.command("apply")
def apply_cmd() -> None:
    """Write the entities, sources, views and services into the Feast registry (idempotent).

    The worker also applies them when it starts; a deployment runs this once beforehand so that
    the API and the trainer find the registry complete whichever service starts first."""
    from streams.stores.feast import apply_definitions, open_store

    settings = get_settings()
    applied = apply_definitions(open_store(settings), settings.feature_repo)
    console.print(f"[green]✓[/] {applied} Feast definitions applied")


@app.command("list")
def list_cmd() -> None:
    """The feature views in the registry with their entities and feature counts."""
    from streams.stores.feast import open_store

    table = Table("feature view", "entities", "features")
    for view in open_store(get_settings()).list_feature_views():
        table.add_row(view.name, ", ".join(view.entities), str(len(view.features)))
    console.print(table)
