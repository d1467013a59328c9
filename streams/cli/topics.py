"""``streamrec topics apply|list``: the topics of topics.yaml on the cluster."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from streams.core.settings import get_settings

app = typer.Typer(help="Topics from topics.yaml: apply to the cluster, list.", no_args_is_help=True)
console = Console()


def _catalog():
    from streams.core.topics import TopicCatalog

    settings = get_settings()
    return settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix)


@app.command("apply")
def apply_cmd(dry_run: bool = typer.Option(False, "--dry-run", help="print the plan, change nothing")) -> None:
    """Create missing topics, raise partition counts, update configs. Never deletes."""
    from streams.core.topics import Refuse
    from streams.kafka.admin import apply_topics

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
        table.add_row(
            spec.name, str(spec.partitions), spec.key, spec.value, ", ".join(f"{k}={v}" for k, v in spec.config.items())
        )
    console.print(table)
