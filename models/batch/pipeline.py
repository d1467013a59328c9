"""The training job, pure: interaction frame in, a fitted :class:`TwoStageModel` and an
evaluation table out (our ranker, the sequence model and the baselines on one split).

Stage A fits the generators on the training part and learns the ranker on the validation
window's candidates; stage B refits the generators on training + validation and evaluates
everything on the test window. The model of stage B is the one that is registered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from models.batch.data import Split, histories, next_targets, per_user_split, targets, temporal_split
from models.batch.fusion import FUSE_DEPTH, choose_now_weight, popular_before
from models.batch.generators import EASE, ItemKNN, Popularity, Vocabulary, top_k
from models.batch.impressions import choice_scores, history_before, impression_frame, impression_lists, merge
from models.batch.metrics import evaluate, paired_interval
from models.batch.online_features import Snapshot
from models.batch.ranker import (
    SESSION_ITEMS,
    RankerConfig,
    TwoStageModel,
    fit_ranker,
    item_statistics,
    training_frame,
)
from models.batch.sequence import SASRec

OURS = "two-stage LambdaMART"

# (user, time, candidate items) requests -> the online store's snapshot for each, as of its time
PointInTime = Callable[[Sequence[tuple[str, float, Sequence[str]]]], list[Snapshot]]


@dataclass
class TrainConfig:
    # global | per_user | auto: the global time cut, unless it leaves fewer than
    # auto_min_test_users users to test on (streams whose users come in bursts): then per user
    split: str = "auto"
    auto_min_test_users: int = 200
    valid_share: float = 0.1
    test_share: float = 0.1
    k: int = 10
    ease_l2: float = 250.0
    ease_max_items: int = 4000
    knn_neighbours: int = 100
    sasrec_epochs: int = 10
    use_sasrec: bool = True
    min_events: int = 1000
    tune_budget_s: float = 0.0  # > 0: Optuna search of the ranker's settings for this long
    online_features: bool = True  # rank with the online store's features (when a point-in-time source is given)
    popular_now_events: int = 10_000  # the window serving counts "popular right now" over (0: no fusion)
    impressions: bool = True  # the ranker learns from the visits' shown-and-chosen lists too (models.batch.impressions)
    ranker: RankerConfig = field(default_factory=RankerConfig)


@dataclass
class TrainResult:
    model: TwoStageModel
    table: dict[str, dict[str, float]]  # model name -> metrics on the test window
    stats: dict[str, float]
    timings: dict[str, float]
    split: Split
    test_histories: dict[str, list[str]]
    test_targets: dict[str, dict[str, int]]
    test_times: dict[str, float] = field(default_factory=dict)  # per test user: when their test window opens
    point_in_time: PointInTime | None = None
    per_user: dict[str, list[float]] = field(default_factory=dict)  # row -> each test user's ndcg@k

    def interval(self, a: str, b: str, confidence: float = 0.95) -> tuple[float, float]:
        """Bootstrap interval of ndcg@k(a) - ndcg@k(b) over the test users."""
        return paired_interval(self.per_user[a], self.per_user[b], confidence)

    @property
    def runner_up(self) -> str | None:
        """The second-best row (ndcg@k), the one the choice of :attr:`best` is measured against."""
        rest = {n: m for n, m in self.table.items() if n != self.best}
        return best_of(rest, f"ndcg@{self.k}") if rest else None

    def evaluate_others(self, others: dict) -> dict[str, dict[str, float]]:
        """Other models (a champion) on exactly this holdout, with features as of the same times."""
        seen = pd.concat([self.split.train, self.split.valid])
        snapshots = snapshots_at(
            self.point_in_time, [self.model, *others.values()], self.test_histories, self.test_times
        )
        return evaluate_models(
            self.model, self.test_histories, self.test_targets, seen, self.k, others, snapshots, self.per_user
        )

    def choice(self, models: Mapping[str, object]) -> dict[str, list[float]]:
        """Per visit of the test window that showed something chosen and something not, how well each
        model orders what was shown by what was chosen (:func:`models.batch.impressions.choice_scores`),
        features as of each visit's start."""
        seen = pd.concat([self.split.train, self.split.valid])
        visits = shown_visits(histories(seen), self.split.test, self.point_in_time)
        return {name: choice_scores(model, *visits) for name, model in models.items()}

    @property
    def best_baseline(self) -> tuple[str, float]:
        key = f"ndcg@{self.k}"
        name = max((n for n in self.table if n != OURS and n != "sasrec"), key=lambda n: self.table[n][key])
        return name, self.table[name][key]

    @property
    def k(self) -> int:
        return int(next(iter(self.table.values()))["k"])

    @property
    def best(self) -> str:
        """The row of the table that ranks best on the holdout (ndcg@k): our ranker or a baseline."""
        return best_of(self.table, f"ndcg@{self.k}")

    def model_for(self, name: str) -> TwoStageModel:
        """The servable model behind a row of the table."""
        return self.model if name == OURS else self.model.alone(name)


