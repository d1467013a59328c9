"""The Faust app behind ``streamrec worker``: thin agents around :class:`FeatureProcessor`.

Agents (all in one consumer group, so more worker processes split the partitions):
- ``user_features`` on ``interactions``: validate, dead-letter the bad, update user state and
  features, archive, and repartition the valid events by item (micro-batched records);
- ``item_features`` on ``interactions-by-item``: item state and features;
- ``item_catalog`` on ``items``: item metadata.

Every batch is acknowledged only after its effects are written (at-least-once); the states'
offset memory makes re-deliveries harmless. Failure policy, in :func:`run_guarded`:
infrastructure errors (Redis, Kafka) retry the batch with backoff and never ack early;
anything else is isolated record by record and the records that still fail are dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

import faust
import redis

from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.features.processor import BatchResult, Record
from streams.kafka.dead_letters import dead_letter
from streams.worker.backend import ProcessingBackend
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("streamrec.worker")
INFRA_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError, OSError)
MAX_BACKOFF_S = 10.0


def to_record(event) -> Record:
    m = event.message
    return Record(m.topic, m.partition, m.offset, m.key, m.value, int(m.timestamp * 1000) if m.timestamp else 0)


async def run_guarded(
    name: str,
    records: list[Record],
    process: Callable[[list[Record]], Awaitable[BatchResult]],
    metrics: WorkerMetrics,
    group: str,
) -> BatchResult:
    """Process a batch off the event loop; retry on infrastructure errors; isolate poison records."""
    backoff = 0.2
    while True:
        try:
            return await process(records)
        except INFRA_ERRORS as exc:
            metrics.retries.labels(name).inc()
            log.warning("%s: %s; retrying the batch in %.1fs", name, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        except Exception as exc:
            if len(records) == 1:
                r = records[0]
                result = BatchResult()
                result.dead_letters.append(dead_letter(exc, r.key, r.value, r.topic, r.partition, r.offset, group))
                return result
            log.exception("%s: a batch of %d failed; isolating its records", name, len(records))
            merged = BatchResult()
            for record in records:
                merged.merge(await run_guarded(name, [record], process, metrics, group))
            return merged


def create_app(settings: Settings, worker_id: str) -> faust.App:
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    group = settings.worker_group
    (settings.run_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App(
        group,
        broker=[f"kafka://{s}" for s in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        web_enabled=False,
        topic_disable_leader=True,
        topic_allow_declare=False,  # topics come from topics.yaml (`streamrec topics apply`)
        consumer_auto_offset_reset="earliest",
        broker_max_poll_records=settings.worker_batch_size,
        stream_buffer_maxsize=4 * settings.worker_batch_size,
        producer_acks=-1,
        broker_commit_interval=1.0,
        # a killed worker's partitions move to the survivors within seconds, not Faust's default minute
        broker_session_timeout=settings.worker_session_timeout_s,
        broker_heartbeat_interval=min(0.5, settings.worker_session_timeout_s / 8),  # a rebalance is seen soon
        datadir=str(settings.run_dir / "faust" / worker_id),
    )
    raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    interactions = app.topic(catalog.name("interactions"), **raw)
    by_item = app.topic(catalog.name("interactions-by-item"), **raw)
    items = app.topic(catalog.name("items"), **raw)
    dlq = app.topic(catalog.name("interactions-dlq"), **raw)
    metrics = WorkerMetrics(settings, worker_id)
    backend = ProcessingBackend(settings, catalog, in_child=settings.worker_processing_process)

    @app.task
    async def open_stores() -> None:
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            # aiokafka's loggers answered DEBUG here and built a record for every fetch (8 % of the loop)
            logging.getLogger("aiokafka").setLevel(logging.INFO)
        await backend.start()  # imports Feast (seconds); agents wait for it
        metrics.start()
        log.info("worker %s ready (group %s)", worker_id, group)

    def via(method: str, adapt=lambda records: records):
        async def process(records: list[Record]) -> BatchResult:
            return await backend.call(method, adapt(records))

        return process

    async def send_dead_letters(result: BatchResult, source: str) -> None:
        for letter in result.dead_letters:
            await dlq.send(key=letter.key, value=letter.value, headers=letter.headers)
            metrics.dead_lettered.labels(source).inc()
            log.warning("dead-lettered a record of %s: %s", source, letter.reason)

    async def batches(stream, source: str, process, finish) -> None:
        """Two batches in flight: batch n+1 is processed in the child while this process sends
        batch n's results on and acks it. Processing stays in order (n+1 starts after n's
        processing succeeded, retries included), finishing too, and a batch is acked only after
        its effects and messages are written: at-least-once as before."""
        processing = finishing = None
        in_flight: deque[asyncio.Future] = deque()
        async for events in stream.noack_take(settings.worker_batch_size, within=settings.worker_batch_wait_s):
            records = [to_record(e) for e in events]
            processing = asyncio.ensure_future(_after(processing, process, records))
            finishing = asyncio.ensure_future(
                _finish(finishing, processing, finish, stream, events, records, source, time.perf_counter())
            )
            finishing.add_done_callback(_report_failure)
            in_flight.append(finishing)
            while len(in_flight) > 1:
                await in_flight.popleft()  # raises what finishing raised: the agent crashes, nothing is acked

    def _report_failure(task: asyncio.Future) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("a batch failed after processing; it is not acked: %r", task.exception())

    async def _after(previous, process, records: list[Record]) -> BatchResult:
        if previous is not None:
            await previous
        return await process(records)

    async def _finish(previous, processing, finish, stream, events, records, source: str, began: float) -> None:
        if previous is not None:
            await previous
        await finish(await processing)
        for event in events:
            await stream.ack(event)
        metrics.observe_batch(source, records, time.perf_counter() - began, app)

    def guarded(name: str, method: str, adapt=lambda records: records):
        async def process(records: list[Record]) -> BatchResult:
            return await run_guarded(name, records, via(method, adapt), metrics, group)

        return process

    @app.agent(interactions)
    async def user_features(stream) -> None:
        async def finish(result: BatchResult) -> None:
            for partition, payload in result.forwards:
                await by_item.send(value=payload, partition=partition)
            await send_dead_letters(result, "interactions")
            metrics.record(result, "interactions")

        await batches(stream, "interactions", guarded("user_features", "process_interactions"), finish)

    @app.agent(by_item)
    async def item_features(stream) -> None:
        async def finish(result: BatchResult) -> None:
            await send_dead_letters(result, "interactions-by-item")
            metrics.record(result, "interactions-by-item")

        process = guarded("item_features", "process_item_batches", lambda rs: [r.value for r in rs if r.value])
        await batches(stream, "interactions-by-item", process, finish)

    @app.agent(items)
    async def item_catalog(stream) -> None:
        async def finish(result: BatchResult) -> None:
            await send_dead_letters(result, "items")
            metrics.record(result, "items")

        await batches(stream, "items", guarded("item_catalog", "process_catalog"), finish)

    return app
