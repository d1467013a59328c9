"""Local infrastructure without Docker: a real Kafka broker (KRaft, from Maven Central jars),
Redis (Debian's redis-server) and an MLflow tracking server (sqlite backend).

Each service is a :class:`~streams.infra.process.ManagedProcess` with a pid file and a log
under ``Settings.run_dir``; ``up``/``down``/``status`` are idempotent.
"""

from streams.infra.services import local_services

__all__ = ["local_services"]
