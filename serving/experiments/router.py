"""Per API process: the running experiment of the served model, its variants' models, which
variant serves a request, and the controller step that applies decisions (canary stages,
promotion, rollback). Redis being down never fails a request: the champion serves, uncounted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from serving.experiments.plan import (
    Decision,
    Experiment,
    VariantStats,
    allocate,
    decide,
)
from serving.experiments.store import ExperimentStore
from serving.state import ModelState, Served, popular_items
from streams.stores.redis_client import RedisUnavailable

log = logging.getLogger("streamrec.experiments")


@dataclass(frozen=True)
class Route:
    experiment_id: str
    variant: str
    served: Served


class ExperimentRouter:
    """``load_model(version)`` -> model; ``resolve(alias_or_version)`` -> version or None;
    ``promote(model_name, version, reason)`` makes a version the champion (and announces it)."""

    def __init__(
        self,
        store: ExperimentStore,
        state: ModelState,
        load_model: Callable[[str], object],
        resolve: Callable[[str], str | None],
        promote: Callable[[str, str, str], object] | None = None,
        refresh_s: float = 1.0,
        seed: int | None = None,
    ):
        self.store, self.state, self.load_model, self.resolve, self.promote = store, state, load_model, resolve, promote
        self.refresh_s = refresh_s
        self._rng, self._rng_lock = np.random.default_rng(seed), threading.Lock()
        self._models: dict[tuple[str, str], Served] = {}  # (experiment id, variant) -> loaded model
        self._snapshot: tuple[float, Experiment | None, dict[str, VariantStats]] = (-1e18, None, {})

    # -- requests ---------------------------------------------------------------------------
    def running(self) -> tuple[Experiment | None, dict[str, VariantStats]]:
        """The served model's running experiment and its stats, re-read at most every ``refresh_s``."""
        at, experiment, stats = self._snapshot
        if time.monotonic() - at < self.refresh_s:
            return experiment, stats
        try:
            experiment = next(
                (e for e in self.store.all() if e.status == "running" and e.model_name == self.state.served.model_name),
                None,
            )
            stats = self.store.stats(experiment.experiment_id) if experiment else {}
        except (*RedisUnavailable, ValueError) as error:  # Redis down or a bad definition: the champion serves
            log.warning("experiments unavailable: %s", error)
            experiment, stats = None, {}
        self._snapshot = (time.monotonic(), experiment, stats)
        return experiment, stats

    def invalidate(self) -> None:
        """Re-read experiments on the next request (after a change made here)."""
        self._snapshot = (-1e18, None, {})

    def route(self, user_id: str) -> Route | None:
        """The variant serving this user now, or None (no experiment, or its model not loaded here yet)."""
        experiment, stats = self.running()
        if experiment is None:
            return None
        with self._rng_lock:
            variant = allocate(experiment, user_id, stats, self._rng)
        served = self._models.get((experiment.experiment_id, variant))
        return Route(experiment.experiment_id, variant, served) if served is not None else None

    def record(self, route: Route, recommendation_id: str, latency_s: float, fallback: bool) -> None:
        try:
            self.store.record_served(route.experiment_id, route.variant, recommendation_id, latency_s, fallback)
        except RedisUnavailable as error:  # the answer is already out; the impression is lost
            log.warning("impression not recorded: %s", error)

    # -- control ----------------------------------------------------------------------------
    def prepare(self, experiment: Experiment) -> dict[str, str]:
        """Load every variant's model in this process; variant -> version. Raises ValueError
        when an alias or version does not exist."""
        versions = {}
        for variant in experiment.variants:
            version = self.resolve(variant.model)
            if version is None:
                raise ValueError(
                    f"variant {variant.name}: no model version or alias {variant.model!r} for {experiment.model_name}"
                )
            key = (experiment.experiment_id, variant.name)
            current = self._models.get(key)
            if current is None or current.version != version:
                champion = self.state.served
                self._models[key] = (
                    champion
                    if champion.version == version and champion.model is not None
                    else Served(model := self.load_model(version), experiment.model_name, version, popular_items(model))
                )
            versions[variant.name] = version
        return versions

    def step(self) -> list[tuple[str, Decision]]:
        """Load what running experiments need and apply their decisions (every replica may run
        this; a decision is applied only if the experiment did not change meanwhile)."""
        done = []
        for experiment in self.store.all():
            if experiment.status != "running" or experiment.model_name != self.state.served.model_name:
                continue
            try:
                versions = self.prepare(experiment)
            except Exception as error:  # noqa: BLE001 -- e.g. registry down: try again next step
                log.warning("experiment %s: variants not loaded: %s", experiment.experiment_id, error)
                continue
            stats = self.store.stats(experiment.experiment_id)
            decision = decide(experiment, stats)
            if decision.action != "none":
                self._apply(experiment, decision, stats, versions)
                done.append((experiment.experiment_id, decision))
        self.invalidate()
        return done

    def _apply(
        self, experiment: Experiment, decision: Decision, stats: dict[str, VariantStats], versions: dict[str, str]
    ) -> None:
        latest = self.store.get(experiment.experiment_id)
        if latest is None or (latest.status, latest.stage, latest.looks) != (
            experiment.status,
            experiment.stage,
            experiment.looks,
        ):
            return  # another replica got there first
        now = datetime.now(UTC)
        if decision.action == "advance":
            update = {"stage": experiment.stage + 1, "stage_start": {n: s.impressions for n, s in stats.items()}}
        elif decision.action == "look":
            update = {"looks": experiment.looks + 1}
        else:
            status = {"promote": "promoted", "rollback": "rolled_back", "complete": "completed"}[decision.action]
            update = {"status": status, "stopped_at": now, "winner": decision.winner, "outcome": decision.reason}
            if decision.action == "promote":
                if self.promote is None:
                    return
                self.promote(
                    experiment.model_name,
                    versions[decision.winner],
                    f"experiment {experiment.experiment_id}: {decision.reason}",
                )
        self.store.save(experiment.model_copy(update=update))
        log.info("experiment %s: %s (%s)", experiment.experiment_id, decision.action, decision.reason)


def run_controller(router: ExperimentRouter, stop: threading.Event, every_s: float) -> None:
    """Background thread of `streamrec serve`."""
    while not stop.is_set():
        try:
            router.step()
        except Exception as error:  # noqa: BLE001 -- Redis down: try again later
            log.warning("experiment step failed: %s", error)
        stop.wait(every_s)
