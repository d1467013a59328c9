"""``streamrec schemas export|check``: JSON Schemas of the contracts and the OpenAPI document (docs/schemas/)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="JSON Schemas of the message contracts (docs/schemas/).", no_args_is_help=True)
console = Console()


def rendered_schemas() -> dict[str, str]:
    """File name -> JSON text of every contract's schema, and the HTTP API's OpenAPI document,
    exactly as checked in."""
    from serving.app import create_app
    from serving.deps import Services
    from serving.metrics import ApiMetrics
    from serving.recommender import Recommender
    from serving.state import ModelState
    from streams.core.contracts import CONTRACTS, json_schema
    from streams.core.settings import Settings

    rendered = {
        f"{name}.json": json.dumps(json_schema(cls), indent=2, sort_keys=True) + "\n" for name, cls in CONTRACTS.items()
    }
    # as deployed with API keys; without keys the running API's /openapi.json leaves the key out
    keyed = Settings(_env_file=None, serve_api_keys="any")
    nothing_connects = Services(keyed, Recommender(ModelState("ranker"), lambda user: []), ApiMetrics())
    app = create_app(nothing_connects)
    rendered["openapi.json"] = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    return rendered


@app.command("export")
def export(out: Path = typer.Option(Path("docs/schemas"), help="target directory")) -> None:
    """Write docs/schemas/<Contract>.json and openapi.json from the code."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered_schemas().items():
        (out / name).write_text(text)
        console.print(f"wrote {out / name}")


@app.command("check")
def check(out: Path = typer.Option(Path("docs/schemas"), help="directory to compare")) -> None:
    """Exit 1 if the checked-in schemas differ from the code (run `streamrec schemas export`)."""
    stale = [n for n, text in rendered_schemas().items() if not (out / n).is_file() or (out / n).read_text() != text]
    if stale:
        console.print(f"[red]out of date:[/] {', '.join(stale)} — run `streamrec schemas export`")
        raise typer.Exit(1)
    console.print("schemas up to date")
