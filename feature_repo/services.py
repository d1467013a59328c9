"""Feature services: the feature sets that serving and training read."""

from feast import FeatureService

from views import item_catalog, item_features, user_features

ranking = FeatureService(
    name="ranking", features=[user_features, item_features, item_catalog], description="everything the ranker reads"
)
