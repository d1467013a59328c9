"""``streamrec bench ...``: benchmarks that write docs/benchmarks.md."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from streams.core.settings import get_settings

app = typer.Typer(help="Benchmarks; each rewrites its section of docs/benchmarks.md.", no_args_is_help=True)
console = Console()


@app.command()
def produce(
    events: int = typer.Option(200_000, "--events", "-n"),
    repeats: int = typer.Option(3),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """Our producer vs raw confluent-kafka (same run, same broker), and the consume rate."""
    from bench.produce import run
    from bench.report import write_section

    result = run(get_settings(), events, repeats, progress=console.print)
    text = result.markdown(f"streamrec bench produce --events {events} --repeats {repeats}")
    console.print(text)
    if write:
        console.print(f"written to {write_section('produce', text)}")
    if result.ratio("streamrec") < 0.8:
        console.print(f"[yellow]streamrec at {result.ratio('streamrec'):.2f}x raw bytes: below the 0.8x goal[/]")


@app.command()
def worker(
    events: int = typer.Option(200_000, "--events", "-n"),
    rate: float = typer.Option(1500.0, help="input events/s for the freshness phase"),
    seconds: float = typer.Option(20.0, help="length of the freshness phase"),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """Worker events/s, event->feature freshness at a fixed rate, backfill events/s."""
    from bench.report import write_section
    from bench.worker import run

    result = run(get_settings(), events, rate, seconds, progress=console.print)
    text = result.markdown(f"streamrec bench worker --events {events} --rate {rate:.0f} --seconds {seconds:.0f}")
    console.print(text)
    if write:
        console.print(f"written to {write_section('worker', text)}")


@app.command()
def learner(
    dataset: str = typer.Option(
        ..., help="MovieLens directory (e.g. ../shared/datasets/ml-latest-small) or OTTO jsonl"
    ),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """Prequential rating MAE through Kafka, learner updates/s, detector cost."""
    from bench.learner import run
    from bench.report import write_section

    result = run(get_settings(), dataset, progress=console.print)
    text = result.markdown(f"streamrec bench learner --dataset {dataset}")
    console.print(text)
    if write:
        console.print(f"written to {write_section('learner', text)}")


@app.command("learner-scale")
def learner_scale(
    dataset: str = typer.Option(
        "synthetic",
        help="synthetic (the seeded simulator), a MovieLens directory (e.g. ../shared/datasets/ml-latest-small) or OTTO jsonl",
    ),
    events: int = typer.Option(500_000, help="events of the synthetic stream"),
    repeats: int = typer.Option(2, help="runs of each (one process, two), alternating"),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """One learner process against two in one consumer group: events/s and prequential metrics."""
    from bench.learner_scale import run
    from bench.report import write_section

    result = run(get_settings(), dataset, repeats=repeats, events=events, progress=console.print)
    options = f"--events {events}" if dataset == "synthetic" else f"--dataset {dataset}"
    text = result.markdown(f"streamrec bench learner-scale {options}")
    console.print(text)
    if write:
        console.print(f"written to {write_section('learner-scale', text)}")


@app.command()
def train(
    dataset: str = typer.Option(..., help="MovieLens directory (e.g. ../shared/datasets/ml-latest-small)"),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """Evaluation table (ours vs baselines) on a dataset, and the training time for 100k events."""
    from bench.report import write_section
    from bench.train import run

    text = run(dataset, progress=console.print)
    console.print(text)
    if write:
        console.print(f"written to {write_section('train', text)}")


@app.command(name="stream-quality")
def stream_quality(
    dataset: str = typer.Option(..., help="MovieLens directory (e.g. ../shared/datasets/ml-latest-small)"),
    rate: float = typer.Option(500.0, help="replay events/s"),
    every: int = typer.Option(10, help="ask /recommend before every n-th positive rating"),
    limit: int = typer.Option(0, help="use only the first n ratings (0: all)"),
    retrain_every: int = typer.Option(20_000, help="the learner asks for a retrain every n new events"),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """Prequential quality of the served lists while a dataset streams through the whole system,
    against streaming popularity and River BiasedMF on the same points."""
    from pathlib import Path

    from bench.report import write_section
    from bench.stream_quality import run

    text = run(
        get_settings(),
        Path(dataset),
        rate=rate,
        every=every,
        limit=limit or None,
        retrain_every=retrain_every,
        progress=console.print,
        plot=Path("docs/img/stream_quality_freshness.png") if write else None,  # --no-write leaves docs alone
    )
    console.print(text)
    if write:
        console.print(f"written to {write_section('stream-quality', text)}")


@app.command()
def memory(write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md")) -> None:
    """Redis bytes per user of the seen-set on the synthetic stream."""
    from bench.memory import run
    from bench.report import write_section

    text = run(progress=console.print)
    console.print(text)
    if write:
        console.print(f"written to {write_section('memory', text)}")


@app.command(name="experiment-replay")
def experiment_replay(
    seeds: str = typer.Option("7,11,23", help="the demo's seeds, comma-separated"),
    requests: int = typer.Option(2_000, help="lists asked for per model and seed"),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """The demo's closing experiment replayed offline: v1 vs the retrain vs a category rule."""
    from bench.experiment_replay import run
    from bench.report import write_section

    text = run([int(s) for s in seeds.split(",")], requests, progress=console.print)
    console.print(text)
    if write:
        console.print(f"written to {write_section('experiment-replay', text)}")


