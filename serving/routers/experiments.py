"""``/experiments``: create, list, start, stop, results (writes need the API key)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException

from serving.deps import ApiKey, ExperimentsDep
from serving.experiments.plan import Experiment, ExperimentSpec, results
from serving.openapi import answers

router = APIRouter(prefix="/experiments", tags=["experiments"])
UNKNOWN = answers(e404="no experiment with this id")


def find(experiments: ExperimentsDep, experiment_id: str) -> Experiment:
    experiment = experiments.store.get(experiment_id)
    if experiment is None:
        raise HTTPException(404, f"no experiment {experiment_id!r}")
    return experiment


@router.post("", status_code=201, dependencies=[ApiKey])
def create(spec: ExperimentSpec, experiments: ExperimentsDep) -> Experiment:
    experiment = Experiment.from_spec(spec)
    experiments.store.save(experiment)
    return experiment


@router.get("")
def list_all(experiments: ExperimentsDep) -> list[Experiment]:
    return experiments.store.all()


@router.get("/{experiment_id}", responses=UNKNOWN)
def one(experiment_id: str, experiments: ExperimentsDep) -> Experiment:
    return find(experiments, experiment_id)


@router.post(
    "/{experiment_id}/start",
    dependencies=[ApiKey],
    responses=UNKNOWN | answers(e409="it is not a draft, or another experiment runs on the same model"),
)
def start(experiment_id: str, experiments: ExperimentsDep) -> Experiment:
    experiment = find(experiments, experiment_id)
    if experiment.status == "running":
        return experiment
    if experiment.status != "draft":
        raise HTTPException(409, f"experiment {experiment_id} is {experiment.status}; create a new one")
    other = next(
        (e for e in experiments.store.all() if e.status == "running" and e.model_name == experiment.model_name), None
    )
    if other is not None:
        raise HTTPException(
            409, f"experiment {other.experiment_id} already runs on {experiment.model_name}; stop it first"
        )
    try:
        experiments.prepare(experiment)  # loads every variant here before traffic moves
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    running = experiment.model_copy(update={"status": "running", "started_at": datetime.now(UTC)})
    experiments.store.save(running)
    experiments.invalidate()  # the next request sees it running
    return running


@router.post("/{experiment_id}/stop", dependencies=[ApiKey], responses=UNKNOWN | answers(e409="it is not running"))
def stop(experiment_id: str, experiments: ExperimentsDep) -> Experiment:
    experiment = find(experiments, experiment_id)
    if experiment.status != "running":
        raise HTTPException(409, f"experiment {experiment_id} is {experiment.status}, not running")
    stopped = experiment.model_copy(
        update={"status": "stopped", "stopped_at": datetime.now(UTC), "outcome": "stopped by hand"}
    )
    experiments.store.save(stopped)
    experiments.invalidate()  # traffic returns to the champion now
    return stopped


@router.get("/{experiment_id}/results", responses=UNKNOWN)
def result(experiment_id: str, experiments: ExperimentsDep) -> dict:
    experiment = find(experiments, experiment_id)
    return results(experiment, experiments.store.stats(experiment_id))
