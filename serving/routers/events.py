"""``POST /events`` and ``/events/batch``: 202 once the broker has them; idempotent on event_id."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from serving.bodies import IngestResponse
from serving.deps import ApiKey, IngestDep, SettingsDep
from streams.core.contracts import Interaction

router = APIRouter(prefix="/events", tags=["events"], dependencies=[ApiKey])


@router.post("", status_code=202, response_model=IngestResponse, response_model_exclude_none=True)
def post_event(event: Interaction, ingest: IngestDep) -> dict:
    return ingest.accept([event]) | {"event_id": event.event_id}


@router.post("/batch", status_code=202, response_model=IngestResponse, response_model_exclude_none=True)
def post_events(events: list[Interaction], ingest: IngestDep, settings: SettingsDep) -> dict:
    if len(events) > settings.serve_max_batch:
        raise HTTPException(422, f"{len(events)} events is over the batch limit of {settings.serve_max_batch}")
    return ingest.accept(events)
