"""A service's Prometheus registry (with the process's own ``process_*`` and ``python_info``
metrics), served on localhost unless told otherwise, on the configured port or the next free one.

>>> from prometheus_client import generate_latest
>>> b"process_cpu_seconds_total" in generate_latest(service_registry())
True
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector, start_http_server


def service_registry() -> CollectorRegistry:
    """A registry of one service: its own metrics go here, next to CPU, memory, open files and
    start time of the process (``process_*``) and the Python version (``python_info``)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def serve_registry(
    registry: CollectorRegistry, port: int, tries: int = 20, host: str = "127.0.0.1"
) -> tuple[int | None, object | None]:
    """(port, server) it listens on -- ``server.shutdown()`` stops it; (None, None) when ``port``
    is 0 (off) or no port of the range was free."""
    if not port:
        return None, None
    for candidate in range(port, port + tries):
        try:
            server, _ = start_http_server(candidate, addr=host, registry=registry)
            return candidate, server
        except OSError:
            continue
    return None, None
