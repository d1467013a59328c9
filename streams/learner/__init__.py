"""The online learner (`streamrec learner`): prequential learning, drift, retrain requests,
snapshots published as model updates. :mod:`~streams.learner.loop` is Kafka-free."""
