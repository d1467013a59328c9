"""Serve a Prometheus registry (on localhost unless told otherwise), on the configured port or the next free one."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, start_http_server


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
