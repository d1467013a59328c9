"""The feature log: what each model-ranked list was ranked with, as a ``ServedFeatures`` message
for the ``served-features`` topic (joined to the impression by ``recommendation_id``).

>>> import numpy as np
>>> from serving.ranking import Ranked
>>> from streams.core.contracts import Recommendation, ScoredItem
>>> items = [ScoredItem(item_id="b", score=2.0), ScoredItem(item_id="c", score=1.0)]
>>> ranked = Ranked(items, False, feature_rows={"b": np.array([1.0, np.nan]), "c": np.array([0.5, 2.0])},
...                 feature_names=("item_log_count", "u_mean_rating"))
>>> served = Recommendation(user_id="u", items=items, model_name="ranker", model_version="3")
>>> logged = served_features(served, ranked)
>>> logged.items, logged.values, logged.recommendation_id == served.recommendation_id
(['b', 'c'], [[1.0, None], [0.5, 2.0]], True)
"""

from __future__ import annotations

import math

from serving.ranking import Ranked
from streams.core.contracts import Recommendation, ServedFeatures


def served_features(served: Recommendation, ranked: Ranked) -> ServedFeatures | None:
    """The log record of ``served``; None for lists no model ranked (fallback, cold start, a baseline alone)."""
    if not ranked.feature_rows:
        return None
    items = [i.item_id for i in served.items if i.item_id in ranked.feature_rows]
    return ServedFeatures(
        recommendation_id=served.recommendation_id,
        user_id=served.user_id,
        model_name=served.model_name,
        model_version=served.model_version,
        feature_names=list(ranked.feature_names),
        items=items,
        values=[[None if math.isnan(v) else float(v) for v in ranked.feature_rows[i]] for i in items],
    )
