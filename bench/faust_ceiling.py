"""Baseline for `bench worker`: a Faust agent that only decodes (same batching, uvloop).

Run as ``python -m bench.faust_ceiling TOPIC N``; prints ``RATE <events/s>`` once N events
were decoded. Reads with a fresh consumer group from the beginning of TOPIC.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

import faust
import mode.loop

from streams.core.contracts import Interaction, decode
from streams.core.settings import get_settings


def main(topic: str, expected: int) -> None:
    mode.loop.use("uvloop")  # as `streamrec worker` does, before any loop exists
    settings = get_settings()
    app = faust.App(
        f"bench-ceiling-{uuid.uuid4().hex[:6]}",
        broker=[f"kafka://{s}" for s in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        web_enabled=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_max_poll_records=settings.worker_batch_size,
        stream_buffer_maxsize=4 * settings.worker_batch_size,
        datadir=str(settings.run_dir / "faust" / "ceiling"),
    )
    source = app.topic(topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    seen = {"n": 0, "t0": 0.0}

    @app.agent(source)
    async def decode_only(stream):
        async for events in stream.take_events(settings.worker_batch_size, within=settings.worker_batch_wait_s):
            if not seen["t0"]:
                seen["t0"] = time.perf_counter()
            for event in events:
                decode(Interaction, event.value)
            seen["n"] += len(events)
            if seen["n"] >= expected:
                # Faust redirects sys.stdout into its logger; write to the real one
                sys.__stdout__.write(f"RATE {seen['n'] / (time.perf_counter() - seen['t0']):.0f}\n")
                sys.__stdout__.flush()
                os._exit(0)

    (settings.run_dir / "faust").mkdir(parents=True, exist_ok=True)
    sys.argv = [sys.argv[0], "worker", "-l", "error", "--without-web"]
    app.main()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
