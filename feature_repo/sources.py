"""Sources. The stream workers push rows online (PushSource). Feast requires each push
source to name a batch source; ours are Parquet feature logs under data/ (historical
retrieval for training reads the event archive and recomputes, see docs/features.md)."""

from feast import FileSource, PushSource


def _log(name: str) -> FileSource:
    return FileSource(name=f"{name}_log", path=f"data/{name}.parquet", timestamp_field="event_timestamp")


user_features_push = PushSource(
    name="user_features_push", batch_source=_log("user_features"), description="user rows from `streamrec worker`"
)
item_features_push = PushSource(
    name="item_features_push", batch_source=_log("item_features"), description="item rows from `streamrec worker`"
)
item_catalog_push = PushSource(
    name="item_catalog_push", batch_source=_log("item_catalog"), description="item metadata from the `items` topic"
)
