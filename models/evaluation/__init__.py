"""Evaluation protocols: prequential (test-then-train) for online learners."""
from models.evaluation.prequential import Prequential, PrequentialStep

__all__ = ["Prequential", "PrequentialStep"]
