"""Pure ML, no Kafka or HTTP: online learners, drift detectors, retrain policy, candidate
generators, ranker, sequence model, evaluation metrics, registry helpers.

Filled by the learning, drift and training work (issues 4 and 5).
"""
