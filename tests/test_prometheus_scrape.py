"""Debian's Prometheus, with our prometheus.yml and alert rules, against the four services run as
local processes (`streamrec worker|learner|trainer|serve`): every target up, every rule loaded,
the process metrics of each service stored."""

import subprocess

import httpx
import pytest
import yaml

from streams.demo.processes import Service
from streams.infra.kafka import free_port
from tests.conftest import required_tool, wait_for


@pytest.fixture(scope="module")
def prometheus_binary() -> str:
    return required_tool("prometheus", "infra/setup.sh installs Debian's prometheus package")


def local_config(project_root, ports: dict[str, int]) -> dict:
    """infra/monitoring/prometheus.yml with each job pointed at its local port, scraping every second."""
    monitoring = project_root / "infra" / "monitoring"
    config = yaml.safe_load((monitoring / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(monitoring / name) for name in config["rule_files"]]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[job['job_name']]}"]}]
    return config


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_prometheus_scrapes_every_local_service_and_loads_the_rules(
    prometheus_binary, feature_settings, catalog, project_root, tmp_path
):
    ports = {"api": free_port(), "worker": free_port(), "learner": free_port(), "trainer": free_port()}
    s = feature_settings.model_copy(
        update={
            "serve_port": ports["api"],
            "worker_metrics_port": ports["worker"],
            "learner_metrics_port": ports["learner"],
            "trainer_metrics_port": ports["trainer"],
            "mlflow_tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
        }
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    commands = {"worker": "worker", "learner": "learner", "trainer": "trainer", "api": "serve"}
    services = [Service(job, [command], s, logs).start() for job, command in commands.items()]
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(local_config(project_root, ports)))
    web = free_port()
    prometheus = subprocess.Popen(
        [
            prometheus_binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(logs / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{web}"
    try:

        def all_up():
            for service in services:
                assert service.alive(), f"{service.name} exited:\n{service.tail()}"
            active = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            health = {t["labels"]["job"]: t["health"] for t in active}
            return health if len(health) == 4 and set(health.values()) == {"up"} else None

        health = wait_for("every target up", all_up, 180)
        assert set(health) == set(ports)

        declared = yaml.safe_load((project_root / "infra" / "monitoring" / "alerts.yml").read_text())
        names = {rule["alert"] for group in declared["groups"] for rule in group["rules"]}
        groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        loaded = {rule["name"] for group in groups for rule in group["rules"]}
        assert loaded == names and all(r["health"] == "ok" for g in groups for r in g["rules"]), groups

        def process_metrics():
            query = {"query": "process_resident_memory_bytes"}
            result = httpx.get(f"{url}/api/v1/query", params=query, timeout=5).json()["data"]["result"]
            jobs = {r["metric"]["job"] for r in result}
            return jobs if jobs == set(ports) else None

        wait_for("process metrics of every service", process_metrics, 30)
    finally:
        prometheus.terminate()
        prometheus.wait(10)
        for service in services:
            service.stop()
