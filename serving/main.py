"""The production app of `streamrec serve`, built per worker process by uvicorn
(``uvicorn.run("serving.main:build_app", factory=True, workers=N)``): the champion from MLflow,
user and item features (with the history) from Feast, dedup/experiments/exploration in Redis, the online learner's snapshots,
and background threads (champion watch, Kafka path, experiment control, reward attribution,
the user's latest events from the stream)
that start and stop with the app."""

from __future__ import annotations

import gc
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI


def build_app() -> FastAPI:
    from serving.admin import Admin
    from serving.app import create_app
    from serving.cache import TTLCache
    from serving.dependencies import production_probes
    from serving.deps import Services
    from serving.experiments.attribution import attribute_rewards
    from serving.experiments.router import run_controller
    from serving.exploration import ColdStartExplorer
    from serving.features import OnlineFeatures
    from serving.fusion_judge import FusionJudge
    from serving.ingest import Ingest
    from serving.kafka_path import serve_requests
    from serving.metrics import ApiMetrics
    from serving.online import OnlineScorer, watch_snapshots
    from serving.read_your_writes import ReadYourWrites
    from serving.recent_events import RecentEvents, follow_interactions
    from serving.recommender import Recommender
    from serving.runtime import (
        experiment_router,
        redis_dedup,
        watch_champion,
    )
    from serving.state import ModelState
    from serving.supervisor import Supervisor
    from streams.core.logs import configure_logging
    from streams.core.popular_now import PopularNow
    from streams.core.settings import get_settings
    from streams.core.topics import TopicCatalog
    from streams.kafka.producer import EventProducer
    from streams.stores.seen_items import SeenItems

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)  # each uvicorn worker process
    state, stop = ModelState(settings.serve_model), threading.Event()
    producer = EventProducer(
        settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix), report_successes=True
    )
    admin = Admin(settings, producer)
    experiments = experiment_router(settings, state, admin)
    explorer = ColdStartExplorer.for_settings(settings) if settings.serve_explore else None
    online = OnlineScorer.for_settings(settings) if settings.serve_online_weight > 0 else None
    metrics = ApiMetrics()
    seen_items = SeenItems.for_settings(settings)
    features = OnlineFeatures.for_settings(settings, seen_items)  # the user's row and seen-set; item rows
    metrics.item_refresh.set_function(lambda: features.last_refresh_s)
    recent = RecentEvents(settings.serve_recent_events_s) if settings.serve_recent_events_s > 0 else None
    popular_now = (
        PopularNow(settings.serve_popular_now_events)
        if recent is not None and settings.serve_popular_now_weight != 0
        else None
    )
    judge = FusionJudge() if popular_now is not None and settings.serve_popular_now_weight is None else None
    reads = (
        ReadYourWrites(
            settings,
            recent,
            settings.serve_read_your_writes_ms / 1000,
            counted=lambda outcome: metrics.read_your_writes.labels(outcome.value).inc(),
        )
        if recent is not None and settings.serve_read_your_writes_ms > 0
        else None
    )
    recommender = Recommender(
        state,
        None,
        TTLCache(settings.serve_cache_ttl_s),
        explorer,
        online,
        experiments,
        seen=seen_items.read,
        features=features,
        recent=recent,
        seen_among=seen_items.among,
        settle=reads.settle if reads is not None else None,
        popular_now=popular_now,
        popular_now_weight=settings.serve_popular_now_weight,
        judge=judge,
    )
    metrics.popular_now_weight.set_function(lambda: recommender.fusion_weight() if popular_now is not None else 0.0)
    metrics.popular_now_judged.set_function(lambda: judge.judged if judge is not None else 0)
    background = [
        (watch_champion, (settings, state, stop), {}, "champion"),
        (serve_requests, (settings, recommender, producer, stop), {}, "kafka-requests"),
        (run_controller, (experiments, stop, settings.serve_experiment_check_s), {}, "experiments"),
        (attribute_rewards, (settings, experiments.store, stop), {"explorer": explorer}, "attribution"),
    ]
    background.append((features.follow, (stop,), {}, "item-features"))
    if online is not None:
        background.append((watch_snapshots, (online, stop), {}, "online-snapshots"))
    if recent is not None:
        background.append((follow_interactions, (settings, recent, stop, popular_now, judge), {}, "recent-events"))

    supervisor = Supervisor(stop)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        for target, args, kwargs, name in background:
            supervisor.start(name, target, *args, **kwargs)
        gc.freeze()  # what start-up built (Feast's objects among them) is not scanned by every full collection
        try:
            yield
        finally:
            stop.set()
            producer.flush(raise_on_failure=False)
            if reads is not None:
                reads.close()

    app = create_app(
        Services(
            settings,
            recommender,
            metrics,
            Ingest(producer, redis_dedup(settings), metrics, settings.serve_ingest_ack_timeout_s),
            admin,
            experiments,
            supervisor,
            production_probes(settings, producer),
        )
    )
    app.router.lifespan_context = lifespan
    return app
