"""The API process of `streamrec bench serve`: serves a pickled model with histories from a
pickled dict (or, with an ``online`` marker file, as production serves: histories and features
from Feast, the seen-set, the stream tail and the feature log), a real producer (ingest) and
Redis dedup.
Run: python -m bench.serve_server DIR PORT [WORKERS]."""

from __future__ import annotations

import gc
import os
import pickle
import sys
from pathlib import Path

import uvicorn

from serving.app import create_app
from serving.cache import TTLCache
from serving.deps import Services
from serving.ingest import Ingest
from serving.metrics import ApiMetrics
from serving.recommender import Recommender
from serving.runtime import redis_dedup
from serving.state import ModelState
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.producer import EventProducer


def build():
    """The app of one uvicorn worker (the directory comes in STREAMREC_BENCH_DIR)."""
    root = Path(os.environ["STREAMREC_BENCH_DIR"])
    model = pickle.loads((root / "model.pkl").read_bytes())
    histories = pickle.loads((root / "histories.pkl").read_bytes())
    settings = Settings.model_validate_json((root / "settings.json").read_text())
    state = ModelState("ranker")
    state.install(model, "bench")
    producer = EventProducer(
        settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix), report_successes=True
    )
    metrics = ApiMetrics()
    if (root / "online").exists():  # the feature-based ranker, wired as in production (serving/main.py)
        import threading

        from serving.features import OnlineFeatures
        from serving.fusion_judge import FusionJudge
        from serving.recent_events import RecentEvents, follow_interactions
        from streams.core.popular_now import PopularNow
        from streams.stores.seen_items import SeenItems

        seen, recent = SeenItems.for_settings(settings), RecentEvents(settings.serve_recent_events_s)
        popular_now, judge = PopularNow(settings.serve_popular_now_events), FusionJudge()
        threading.Thread(
            target=follow_interactions, args=(settings, recent, threading.Event(), popular_now, judge), daemon=True
        ).start()
        features = OnlineFeatures.for_settings(settings, seen)
        metrics.item_refresh.set_function(lambda: features.last_refresh_s)
        threading.Thread(target=features.follow, args=(threading.Event(),), daemon=True).start()
        recommender = Recommender(
            state,
            None,
            TTLCache(settings.serve_cache_ttl_s),
            features=features,
            seen=seen.read,
            seen_among=seen.among,
            recent=recent,
            popular_now=popular_now,
            popular_now_weight=settings.serve_popular_now_weight,
            judge=judge if settings.serve_popular_now_weight is None else None,
        )
    else:
        recommender = Recommender(state, histories.get, TTLCache(settings.serve_cache_ttl_s))
    app = create_app(Services(settings, recommender, metrics, Ingest(producer, redis_dedup(settings), metrics)))
    gc.freeze()  # as serving/main.py does once started
    return app


def main(directory: str, port: int, workers: int = 1) -> None:
    os.environ["STREAMREC_BENCH_DIR"] = directory
    uvicorn.run(
        "bench.serve_server:build",
        factory=True,
        workers=workers,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
