"""Everything that touches Kafka: message contracts, topics, producers, sources, local infra.

Public names:

- :mod:`streams.core.settings` -- the one :class:`Settings` object (env prefix ``STREAMREC_``).
- :mod:`streams.core.contracts` -- the pydantic message contracts carried on every topic.
- :mod:`streams.core.topics` -- ``topics.yaml`` loaded into a frozen catalog, plan/apply.
- :mod:`streams.kafka.producer` -- the event producer (idempotent, ``acks=all``, delivery reports).
- :mod:`streams.sources` -- event sources: files, the synthetic generator, public datasets.
"""
