"""Online features, as pure functions and state machines (no Kafka, no Redis, no Feast).

- :mod:`~streams.features.windows` -- event-time sliding windows as bucketed counters;
- :mod:`~streams.features.user` -- per-user state: windowed counts per event type, recency,
  category affinity, the last N items, sessions;
- :mod:`~streams.features.item` -- per-item state: trending (decayed) popularity, counts,
  ratios, distinct users, catalogue metadata;
- :mod:`~streams.features.offline` -- an independent recomputation from raw events, used to
  check that the online features are right.

Idempotence: each state remembers, per source partition, the last offset it applied and
ignores anything at or below it, so a re-delivered or replayed event never counts twice.
"""
