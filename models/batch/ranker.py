"""The two-stage recommender: candidates from every generator, features, LightGBM LambdaMART.

:class:`TwoStageModel` is what gets registered and served: it holds the fitted generators,
item statistics and the ranker, and recommends from a history alone (unknown users included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.batch.data import graded_labels
from models.batch.explanations import explain
from models.batch.generators import Vocabulary, top_k
from models.batch.online_features import ONLINE_FEATURES, Snapshot, SnapshotLookup, online_columns

SESSION_ITEMS = 10  # the newest history items that stand for the session


@dataclass
class RankerConfig:
    candidates_per_generator: int = 50
    n_estimators: int = 300
    learning_rate: float = 0.05
    # small trees, large leaves: of three settings tried on ML latest-small, the best on the
    # validation lists (NDCG@10 0.157 vs 0.147 for 31 leaves / 20 samples)
    num_leaves: int = 7
    min_child_samples: int = 100
    early_stopping: int = 50
    seed: int = 0


@dataclass
class TwoStageModel:
    vocab: Vocabulary
    generators: dict  # name -> fitted generator (score(history) over vocab)
    item_log_count: np.ndarray
    item_mean_grade: np.ndarray
    item_log_recent: np.ndarray  # interactions in the last tenth of the fit data's time span
    config: RankerConfig = field(default_factory=RankerConfig)
    booster: lgb.Booster | None = None
    online: bool = False  # ranks with the online store's features too (models.batch.online_features)
    popular_now_weight: float = 0.0  # serving's fusion with what is popular right now (models.batch.fusion)

    @property
    def feature_names(self) -> list[str]:
        names = []
        for g in self.generators:
            names += [f"{g}_score", f"{g}_rank", f"{g}_score_vs_best"]
        return (
            names
            + [
                "item_log_count",
                "item_mean_grade",
                "item_log_recent",
                "history_log_length",
                "history_mean_log_count",
                "item_vs_history_popularity",
                "similar_to_last",
            ]
            + (["similar_to_session", *ONLINE_FEATURES] if self.online else [])
        )

    def pool(self, history: Sequence[str], exclude: Sequence[str] = ()) -> np.ndarray:
        """Item indices: the union of every generator's top candidates (history and ``exclude`` left out)."""
        return self._pool(self._scores(history), self._seen(history, exclude))[0]

    def candidates(
        self, history: Sequence[str], exclude: Sequence[str] = (), snapshot: Snapshot | SnapshotLookup | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, feature matrix) of the union of every generator's top candidates. With
        online features, ``snapshot`` is what the online store held at request time (or a lookup
        that reads it for the candidates)."""
        scores = self._scores(history)
        pool, tops = self._pool(scores, self._seen(history, exclude))
        if callable(snapshot):
            snapshot = snapshot(self.snapshot_items(history, pool)) if self.online and len(pool) else None
        return pool, self._features(history, scores, pool, tops, snapshot)

    def rows_for(self, history: Sequence[str], items: Sequence[str], snapshot: Snapshot | None = None) -> np.ndarray:
        """Feature rows of given known ``items`` for this history, as they would be as candidates
        (an item outside a generator's top gets the rank past its last): a shown list's rows."""
        scores = self._scores(history)
        candidates, tops = self._pool(scores, self._seen(history, ()))
        pool = self.vocab.indices(items)
        return self._features(history, scores, pool, tops, snapshot, np.concatenate([candidates, pool]))

    def snapshot_items(self, history: Sequence[str], pool: np.ndarray) -> list[str]:
        """The items whose rows a snapshot must hold: the candidates and the session's items."""
        return [self.vocab.items[i] for i in pool] + list(history[-SESSION_ITEMS:])

    def _scores(self, history: Sequence[str]) -> dict[str, np.ndarray]:
        return {name: g.score(history) for name, g in self.generators.items()}

    def _seen(self, history: Sequence[str], exclude: Sequence[str]) -> np.ndarray:
        return np.concatenate([self.vocab.indices(history), self.vocab.indices(exclude)])

    def _pool(self, scores: dict[str, np.ndarray], seen: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        tops = {name: top_k(s, self.config.candidates_per_generator, seen) for name, s in scores.items()}
        pool = np.unique(np.concatenate(list(tops.values()))) if tops else np.empty(0, np.int64)
        return pool, tops

    def _features(self, history, scores, pool, tops, snapshot: Snapshot | None, reference=None) -> np.ndarray:
        """``reference``: the items a score is compared with (``*_score_vs_best``); the pool by default."""
        known = self.vocab.indices(history)
        reference = pool if reference is None else reference
        n = self.config.candidates_per_generator
        columns = []
        for name, s in scores.items():
            rank = np.full(len(self.vocab), n + 1, dtype=np.float32)
            rank[tops[name]] = np.arange(1, len(tops[name]) + 1)
            best = float(np.max(s[reference])) if len(reference) else 0.0
            columns += [s[pool], rank[pool], s[pool] / best if best > 0 else np.zeros(len(pool))]
        knn = self.generators.get("item_knn")
        last = history[-1] if len(history) else None
        similar = (
            knn.combine([self.vocab.index[last]], [1.0])[pool]
            if knn is not None and last in self.vocab.index
            else np.zeros(len(pool))
        )
        taste = float(self.item_log_count[known].mean()) if len(known) else 0.0
        columns += [
            self.item_log_count[pool],
            self.item_mean_grade[pool],
            self.item_log_recent[pool],
            np.full(len(pool), np.log1p(len(history))),
            np.full(len(pool), taste),
            self.item_log_count[pool] - taste,
            similar,
        ]
        if self.online:
            recent = [self.vocab.index[i] for i in history[-SESSION_ITEMS:] if i in self.vocab.index]
            columns.append(
                knn.combine(recent, [1.0 / len(recent)] * len(recent))[pool]
                if knn is not None and recent
                else np.zeros(len(pool))
            )
        matrix = np.column_stack(columns).astype(np.float32) if len(pool) else np.empty((0, len(columns)))
        if self.online:
            items = [self.vocab.items[i] for i in pool]
            matrix = np.hstack([matrix, online_columns(snapshot, items, history[-SESSION_ITEMS:])])
        return matrix

    def recommend(
        self,
        history: Sequence[str],
        k: int = 10,
        exclude: Sequence[str] = (),
        features: Snapshot | SnapshotLookup | None = None,
    ) -> list[tuple[str, float]]:
        """The top ``k`` (item, score), best first. ``features``: the online store's :class:`Snapshot`
        for this request, or a lookup (candidate ids -> snapshot); read only by a model with online features."""
        return self.recommend_with_rows(history, k, exclude, features)[0]

    def recommend_with_rows(
        self,
        history: Sequence[str],
        k: int = 10,
        exclude: Sequence[str] = (),
        features: Snapshot | SnapshotLookup | None = None,
    ) -> tuple[list[tuple[str, float]], dict[str, np.ndarray]]:
        """:meth:`recommend`, and the feature row (in :attr:`feature_names` order) each returned
        item was ranked with: what the feature log records. No rows when a generator ranks alone."""
        rows: dict[str, np.ndarray] = {}
        if self.booster is None:  # no ranker (a generator served alone): its own score, as evaluated
            pool = self.pool(history, exclude)
            scores = next(iter(self.generators.values())).score(history)[pool]
        else:
            pool, matrix = self.candidates(history, exclude, features)
            scores = self.booster.predict(matrix, num_threads=1) if len(pool) else np.empty(0)
        order = np.argsort(-scores, kind="stable")[:k]
        if self.booster is not None:
            rows = {self.vocab.items[pool[i]]: matrix[i] for i in order}
        return [(self.vocab.items[pool[i]], float(scores[i])) for i in order], rows

    def alone(self, name: str) -> TwoStageModel:
        """This model serving one of its generators alone: the same candidates and exclusions, ranked
        by that generator's score (no ranker). What gets served when a baseline beats the ranker.
        The popularity generator stays for the fallback list."""
        keep = {name: self.generators[name]} | {g: m for g, m in self.generators.items() if g == "popularity"}
        return TwoStageModel(
            self.vocab, keep, self.item_log_count, self.item_mean_grade, self.item_log_recent, self.config, booster=None
        )

    @property
    def serves(self) -> str:
        """What ranks: the LambdaMART ranker, or the one generator it serves alone."""
        return "ranker" if self.booster is not None else next(iter(self.generators))

    def popular(self, n: int = 200) -> list[str]:
        """The ``n`` most popular items (the popularity generator): the fallback list serving uses."""
        if "popularity" not in self.generators:
            return []
        scores = self.generators["popularity"].scores
        return [self.vocab.items[i] for i in np.argsort(-scores, kind="stable")[:n]]

    def reasons(
        self,
        history: Sequence[str],
        items: Sequence[str],
        top: int = 2,
        exclude: Sequence[str] = (),
        features: Snapshot | SnapshotLookup | None = None,
    ) -> dict[str, list[str]]:
        """Each item's top reasons in words (from its feature contributions); ``exclude`` and
        ``features`` as the ranking had them, so the reasons explain the list that was served."""
        contributions = self.contributions(history, items, exclude, features)
        return {item: explain(values, top) for item, values in contributions.items()}

    def contributions(
        self,
        history: Sequence[str],
        items: Sequence[str],
        exclude: Sequence[str] = (),
        features: Snapshot | SnapshotLookup | None = None,
    ) -> dict[str, dict[str, float]]:
        """LightGBM feature contributions (SHAP values) per item, for explanations."""
        if self.booster is None:
            return {}
        pool, matrix = self.candidates(history, exclude, features)
        position = {self.vocab.items[i]: n for n, i in enumerate(pool)}
        rows = [position[i] for i in items if i in position]
        if not rows:
            return {}
        values = self.booster.predict(matrix[rows], pred_contrib=True)
        names = self.feature_names
        return {
            self.vocab.items[pool[r]]: dict(zip(names, map(float, v[:-1]), strict=True))
            for r, v in zip(rows, values, strict=True)
        }


def item_statistics(df: pd.DataFrame, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per item: log count, mean grade, log count in the last tenth of the time span."""
    known = df[df["item_id"].isin(vocab.index)]
    idx = known["item_id"].map(vocab.index).to_numpy()
    counts = np.bincount(idx, minlength=len(vocab)).astype(np.float32)
    grades = np.bincount(idx, weights=graded_labels(known).to_numpy(), minlength=len(vocab))
    recent_from = known["timestamp"].quantile(0.9) if len(known) else None
    recent = (
        np.bincount(idx[(known["timestamp"] >= recent_from).to_numpy()], minlength=len(vocab))
        if len(known)
        else np.zeros(len(vocab))
    )
    return np.log1p(counts), (grades / np.maximum(counts, 1)).astype(np.float32), np.log1p(recent).astype(np.float32)


def training_frame(
    model: TwoStageModel,
    history: Mapping[str, list[str]],
    labels: Mapping[str, Mapping[str, int]],
    snapshots: Mapping[str, Snapshot] | None = None,
):
    """Candidate rows for the users of ``labels``: (features, graded label, group sizes).
    Label = 1 + the best grade of an item taken up in the window, 0 otherwise; users whose
    candidates hold no taken-up item are left out (nothing to learn from their list).
    ``snapshots``: per user, the online store as of the example's time (point in time)."""
    xs, ys, groups = [], [], []
    for user, taken in labels.items():
        pool, features = model.candidates(history.get(user, []), snapshot=(snapshots or {}).get(user))
        y = np.array([1 + taken[model.vocab.items[i]] if model.vocab.items[i] in taken else 0 for i in pool])
        if len(pool) and y.max() > 0:
            xs.append(features)
            ys.append(y)
            groups.append(len(pool))
    if not xs:
        return np.empty((0, len(model.feature_names))), np.empty(0), []
    return np.vstack(xs), np.concatenate(ys), groups


def fit_ranker(
    model: TwoStageModel, features: np.ndarray, labels: np.ndarray, groups: list[int], holdout_share: float = 0.2
) -> dict[str, float]:
    """LambdaMART on the candidate rows; early stopping on the last ``holdout_share`` of groups."""
    c = model.config
    if len(groups) < 5:
        model.booster = None
        return {"ranker_groups": float(len(groups))}
    cut = max(1, int(len(groups) * (1 - holdout_share)))
    rows = int(np.sum(groups[:cut]))
    ranker = lgb.LGBMRanker(
        objective="lambdarank",
        n_estimators=c.n_estimators,
        learning_rate=c.learning_rate,
        num_leaves=c.num_leaves,
        min_child_samples=c.min_child_samples,
        random_state=c.seed,
        verbose=-1,
        n_jobs=2,
    )
    ranker.fit(
        features[:rows],
        labels[:rows],
        group=groups[:cut],
        eval_X=(features[rows:],),
        eval_y=(labels[rows:],),
        eval_group=[groups[cut:]],
        eval_names=["valid"],
        eval_at=[10],
        callbacks=[lgb.early_stopping(c.early_stopping, verbose=False), lgb.log_evaluation(0)],
    )
    model.booster = ranker.booster_
    return {
        "ranker_groups": float(len(groups)),
        "ranker_rows": float(len(labels)),
        "ranker_best_iteration": float(ranker.best_iteration_ or c.n_estimators),
        "ranker_valid_ndcg@10": float(ranker.best_score_["valid"]["ndcg@10"]),
    }
