"""The HTTP edge (FastAPI). Thin: validation, auth, limits, metrics; ranking is
:func:`serving.ranking.rank`, models are :class:`serving.state.ModelState`.

- ``POST /recommend`` -> a ranked list (fallback flagged, never a 5xx for a store outage);
- ``POST /events`` and ``/events/batch`` -> 202 once the broker has them; idempotent on event_id;
- ``GET /health``, ``/ready``, ``/metrics``, ``/models``, ``/drift``;
- ``POST /models/{name}/promote`` and ``/rollback``, ``POST /retrain`` (API key when configured);
- ``/experiments``: A/B, bandit and canary experiments over model versions.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field

from serving.cache import TTLCache
from serving.experiments.router import ExperimentRouter
from serving.experiments.routes import experiment_routes
from serving.ranking import answer
from serving.state import ModelState
from streams.core.contracts import Context, Interaction, RetrainRequest, ScoredItem
from streams.core.errors import DeliveryError, InvalidEvent
from streams.core.settings import Settings


class RecommendBody(BaseModel):
    model_config = {"extra": "forbid"}
    user_id: str = Field(min_length=1, max_length=256)
    k: int = Field(10, ge=1)
    context: Context = Field(default_factory=dict)
    exclude_seen: bool = True
    exclude: list[str] = Field(default_factory=list, max_length=1000)
    explain: bool = False


class RecommendResponse(BaseModel):
    recommendation_id: str
    user_id: str
    items: list[ScoredItem]
    model_name: str
    model_version: str
    variant: str | None = None
    fallback: bool
    fallback_reason: str | None = None


class PromoteBody(BaseModel):
    model_config = {"extra": "forbid"}
    version: str = Field(min_length=1, max_length=32)


class RetrainBody(BaseModel):
    model_config = {"extra": "forbid"}
    model_name: str = Field("ranker", min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=2048)
    force: bool = False
    dry_run: bool = False


class Metrics:
    def __init__(self):
        self.registry = r = CollectorRegistry()
        self.requests = Counter("streamrec_api_requests", "HTTP requests", ["endpoint", "status"], registry=r)
        self.latency = Histogram("streamrec_api_latency_seconds", "request latency", ["endpoint"], registry=r,
                                 buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
        self.fallbacks = Counter("streamrec_api_fallbacks", "answers from the fallback list", ["reason"], registry=r)
        self.events = Counter("streamrec_api_events", "events accepted", ["outcome"], registry=r)


def create_app(settings: Settings, state: ModelState, history: Callable[[str], list[str] | None],
               producer=None, seen_events: Callable[[list[str]], list[bool]] | None = None, admin=None,
               experiments: ExperimentRouter | None = None, explorer=None, online=None) -> FastAPI:
    """``history(user_id)``: the user's recent items, None when the store is unavailable.
    ``producer``: an EventProducer(report_successes=True), or None (no ingest, no impression log).
    ``seen_events(event_ids)``: for each id, True when it was already accepted (marks it otherwise).
    ``admin``: a :class:`serving.admin.Admin` (registry, retrain, drift), or None.
    ``experiments``: routes requests to experiment variants and serves ``/experiments``, or None.
    ``explorer``: a :class:`serving.exploration.ColdStartExplorer` for users with no history, or None.
    ``online``: a :class:`serving.online.OnlineScorer` (the online learner's scores), or None."""
    app = FastAPI(title="streamrec", version="0.1")
    metrics = Metrics()
    cache = TTLCache(settings.serve_cache_ttl_s)
    keys = {k.strip() for k in (settings.serve_api_keys.get_secret_value() if settings.serve_api_keys else "").split(",")
            if k.strip()}

    def require_key(x_api_key: str | None = Header(None)) -> None:
        if keys and x_api_key not in keys:
            raise HTTPException(401, "missing or wrong X-API-Key (this endpoint needs an API key)")

    @app.exception_handler(InvalidEvent)
    async def invalid_event(request: Request, error: InvalidEvent) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(DeliveryError)
    async def not_delivered(request: Request, error: DeliveryError) -> JSONResponse:
        return JSONResponse({"detail": f"the broker did not acknowledge the events; retry ({error})"},
                            status_code=503)

    @app.middleware("http")
    async def limits_and_metrics(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.serve_max_body_bytes:
            return JSONResponse({"detail": f"body of {length} bytes is over the limit of "
                                           f"{settings.serve_max_body_bytes}"}, status_code=413)
        began = time.perf_counter()
        response = await call_next(request)
        endpoint = request.scope.get("route").path if request.scope.get("route") else "unmatched"
        metrics.latency.labels(endpoint).observe(time.perf_counter() - began)
        metrics.requests.labels(endpoint, str(response.status_code)).inc()
        return response

    @app.post("/recommend", response_model=RecommendResponse)
    async def recommend(body: RecommendBody) -> RecommendResponse:
        # inline on the event loop: a few ms of CPU; a thread pool only added GIL and OpenMP contention
        if body.k > settings.serve_max_k:
            raise HTTPException(422, f"k={body.k} is over the limit of {settings.serve_max_k}")
        served_list, ranked = answer(state.served, history, body.user_id, body.k, body.exclude, body.exclude_seen,
                                     body.explain, cache=cache, context=body.context, explorer=explorer,
                                     online=online, experiments=experiments)
        if ranked.fallback:
            metrics.fallbacks.labels(ranked.reason).inc()
        response = RecommendResponse(recommendation_id=served_list.recommendation_id, user_id=body.user_id,
                                     items=ranked.items, model_name=served_list.model_name,
                                     model_version=served_list.model_version,
                                     variant=served_list.variant, fallback=ranked.fallback, fallback_reason=ranked.reason)
        if producer is not None:
            try:  # the impression log; losing it must not fail the answer
                producer.send(served_list)
            except Exception:  # noqa: BLE001
                metrics.fallbacks.labels("impression log unavailable").inc()
        return response

    def ingest(events: list[Interaction]) -> dict:
        if producer is None:
            raise HTTPException(503, "event ingest is not configured (no broker)")
        seen = seen_events([e.event_id for e in events]) if seen_events is not None else [False] * len(events)
        fresh, batch_ids = [], set()
        for event, already in zip(events, seen, strict=True):
            if not already and event.event_id not in batch_ids:  # repeats inside one batch count once
                fresh.append(event)
                batch_ids.add(event.event_id)
        try:
            for e in fresh:
                producer.send(e)
            producer.flush()  # raises when the broker did not take them: 503, and the caller retries
        except Exception:
            forget = getattr(seen_events, "forget", None)
            if forget is not None:  # not delivered, so a retry must not count as a duplicate
                forget([e.event_id for e in fresh])
            raise
        metrics.events.labels("accepted").inc(len(fresh))
        metrics.events.labels("duplicate").inc(len(events) - len(fresh))
        return {"accepted": len(fresh), "duplicates": len(events) - len(fresh)}

    @app.post("/events", status_code=202, dependencies=[Depends(require_key)])
    def post_event(event: Interaction) -> dict:
        return ingest([event]) | {"event_id": event.event_id}

    @app.post("/events/batch", status_code=202, dependencies=[Depends(require_key)])
    def post_events(events: list[Interaction]) -> dict:
        if len(events) > settings.serve_max_batch:
            raise HTTPException(413, f"{len(events)} events is over the batch limit of {settings.serve_max_batch}")
        return ingest(events)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        served = state.served
        body = {"model_loaded": served.model is not None, "model_version": served.version}
        return JSONResponse(body, status_code=200 if served.model is not None else 503)

    def need_admin():
        if admin is None:
            raise HTTPException(503, "admin operations are not configured")
        return admin

    @app.get("/models")
    def models() -> dict:
        served = state.served
        out = {"serving": {"model_name": served.model_name, "version": served.version}, "reloads": state.reloads}
        if admin is not None:
            try:
                out["registry"] = admin.models(served.model_name)
            except Exception as error:  # noqa: BLE001 -- registry down: still say what is served
                out["registry_error"] = f"{type(error).__name__}: {error}"[:500]
        return out

    @app.post("/models/{name}/promote", dependencies=[Depends(require_key)])
    def promote(name: str, body: PromoteBody) -> dict:
        try:
            update = need_admin().promote(name, body.version)
        except HTTPException:
            raise
        except Exception as error:  # noqa: BLE001 -- e.g. no such model or version
            raise HTTPException(404, f"cannot promote {name} v{body.version}: {error}") from None
        return update.model_dump(mode="json")

    @app.post("/models/{name}/rollback", dependencies=[Depends(require_key)])
    def rollback(name: str) -> dict:
        try:
            update = need_admin().rollback(name)
        except HTTPException:
            raise
        except ValueError as error:
            raise HTTPException(409, str(error)) from None
        return update.model_dump(mode="json")

    @app.post("/retrain", status_code=202, dependencies=[Depends(require_key)])
    def retrain(body: RetrainBody) -> dict:
        request = RetrainRequest(model_name=body.model_name, trigger="manual", reason=body.reason, force=body.force,
                                 dry_run=body.dry_run)
        partition, offset = need_admin().retrain(request)
        return {"request_id": request.request_id, "partition": partition, "offset": offset}

    @app.get("/drift")
    def drift() -> dict:
        return need_admin().drift()

    app.include_router(experiment_routes(experiments, require_key))

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
