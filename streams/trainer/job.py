"""One training job: a RetrainRequest in, an MLflow run, maybe a registered version and alias
changes out. Idempotent per request id (a finished run of the same request is not repeated
unless ``force``). A failure marks the run FAILED with its reason, notifies the webhook, and
leaves the champion where it was. An unreachable registry is not a failure of the job: it raises
:class:`~streams.stores.registry_errors.RegistryUnavailable` and the trainer retries the request."""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from models.batch.pipeline import OURS, TrainConfig, evaluation_chart, format_table, train_and_evaluate
from models.promotion import ChoiceCheck, QualityGates, decide_promotion
from streams.core.contracts import ModelUpdate, RetrainRequest
from streams.core.settings import Settings
from streams.stores.registry_errors import RegistryUnavailable, is_outage, registry_errors

log = logging.getLogger("streamrec.trainer")


@dataclass
class TrainingOutcome:
    request_id: str
    status: str  # registered | promoted | not_promoted | dry_run | skipped | failed
    reason: str
    run_id: str | None = None
    version: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    updates: list[ModelUpdate] = field(default_factory=list)
    table: str = ""


def code_version() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                cwd=Path(__file__).parent,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_training(
    settings: Settings,
    request: RetrainRequest,
    events: pd.DataFrame,
    config: TrainConfig | None = None,
    gates: QualityGates | None = None,
    progress=lambda _: None,
    categories: Mapping[str, str] | None = None,
) -> TrainingOutcome:
    """``categories`` (item -> main category): given, the ranker learns from the online features,
    rebuilt as of each example's time by replaying the stream's feature code over ``events``."""
    from streams.stores.registry import Registry

    config, gates = config or TrainConfig(), gates or QualityGates()
    registry = Registry.for_settings(settings, request.model_name)
    with registry_errors("finding an earlier run of this request"):
        done = registry.find_run(request.request_id)
    if done is not None and not request.force:
        return TrainingOutcome(
            request.request_id, "skipped", f"request already trained in run {done.info.run_id}", done.info.run_id
        )
    window = request.data_window
    tags = {
        "request_id": request.request_id,
        "trigger": request.trigger.value,
        "reason": request.reason[:5000],
        "data_window": f"[{window.start}, {window.end})",
        "code_version": code_version(),
        "dry_run": str(request.dry_run).lower(),
    }
    try:
        return _recorded_run(settings, registry, request, events, config, gates, tags, progress, categories)
    except Exception as error:
        if is_outage(error):  # nothing was promoted; the caller retries the request later
            raise RegistryUnavailable(f"training {request.request_id}: {type(error).__name__}: {error}") from None
        raise


def _recorded_run(settings, registry, request, events, config, gates, tags, progress, categories) -> TrainingOutcome:
    with registry.start_run(f"{request.trigger.value}-{request.request_id[:8]}", tags) as run:
        run_id = run.info.run_id
        try:
            outcome = _train(registry, request, events, config, gates, tags, progress, categories)
            outcome.run_id = run_id
            return outcome
        except Exception as error:  # any failure is recorded and notified, and the champion stays
            import mlflow

            if is_outage(error):
                raise  # the registry is away: nothing to record it in; the request is retried

            reason = f"{type(error).__name__}: {error}"
            mlflow.set_tag("failure", reason[:5000])
            mlflow.end_run(status="FAILED")
            notify(
                settings,
                f"streamrec trainer: training {request.model_name} for request {request.request_id} "
                f"failed: {reason}. The champion is unchanged.",
            )
            log.exception("training failed")
            return TrainingOutcome(request.request_id, "failed", reason, run_id)


