"""``/experiments``: create, list, start, stop, results (writes need the API key)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException

from serving.experiments.plan import Experiment, ExperimentSpec, results
from serving.experiments.router import ExperimentRouter


def experiment_routes(router: ExperimentRouter | None, require_key: Callable) -> APIRouter:
    api = APIRouter(prefix="/experiments", tags=["experiments"])

    def need() -> ExperimentRouter:
        if router is None:
            raise HTTPException(503, "experiments are not configured (they need Redis)")
        return router

    def find(experiment_id: str) -> Experiment:
        experiment = need().store.get(experiment_id)
        if experiment is None:
            raise HTTPException(404, f"no experiment {experiment_id!r}")
        return experiment

    @api.post("", status_code=201, dependencies=[Depends(require_key)])
    def create(spec: ExperimentSpec) -> Experiment:
        experiment = Experiment.from_spec(spec)
        need().store.save(experiment)
        return experiment

    @api.get("")
    def list_all() -> list[Experiment]:
        return need().store.all()

    @api.get("/{experiment_id}")
    def one(experiment_id: str) -> Experiment:
        return find(experiment_id)

    @api.post("/{experiment_id}/start", dependencies=[Depends(require_key)])
    def start(experiment_id: str) -> Experiment:
        experiment = find(experiment_id)
        if experiment.status == "running":
            return experiment
        if experiment.status != "draft":
            raise HTTPException(409, f"experiment {experiment_id} is {experiment.status}; create a new one")
        other = next((e for e in need().store.all() if e.status == "running" and e.model_name == experiment.model_name),
                     None)
        if other is not None:
            raise HTTPException(409, f"experiment {other.experiment_id} already runs on {experiment.model_name}; "
                                     "stop it first")
        try:
            need().prepare(experiment)  # loads every variant here before traffic moves
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        running = experiment.model_copy(update={"status": "running", "started_at": datetime.now(UTC)})
        need().store.save(running)
        need().invalidate()  # the next request sees it running
        return running

    @api.post("/{experiment_id}/stop", dependencies=[Depends(require_key)])
    def stop(experiment_id: str) -> Experiment:
        experiment = find(experiment_id)
        if experiment.status != "running":
            raise HTTPException(409, f"experiment {experiment_id} is {experiment.status}, not running")
        stopped = experiment.model_copy(update={"status": "stopped", "stopped_at": datetime.now(UTC),
                                                "outcome": "stopped by hand"})
        need().store.save(stopped)
        need().invalidate()  # traffic returns to the champion now
        return stopped

    @api.get("/{experiment_id}/results")
    def result(experiment_id: str) -> dict:
        experiment = find(experiment_id)
        return results(experiment, need().store.stats(experiment_id))

    return api
