"""The feature log: every model-ranked list served over HTTP is followed on ``served-features`` by
the rows its items were ranked with, joined by ``recommendation_id``; lists no model ranked are not."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.state import ModelState
from streams.core.contracts import ServedFeatures, decode
from streams.kafka.producer import EventProducer
from streams.kafka.readers import read_topic
from tests.serving.wiring import make_app

pytestmark = pytest.mark.integration


def test_served_lists_log_the_rows_they_were_ranked_with(settings, catalog, model):
    state = ModelState("ranker")
    state.install(model, "4")
    histories = {"u1": ["i1", "i2", "i3"], "u2": ["i5"]}
    with EventProducer(settings, catalog, report_successes=True) as producer:

        def history(user):  # the store answers for u1 and u2, and fails for "unlucky"
            return None if user == "unlucky" else histories[user]

        api = TestClient(make_app(settings, state, history, producer))
        served = [api.post("/recommend", json={"user_id": u, "k": 5}).json() for u in ("u1", "u2", "unlucky")]
        producer.flush()
    records = [decode(ServedFeatures, m.value()) for m in read_topic(settings, catalog.name("served-features"))]
    logged = {r.recommendation_id: r for r in records}
    assert served[2]["fallback"] and served[2]["recommendation_id"] not in logged  # popularity, no model
    assert len(records) == 2
    for body, user in zip(served[:2], ("u1", "u2"), strict=True):
        record = logged[body["recommendation_id"]]
        assert record.user_id == user and record.model_version == "4"
        assert record.items == [i["item_id"] for i in body["items"]]
        assert record.feature_names == model.feature_names
        pool, matrix = model.candidates(histories[user])  # what the ranker scored, computed again
        rows = {model.vocab.items[p]: matrix[n] for n, p in enumerate(pool)}
        for item, values in zip(record.items, record.values, strict=True):
            expected = rows[item]
            got = np.array([np.nan if v is None else v for v in values])
            assert np.allclose(got, expected, rtol=1e-6, equal_nan=True), item
