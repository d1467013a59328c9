"""The closed loop timed: how long from a taste shift to a retrained model serving, on real
services (the same code as `streamrec demo`)."""

from __future__ import annotations

import time

from streams.core.settings import Settings
from streams.demo.freshness import phase2_freshness, phase2_start
from streams.demo.loop import DemoConfig, run_closed_loop


def run(settings: Settings, config: DemoConfig | None = None, progress=print) -> str:
    from bench.cleanup import keys_dropped
    from streams.demo.isolation import demo_settings

    config = config or DemoConfig()
    run_id = time.strftime("%Y%m%d%H%M%S")
    root = settings.run_dir / "bench-loop" / run_id
    run_settings = demo_settings(settings, f"b{run_id}", root)
    with keys_dropped(run_settings, feast_project=True, progress=progress):
        result = run_closed_loop(run_settings, config, root / "logs", say=progress)
    phases = result.phases
    phase2 = phase2_start(phases)
    new_version = result.final_version if result.final_version != result.first_version else None
    served_new = [phases.get(f"serving v{new_version}") if new_version else None]
    drift = next((m["t"] for m in result.markers if m["kind"] == "drift-events"), None)
    request = next(
        (m["t"] for m in result.markers if m["kind"] == "retrain-requests" and "(drift)" in m["label"]), None
    )
    promoted = next(
        (
            m["t"]
            for m in result.markers
            if new_version
            and m["kind"] == "model-updates"
            and m["label"].startswith(f"{settings.serve_model} v{new_version}")
            and m["label"].endswith("champion")
        ),
        None,
    )
    first_request = next((m["t"] for m in result.markers if m["kind"] == "retrain-requests"), None)
    first_promoted = next(
        (m["t"] for m in result.markers if m["kind"] == "model-updates" and m["label"].endswith("champion")), None
    )

    def gap(a, b):
        return f"{b - a:.1f} s" if a is not None and b is not None else "n/a"

    rows = [
        ("loop closed", "yes" if result.closed else f"no ({result.note})"),
        (
            "stream",
            f"{config.events:,} synthetic interactions, shift at {config.shift_at:.0%}, "
            f"phase 2 paced at {config.rate:,.0f} events/s",
        ),
        ("first model: retrain request -> champion", gap(first_request, first_promoted)),
        ("phase 2 start -> first drift event", gap(phase2, drift)),
        ("drift event -> retrain request (settle: new-regime events)", gap(drift, request)),
        (
            "retrain request -> promoted to champion (training included)",
            gap(request, promoted) if new_version else f"not promoted: v{result.first_version} kept ({result.note})",
        ),
        ("promoted -> served by the API (hot reload)", gap(promoted, served_new[0] if result.closed else None)),
        ("phase 2 start -> new model served", gap(phase2, served_new[0] if result.closed else None)),
        ("whole run (services up to shutdown)", f"{phases.get('stopped', 0):.0f} s"),
        *phase2_freshness(result.samples, phase2),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    ours = (result.evaluation or {}).get("two-stage LambdaMART", {}).get("ndcg@10")
    best_baseline = max(
        ((n, m.get("ndcg@10", 0)) for n, m in (result.evaluation or {}).items() if n != "two-stage LambdaMART"),
        key=lambda x: x[1],
        default=(None, None),
    )
    evaluation = (
        f"The promoted model's holdout NDCG@10: {ours:.4f}; best single generator "
        f"({best_baseline[0]}): {best_baseline[1]:.4f} ({ours / best_baseline[1]:.2f}x)."
        if ours and best_baseline[1]
        else ""
    )
    return f"""## The closed loop (`streamrec bench loop`)

Worker, learner, trainer and API as processes on the local Kafka, Redis and MLflow (sqlite);
the same code as `streamrec demo`. Times are seconds on the demo's clock.

| step | time |
|---|---|
{table}

{evaluation}
"""
