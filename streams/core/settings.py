"""The one Settings object: read once per process from ``STREAMREC_*`` variables (and ``.env``).

>>> s = Settings(kafka_bootstrap_servers="127.0.0.1:19092", topic_prefix="t1-")
>>> s.kafka_bootstrap_servers
'127.0.0.1:19092'
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout, or site-packages when installed
SHARED_DATA = Path(sys.prefix) / "share" / "streamrec"  # topics.yaml and feature_repo/ of an installed wheel


def _project_root() -> Path:
    """The checkout when running from one (an editable install), else the working directory."""
    return SOURCE_ROOT if (SOURCE_ROOT / "pyproject.toml").is_file() else Path.cwd()


def _shipped(name: str) -> Path:
    """A file the project ships next to its packages: from the checkout, else from the wheel's data."""
    in_checkout = SOURCE_ROOT / name
    return in_checkout if in_checkout.exists() else SHARED_DATA / name


PROJECT_ROOT = _project_root()


class Settings(BaseSettings):
    """Every knob of streamrec. Each field maps to ``STREAMREC_<FIELD>`` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="STREAMREC_", env_file=".env", extra="ignore", frozen=True)

    # -- where things live
    project_root: Path = PROJECT_ROOT
    run_dir: Path = Field(PROJECT_ROOT / ".run", description="pid files, logs and data of local services")
    topics_file: Path = Field(_shipped("topics.yaml"), description="the topic declarations")
    feature_repo: Path = Field(_shipped("feature_repo"), description="the Feast repository (definitions)")

    # -- Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_controller_port: int = 9093
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    topic_prefix: str = Field("", description="prepended to every topic name (test isolation, multi-tenant)")
    kafka_heap: str = "1g"

    # -- producer
    producer_linger_ms: int = 5
    producer_batch_size: int = 256 * 1024
    producer_compression: str = "lz4"
    max_event_bytes: int = Field(64 * 1024, description="larger serialized events are rejected")

    # -- features
    online_store: str = Field("redis", description="redis, or sqlite (Feast's local store) without Redis")
    feast_project: str = "streamrec"
    archive_dir: Path = Field(
        None, description="date-partitioned Parquet of all events (default: <run_dir>/archive)", validate_default=False
    )
    worker_batch_size: int = Field(2000, description="max events per micro-batch")
    worker_batch_wait_s: float = Field(0.05, description="max wait to fill a micro-batch")
    worker_processing_process: bool = Field(
        True, description="run batch processing in a child process (two cores) instead of a thread"
    )
    metrics_host: str = Field(
        "127.0.0.1",
        description="address the worker, learner and trainer serve /metrics on (0.0.0.0 in containers, for Prometheus)",
    )
    worker_metrics_port: int = Field(9108, description="Prometheus metrics of `streamrec worker` (0 = off)")
    learner_drift_settle_events: int = Field(
        5_000,
        description="a drift-triggered retrain request waits for this many events of the new regime (0 = at once)",
    )
    learner_retrain_every_events: int = Field(
        100_000, description="the learner asks for a retrain after this many new events (volume trigger; 0 = never)"
    )
    learner_retrain_cooldown_s: float = Field(
        24 * 3600.0,
        description="after asking for a retrain, the learner's automatic triggers (volume, drift) wait this long",
    )
    learner_backlog_s: float = Field(
        300.0,
        description="events read this long after they reached Kafka are backlog: "
        "learned, but kept out of the data-drift watch",
    )
    learner_metrics_port: int = Field(9109, description="Prometheus metrics of `streamrec learner` (0 = off)")
    learner_scale_out: bool = Field(
        False,
        description="learners join one consumer group and split the partitions: user state moves with its "
        "partition, item state is averaged at checkpoints, drift is claimed once (docs/learning.md)",
    )
    seen_items_cap: int = Field(
        5_000,
        description="items kept per user in the seen-set that exclude_seen reads "
        "(the newest; older ones may be recommended again)",
    )
    worker_session_timeout_s: float = Field(
        4.0,
        description="a worker silent this long leaves the group and its "
        "partitions move to the others (Kafka's session timeout; below 6 s the broker's "
        "group.min.session.timeout.ms must allow it, as ours and the compose file's do)",
    )
    worker_group: str = Field("streamrec-features", description="Faust app id = Kafka consumer group")

    # -- Redis / MLflow (local infra)
    redis_url: str = "redis://127.0.0.1:6379/0"
    mlflow_tracking_uri: str = "http://127.0.0.1:5000"
    mlflow_port: int = 5000
    registry_timeout_s: float = Field(
        5.0, description="one MLflow HTTP call answers or fails within this (MLflow's default: 120 s)"
    )
    registry_retries: int = Field(1, ge=0, description="MLflow HTTP retries per call (MLflow's default: 7)")
    trainer_metrics_port: int = Field(9110, description="Prometheus metrics of `streamrec trainer` (0 = off)")
    trainer_webhook_url: str | None = Field(None, description="Slack-compatible webhook for failed training runs")
    trainer_promotion_margin: float = Field(
        0.0, description="relative NDCG@10 gain over the champion needed to promote"
    )
    trainer_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU niceness of `streamrec trainer`: training yields the cores to the stream (0 = same priority)",
    )
    trainer_archive_wait_s: float = Field(
        60.0, ge=0, description="a job waits this long at most for the archive to hold its window's newest events"
    )
    serve_host: str = Field("127.0.0.1", description="address `streamrec serve` listens on")
    serve_port: int = Field(8000, description="port of `streamrec serve`")
    serve_model: str = Field("ranker", description="registered model served (alias champion)")
    serve_api_keys: SecretStr | None = Field(
        None, description="comma-separated keys for write/admin endpoints (unset = open; never logged)"
    )
    serve_max_k: int = Field(100, description="largest k accepted by /recommend")
    serve_max_batch: int = Field(5000, description="most events accepted by one /events/batch call")
    serve_max_body_bytes: int = Field(4 * 1024 * 1024, description="larger request bodies get 413")
    serve_dedup_ttl_s: int = Field(7 * 24 * 3600, description="how long /events remembers an event_id")
    serve_cache_ttl_s: float = Field(
        2.0, description="how long /recommend reuses a ranking for the same request and model version (0 = off)"
    )
    serve_item_features_ttl_s: float = Field(
        2.0, description="how often a serving process re-reads the item features it caches (in the background)"
    )
    serve_ingest_ack_timeout_s: float = Field(
        2.0, description="/events waits this long for the broker's acknowledgement, then answers 503 (retry)"
    )
    serve_store_timeout_s: float = Field(
        0.2,
        description="deadline of each online-store read on the request path (user and item features, "
        "the seen-set); past it the answer is the flagged fallback",
    )
    serve_log_features: bool = Field(
        True, description="log the features each model-ranked list was ranked with to the served-features topic"
    )
    serve_recent_events_s: float = Field(
        30.0,
        description="each API process follows the interactions topic and adds a user's events of the last "
        "this many seconds that the online store does not hold yet to the history and seen items (0 = off)",
    )
    serve_read_your_writes_ms: float = Field(
        50.0,
        description="before an answer, wait at most this long until the API's tail of interactions holds every "
        "event of the user the broker had acknowledged when the request came (0 = off; needs the tail)",
    )
    serve_impression_ttl_s: int = Field(
        7 * 24 * 3600, description="how long a served list can still earn an experiment reward (attribution window)"
    )
    serve_explore: bool = Field(
        True,
        description="Thompson sampling over the cold-start list for users with no "
        "history (off: the model's list as is)",
    )
    serve_explore_context: list[str] = Field(
        default_factory=lambda: ["device"], description="request context keys the cold-start bandit learns per value of"
    )
    serve_explore_candidates: int = Field(100, description="cold-start items the bandit chooses among")
    serve_online_weight: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="weight of the online learner's scores when re-ranking a known user's top candidates (0 = off)",
    )
    serve_popular_now_weight: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="weight of what is popular right now (the newest interactions, counted) when fused "
        "with the model's list by reciprocal rank; unset: the weight the model's trainer chose on its "
        "holdout; 0 = the model's list alone",
    )
    serve_popular_now_events: int = Field(
        10_000, ge=1, description="how many of the newest interactions count as 'right now'"
    )
    serve_experiment_check_s: float = Field(
        5.0,
        description="how often the API re-reads experiments, loads their "
        "variants and applies decisions (promote, canary steps)",
    )
    log_level: str = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR, for every process (`streamrec --log-level`)"
    )
    log_json: bool = Field(False, description="log JSON lines instead of plain text (`streamrec --log-json`)")
    allow_system_install: bool = Field(
        True, description="let `streamrec infra up` apt-get install redis-server when missing"
    )

    @model_validator(mode="after")
    def _archive_under_run_dir(self) -> Settings:
        if self.archive_dir is None:  # follows STREAMREC_RUN_DIR (one shared volume in containers)
            object.__setattr__(self, "archive_dir", self.run_dir / "archive")
        return self

    def kafka_client_config(self) -> dict[str, str]:
        """librdkafka settings shared by every client (producer, consumer, admin)."""
        conf = {
            "bootstrap.servers": self.kafka_bootstrap_servers,
            "security.protocol": self.kafka_security_protocol,
        }
        if self.kafka_sasl_mechanism:
            conf["sasl.mechanism"] = self.kafka_sasl_mechanism
            conf["sasl.username"] = self.kafka_sasl_username or ""
            conf["sasl.password"] = self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        return conf


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, created on first use."""
    return Settings()
