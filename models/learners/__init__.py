"""Online learners behind one River-style protocol.

>>> from models.learners import MatrixFactorization
>>> mf = MatrixFactorization(seed=1)
>>> mf.learn_one("u1", "i1", 5.0)
>>> isinstance(mf.predict_one("u1", "i1"), float), mf.rank("u1", {"i1", "i2"})[0] in {"i1", "i2"}
(True, True)
"""

from models.learners.base import Learner
from models.learners.contextual import ContextualLogistic
from models.learners.matrix_factorization import MatrixFactorization
from models.learners.targets import implicit_target, is_positive

LEARNERS: tuple[type[Learner], ...] = (MatrixFactorization, ContextualLogistic)
IMPLICIT_RANKER = dict(n_factors=20, negatives=4)  # MatrixFactorization settings for event streams

__all__ = [
    "IMPLICIT_RANKER",
    "LEARNERS",
    "ContextualLogistic",
    "Learner",
    "MatrixFactorization",
    "implicit_target",
    "is_positive",
]
