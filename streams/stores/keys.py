"""Every Redis key streamrec writes, in one place, under one prefix (the topic prefix, so test
runs and tenants never share keys).

>>> keys = RedisKeys("t1-")
>>> keys.state("user") + "u7", keys.learner_status, keys.event_seen + "e1"
('t1-sr:user:u7', 't1-sr:learner', 't1-sr:event:e1')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RedisKeys:
    prefix: str = ""

    @property
    def root(self) -> str:
        return f"{self.prefix}sr:"

    # -- stream worker
    def state(self, kind: str) -> str:
        """Prefix of per-entity feature states (``kind``: user or item); the id follows."""
        return f"{self.root}{kind}:"

    @property
    def item_category(self) -> str:
        return f"{self.root}item-category"

    @property
    def item_users(self) -> str:
        return f"{self.root}item-users:"

    @property
    def seen_items(self) -> str:
        """Prefix of a user's full seen-set (the user id follows)."""
        return f"{self.root}seen:"

    @property
    def workers(self) -> str:
        return f"{self.root}workers"

    # -- online learner
    @property
    def learner_status(self) -> str:
        return f"{self.root}learner"

    @property
    def learner_retrain_claim(self) -> str:
        """Scale-out learners: who asked for the current retrain (and when); expires with the cooldown."""
        return f"{self.root}learner:retrain-claim"

    # -- serving: ingest dedup, experiments, cold-start exploration
    @property
    def event_seen(self) -> str:
        return f"{self.root}event:"

    @property
    def experiment_defs(self) -> str:
        return f"{self.root}exp:defs"

    @property
    def experiment(self) -> str:
        """Prefix of an experiment's keys: ``<id>:stats`` follows."""
        return f"{self.root}exp:"

    @property
    def served_list(self) -> str:
        """Prefix: recommendation id -> experiment and variant of a served list."""
        return f"{self.root}rec:"

    @property
    def converted_list(self) -> str:
        """Prefix: once-marker of a converted list."""
        return f"{self.root}conv:"

    @property
    def cold_counts(self) -> str:
        return f"{self.root}cold:"

    @property
    def cold_contexts(self) -> str:
        """The set of contexts the cold-start bandit learns apart (capped)."""
        return f"{self.root}coldctx"

    @property
    def cold_list(self) -> str:
        return f"{self.root}coldrec:"

    @property
    def cold_converted(self) -> str:
        return f"{self.root}coldconv:"
