"""What a demo run is asked to do (DemoConfig) and what it saw (DemoResult, drawn by the report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DemoConfig:
    events: int = 36_000
    shift_at: float = 0.5
    seed: int = 7
    rate: float = 1_500.0  # events/s after the first model, so the loop can be watched
    dataset: Path | None = None  # MovieLens dir or OTTO jsonl instead of the synthetic stream
    timeout_s: float = 900.0
    sample_users: int = 2
    # after the loop closes: previous vs new champion, Thompson sampling, deciding the promotion
    experiment_requests: int = 6_000  # at most (0 = skip); it stops when the experiment has decided
    experiment_min_impressions: int = 50  # per variant at its first look; the horizon is 32 x this


@dataclass
class DemoResult:
    samples: list[dict] = field(default_factory=list)  # one per second: produced, rates, lag, metric, champion
    markers: list[dict] = field(default_factory=list)  # drift events, retrain requests, model updates
    answers: dict[str, dict] = field(default_factory=dict)  # "before"/"after" -> user -> answer
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds since start
    evaluation: dict | None = None  # the promoted version's offline table (ours vs baselines)
    first_version: str | None = None
    final_version: str | None = None  # the champion served at the end
    retrained_version: str | None = None  # the newest version trained after the shift (compared live)
    closed: bool = False
    note: str = ""
    shift_index: int | None = None
    item_categories: dict[str, list[str]] = field(default_factory=dict)
    experiment: dict | None = None  # results of the previous-vs-new experiment, and its allocation over time
