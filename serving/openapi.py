"""The OpenAPI document says what the API does: every status a route can answer, the error body
it answers with, the limits the settings impose, and the API key only when keys are configured.

FastAPI documents a route from its signature; the rest is decided here, once, from the app's
routes and :class:`streams.core.settings.Settings` (checked by schemathesis with all its checks in
``tests/serving/test_api_fuzz.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from streams.core.settings import Settings

UNPROBED = {"/health", "/metrics"}  # answer without touching a store or the broker


class FieldError(BaseModel):
    type: str | None = None
    loc: list[str | int]
    msg: str
    input: Any = None


class ApiError(BaseModel):
    """Every 4xx and 5xx: a sentence, or one entry per invalid field (422 from the body's schema)."""

    detail: str | list[FieldError] = Field(description="what was wrong, in words a caller can act on")


def answers(**why: str) -> dict:
    """A route's own error statuses for its decorator: ``answers(e404="no such experiment")``."""
    return {int(code[1:]): {"model": ApiError, "description": text} for code, text in why.items()}


# status -> when; applied to every route it can concern
_BODY_ERRORS = {
    "400": "the body is not valid JSON",
    "413": "the body is over STREAMREC_SERVE_MAX_BODY_BYTES (or a batch over STREAMREC_SERVE_MAX_BATCH)",
}
_UNAVAILABLE = "a store or the broker is unavailable, or the component is not configured; retry"
_UNAUTHORISED = "missing or wrong X-API-Key"
_METHODS = {"get", "post", "put", "patch", "delete"}


def install(app: FastAPI, settings: Settings, api_keys: set[str]) -> None:
    """Replace ``app.openapi`` with :func:`document` (built on first use, then cached)."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, settings, bool(api_keys))
        return app.openapi_schema

    app.openapi = openapi


def document(app: FastAPI, settings: Settings, keys_configured: bool) -> dict:
    doc = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_component_schemas(ApiError))
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                _document_errors(path, operation, error, keys_configured)
    if not keys_configured:
        doc["components"].pop("securitySchemes", None)
    _limits(doc, settings)
    return doc


def _document_errors(path: str, operation: dict, error: dict, keys_configured: bool) -> None:
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if not status.startswith(("2", "3")) and "content" in response:
            response["content"] = error
    if "requestBody" in operation or operation.get("parameters"):
        responses.setdefault("422", {"description": "a field is invalid", "content": error})
    if "requestBody" in operation:
        for status, why in _BODY_ERRORS.items():
            responses.setdefault(status, {"description": why, "content": error})
    if path not in UNPROBED:
        responses.setdefault("503", {"description": _UNAVAILABLE, "content": error})
    if operation.get("security"):
        if keys_configured:
            responses.setdefault("401", {"description": _UNAUTHORISED, "content": error})
        else:
            operation.pop("security")


def _limits(doc: dict, settings: Settings) -> None:
    """Limits that live in the settings, not in the body's type."""
    schemas = doc["components"]["schemas"]
    schemas["RecommendBody"]["properties"]["k"]["maximum"] = settings.serve_max_k
    batch = doc["paths"]["/events/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    batch["maxItems"] = settings.serve_max_batch
    metrics = doc["paths"]["/metrics"]["get"]["responses"]["200"]
    metrics["content"] = {"text/plain": {"schema": {"type": "string"}}}


def _component_schemas(model: type[BaseModel]) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    return {model.__name__: schema, **nested}
