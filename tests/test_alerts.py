"""Monitoring: the Prometheus alert rules (infra/monitoring/alerts.yml) are valid, every metric they name is
one the code exports, and each alert fires on the series that should raise it and stays quiet on
healthy ones (promtool's rule unit tests, infra/monitoring/alerts_test.yml); every service
exports its process metrics."""

import re
import subprocess

import pytest
import yaml

from tests.conftest import required_tool


@pytest.fixture(scope="module")
def promtool() -> str:
    return required_tool("promtool", "infra/setup.sh installs Debian's prometheus package")


def _run(promtool: str, *args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_rules_and_the_config_are_valid(promtool, project_root):
    monitoring = project_root / "infra" / "monitoring"
    rules = _run(promtool, "check", "rules", "alerts.yml", cwd=monitoring)
    assert rules.returncode == 0 and "SUCCESS" in rules.stdout, rules.stdout + rules.stderr
    config = _run(promtool, "check", "config", "--syntax-only", "prometheus.yml", cwd=monitoring)
    assert config.returncode == 0, config.stdout + config.stderr


def test_each_alert_fires_when_it_should_and_only_then(promtool, project_root):
    monitoring = project_root / "infra" / "monitoring"
    done = _run(promtool, "test", "rules", "alerts_test.yml", cwd=monitoring)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr
    cases = yaml.safe_load((monitoring / "alerts_test.yml").read_text())["tests"]
    tested = {check["alertname"] for case in cases for check in case["alert_rule_test"]}
    assert tested == _alerts(monitoring), f"alerts without a unit test: {sorted(_alerts(monitoring) - tested)}"


def test_every_metric_the_rules_name_is_exported(project_root):
    defined = set()
    for path in [*project_root.glob("streams/**/*.py"), *project_root.glob("serving/**/*.py")]:
        defined |= set(re.findall(r'(?:Counter|Gauge|Histogram)\(\s*"(streamrec_[a-z0-9_]+)"', path.read_text()))
    rules = (project_root / "infra" / "monitoring" / "alerts.yml").read_text()
    named = {re.sub(r"_(total|bucket|count|sum)$", "", m) for m in re.findall(r"streamrec_[a-z0-9_]+", rules)}
    assert named and named <= defined, f"not exported by any service: {sorted(named - defined)}"


def _alerts(monitoring) -> set[str]:
    groups = yaml.safe_load((monitoring / "alerts.yml").read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"]}


def test_every_service_exports_its_process_metrics():
    from prometheus_client import generate_latest

    from serving.metrics import ApiMetrics
    from streams.core.settings import Settings
    from streams.learner.metrics import LearnerMetrics
    from streams.trainer.metrics import TrainerMetrics
    from streams.worker.metrics import WorkerMetrics

    services = {
        "api": ApiMetrics(),
        "worker": WorkerMetrics(Settings(_env_file=None), "w1"),
        "learner": LearnerMetrics(),
        "trainer": TrainerMetrics(),
    }
    for name, metrics in services.items():
        text = generate_latest(metrics.registry)
        for metric in (b"process_cpu_seconds_total", b"process_resident_memory_bytes", b"python_info"):
            assert metric in text, f"{name} does not export {metric.decode()}"
