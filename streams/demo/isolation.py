"""Each demo run in isolation: its own topics, consumer groups, Feast project, archive and MLflow store."""

from __future__ import annotations

from pathlib import Path

from streams.core.settings import Settings


def demo_settings(base: Settings, run: str, root: Path) -> Settings:
    """Settings of one demo run: its own topics, consumer groups, Feast project, archive and MLflow store."""
    from streams.infra.kafka import free_port

    port = base.serve_port
    try:
        import socket

        with socket.create_connection((base.serve_host, port), timeout=0.3):
            port = free_port()  # something already listens there
    except OSError:
        pass
    return base.model_copy(
        update={
            "topic_prefix": f"{base.topic_prefix}demo-{run}-",
            "worker_group": f"streamrec-demo-{run}",
            "feast_project": f"demo{run}",
            "run_dir": root,
            "archive_dir": root / "archive",
            "mlflow_tracking_uri": f"sqlite:///{root}/mlflow.db",
            "serve_port": port,
        }
    )
