"""The app as the serving tests wire it: the same Services as production, from test doubles."""

from serving.app import create_app
from serving.cache import TTLCache
from serving.deps import Services
from serving.ingest import Ingest
from serving.metrics import ApiMetrics
from serving.recommender import Recommender


def make_app(
    settings,
    state,
    history,
    producer=None,
    seen_events=None,
    admin=None,
    experiments=None,
    explorer=None,
    online=None,
    seen=None,
    recent=None,
    seen_among=None,
    probes=None,
    settle=None,
    popular_now=None,
    popular_now_weight=None,
    judge=None,
):
    metrics = ApiMetrics()
    recommender = Recommender(
        state,
        history,
        TTLCache(settings.serve_cache_ttl_s),
        explorer,
        online,
        experiments,
        seen,
        recent=recent,
        seen_among=seen_among,
        settle=settle,
        popular_now=popular_now,
        popular_now_weight=popular_now_weight,
        judge=judge,
    )
    ingest = Ingest(producer, seen_events, metrics) if producer is not None else None
    return create_app(Services(settings, recommender, metrics, ingest, admin, experiments, probes=probes or {}))
