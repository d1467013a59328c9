"""What routes depend on, as ``Annotated`` aliases. Everything lives in one :class:`Services`
object on ``app.state``, built once by :func:`serving.app.create_app`; tests build their own.

The dependencies are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a
thread hop per dependency per request (about a quarter of ``/recommend``'s own time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from serving.admin import Admin
from serving.dependencies import Probe
from serving.experiments.router import ExperimentRouter
from serving.ingest import Ingest
from serving.metrics import ApiMetrics
from serving.recommender import Recommender
from serving.supervisor import Supervisor
from streams.core.settings import Settings


@dataclass
class Services:
    settings: Settings
    recommender: Recommender
    metrics: ApiMetrics
    ingest: Ingest | None = None  # None: no broker, so no ingest and no impression log
    admin: Admin | None = None
    experiments: ExperimentRouter | None = None
    supervisor: Supervisor | None = None  # the background threads, when the app runs them
    probes: dict[str, Probe] = field(default_factory=dict)  # dependency -> probe, for /ready

    @property
    def api_keys(self) -> set[str]:
        raw = self.settings.serve_api_keys.get_secret_value() if self.settings.serve_api_keys else ""
        return {k.strip() for k in raw.split(",") if k.strip()}

    def key_accepted(self, key: str | None) -> bool:
        keys = self.api_keys
        return not keys or key in keys


async def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]


async def settings(s: ServicesDep) -> Settings:
    return s.settings


async def recommender(s: ServicesDep) -> Recommender:
    return s.recommender


async def metrics(s: ServicesDep) -> ApiMetrics:
    return s.metrics


async def ingest(s: ServicesDep) -> Ingest:
    if s.ingest is None:
        raise HTTPException(503, "event ingest is not configured (no broker)")
    return s.ingest


async def admin(s: ServicesDep) -> Admin:
    if s.admin is None:
        raise HTTPException(503, "admin operations are not configured")
    return s.admin


async def experiments(s: ServicesDep) -> ExperimentRouter:
    if s.experiments is None:
        raise HTTPException(503, "experiments are not configured (they need Redis)")
    return s.experiments


api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="needed by write and admin endpoints when STREAMREC_SERVE_API_KEYS is set",
)


UNAUTHORISED = "missing or wrong X-API-Key (this endpoint needs an API key)"


async def require_api_key(s: ServicesDep, key: Annotated[str | None, Security(api_key_header)]) -> None:
    if not s.key_accepted(key):
        raise HTTPException(401, UNAUTHORISED)


def needs_api_key(route) -> bool:
    """Whether a route is behind the API key (checked before its body, so a stranger learns nothing)."""
    return any(getattr(d, "dependency", None) is require_api_key for d in getattr(route, "dependencies", ()))


SettingsDep = Annotated[Settings, Depends(settings)]
RecommenderDep = Annotated[Recommender, Depends(recommender)]
MetricsDep = Annotated[ApiMetrics, Depends(metrics)]
IngestDep = Annotated[Ingest, Depends(ingest)]
AdminDep = Annotated[Admin, Depends(admin)]
ExperimentsDep = Annotated[ExperimentRouter, Depends(experiments)]
ApiKey = Depends(require_api_key)
