"""``GET /health`` (the process answers), ``/ready`` (a model is loaded), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.dependencies import check
from serving.deps import MetricsDep, RecommenderDep, ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready")
def ready(recommender: RecommenderDep, services: ServicesDep, metrics: MetricsDep) -> JSONResponse:
    """200 when a model is loaded and every background thread is up; 503 says what is missing.
    ``dependencies`` says which of the broker, Redis and the registry answer; one that does not
    sets ``degraded`` but not 503 (answers go on, flagged, see :mod:`serving.dependencies`)."""
    state = recommender.state
    served = state.served
    body = {"model_loaded": served.model is not None, "model_version": served.version}
    down = False
    if services.supervisor is not None:
        body["background"] = services.supervisor.status()
        down = any(status != "up" for status in body["background"].values())
    dependencies = check(services.probes)
    if state.registry_status is not None:  # a champion watcher runs
        dependencies["registry"] = state.registry_status
    for name, status in dependencies.items():
        metrics.dependency_up.labels(name).set(status == "up")
    body["dependencies"] = dependencies
    body["degraded"] = any(status != "up" for status in dependencies.values())
    return JSONResponse(body, status_code=200 if served.model is not None and not down else 503)


@router.get("/metrics")
def prometheus(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