def best_of(table: dict[str, dict[str, float]], metric: str) -> str:
    """The best row by ``metric``; our ranker wins ties.

    >>> best_of({OURS: {"ndcg@10": 0.2}, "ease": {"ndcg@10": 0.2}, "item_knn": {"ndcg@10": 0.25}}, "ndcg@10")
    'item_knn'
    """
    return max(table, key=lambda name: (table[name][metric], name == OURS))


def choose_split(df: pd.DataFrame, config: TrainConfig) -> Split:
    """The split ``config.split`` names; ``auto``: the global time cut unless fewer than
    ``auto_min_test_users`` users with a history are active in its test window."""
    if config.split == "per_user":
        return per_user_split(df, config.valid_share, config.test_share)
    split = temporal_split(df, config.valid_share, config.test_share)
    if config.split == "auto":
        before = set(split.train["user_id"]) | set(split.valid["user_id"])
        if len(set(split.test["user_id"]) & before) < config.auto_min_test_users:
            return per_user_split(df, config.valid_share, config.test_share)
    return split


def window_starts(window: pd.DataFrame) -> dict[str, float]:
    """Per user, the time (epoch seconds) of their first event in ``window``: the examples' time."""
    firsts = window.groupby("user_id")["timestamp"].min()
    return {user: ts.timestamp() for user, ts in firsts.items()}


def snapshots_at(
    point_in_time: PointInTime | None,
    models: Sequence,
    history: Mapping[str, list[str]],
    times: Mapping[str, float],
) -> dict[str, Snapshot]:
    """Per user, the online store's snapshot at ``times[user]`` for the candidates of every model
    that reads online features (none: no snapshots)."""
    online = [m for m in models if getattr(m, "online", False)]
    if point_in_time is None or not online:
        return {}
    requests = []
    for user, at in times.items():
        past = history.get(user, [])
        items = {i for m in online for i in m.snapshot_items(past, m.pool(past))}
        requests.append((user, at, sorted(items)))
    return dict(zip(times, point_in_time(requests), strict=True))


def shown_visits(history, window: pd.DataFrame, point_in_time: PointInTime | None) -> tuple[list, list, list]:
    """The impression lists of ``window``, each visit's history and its snapshot as of its start."""
    visits = impression_lists(window)
    before = history_before(history, window, visits)
    snapshots = (
        point_in_time([(v.user, v.at, [*v.items, *h[-SESSION_ITEMS:]]) for v, h in zip(visits, before, strict=True)])
        if point_in_time is not None and visits
        else [None] * len(visits)
    )
    return visits, before, snapshots


def shown_frame(model, history, window: pd.DataFrame, point_in_time: PointInTime | None) -> tuple:
    """The impression lists of ``window`` as training rows, with features as of each visit's start."""
    return impression_frame(model, *shown_visits(history, window, point_in_time))


def make_generators(config: TrainConfig) -> dict:
    gens = {
        "popularity": Popularity(half_life_days=None),
        "item_knn": ItemKNN(neighbours=config.knn_neighbours),
        "ease": EASE(l2=config.ease_l2, max_items=config.ease_max_items),
    }
    if config.use_sasrec:
        gens["sasrec"] = SASRec(epochs=config.sasrec_epochs)
    return gens