@app.command()
def serve(write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md")) -> None:
    """/recommend latency (one client), throughput at p99 <= 50 ms, ingest through /events/batch."""
    from bench.report import write_section
    from bench.serve import run

    text = run(get_settings(), progress=console.print)
    console.print(text)
    if write:
        console.print(f"written to {write_section('serve', text)}")


@app.command()
def loop(
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
    rate: float = typer.Option(1_500.0, help="phase-2 events/s"),
) -> None:
    """The closed loop timed: shift -> drift -> retrain -> promoted -> served, on real services."""
    from bench.loop import run
    from bench.report import write_section
    from streams.demo.loop import DemoConfig

    # the loop timed, without the closing live experiment (the demo runs it)
    text = run(get_settings(), DemoConfig(rate=rate, experiment_requests=0), progress=console.print)
    console.print(text)
    if write:
        console.print(f"written to {write_section('loop', text)}")


@app.command()
def faults(
    events: int = typer.Option(20_000, "--events", "-n"),
    copies: int = typer.Option(2_000, help="events re-sent by their producer (same event_id)"),
    rate: float = typer.Option(1_000.0, help="events/s while the worker is killed"),
    seconds: float = typer.Option(10.0, help="length of each serving phase"),
    write: bool = typer.Option(True, help="rewrite the section in docs/benchmarks.md"),
) -> None:
    """Faults users meet: re-sent events, a SIGKILLed worker, poison records; Redis, the broker
    and MLflow failing under a loaded API; A/A experiments."""
    from bench.faults import a_a_false_promotions, markdown, stream_faults
    from bench.outages import serving_outages
    from bench.report import write_section

    settings = get_settings()
    stream = stream_faults(settings, events, copies, rate, progress=console.print)
    phases = serving_outages(settings, seconds, progress=console.print)
    a_a = a_a_false_promotions(200)
    command = f"streamrec bench faults --events {events} --copies {copies} --rate {rate:.0f} --seconds {seconds:.0f}"
    text = markdown(stream, phases, a_a, command)
    console.print(text)
    if write:
        console.print(f"written to {write_section('faults', text)}")


@app.command(name="all")
def all_benchmarks(
    dataset: str = typer.Option("../shared/datasets/ml-latest-small", help="MovieLens directory for learner/train"),
) -> None:
    """Every benchmark in turn; each rewrites its section of docs/benchmarks.md, then an overview
    section records the machine, the conditions and how long each took."""
    import subprocess
    import time
    from pathlib import Path

    from bench.report import machine, write_section
    from streams.infra import local_services

    for name, service in local_services(get_settings()).items():
        started, seconds = service.start()
        console.print(f"{name}: {'started' if started else 'running'} ({seconds:.1f}s)")

    runs = [("produce", []), ("worker", []), ("serve", []), ("memory", []), ("loop", [])]
    if Path(dataset).exists():
        runs[2:2] = [("learner", ["--dataset", dataset]), ("train", ["--dataset", dataset])]
        runs.append(("stream-quality", ["--dataset", dataset]))
    else:
        console.print(f"[yellow]no dataset at {dataset}: learner and train benchmarks skipped[/]")
    took = []
    for name, args in runs:  # each in its own process: no heap, threads or GC pauses carried over
        console.rule(f"[bold]bench {name}")
        began = time.monotonic()
        code = subprocess.call([sys.executable, "-m", "streams.cli.main", "bench", name, *args])
        took.append((name, time.monotonic() - began, "ok" if code == 0 else f"failed (exit {code})"))
    rows = "\n".join(f"| `streamrec bench {n}` | {s:,.0f} s | {status} |" for n, s, status in took)
    write_section(
        "overview",
        f"""## Overview (`streamrec bench all`)

Every benchmark below was run one after another, each in its own process, on {machine()},
with nothing else running. The sections are in the order they ran.

| benchmark | took | outcome |
|---|---|---|
{rows}
""",
    )
    console.print(f"written to docs/benchmarks.md ({sum(s for _, s, _ in took):,.0f} s in all)")
