"""The MLflow edge: one experiment per model, a run per training job, registered versions with
aliases ``challenger`` and ``champion`` (stages are deprecated), tags that say why.

Every alias change returns the :class:`~streams.core.contracts.ModelUpdate` to publish.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from streams.core.contracts import ModelUpdate
from streams.stores.registry_errors import RegistryUnavailable, is_outage, limit_http_calls


class TwoStagePyfunc(mlflow.pyfunc.PythonModel):
    """Loads the pickled :class:`~models.batch.ranker.TwoStageModel`; ``predict`` takes a frame
    with a ``history`` column (lists of item ids) and returns the top 10 per row."""

    def load_context(self, context):
        with open(context.artifacts["model"], "rb") as f:
            self.model = pickle.load(f)

    def predict(self, context, model_input, params=None):
        k = int((params or {}).get("k", 10))
        return [[item for item, _ in self.model.recommend(list(h), k)] for h in model_input["history"]]


class Registry:
    def __init__(self, tracking_uri: str, model_name: str, artifact_root: Path | None = None):
        """``artifact_root``: where runs of a database-backed store (``sqlite:///...``) keep their
        artifacts; a tracking server decides that itself."""
        mlflow.set_tracking_uri(tracking_uri)
        self.client = MlflowClient(tracking_uri)
        self.model_name = model_name
        self.experiment = f"streamrec-{model_name}"
        self.artifact_root = artifact_root if not tracking_uri.startswith("http") else None

    @classmethod
    def for_settings(cls, settings, model_name: str) -> Registry:
        """The registry of ``model_name`` at the configured tracking URI (artifacts under the run dir)."""
        limit_http_calls(settings.registry_timeout_s, settings.registry_retries)
        return cls(settings.mlflow_tracking_uri, model_name, settings.run_dir / "mlartifacts")

    def start_run(self, run_name: str, tags: dict[str, str]):
        if self.client.get_experiment_by_name(self.experiment) is None:
            location = (self.artifact_root / self.experiment).resolve().as_uri() if self.artifact_root else None
            self.client.create_experiment(self.experiment, artifact_location=location)
        mlflow.set_experiment(self.experiment)
        return mlflow.start_run(run_name=run_name, tags=tags)

    def find_run(self, request_id: str):
        """A finished run of this request (idempotency), or None."""
        experiment = self.client.get_experiment_by_name(self.experiment)
        if experiment is None:
            return None
        runs = self.client.search_runs(
            [experiment.experiment_id],
            f"tags.request_id = '{request_id}' and attributes.status = 'FINISHED'",
            max_results=1,
        )
        return runs[0] if runs else None

    def log_model(self, model, tags: dict[str, str]) -> str:
        """Log the model in the active run and register it; returns the new version."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.pkl"
            path.write_bytes(pickle.dumps(model))
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=TwoStagePyfunc(),
                artifacts={"model": str(path)},
                registered_model_name=self.model_name,
                pip_requirements=["lightgbm", "torch", "scipy", "numpy", "pandas"],
            )
        version = str(info.registered_model_version)
        for key, value in tags.items():
            self.client.set_model_version_tag(self.model_name, version, key, str(value))
        return version

    def alias_version(self, alias: str) -> str | None:
        """The version the alias points at; None when there is no such alias or model. Raises
        :class:`~streams.stores.registry_errors.RegistryUnavailable` when the registry is away."""
        try:
            return str(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException as error:
            if is_outage(error):
                raise RegistryUnavailable(f"{self.model_name}@{alias}: {error.message}") from None
            return None

    def load(self, version: str):
        """The TwoStageModel of a registered version."""
        return mlflow.pyfunc.load_model(f"models:/{self.model_name}/{version}").unwrap_python_model().model

    def set_alias(self, alias: str, version: str, metrics: dict[str, float] | None = None) -> ModelUpdate:
        self.client.set_registered_model_alias(self.model_name, alias, version)
        return ModelUpdate(
            model_name=self.model_name,
            version=version,
            alias=alias,
            uri=f"models:/{self.model_name}/{version}",
            metrics=metrics or {},
        )

    def tag(self, version: str, key: str, value: str) -> None:
        self.client.set_model_version_tag(self.model_name, version, key, value)

    def version_tags(self, version: str) -> dict[str, str]:
        return dict(self.client.get_model_version(self.model_name, version).tags)

    def promote(self, version: str, metrics: dict[str, float]) -> list[ModelUpdate]:
        """``champion`` -> version; the previous champion is remembered on the version (for rollback)."""
        previous = self.alias_version("champion")
        if previous is not None and previous != version:
            self.tag(version, "previous_champion", previous)
        return [self.set_alias("champion", version, metrics)]

    def rollback(self) -> ModelUpdate:
        """Move ``champion`` back to the version it replaced."""
        current = self.alias_version("champion")
        if current is None:
            raise ValueError(f"{self.model_name} has no champion to roll back")
        previous = self.version_tags(current).get("previous_champion")
        if previous is None:
            raise ValueError(f"{self.model_name} v{current} replaced no earlier champion; nothing to roll back to")
        self.tag(current, "rolled_back", "true")
        return self.set_alias("champion", previous, {"rolled_back_from": float(current)})
