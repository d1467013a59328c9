"""``POST /recommend``: a ranked list (fallback flagged, never a 5xx for a store outage)."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaException
from fastapi import APIRouter, HTTPException

from serving.bodies import RecommendBody, RecommendResponse
from serving.deps import MetricsDep, RecommenderDep, ServicesDep, SettingsDep
from serving.feature_log import served_features

router = APIRouter(tags=["recommend"])
log = logging.getLogger("streamrec.serve")


@router.post("/recommend", response_model=RecommendResponse)
async def recommend(
    body: RecommendBody, settings: SettingsDep, recommender: RecommenderDep, metrics: MetricsDep, services: ServicesDep
) -> RecommendResponse:
    # inline on the event loop: a few ms of CPU; a thread pool only added GIL and OpenMP contention
    if body.k > settings.serve_max_k:
        raise HTTPException(422, f"k={body.k} is over the limit of {settings.serve_max_k}")
    served_list, ranked = recommender.answer(body.request(), body.exclude)
    if ranked.fallback:
        metrics.fallbacks.labels(ranked.reason).inc()
    if services.ingest is not None:
        try:  # the impression log and the feature log; losing them must not fail the answer
            services.ingest.producer.send(served_list)
            if settings.serve_log_features and (logged := served_features(served_list, ranked)) is not None:
                services.ingest.producer.send(logged)
        except (KafkaException, BufferError) as error:
            log.warning("impression not logged: %s", error)
            metrics.fallbacks.labels("impression log unavailable").inc()
    return RecommendResponse(
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
