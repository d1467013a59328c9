"""docker-compose.yml cannot run here (no Docker engine); check its structure instead."""

import yaml


def test_compose_declares_infra_with_health_checks_and_app_services(project_root):
    compose = yaml.safe_load((project_root / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("kafka", "redis", "mlflow"):
        assert "healthcheck" in services[name], name
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    for name in ("worker", "trainer", "api", "topics"):
        assert services[name]["environment"]["STREAMREC_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"
    env_example = (project_root / ".env.example").read_text()
    assert "STREAMREC_KAFKA_BOOTSTRAP_SERVERS" in env_example


def test_monitoring_scrapes_every_component_and_the_dashboard_shows_every_metric(project_root):
    """Prometheus scrapes each service that exports metrics, on the port its setting says; the
    provisioned Grafana dashboard has a panel for every metric the code defines."""
    import json
    import re

    from streams.core.settings import Settings

    compose = yaml.safe_load((project_root / "docker-compose.yml").read_text())
    monitoring = project_root / "infra" / "monitoring"
    scrape = yaml.safe_load((monitoring / "prometheus.yml").read_text())["scrape_configs"]
    targets = {c["job_name"]: c["static_configs"][0]["targets"][0] for c in scrape}
    s = Settings(_env_file=None)
    assert targets == {
        "api": "api:8000",
        "worker": f"worker:{s.worker_metrics_port}",
        "learner": f"learner:{s.learner_metrics_port}",
        "trainer": f"trainer:{s.trainer_metrics_port}",
    }
    for job in targets:
        assert job in compose["services"], job
    assert compose["services"]["api"]["environment"]["STREAMREC_METRICS_HOST"] == "0.0.0.0"
    for name in ("prometheus", "grafana"):
        assert compose["services"][name]["profiles"] == ["monitoring"]
    mounts = " ".join(compose["services"]["grafana"]["volumes"])
    assert "provisioning" in mounts and "dashboards" in mounts

    defined = set()
    for path in [*project_root.glob("streams/**/*.py"), *project_root.glob("serving/**/*.py")]:
        defined |= set(re.findall(r'(?:Counter|Gauge|Histogram)\(\s*"(streamrec_[a-z0-9_]+)"', path.read_text()))
    dashboard = json.loads((monitoring / "grafana" / "dashboards" / "streamrec.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    assert len(defined) >= 20
    missing = sorted(m for m in defined if m not in exprs)
    assert not missing, f"metrics without a dashboard panel: {missing}"
