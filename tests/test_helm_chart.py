"""The Helm chart (deploy/helm/streamrec), linted and rendered offline with helm (built from its Go
module by infra/setup.sh), and the rendered manifests checked against the code: settings that
exist, ports the services listen on, names that refer to objects the chart creates."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from streams.core.settings import Settings
from tests.conftest import IN_CI

CHART = Path(__file__).resolve().parent.parent / "deploy" / "helm" / "streamrec"


@pytest.fixture(scope="module")
def helm() -> str:
    cache = Path(os.environ.get("STREAMREC_CACHE", Path.home() / ".cache" / "streamrec"))
    path = shutil.which("helm") or (str(cache / "bin" / "helm") if (cache / "bin" / "helm").is_file() else None)
    if path is None:
        if IN_CI:
            pytest.fail("CI needs helm (infra/setup.sh builds it from its Go module)", pytrace=False)
        pytest.skip("helm not built")
    return path


def render(helm: str, *sets: str) -> dict[tuple[str, str], dict]:
    args = [a for s in sets for a in ("--set", s)]
    done = subprocess.run([helm, "template", "demo", str(CHART), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(done.stdout) if d}


def test_the_chart_lints_clean(helm):
    done = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_manifests_match_the_code(helm):
    objects = render(helm, "settings.serve_max_k=50")
    kinds = sorted(kind for kind, _ in objects)
    assert kinds == ["ConfigMap", "CronJob", "Deployment", "Deployment", "Deployment", "Deployment"] + [
        "PersistentVolumeClaim",
        "Secret",
        "Service",
    ]
    config = objects[("ConfigMap", "demo-streamrec-config")]["data"]
    fields = set(Settings.model_fields)
    unknown = [key for key in config if key.removeprefix("STREAMREC_").lower() not in fields]
    assert not unknown, f"settings the code does not have: {unknown}"
    parsed = Settings(_env_file=None, **{k.removeprefix("STREAMREC_").lower(): v for k, v in config.items()})
    assert parsed.serve_max_k == 50 and str(parsed.archive_dir) == "/data/archive"

    defaults = Settings(_env_file=None)
    ports = {
        "worker": defaults.worker_metrics_port,
        "learner": defaults.learner_metrics_port,
        "trainer": defaults.trainer_metrics_port,
        "api": 8000,
    }
    for name, port in ports.items():
        pod = objects[("Deployment", f"demo-streamrec-{name}")]["spec"]["template"]
        spec, (container,) = pod["spec"], pod["spec"]["containers"]
        assert container["args"][:2] == ["streamrec", "serve" if name == "api" else name]
        assert [p["containerPort"] for p in container["ports"]] == [port]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
        assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] == 10001
        assert container["resources"]["requests"] and container["livenessProbe"]["httpGet"]["port"] == port
        assert {e.get("configMapRef", e.get("secretRef"))["name"] for e in container["envFrom"]} == {
            "demo-streamrec-config",
            "demo-streamrec-secrets",
        }
        assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "demo-streamrec-data"
        assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
        (setup,) = spec["initContainers"]
        assert "streamrec topics apply" in setup["command"][-1] and "streamrec features apply" in setup["command"][-1]
    api = objects[("Deployment", "demo-streamrec-api")]
    assert api["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/ready"
    service = objects[("Service", "demo-streamrec-api")]
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    for single in ("learner", "trainer"):
        assert objects[("Deployment", f"demo-streamrec-{single}")]["spec"]["strategy"]["type"] == "Recreate"
    pvc = objects[("PersistentVolumeClaim", "demo-streamrec-data")]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]

    cron = objects[("CronJob", "demo-streamrec-retrain")]["spec"]
    args = cron["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["streamrec", "retrain"] and "--reason" in args
    from typer.main import get_command

    from streams.cli.main import app

    retrain = get_command(app).commands["retrain"]
    options = {opt for param in retrain.params for opt in param.opts}
    assert {a for a in args if a.startswith("--")} <= options


def test_the_learner_scales_out_only_when_asked(helm):
    one = render(helm)[("Deployment", "demo-streamrec-learner")]["spec"]
    assert one["replicas"] == 1 and one["strategy"]["type"] == "Recreate"
    objects = render(helm, "learner.scaleOut=true", "learner.replicas=3")
    several = objects[("Deployment", "demo-streamrec-learner")]["spec"]
    assert several["replicas"] == 3 and "strategy" not in several  # rolling: the group hands partitions over
    assert objects[("ConfigMap", "demo-streamrec-config")]["data"]["STREAMREC_LEARNER_SCALE_OUT"] == "true"


def test_values_scale_and_reuse_what_exists(helm):
    objects = render(
        helm,
        "worker.replicas=4",
        "api.replicas=3",
        "learner.enabled=false",
        "retrainSchedule.enabled=false",
        "secrets.existingSecret=mine",
        "sharedData.existingClaim=nfs-share",
    )
    assert objects[("Deployment", "demo-streamrec-worker")]["spec"]["replicas"] == 4
    assert objects[("Deployment", "demo-streamrec-api")]["spec"]["replicas"] == 3
    kinds = {kind for kind, _ in objects}
    assert ("Deployment", "demo-streamrec-learner") not in objects
    assert not kinds & {"Secret", "PersistentVolumeClaim", "CronJob"}
    pod = objects[("Deployment", "demo-streamrec-api")]["spec"]["template"]["spec"]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "nfs-share"
    assert {"secretRef": {"name": "mine", "optional": True}} in pod["containers"][0]["envFrom"]


def test_the_addresses_are_required(helm):
    done = subprocess.run(
        [helm, "template", "demo", str(CHART), "--set", "kafka.bootstrapServers="],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "kafka.bootstrapServers is required" in done.stderr
