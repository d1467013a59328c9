"""Evaluation protocols: prequential (test-then-train) for online learners."""

from models.evaluation.prequential import Prequential, PrequentialStep, ProbabilisticPrequential

__all__ = ["Prequential", "PrequentialStep", "ProbabilisticPrequential"]
