"""How the ranker's features read to a person: an item's top feature contributions become its
reasons. Lives next to the features it names (:class:`models.batch.ranker.TwoStageModel`), so a
new feature gets its words where it is defined.

>>> explain({"item_knn_score": 0.4, "popularity_rank": 0.1, "item_log_count": -0.2})
['similar to items you engaged with', 'popular overall']
>>> reason_for("some_new_feature")
'some new feature'
"""

from __future__ import annotations

# feature name, or the generator prefix of a feature family -> words
EXPLANATIONS = {
    "ease": "people with your tastes liked it",
    "item_knn": "similar to items you engaged with",
    "sasrec": "fits the sequence of what you just did",
    "popularity": "popular overall",
    "similar_to_last": "close to the last item you looked at",
    "item_log_recent": "trending lately",
    "item_log_count": "popular overall",
    "item_mean_grade": "people who take it up tend to engage deeply",
    "item_vs_history_popularity": "as popular as what you usually like",
    # the online features (models.batch.online_features)
    "similar_to_session": "close to what you are looking at now",
    "session_category_share": "in the category you are browsing now",
    "category_rank": "in one of your favourite categories",
    "i_log_trending": "trending right now",
    "i_log_age_s": "active right now",
    "i_log_interactions": "popular overall",
    "i_log_distinct_users": "liked by many people",
    "i_click_rate": "often clicked when shown",
    "i_purchase_rate": "often bought after a click",
    "i_mean_rating": "rated highly",
    "u_": "fits how active you are",
    "hour_of_day": "fits this time of day",
}


def reason_for(feature: str) -> str:
    for prefix, words in EXPLANATIONS.items():
        if feature == prefix or feature.startswith(prefix if prefix.endswith("_") else f"{prefix}_"):
            return words
    return feature.replace("_", " ")


def explain(contributions: dict[str, float], top: int = 2) -> list[str]:
    """The ``top`` features that pushed an item up, in words, without repeats."""
    words: list[str] = []
    for feature, value in sorted(contributions.items(), key=lambda kv: -kv[1]):
        if value <= 0:
            break
        phrase = reason_for(feature)
        if phrase not in words:
            words.append(phrase)
        if len(words) == top:
            break
    return words
