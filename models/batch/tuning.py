"""Hyperparameter search for the ranker with Optuna, within a time budget (``streamrec train
--tune SECONDS``). The objective is NDCG@10 on the ranker's own early-stopping lists of the
validation window, never the test window."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from models.batch.ranker import RankerConfig, TwoStageModel, fit_ranker


def tune_ranker(
    model: TwoStageModel,
    features: np.ndarray,
    labels: np.ndarray,
    groups: list[int],
    budget_s: float,
    seed: int = 0,
    progress=lambda _: None,
) -> tuple[RankerConfig, dict[str, float]]:
    """The best RankerConfig found in ``budget_s`` seconds (the current one is trial 0)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = model.config

    def objective(trial: optuna.Trial) -> float:
        model.config = replace(
            base,
            num_leaves=trial.suggest_int("num_leaves", 3, 63, log=True),
            min_child_samples=trial.suggest_int("min_child_samples", 5, 300, log=True),
            learning_rate=trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        )
        return fit_ranker(model, features, labels, groups).get("ranker_valid_ndcg@10", 0.0)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial(
        {
            "num_leaves": base.num_leaves,
            "min_child_samples": base.min_child_samples,
            "learning_rate": base.learning_rate,
        }
    )
    study.optimize(objective, timeout=budget_s)
    best = replace(base, **study.best_params)
    progress(
        f"tuning: {len(study.trials)} trials in {budget_s:.0f}s; best valid NDCG@10 "
        f"{study.best_value:.4f} with {study.best_params}"
    )
    model.config = best
    return best, {"tuning_trials": float(len(study.trials)), "tuning_best_valid_ndcg@10": float(study.best_value)}
