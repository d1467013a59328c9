"""How the registry (MLflow) fails, in our terms: unreachable (:class:`RegistryUnavailable`,
worth retrying later) or refusing (a missing model or version: ``LookupError``); and a bound on
how long one of its HTTP calls may take. No MLflow import until needed."""

from __future__ import annotations

import os
from contextlib import contextmanager


class RegistryUnavailable(Exception):
    """The model registry (MLflow) could not answer."""


@contextmanager
def registry_errors(what: str):
    """MLflow's errors as RegistryUnavailable; a missing model or version as LookupError."""
    from mlflow.exceptions import MlflowException
    from requests import RequestException

    try:
        yield
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise LookupError(f"{what}: {error.message}") from None
        raise RegistryUnavailable(f"{what}: {type(error).__name__}: {error.message}") from None
    except (RequestException, OSError) as error:
        raise RegistryUnavailable(f"{what}: {type(error).__name__}: {error}") from None


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the registry could not be reached (worth retrying later), not that
    it refused what was asked.

    >>> from mlflow.exceptions import MlflowException
    >>> is_outage(MlflowException("API request to http://x/api failed with exception ConnectionError"))
    True
    >>> is_outage(MlflowException("untrusted types: LGBMRanker"))
    False
    """
    from mlflow.exceptions import MlflowException
    from requests import RequestException

    seen = error
    while seen is not None:
        if isinstance(seen, RegistryUnavailable | RequestException | ConnectionError | TimeoutError):
            return True
        if isinstance(seen, MlflowException) and "failed with exception" in seen.message:
            return True  # how MLflow's REST client reports a connection or timeout failure
        seen = seen.__cause__ or seen.__context__
    return False


def limit_http_calls(timeout_s: float, retries: int) -> None:
    """Every MLflow HTTP call in this process answers or fails within about ``timeout_s`` x
    (``retries`` + 1), instead of MLflow's defaults (120 s, 7 retries with back-off: minutes).
    MLflow reads these variables per call; values an operator set are kept."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(1, round(timeout_s))))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
