"""``streamrec topics apply|list`` and ``streamrec schemas export|check``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from streams.settings import get_settings

app = typer.Typer(help="Topics from topics.yaml: apply to the cluster, list.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the message contracts (docs/schemas/).", no_args_is_help=True)
console = Console()


def _catalog():
    from streams.topics import TopicCatalog

    settings = get_settings()
    return settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix)


@app.command("apply")
def apply_cmd(dry_run: bool = typer.Option(False, "--dry-run", help="print the plan, change nothing")) -> None:
    """Create missing topics, raise partition counts, update configs. Never deletes."""
    from streams.admin import apply_topics
    from streams.topics import Refuse

    settings, catalog = _catalog()
    actions = apply_topics(settings, catalog, dry_run=dry_run)
    if not actions:
        console.print("topics are up to date with topics.yaml — nothing to change")
    for action in actions:
        mark = "[yellow]![/]" if isinstance(action, Refuse) else ("[dim]would[/]" if dry_run else "[green]✓[/]")
        console.print(f"{mark} {action}")


@app.command("list")
def list_cmd() -> None:
    """The declared topics with their key, value contract and settings."""
    _, catalog = _catalog()
    table = Table("topic", "partitions", "key", "value", "config")
    for spec in catalog:
        table.add_row(spec.name, str(spec.partitions), spec.key, spec.value,
                      ", ".join(f"{k}={v}" for k, v in spec.config.items()))
    console.print(table)


def rendered_schemas() -> dict[str, str]:
    """File name -> JSON text of every contract's schema, and the HTTP API's OpenAPI document,
    exactly as checked in."""
    from serving.app import create_app
    from serving.state import ModelState
    from streams.contracts import CONTRACTS, json_schema
    from streams.settings import Settings

    rendered = {f"{name}.json": json.dumps(json_schema(cls), indent=2, sort_keys=True) + "\n"
                for name, cls in CONTRACTS.items()}
    app = create_app(Settings(_env_file=None), ModelState("ranker"), lambda user: [])  # nothing connects
    rendered["openapi.json"] = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    return rendered


@schemas_app.command("export")
def export(out: Path = typer.Option(Path("docs/schemas"), help="target directory")) -> None:
    """Write docs/schemas/<Contract>.json and openapi.json from the code."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered_schemas().items():
        (out / name).write_text(text)
        console.print(f"wrote {out / name}")


@schemas_app.command("check")
def check(out: Path = typer.Option(Path("docs/schemas"), help="directory to compare")) -> None:
    """Exit 1 if the checked-in schemas differ from the code (run `streamrec schemas export`)."""
    stale = [n for n, text in rendered_schemas().items()
             if not (out / n).is_file() or (out / n).read_text() != text]
    if stale:
        console.print(f"[red]out of date:[/] {', '.join(stale)} — run `streamrec schemas export`")
        raise typer.Exit(1)
    console.print("schemas up to date")
