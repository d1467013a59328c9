"""The online learner's snapshot, loaded by the API, re-ranks a known user's top candidates."""

from fastapi.testclient import TestClient

from serving.online import OnlineScorer
from serving.state import ModelState
from streams.core.contracts import Interaction
from streams.core.settings import Settings
from streams.learner.loop import LearnerConfig, LearningLoop
from streams.sources.synthetic import SimulationConfig, simulate
from tests.serving.wiring import make_app


def test_the_online_learners_scores_reorder_known_users_candidates(model, tmp_path):
    sim = SimulationConfig(n_events=8_000, n_users=100, n_items=80, n_categories=4, seed=2)
    events = [m for m in simulate(sim) if isinstance(m, Interaction)]
    loop = LearningLoop(LearnerConfig(snapshot_every_events=10**9, snapshot_every_seconds=1e9), tmp_path / "snaps")
    for offset, event in enumerate(events):
        loop.process(0, offset, event)
    loop.checkpoint()
    histories = {"u1": [e.item_id for e in events if e.user_id == "u1"][-20:]}
    state = ModelState("ranker")
    state.install(model, "1")
    settings = Settings(_env_file=None, serve_cache_ttl_s=0.0)

    def top(weight):
        scorer = OnlineScorer(tmp_path / "snaps", weight)
        assert scorer.refresh() and scorer.version is not None and not scorer.refresh()  # loads once
        api = TestClient(make_app(settings, state, histories.get, online=scorer))
        return [i["item_id"] for i in api.post("/recommend", json={"user_id": "u1", "k": 8}).json()["items"]], scorer

    plain = [i for i, _ in model.recommend(histories["u1"], 8)]
    batch_only, _ = top(0.0)
    assert batch_only == plain  # weight 0: the batch model's list as it is
    online_only, scorer = top(1.0)
    scores = scorer.scores("u1", online_only)
    assert [scores[i] for i in online_only] == sorted(scores.values(), reverse=True)
    assert online_only != plain  # the learner does have an opinion about this user
    assert not set(online_only) & set(histories["u1"])  # seen items stay out
