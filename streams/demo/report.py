"""The demo's HTML report: what happened, when, and how well -- one self-contained page."""

from __future__ import annotations

import html
from pathlib import Path

from streams.demo.freshness import GOAL_S, phase2_freshness, phase2_start
from streams.demo.results import DemoResult

MARKER_COLOURS = {"drift-events": "#d62728", "retrain-requests": "#ff7f0e", "model-updates": "#2ca02c"}


def _figure(title: str, ytitle: str, series: list[tuple[str, list, list]], markers: list[dict], shift_t: float | None):
    import plotly.graph_objects as go

    figure = go.Figure([go.Scatter(x=x, y=y, name=name, mode="lines") for name, x, y in series])
    for m in markers:
        figure.add_vline(x=m["t"], line_dash="dot", line_color=MARKER_COLOURS.get(m["kind"], "#888"), opacity=0.6)
    if shift_t is not None:
        figure.add_vline(
            x=shift_t,
            line_color="#9467bd",
            line_width=2,
            annotation_text="taste shift starts",
            annotation_position="top left",
        )
    figure.update_layout(
        title=title,
        xaxis_title="seconds since the demo started",
        yaxis_title=ytitle,
        height=330,
        margin={"l": 60, "r": 20, "t": 50, "b": 45},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def _online_snapshot(marker: dict) -> bool:
    return marker["kind"] == "model-updates" and marker["label"].endswith("-> online")


def _answers_table(result: DemoResult) -> str:
    rows = []
    for when in ("before", "after"):
        for user, body in (result.answers.get(when) or {}).items():
            items = body.get("items", [])
            cells = ", ".join(
                f"{html.escape(i['item_id'])} <small>({html.escape('/'.join(result.item_categories.get(i['item_id'], [])) or '?')})</small>"
                for i in items
            )
            reasons = "; ".join(dict.fromkeys(r for i in items for r in i.get("reasons", [])))
            rows.append(
                f"<tr><td>{when}</td><td>{html.escape(user)}</td><td>v{html.escape(str(body.get('model_version')))}"
                f"</td><td>{cells}</td><td><small>{html.escape(reasons)}</small></td></tr>"
            )
    return (
        "<table><tr><th>when</th><th>user</th><th>model</th><th>top 5 (categories)</th><th>reasons</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _evaluation_table(table: dict | None) -> str:
    if not table:
        return "<p>No offline evaluation was found for the served version.</p>"
    cols = [c for c in ("ndcg@10", "recall@10", "hit_rate@10", "coverage@10") if any(c in m for m in table.values())]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{m.get(c, float('nan')):.4f}</td>" for c in cols) + "</tr>"
        for name, m in sorted(table.items(), key=lambda kv: -kv[1].get("ndcg@10", 0))
    )
    return "<table><tr><th>model</th>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>" + rows + "</table>"


def _experiment_section(result: DemoResult) -> str:
    exp = result.experiment
    if not exp:
        return "<p>No experiment ran (the loop did not close, or it was turned off).</p>"
    import plotly.graph_objects as go

    rows = "".join(
        f"<tr><td>{html.escape(v['variant'])}</td><td>v{html.escape(str(v['model']))}</td><td>{v['impressions']}</td>"
        f"<td>{v['conversions']}</td><td>{v['conversion_rate']:.3f}</td><td>{v['probability_to_be_best']:.3f}</td>"
        f"<td>{v['mean_latency_ms']:.1f}</td></tr>"
        for v in exp["variants"]
    )
    figure = go.Figure(
        [
            go.Scatter(
                x=[a["requests"] for a in exp["allocation"]],
                y=[a["new_share"] for a in exp["allocation"]],
                mode="lines+markers",
                name="share of requests served by the new model",
            )
        ]
    )
    figure.update_layout(
        title="Thompson sampling: traffic share of the new model, per block of requests",
        xaxis_title="requests so far",
        yaxis_title="share",
        yaxis_range=[0, 1],
        height=300,
        margin={"l": 60, "r": 20, "t": 50, "b": 45},
        template="plotly_white",
    )
    decision = exp.get("decision") or {}
    expected = exp.get("expected_conversion", {})
    return (
        f"<p>The previous champion against the new model on live traffic; the experiment decides the "
        f"promotion. Simulated users ({html.escape(exp.get('users', ''))}) look down each list, reaching "
        f"position r with probability 1/(r+1), and click the first item that tempts them. Clicks reach "
        f"the API's reward attribution through <code>interactions</code>.</p>"
        f"<p><b>Outcome: {html.escape(exp.get('status', ''))}</b>"
        f" {html.escape(str(exp.get('outcome') or decision.get('reason', '')))}</p>"
        f"<table><tr><th>variant</th><th>model</th><th>impressions</th><th>conversions</th><th>rate</th>"
        f"<th>P(best)</th><th>mean latency ms</th></tr>{rows}</table>"
        + (
            "<p><small>Expected conversion, the simulated users' own click chance for each served list "
            "(what the rates estimate, without the noise of the clicks): "
            + ", ".join(f"{html.escape(v)} {c:.3f}" for v, c in sorted(expected.items()))
            + "</small></p>"
            if expected
            else ""
        )
        + figure.to_html(full_html=False, include_plotlyjs=False)
    )


def summary_rows(result: DemoResult) -> list[tuple[str, str]]:
    last = result.samples[-1] if result.samples else {}
    drift = [m for m in result.markers if m["kind"] == "drift-events"]
    retrains = [m for m in result.markers if m["kind"] == "retrain-requests"]
    peak = max((s.get("freshness_s") or 0 for s in result.samples), default=0)
    return [
        ("loop closed", "yes" if result.closed else "no"),
        ("what happened", result.note),
        ("events produced", f"{last.get('produced', 0):,}"),
        ("taste shift at event", f"{result.shift_index:,}" if result.shift_index is not None else "none"),
        (
            "drift detections",
            f"{len(drift)}" + (f" (first at {drift[0]['t']:.0f}s: {drift[0]['label']})" if drift else ""),
        ),
        ("retrain requests", str(len(retrains))),
        ("model served first / last", f"v{result.first_version} / v{result.final_version}"),
        ("peak freshness (oldest unlearned event), phase 1's backlog included", f"{peak:.2f} s"),
        *(
            (f"{name} (goal ≤ {GOAL_S:.0f} s)" if "freshness" in name else name, value)
            for name, value in phase2_freshness(result.samples, phase2_start(result.phases))
        ),
        ("experiment (previous vs new)", _experiment_summary(result)),
        ("duration", f"{result.phases.get('stopped', 0):.0f} s"),
    ]


def _experiment_summary(result: DemoResult) -> str:
    exp = result.experiment
    if not exp or not exp.get("variants"):
        return "not run"
    rates = ", ".join(
        f"{v['variant']} {v['conversion_rate']:.3f} (P(best) {v['probability_to_be_best']:.2f})"
        for v in exp["variants"]
    )
    expected = ", ".join(f"{v} {c:.3f}" for v, c in sorted(exp.get("expected_conversion", {}).items()))
    return f"{exp.get('status', '')}: conversion {rates}" + (
        f"; expected conversion (the users' click chance) {expected}" if expected else ""
    )


def write_report(result: DemoResult, path: Path) -> Path:
    samples = result.samples
    t = [s["t"] for s in samples]
    phase2 = phase2_start(result.phases)  # the shift
    markers = [m for m in result.markers if not _online_snapshot(m)]  # snapshots every few seconds would hide the rest
    figures = [
        _figure("Throughput", "events/s", [("produced", t, [s["produce_rate"] for s in samples])], markers, phase2),
        _figure(
            "Lag: events produced but not yet processed",
            "events",
            [
                ("online learner", t, [s.get("learner_lag") for s in samples]),
                ("feature worker (committed offsets)", t, [s.get("worker_lag") for s in samples]),
            ],
            markers,
            phase2,
        ),
        _figure(
            "Freshness: age of the oldest event the learner has not learned yet, and the features' p99",
            "seconds",
            [
                ("learner: oldest unlearned event", t, [s.get("freshness_s") for s in samples]),
                ("features: p99 of the slowest worker", t, [s.get("feature_freshness_p99_s") for s in samples]),
            ],
            markers,
            phase2,
        ),
        _figure(
            "Prequential metric of the online learner, with drift and retrain markers",
            "rolling value",
            [
                ("hit rate@10 (rolling)", t, [s.get("hit_rate") for s in samples]),
                ("click AUC", t, [s.get("click_auc") for s in samples]),
            ],
            markers,
            phase2,
        ),
    ]
    plots = "".join(f.to_html(full_html=False, include_plotlyjs=i == 0) for i, f in enumerate(figures))
    timeline = "".join(
        f"<li style='color:{MARKER_COLOURS.get(m['kind'], '#333')}'>{m['t']:.1f}s — {html.escape(m['label'])}</li>"
        for m in markers
    )
    snapshots = sum(_online_snapshot(m) for m in result.markers)
    summary = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary_rows(result))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>streamrec demo report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}}
table{{border-collapse:collapse;margin:8px 0 20px}}td,th{{border:1px solid #ddd;padding:4px 8px;text-align:left;
vertical-align:top}}th{{background:#f6f6f6}}h2{{margin-top:32px}}small{{color:#666}}</style></head><body>
<h1>streamrec demo: the loop on a shifting stream</h1>
<p>A stream whose users change tastes halfway went through Kafka. In the plots, the purple line
marks the start of phase 2, after the taste shift. Red dotted lines are drift detections,
orange ones retrain requests, and green ones changes to the served model's aliases.</p>
<h2>Summary</h2><table>{summary}</table>
<h2>Timeline</h2><ul>{timeline or "<li>no events</li>"}</ul>
<p><small>Not shown: {snapshots} snapshots of the online learner (alias <code>online</code>).</small></p>
{plots}
<h2>Answers before and after</h2>{_answers_table(result)}
<h2>Offline evaluation of the served model (holdout, ours vs baselines)</h2>{_evaluation_table(result.evaluation)}
<h2>Experiment: previous vs new champion</h2>{_experiment_section(result)}
</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return path
