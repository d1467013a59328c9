"""``POST /recommend``: a ranked list (fallback flagged, never a 5xx for a store outage)."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaException
from fastapi import APIRouter, BackgroundTasks, HTTPException, Response

from serving.bodies import RecommendBody, RecommendResponse
from serving.deps import Services, ServicesDep
from serving.feature_log import served_features
from serving.ranking import Ranked
from streams.core.contracts import Recommendation

router = APIRouter(tags=["recommend"])
log = logging.getLogger("streamrec.serve")


@router.post("/recommend", response_model=RecommendResponse)
async def recommend(body: RecommendBody, services: ServicesDep, background: BackgroundTasks) -> Response:
    # inline on the event loop: a few ms of CPU; a thread pool only added GIL and OpenMP contention.
    # One dependency (each costs a resolution per request), and the body serialised here once:
    # returned as a Response, it is not validated against the response model a second time.
    if body.k > services.settings.serve_max_k:
        raise HTTPException(422, f"k={body.k} is over the limit of {services.settings.serve_max_k}")
    served_list, ranked = services.recommender.answer(body.request(), body.exclude)
    if ranked.fallback:
        services.metrics.fallbacks.labels(ranked.reason).inc()
    if services.ingest is not None:  # logged once the answer is sent: the caller does not wait for it
        background.add_task(log_answer, services, served_list, ranked)
    answer = RecommendResponse(
        recommendation_id=served_list.recommendation_id,
        user_id=body.user_id,
        items=ranked.items,
        model_name=served_list.model_name,
        model_version=served_list.model_version,
        variant=served_list.variant,
        fallback=ranked.fallback,
        fallback_reason=ranked.reason,
        cold_start=ranked.cold_start,
    )
    return Response(answer.model_dump_json(), media_type="application/json")


async def log_answer(services: Services, served_list: Recommendation, ranked: Ranked) -> None:
    """The impression log and the feature log; losing them must not fail the answer. ``async``,
    so Starlette runs it on the event loop rather than in its thread pool."""
    try:
        services.ingest.producer.send(served_list)
        if services.settings.serve_log_features and (logged := served_features(served_list, ranked)) is not None:
            services.ingest.producer.send(logged)
    except (KafkaException, BufferError) as error:
        log.warning("impression not logged: %s", error)
        services.metrics.fallbacks.labels("impression log unavailable").inc()
