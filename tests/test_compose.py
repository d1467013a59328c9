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
