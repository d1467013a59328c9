"""A Redis that stops answering (SIGSTOP, as a stalled or partitioned server) must not hold a
request: every online-store read on the request path has a deadline
(STREAMREC_SERVE_STORE_TIMEOUT_S), the answer is the flagged fallback, and answers come back by
themselves once Redis does. After one missed deadline the process stops asking Redis for a
second, so a stalled Redis costs one deadline per second, not one per read."""

import os
import shutil
import signal
import time

import pytest

from serving.features import OnlineFeatures
from serving.recommender import Recommender
from serving.state import ModelState
from streams.core.contracts import RecommendationRequest
from streams.infra.kafka import free_port
from streams.infra.redis import LocalRedis
from streams.stores.feast import apply_definitions, open_store
from streams.stores.seen_items import SeenItems

pytestmark = pytest.mark.integration


@pytest.fixture
def stallable_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed (infra/setup.sh installs it)")
    server = LocalRedis(tmp_path / "redis", f"redis://127.0.0.1:{free_port()}/0", allow_install=False)
    server.start()
    yield server
    os.kill(server.process.pid(), signal.SIGCONT)
    server.stop()


@pytest.mark.timeout(120)  # without deadlines the stalled read would hang for good
def test_a_stalled_redis_gives_a_flagged_fallback_within_the_deadline(settings, stallable_redis, model, tmp_path):
    s = settings.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{stallable_redis.port}/0",
            "run_dir": tmp_path,
            "serve_store_timeout_s": 0.2,
            "serve_cache_ttl_s": 0.0,
        }
    )
    apply_definitions(open_store(s), s.feature_repo)
    state = ModelState("ranker")
    state.install(model, "1")
    seen = SeenItems.for_settings(s)
    recommender = Recommender(  # wired as serving/main.py wires it: row and seen-set in one round trip
        state, features=OnlineFeatures.for_settings(s, seen), seen=seen.read, seen_among=seen.among
    )
    request = RecommendationRequest(user_id="u1", k=5)
    assert recommender.answer(request)[1].fallback is False  # Redis answers: a model's list
    os.kill(stallable_redis.process.pid(), signal.SIGSTOP)
    began = time.monotonic()
    served, ranked = recommender.answer(request)
    took = time.monotonic() - began
    assert ranked.fallback is True and ranked.reason == "user history unavailable" and len(served.items) == 5
    assert took < 1.0, f"{took:.2f} s with Redis stalled"  # one read (row and seen-set), 0.2 s at most
    began = time.monotonic()
    for _ in range(50):  # Redis is not asked again until its breaker's cooldown has passed
        assert recommender.answer(request)[1].fallback
    fifty = time.monotonic() - began
    assert fifty < 1.0, f"50 answers took {fifty:.2f} s with Redis stalled (not one deadline each)"
    os.kill(stallable_redis.process.pid(), signal.SIGCONT)
    deadline = time.monotonic() + 10
    while recommender.answer(request)[1].fallback and time.monotonic() < deadline:
        time.sleep(0.1)
    assert recommender.answer(request)[1].fallback is False  # back by itself