def fit_two_stage(
    df: pd.DataFrame, config: TrainConfig, timings: dict, progress: Callable[[str], None]
) -> TwoStageModel:
    vocab = Vocabulary.from_frame(df)
    generators = make_generators(config)
    for name, g in generators.items():
        began = time.perf_counter()
        g.fit(df, vocab)
        timings[f"fit_{name}"] = timings.get(f"fit_{name}", 0.0) + time.perf_counter() - began
        progress(f"fitted {name} on {len(df):,} events ({timings[f'fit_{name}']:.1f}s)")
    return TwoStageModel(vocab, generators, *item_statistics(df, vocab), config.ranker)


def train_and_evaluate(
    df: pd.DataFrame,
    config: TrainConfig | None = None,
    progress: Callable[[str], None] = lambda _: None,
    point_in_time: PointInTime | None = None,
) -> TrainResult:
    """``point_in_time``: the online store's features as they were at a time (a replay of the
    feature code over ``df``); with it, the ranker learns from and is evaluated with them."""
    config = config or TrainConfig()
    online = point_in_time is not None and config.online_features
    began = time.perf_counter()
    timings: dict[str, float] = {}
    if len(df) < config.min_events:
        raise ValueError(f"not enough data to train: {len(df)} events (need {config.min_events})")
    split = choose_split(df, config)
    if split.train.empty or split.valid.empty or split.test.empty:
        raise ValueError(
            f"not enough data to split: {len(df)} events "
            f"(train {len(split.train)}, valid {len(split.valid)}, test {len(split.test)})"
        )
    # stage A: the ranker learns from the validation window
    stage_a = fit_two_stage(split.train, config, timings, progress)
    stage_a.online = online
    history_a = histories(split.train)
    t = time.perf_counter()
    labels_a = targets(history_a, split.valid)
    snapshots_a = snapshots_at(
        point_in_time, [stage_a], history_a, window_starts(split.valid[split.valid["user_id"].isin(labels_a)])
    )
    timings["point_in_time"] = time.perf_counter() - t
    features, labels, groups = training_frame(stage_a, history_a, labels_a, snapshots_a)
    if config.impressions:
        shown = shown_frame(stage_a, history_a, split.valid, point_in_time if online else None)
        progress(f"ranker: {len(shown[2]):,} impression lists besides {len(groups):,} candidate lists")
        features, labels, groups = merge((features, labels, groups), shown)
    tuning: dict[str, float] = {}
    if config.tune_budget_s > 0 and len(groups) >= 5:
        from models.batch.tuning import tune_ranker

        _, tuning = tune_ranker(stage_a, features, labels, groups, config.tune_budget_s, progress=progress)
    fit_stats = fit_ranker(stage_a, features, labels, groups) | tuning
    timings["fit_ranker"] = time.perf_counter() - t
    progress(f"ranker: {len(groups):,} lists, {len(labels):,} rows ({timings['fit_ranker']:.1f}s)")
    # stage B: refit the generators on train + valid, keep the ranker, evaluate on test
    seen = pd.concat([split.train, split.valid])
    model = fit_two_stage(seen, config, timings, progress)
    model.booster, model.config, model.online = stage_a.booster, stage_a.config, online
    history_b = histories(seen)
    test_targets = targets(history_b, split.test)
    t = time.perf_counter()
    test_times = window_starts(split.test[split.test["user_id"].isin(test_targets)])
    snapshots_b = snapshots_at(point_in_time, [model], history_b, test_times)
    per_user: dict[str, list[float]] = {}
    table = evaluate_models(model, history_b, test_targets, seen, config.k, snapshots=snapshots_b, per_user=per_user)
    timings["evaluate"] = time.perf_counter() - t
    t = time.perf_counter()
    fusion = choose_fusion(model, df, history_b, next_targets(history_b, split.test), test_times, snapshots_b, config)
    timings["popular_now"] = time.perf_counter() - t
    progress(f"popular-now weight {model.popular_now_weight:g} (NDCG@{config.k} by weight: {fusion})")
    timings["total"] = time.perf_counter() - began
    stats = (
        {
            "events": float(len(df)),
            "train_events": float(len(split.train)),
            "valid_events": float(len(split.valid)),
            "test_events": float(len(split.test)),
            "test_users": float(len(test_targets)),
            "items": float(len(model.vocab)),
        }
        | fit_stats
        | {"popular_now_weight": model.popular_now_weight}
    )
    stats |= {f"ndcg_popular_now_{w:g}": v for w, v in fusion.items()}
    return TrainResult(
        model, table, stats, timings, split, history_b, test_targets, test_times, point_in_time, per_user
    )


