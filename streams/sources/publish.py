"""Send a stream of contracts through an :class:`EventProducer`, paced, with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from streams.core.contracts import Interaction, Message
from streams.kafka.producer import EventProducer
from streams.sources.pacing import Pacer


@dataclass
class PublishReport:
    sent_by_contract: dict[str, int] = field(default_factory=dict)
    users: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.sent_by_contract.values())


def publish(
    producer: EventProducer,
    messages: Iterable[Message],
    *,
    speed: float | None = None,
    total: int | None = None,
    show_progress: bool = True,
    label: str = "producing",
) -> PublishReport:
    """Send every message (paced by event time when ``speed`` is set), then flush."""
    report, pacer, began = PublishReport(), Pacer(speed), time.monotonic()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        disable=not show_progress,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=total, rate="")
        for n, message in enumerate(messages, start=1):
            if isinstance(message, Interaction):
                if pacer.speed is not None:
                    wait = pacer.delay(message.timestamp, time.monotonic())
                    if wait > 0:
                        time.sleep(wait)
                report.users.add(message.user_id)
            producer.send(message)
            name = type(message).__name__
            report.sent_by_contract[name] = report.sent_by_contract.get(name, 0) + 1
            if n % 2000 == 0:
                elapsed = time.monotonic() - began
                progress.update(task, completed=n, rate=f"{n / elapsed:,.0f} msg/s")
        producer.flush()
        report.seconds = time.monotonic() - began
        progress.update(task, completed=report.sent, rate=f"{report.sent / max(report.seconds, 1e-9):,.0f} msg/s")
    return report