def _train(registry, request, events, config, gates, tags, progress, categories) -> TrainingOutcome:
    import mlflow

    from streams.features.point_in_time import PointInTime

    mlflow.log_params(
        {
            "events": len(events),
            "split": config.split,
            "valid_share": config.valid_share,
            "test_share": config.test_share,
            "k": config.k,
            "ease_l2": config.ease_l2,
            "knn_neighbours": config.knn_neighbours,
            "sasrec_epochs": config.sasrec_epochs,
            "tune_budget_s": config.tune_budget_s,
        }
        | {f"ranker.{k}": v for k, v in asdict(config.ranker).items()}
    )
    point_in_time = PointInTime(events, categories) if categories is not None else None
    result = train_and_evaluate(events, config, progress, point_in_time)
    mlflow.set_tags({"split_used": result.split.protocol, "online_features": str(result.model.online).lower()})
    mlflow.log_params({f"ranker_final.{k}": v for k, v in asdict(result.model.config).items()})  # after tuning
    chosen = result.best  # a baseline that beats the ranker on the holdout is what gets registered
    model = result.model_for(chosen)
    metrics = {k: v for k, v in result.table[chosen].items() if k != "k"}
    if chosen != OURS:
        progress(f"{chosen} beats the ranker on the holdout: registering {chosen} alone")
    runner_up = result.runner_up
    if runner_up is not None:  # how sure the holdout is of the choice
        low, high = result.interval(chosen, runner_up)
        metrics |= {"choice.margin_low": low, "choice.margin_high": high}
        progress(
            f"{chosen} vs {runner_up} on {int(result.stats['test_users'])} users ({result.split.protocol} split): "
            f"ndcg@{config.k} difference 95% interval [{low:+.4f}, {high:+.4f}]"
        )
    log_metrics(
        metrics
        | {
            f"baseline.{name}.{k}": v
            for name, m in result.table.items()
            if name != OURS
            for k, v in m.items()
            if k != "k"
        }
        | {f"time.{k}": v for k, v in result.timings.items()}
        | result.stats
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "evaluation.md").write_text(format_table(result.table, config.k) + "\n")
        (out / "evaluation.json").write_text(json.dumps(result.table, indent=2))
        (out / "features.json").write_text(json.dumps(result.model.feature_names, indent=2))
        evaluation_chart(result.table, out / "evaluation.html", config.k)
        drift_report(result, out)
        mlflow.log_artifacts(str(out))
    if request.dry_run:
        return TrainingOutcome(
            request.request_id,
            "dry_run",
            "dry run: evaluated, nothing registered",
            metrics=metrics,
            table=format_table(result.table, config.k),
        )
    version = registry.log_model(model, tags | {"serves": model.serves, "chosen": chosen})
    updates = [registry.set_alias("challenger", version, metrics)]
    champion_version = registry.alias_version("champion")
    champion_metrics, champion_interval, choice = None, None, None
    if champion_version is not None and champion_version != version:
        champion = registry.load(champion_version)
        champion_metrics = result.evaluate_others({"champion": champion})["champion"]
        champion_interval = result.interval(chosen, "champion")
        log_metrics({f"champion_v{champion_version}.{k}": v for k, v in champion_metrics.items() if k != "k"})
        choice = ChoiceCheck.of(**result.choice({"challenger": model, "champion": champion}))
        if choice is not None:
            log_metrics(
                {"choice_ndcg": choice.challenger, f"champion_v{champion_version}.choice_ndcg": choice.champion}
            )
    baselines = {name: row for name, row in result.table.items() if name != chosen}
    decision = decide_promotion(
        result.table[chosen],
        baselines,
        champion_metrics,
        gates,
        int(result.stats["test_users"]),
        champion_interval,
        choice,
    )
    registry.tag(version, "promotion", decision.reason)
    mlflow.set_tag("promotion", decision.reason)
    mlflow.log_metric("promoted", float(decision.promote))
    if decision.promote:
        updates += registry.promote(version, metrics)
    progress(f"v{version}: {decision.reason}")
    return TrainingOutcome(
        request.request_id,
        "promoted" if decision.promote else "not_promoted",
        decision.reason,
        version=version,
        metrics=metrics,
        updates=updates,
        table=format_table(result.table, config.k),
    )


def log_metrics(metrics: dict[str, float]) -> None:
    """MLflow metric names allow no '@': ndcg@10 is logged as ndcg_at_10."""
    import mlflow

    mlflow.log_metrics({k.replace("@", "_at_").replace(" ", "_"): float(v) for k, v in metrics.items()})


def drift_report(result, out: Path) -> None:
    """Evidently data-drift report: the training window (reference) vs the newest window (current),
    on per-event numbers (item popularity, grade, hour, user activity). Written as HTML and JSON."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    from models.batch.data import graded_labels

    def frame(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "item_popularity": df["item_id"].map(df["item_id"].value_counts()).astype(float),
                "user_activity": df["user_id"].map(df["user_id"].value_counts()).astype(float),
                "grade": graded_labels(df).astype(float),
                "hour": df["timestamp"].dt.hour.astype(float),
            }
        )

    columns = ["item_popularity", "user_activity", "grade", "hour"]
    definition = DataDefinition(numerical_columns=columns, categorical_columns=[])
    current = Dataset.from_pandas(frame(result.split.test), data_definition=definition)
    reference = Dataset.from_pandas(frame(result.split.train), data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    snapshot.save_html(str(out / "data_drift.html"))
    snapshot.save_json(str(out / "data_drift.json"))


def notify(settings: Settings, text: str) -> None:
    """POST a Slack-compatible ``{"text": ...}`` to the configured webhook; never raises."""
    url = settings.trainer_webhook_url
    if not url:
        return
    try:
        body = json.dumps({"text": text}).encode()
        urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}), timeout=5)
    except OSError as error:
        log.warning("webhook notification failed: %s", error)
