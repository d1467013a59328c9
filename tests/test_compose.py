"""The structure of docker-compose.yml, the Dockerfile and .env.example (in `make test`).

The stack itself runs in real containers in `make compose-test` (tests/containers/)."""

import re

import yaml

APP_SERVICES = ("topics", "worker", "learner", "trainer", "api")


def test_compose_declares_infra_with_health_checks_and_app_services(project_root):
    compose = yaml.safe_load((project_root / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("kafka", "redis", "mlflow"):
        assert "healthcheck" in services[name], name
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # topics.yaml decides
    for name in APP_SERVICES:
        assert services[name]["environment"]["STREAMREC_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_app_services_share_state_and_start_after_the_setup(project_root):
    """Whatever more than one service reads lives on one volume mounted at the same path in each
    (the archive, the Feast registry, the learner's snapshots); models live in MLflow."""
    from streams.core.settings import Settings

    compose = yaml.safe_load((project_root / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in APP_SERVICES:
        assert services[name]["volumes"] == ["streamrec-data:/data"], name
        assert services[name]["environment"]["STREAMREC_RUN_DIR"] == "/data", name
    assert "streamrec-data" in compose["volumes"]
    s = Settings(_env_file=None, run_dir="/data")
    assert str(s.archive_dir).startswith("/data/")  # the archive follows the run dir
    setup = " ".join(services["topics"]["command"])
    assert "streamrec topics apply" in setup and "streamrec features apply" in setup
    assert services["topics"]["restart"] == "no"
    for name in ("worker", "learner", "trainer", "api"):
        assert services[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully", name
    health = {name: " ".join(services[name]["healthcheck"]["test"]) for name in ("worker", "learner", "trainer", "api")}
    assert "localhost:8000/ready" in health["api"]
    ports = {"worker": s.worker_metrics_port, "learner": s.learner_metrics_port, "trainer": s.trainer_metrics_port}
    for name, port in ports.items():
        assert f"localhost:{port}/metrics" in health[name], name


def test_env_example_lists_every_variable_the_compose_file_reads(project_root):
    compose_vars = set(re.findall(r"\$\{([A-Z_]+)", (project_root / "docker-compose.yml").read_text()))
    example = (project_root / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z_]+)=", example, flags=re.M))
    assert compose_vars and not compose_vars - listed, sorted(compose_vars - listed)


def test_the_image_is_multi_stage_non_root_and_runtime_only(project_root):
    dockerfile = (project_root / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, flags=re.M)) >= 3
    assert re.search(r"^ARG BASE_IMAGE=", dockerfile, flags=re.M)
    assert "libgomp1" in dockerfile  # LightGBM's OpenMP runtime
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert "-c /src/requirements.lock -r /src/runtime.txt" in dockerfile  # pinned runtime dependencies
    assert "[dev]" not in dockerfile and "--no-deps" in dockerfile  # no test tools; the code on top
    ignored = (project_root / ".dockerignore").read_text().split()
    for path in (".git", ".venv", ".run", "tests", ".env"):
        assert path in ignored, path


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
