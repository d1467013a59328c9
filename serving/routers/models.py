"""``GET /models``; ``POST /models/{name}/promote`` and ``/rollback``, ``POST /retrain`` (API key
when configured); ``GET /drift`` (the online learner's status)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from serving.bodies import PromoteBody, RetrainBody
from serving.deps import AdminDep, ApiKey, RecommenderDep, ServicesDep
from serving.openapi import answers
from streams.core.contracts import RetrainRequest
from streams.stores.registry_errors import RegistryUnavailable

router = APIRouter(tags=["models"])


@router.get("/models")
def models(recommender: RecommenderDep, services: ServicesDep) -> dict:
    state = recommender.state
    served = state.served
    online = recommender.online  # the learner's snapshot this process blends in (None: none loaded, or off)
    out = {
        "serving": {"model_name": served.model_name, "version": served.version},
        "reloads": state.reloads,
        "online_learner": {"snapshot_version": online.version if online is not None else None},
    }
    if services.admin is not None:
        try:
            out["registry"] = services.admin.models(served.model_name)
        except RegistryUnavailable as error:  # still say what is served
            out["registry_error"] = str(error)[:500]
        except LookupError:  # nothing registered under this name yet (before the first training)
            out["registry"] = {"champion": None, "challenger": None, "versions": []}
    return out


@router.post("/models/{name}/promote", dependencies=[ApiKey], responses=answers(e404="no such model version"))
def promote(name: str, body: PromoteBody, admin: AdminDep) -> dict:
    try:
        update = admin.promote(name, body.version)
    except LookupError as error:  # no such model or version (an outage is a 503, see serving.app)
        raise HTTPException(404, f"cannot promote {name} v{body.version}: {error}") from None
    return update.model_dump(mode="json")


@router.post(
    "/models/{name}/rollback", dependencies=[ApiKey], responses=answers(e409="no earlier champion to return to")
)
def rollback(name: str, admin: AdminDep) -> dict:
    try:
        update = admin.rollback(name)
    except (ValueError, LookupError) as error:  # nothing to roll back to
        raise HTTPException(409, str(error)) from None
    return update.model_dump(mode="json")


@router.post("/retrain", status_code=202, dependencies=[ApiKey])
def retrain(body: RetrainBody, admin: AdminDep) -> dict:
    request = RetrainRequest(
        model_name=body.model_name, trigger="manual", reason=body.reason, force=body.force, dry_run=body.dry_run
    )
    partition, offset = admin.retrain(request)
    return {"request_id": request.request_id, "partition": partition, "offset": offset}


@router.get("/drift")
def drift(admin: AdminDep) -> dict:
    return admin.drift()
