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
}


def reason_for(feature: str) -> str:
    for prefix, words in EXPLANATIONS.items():
        if feature == prefix or feature.startswith(f"{prefix}_"):
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
