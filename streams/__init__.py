"""Everything that touches Kafka: message contracts, topics, producers, sources, local infra.

Public names:

- :mod:`streams.settings` -- the one :class:`Settings` object (env prefix ``STREAMREC_``).
- :mod:`streams.contracts` -- the pydantic message contracts carried on every topic.
- :mod:`streams.topics` -- ``topics.yaml`` loaded into a frozen catalog, plan/apply.
- :mod:`streams.producer` -- the event producer (idempotent, ``acks=all``, delivery reports).
- :mod:`streams.sources` -- event sources: files, the synthetic generator, public datasets.
"""
