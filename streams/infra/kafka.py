"""A real single-node Apache Kafka broker (KRaft, combined broker+controller) from Maven jars.

The jars come from ``infra/kafka/pom.xml`` (``mvn package`` copies the broker's runtime
classpath to ``infra/kafka/target/libs``). The same class starts the developer's broker
(``streamrec infra up``) and the throw-away brokers of the test suite (free ports, temp dir).
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from streams.core.errors import InfraError
from streams.infra.process import ManagedProcess

KAFKA_INFRA = Path(__file__).resolve().parents[2] / "infra" / "kafka"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_tool(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise InfraError(f"`{tool}` is not on PATH. {hint}")
    return path


def ensure_jars(infra_dir: Path = KAFKA_INFRA) -> Path:
    """The broker classpath directory, built with Maven on first use."""
    libs = infra_dir / "target" / "libs"
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return libs
    require_tool("java", "Kafka 4.x needs Java 17+: e.g. `apt-get install openjdk-17-jre-headless`.")
    mvn = require_tool("mvn", "The broker jars come from Maven Central: e.g. `apt-get install maven`.")
    result = subprocess.run(
        [mvn, "-B", "-q", "-f", str(infra_dir / "pom.xml"), "package"], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise InfraError(f"mvn could not fetch the Kafka jars:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return libs


class LocalKafka:
    """One broker on 127.0.0.1 with its data, config, pid file and logs under ``run_dir``."""

    def __init__(
        self,
        run_dir: Path,
        broker_port: int = 9092,
        controller_port: int = 9093,
        heap: str = "1g",
        infra_dir: Path = KAFKA_INFRA,
    ):
        self.run_dir = Path(run_dir)
        self.broker_port, self.controller_port = broker_port, controller_port
        self.heap, self.infra_dir = heap, infra_dir
        self.bootstrap = f"127.0.0.1:{broker_port}"
        self.process = ManagedProcess(
            "kafka", self.run_dir, self._argv("kafka.Kafka", str(self.config_file)), ready=self.answers
        )

    @property
    def config_file(self) -> Path:
        return self.run_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    def start(self, timeout_s: float = 90.0) -> tuple[bool, float]:
        """Fetch jars if needed, format storage once, start, wait for the admin client to answer."""
        if self.process.pid() is None and not self.answers():
            ensure_jars(self.infra_dir)
            self._write_config()
            if not (self.data_dir / "meta.properties").exists():
                self._format()
        return self.process.start(timeout_s)

    def stop(self) -> bool:
        return self.process.stop(timeout_s=30)

    def status(self) -> str:
        return self.process.status()

    def answers(self) -> bool:
        try:
            admin = AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 1000, "log_level": 0})
            return bool(admin.list_topics(timeout=1).brokers)
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False

    def _write_config(self) -> None:
        template = (self.infra_dir / "server.properties").read_text()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        self.config_file.write_text(
            template.replace("@BROKER_PORT@", str(self.broker_port))
            .replace("@CONTROLLER_PORT@", str(self.controller_port))
            .replace("@DATA_DIR@", str(self.data_dir))
        )

    def _format(self) -> None:
        argv = self._argv(
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--ignore-formatted",
            f"--cluster-id={new_cluster_id()}",
            "-c",
            str(self.config_file),
        )
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise InfraError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def _argv(self, main_class: str, *args: str) -> list[str]:
        java = shutil.which("java") or "java"
        return [
            java,
            "-Xms256m",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.run_dir / 'logs'}",
            f"-Dlog4j2.configurationFile={self.infra_dir / 'log4j2.properties'}",
            "-cp",
            str(self.infra_dir / "target" / "libs" / "*"),
            main_class,
            *args,
        ]


def new_cluster_id() -> str:
    """A random cluster id as Kafka writes them (22 url-safe base64 characters), never starting
    with "-": one in 64 did, and the storage tool read it as an option (a flaky format failure).

    >>> all(len(i) == 22 and not i.startswith("-") for i in (new_cluster_id() for _ in range(2000)))
    True
    """
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode()[:22]).startswith("-"):
        pass
    return cluster_id
