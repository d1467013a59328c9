"""``streamrec demo``: the whole system on local infrastructure, closing the loop by itself.

Starts Kafka, Redis and MLflow when needed, then the worker, learner, trainer and API as real
processes, and streams a synthetic stream whose users change tastes halfway (or a dataset). The
first model is trained on the first half; after the shift the learner detects drift, asks for a
retrain, the trainer trains and promotes, and the API switches. Live progress on the terminal,
a summary table, and an HTML report with plots. Everything of the run lives in its own topics,
Feast project and MLflow store under ``.run/demo/<run>/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from streams.core.settings import get_settings

console = Console()


def _live_view(result, began: float):
    def render():
        table = Table(title=f"streamrec demo — {time.monotonic() - began:,.0f}s", show_header=False, min_width=72)
        s = result.samples[-1] if result.samples else {}
        rows = [
            ("events produced", f"{s.get('produced', 0):,} ({s.get('produce_rate', 0):,.0f}/s)"),
            ("learned by the online learner", f"{s.get('learned', 0):,}  lag {s.get('learner_lag', 0):,}"),
            ("worker lag (features, archive)", f"{s.get('worker_lag')}"),
            ("freshness (oldest unlearned event)", f"{s.get('freshness_s', 0):.2f} s"),
            ("prequential hit rate@10 (rolling)", f"{s['hit_rate']:.3f}" if s.get("hit_rate") is not None else "-"),
            ("drift detections", str(sum(m["kind"] == "drift-events" for m in result.markers))),
            ("retrain requests", str(sum(m["kind"] == "retrain-requests" for m in result.markers))),
            ("model served by the API", f"v{s['served_version']}" if s.get("served_version") else "none yet"),
        ]
        for label, value in rows:
            table.add_row(label, value)
        recent = Table(show_header=False, box=None)
        for m in result.markers[-5:]:
            recent.add_row(f"{m['t']:.0f}s", m["label"])
        return Group(table, recent)

    return render


def demo(
    events: int = typer.Option(
        36_000, "--events", "-n", help="interactions to stream (synthetic; or the first N of a dataset)"
    ),
    shift_at: float = typer.Option(0.5, help="fraction of the stream where tastes shift (phase 2 starts)"),
    seed: int = typer.Option(7, help="seed of the synthetic stream"),
    rate: float = typer.Option(1_500.0, help="events/s in phase 2 (paced so the loop can be watched)"),
    dataset: Path = typer.Option(None, help="MovieLens directory or OTTO .jsonl instead of the synthetic stream"),
    timeout: float = typer.Option(900.0, help="seconds to wait for each model"),
    experiment_requests: int = typer.Option(
        6_000, help="at most this many requests in the closing live experiment, previous vs new champion (0: none)"
    ),
    open_report: bool = typer.Option(False, "--open", help="open the HTML report in a browser at the end"),
) -> None:
    """Run the closed loop: stream -> features -> learner -> drift -> retrain -> promote -> serve."""
    from streams.demo.isolation import demo_settings
    from streams.demo.loop import DemoConfig, DemoResult, run_closed_loop
    from streams.demo.report import summary_rows, write_report
    from streams.infra import local_services

    base, began = get_settings(), time.monotonic()
    console.rule("[bold]local infrastructure")
    for name, service in local_services(base).items():
        with console.status(f"starting {name}..."):
            started, seconds = service.start()
        console.print(f"[green]✓[/] {name} {'started' if started else 'already running'} ({seconds:.1f}s)")
    run = time.strftime("%Y%m%d%H%M%S")
    root = base.run_dir / "demo" / run
    settings = demo_settings(base, run, root)
    console.print(f"run {run}: topics {settings.topic_prefix}*, logs and MLflow store in {root}")
    console.rule("[bold]the loop")
    config = DemoConfig(
        events=events,
        shift_at=shift_at,
        seed=seed,
        rate=rate,
        dataset=dataset,
        timeout_s=timeout,
        experiment_requests=experiment_requests,
    )
    result = DemoResult()  # filled while the loop runs; the live view reads it
    with Live(get_renderable=_live_view(result, began), console=console, refresh_per_second=2):
        run_closed_loop(
            settings, config, root / "logs", say=lambda text: console.log(f"[bold cyan]{text}"), result=result
        )
    table = Table(title="demo summary", show_header=False)
    for label, value in summary_rows(result):
        table.add_row(label, value)
    console.print(table)
    for when in ("before", "after"):
        for user, body in (result.answers.get(when) or {}).items():
            items = ", ".join(
                f"{i['item_id']}({'/'.join(result.item_categories.get(i['item_id'], []))})"
                for i in body.get("items", [])
            )
            console.print(f"{when:>6} v{body.get('model_version')} {user}: {items}")
    import dataclasses
    import json

    (root / "demo.json").write_text(json.dumps(dataclasses.asdict(result), indent=1, default=str))
    report = write_report(result, root / "report.html")
    console.print(f"report: {report}")
    console.print(f"browse the run's models: .venv/bin/mlflow ui --backend-store-uri {settings.mlflow_tracking_uri}")
    console.print(f"total {time.monotonic() - began:,.0f}s; infrastructure keeps running (`streamrec infra down`)")
    if open_report:
        import webbrowser

        webbrowser.open(report.as_uri())
    if not result.closed:
        console.print(f"[red]the loop did not close:[/] {result.note}")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(demo)
