"""The served model, swapped atomically: requests read one immutable :class:`Served` reference;
a reload builds the next one in the background and replaces the reference in one assignment,
so no request ever sees a half-loaded model."""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Served:
    model: object | None
    model_name: str
    version: str
    popular: list[str] = field(default_factory=list)


def popular_items(model, n: int = 200) -> list[str]:
    """The model's fallback list (its most popular items); empty without a model."""
    return model.popular(n) if model is not None else []


class ModelState:
    def __init__(self, model_name: str):
        self._served = Served(None, model_name, "none")
        self._lock = threading.Lock()  # one reload at a time; readers never take it
        self.reloads = 0
        self.registry_status: str | None = None  # the last champion check: "up" or "down: why"; None before one

    @property
    def served(self) -> Served:
        return self._served

    def install(self, model, version: str) -> Served:
        single_threaded_inference()
        served = Served(model, self._served.model_name, str(version), popular_items(model))
        self._served = served  # the atomic swap
        self.reloads += 1
        gc.freeze()  # the model's objects leave the collector: a full collection over them paused requests 194 ms
        return served

    def reload(self, load, version: str) -> bool:
        """``load(version)`` -> model, then swap; False if this version is already served."""
        with self._lock:
            if self._served.version == str(version) and self._served.model is not None:
                return False
            self.install(load(version), version)
            return True


def single_threaded_inference() -> None:
    """One intra-op thread for torch in the calling thread, and one BLAS thread for numpy: a
    request is small, and torch's thread pool fighting LightGBM's and numpy's for 2 cores made one
    recommendation 13.6 ms instead of 2.8 ms (and OpenBLAS' threads made SASRec's numpy forward
    0.44 ms instead of 0.29). Torch's setting is per thread (OpenMP), so the ranking calls this
    each time; the BLAS limit is process-wide and set once."""
    import sys

    global _blas_limited
    if not _blas_limited:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
        _blas_limited = True
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


_blas_limited = False
