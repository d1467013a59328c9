"""The whole loop on real components (Kafka, Redis, Feast, MLflow; worker, learner, trainer and
API as processes): a stream whose users change tastes -> drift -> retrain -> a promoted version ->
/recommend answered by it. The same code as `streamrec demo`, on a shorter stream."""

import pytest

from streams.demo.loop import DemoConfig, run_closed_loop
from streams.demo.report import write_report
from streams.infra.kafka import free_port


@pytest.mark.integration
@pytest.mark.timeout(1200)
def test_the_loop_closes_on_a_shifting_stream(settings, redis_url, tmp_path):
    run = settings.topic_prefix.strip("-")
    s = settings.model_copy(
        update={
            "redis_url": redis_url,
            "worker_group": f"{run}-features",
            "feast_project": f"e2e{run}",
            "run_dir": tmp_path,
            "archive_dir": tmp_path / "archive",
            "mlflow_tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
            "serve_port": free_port(),
            "learner_metrics_port": 0,
        }
    )
    result = run_closed_loop(
        s, DemoConfig(rate=3_000.0, timeout_s=600, experiment_requests=200), tmp_path / "logs", say=lambda _: None
    )

    kinds = [m["kind"] for m in result.markers]
    assert "drift-events" in kinds, result.note
    drift_requests = [m for m in result.markers if m["kind"] == "retrain-requests" and "(drift)" in m["label"]]
    assert drift_requests, result.markers
    assert result.closed, result.note
    assert result.first_version and result.final_version and int(result.final_version) > int(result.first_version)
    assert any(
        m["kind"] == "model-updates" and m["label"].endswith(f"v{result.final_version} -> champion")
        for m in result.markers
    )
    answers = result.answers["after"]
    assert answers and all(a["model_version"] == result.final_version and not a["fallback"] for a in answers.values())
    experiment = result.experiment  # the previous and the new champion on live traffic, rewards via Kafka
    assert experiment and sum(v["impressions"] for v in experiment["variants"]) >= 150
    assert sum(v["conversions"] for v in experiment["variants"]) > 0
    page = write_report(result, tmp_path / "report.html").read_text()
    assert "Prequential metric" in page and "yes" in page
