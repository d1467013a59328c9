"""``GET /health`` (the process answers), ``/ready`` (a model is loaded), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.deps import MetricsDep, RecommenderDep, ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready")
def ready(recommender: RecommenderDep, services: ServicesDep) -> JSONResponse:
    """200 when a model is loaded and every background thread is up; 503 says what is missing."""
    served = recommender.state.served
    body = {"model_loaded": served.model is not None, "model_version": served.version}
    down = False
    if services.supervisor is not None:
        body["background"] = services.supervisor.status()
        down = any(state != "up" for state in body["background"].values())
    return JSONResponse(body, status_code=200 if served.model is not None and not down else 503)


@router.get("/metrics")
def prometheus(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