def choose_fusion(model, df, history, test_targets, test_times, snapshots, config: TrainConfig) -> dict[float, float]:
    """Sets ``model.popular_now_weight`` (:func:`models.batch.fusion.choose_now_weight` on the
    holdout); returns the mean NDCG@k at each weight."""
    if config.popular_now_events <= 0 or not test_targets:
        return {}
    relevant = {u: set(t) for u, t in test_targets.items() if u in test_times}
    lists = {u: model.recommend(history[u], FUSE_DEPTH, features=snapshots.get(u)) for u in relevant}
    now = popular_before(df, {u: test_times[u] for u in relevant}, history, config.popular_now_events, FUSE_DEPTH)
    model.popular_now_weight, by_weight = choose_now_weight(lists, now, relevant, config.k)
    return {w: round(v, 4) for w, v in by_weight.items()}


def evaluate_models(
    model: TwoStageModel,
    history: dict[str, list[str]],
    test_targets: dict[str, dict[str, int]],
    seen: pd.DataFrame,
    k: int,
    others: dict | None = None,
    snapshots: Mapping[str, Snapshot] | None = None,
    per_user: dict[str, list[float]] | None = None,
) -> dict[str, dict[str, float]]:
    """Our model and each of its generators alone (the baselines), on the same users and targets;
    ``snapshots``: per user, the online features at the time of their test window; ``per_user``
    receives each row's per-user ndcg@k (same user order for every row)."""
    snapshots, per_user = snapshots or {}, per_user if per_user is not None else {}
    relevant = {u: set(t) for u, t in test_targets.items()}
    popularity = seen["item_id"].value_counts().to_dict()
    knn = model.generators.get("item_knn")
    similarity = knn.pair if knn is not None else None
    n_catalog = len(model.vocab)
    table = {}
    for name, g in model.generators.items():
        ranked = {
            u: [model.vocab.items[i] for i in top_k(g.score(history[u]), k, model.vocab.indices(history[u]))]
            for u in relevant
        }
        per_user[name] = []
        table[name] = evaluate(ranked, relevant, k, n_catalog, popularity, similarity, per_user[name]) | {"k": float(k)}
    for name, m in {OURS: model, **(others or {})}.items():
        ranked = {u: [i for i, _ in m.recommend(history[u], k, features=snapshots.get(u))] for u in relevant}
        per_user[name] = []
        table[name] = evaluate(ranked, relevant, k, n_catalog, popularity, similarity, per_user[name]) | {"k": float(k)}
    return table


def format_table(table: dict[str, dict[str, float]], k: int = 10) -> str:
    cols = [f"ndcg@{k}", f"recall@{k}", f"map@{k}", f"hit_rate@{k}", f"coverage@{k}", "diversity", "novelty"]
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    best = max(v[f"ndcg@{k}"] for v in table.values())
    for name, m in sorted(table.items(), key=lambda kv: -kv[1][f"ndcg@{k}"]):
        cells = [
            f"**{m[c]:.4f}**" if c == f"ndcg@{k}" and m[c] == best else f"{m.get(c, float('nan')):.4f}" for c in cols
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluation_chart(table: dict[str, dict[str, float]], path, k: int = 10) -> None:
    """A grouped bar chart (HTML, plotly) of the ranking metrics of every model."""
    import plotly.graph_objects as go

    metrics = [f"ndcg@{k}", f"recall@{k}", f"map@{k}", f"hit_rate@{k}", f"coverage@{k}"]
    order = sorted(table, key=lambda name: -table[name][f"ndcg@{k}"])
    figure = go.Figure([go.Bar(name=name, x=metrics, y=[table[name].get(m, 0.0) for m in metrics]) for name in order])
    figure.update_layout(
        barmode="group",
        title=f"Offline evaluation on the test window ({int(table[order[0]]['users'])} users)",
        yaxis_title="value",
        template="plotly_white",
    )
    figure.write_html(str(path), include_plotlyjs=True)  # readable offline
