"""The HTTP app (FastAPI): middleware (body limit, metrics), error mapping, and one router per
resource (:mod:`serving.routers`). Everything a route needs is one :class:`serving.deps.Services`
on ``app.state``; :mod:`serving.main` wires the production one, tests wire their own.

- ``POST /recommend`` -> a ranked list (fallback flagged, never a 5xx for a store outage);
- ``POST /events`` and ``/events/batch`` -> 202 once the broker has them; idempotent on event_id;
- ``GET /health``, ``/ready``, ``/metrics``, ``/models``, ``/drift``;
- ``POST /models/{name}/promote`` and ``/rollback``, ``POST /retrain`` (API key when configured);
- ``/experiments``: A/B, bandit and canary experiments over model versions.
"""

from __future__ import annotations

import json

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from serving.deps import UNAUTHORISED, Services, needs_api_key
from serving.limits import BodyLimit
from serving.metrics import RequestMetrics
from serving.openapi import install as install_openapi
from serving.routers import events, experiments, health, models, recommend
from streams.core.errors import DeliveryError, InvalidEvent
from streams.stores.registry_errors import RegistryUnavailable


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="streamrec", version="0.1")
    app.state.services = services
    settings, metrics = services.settings, services.metrics

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        route = request.scope.get("route")
        if route is not None and needs_api_key(route) and not services.key_accepted(request.headers.get("x-api-key")):
            return JSONResponse({"detail": UNAUTHORISED}, status_code=401)  # the key before the body
        return JSONResponse({"detail": [readable(e) for e in error.errors()]}, status_code=422)

    @app.exception_handler(InvalidEvent)
    async def invalid_event(request: Request, error: InvalidEvent) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(DeliveryError)
    async def not_delivered(request: Request, error: DeliveryError) -> JSONResponse:
        return JSONResponse({"detail": f"the broker did not acknowledge the events; retry ({error})"}, status_code=503)

    @app.exception_handler(redis.RedisError)
    async def store_unavailable(request: Request, error: redis.RedisError) -> JSONResponse:
        """An admin or experiment call whose Redis is away: a readable 503, not a 500 (the
        request path of /recommend never gets here: it answers a flagged fallback instead)."""
        return JSONResponse({"detail": f"a store is unavailable; retry ({type(error).__name__})"}, status_code=503)

    @app.exception_handler(RegistryUnavailable)
    async def registry_unavailable(request: Request, error: RegistryUnavailable) -> JSONResponse:
        return JSONResponse({"detail": f"the model registry is unavailable; retry ({error})"}, status_code=503)

    for module in (recommend, events, models, experiments, health):
        app.include_router(module.router)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.serve_max_body_bytes)  # outside the metrics middleware
    install_openapi(app, settings, services.api_keys)
    return app


def readable(error: dict) -> dict:
    """A validation error that always renders as JSON: NaN, infinities and lone surrogates in the
    offending input are shown as text instead of breaking the 422 itself.

    >>> readable({"type": "int_type", "loc": ("body", "k"), "msg": "bad", "input": float("nan")})["input"]
    'nan'
    >>> readable({"type": "x", "loc": ("body",), "msg": "bad", "input": {"u": "\\ud800"}})["input"]
    "{'u': '\\\\ud800'}"
    """
    out = {
        "type": error.get("type"),
        "loc": [str(part) if not isinstance(part, int) else part for part in error.get("loc", ())],
        "msg": _text(str(error.get("msg", ""))),
    }
    if "input" in error:
        value = error["input"]
        try:
            json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
            out["input"] = value
        except (TypeError, ValueError, UnicodeEncodeError):
            out["input"] = _text(repr(value))[:500]
    return out


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8")
