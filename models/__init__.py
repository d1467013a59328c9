"""Pure ML, no Kafka or HTTP: online learners, drift detectors, retrain policy, and later
candidate generators, ranker, sequence model, evaluation metrics, registry helpers.

- :mod:`models.learners` -- one learner protocol (``learn_one``/``predict_one``/``rank``) and
  its implementations, shared by the stream, the trainer and serving.
"""
