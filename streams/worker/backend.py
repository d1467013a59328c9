"""Where a worker runs its batch processing: in a thread of the Faust process, or in a child
process (the default), so that Faust's event loop and the feature processing use separate
cores instead of sharing one GIL.

Both build the same :class:`FeatureProcessor` (Redis + Feast) and call the same methods; the
child is spawned (not forked: the Faust process has threads and a running loop).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.core.torch_free import hide_torch
from streams.features.processor import BatchResult, FeatureProcessor
from streams.features.wiring import build_processor

_CHILD_PROCESSOR: FeatureProcessor | None = None


def _init_child(settings: Settings) -> None:
    global _CHILD_PROCESSOR
    hide_torch()  # the child only computes features: Feast would otherwise load torch (600 MB)
    _CHILD_PROCESSOR = build_processor(settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix))


def _call_child(method: str, argument: Any) -> BatchResult:
    assert _CHILD_PROCESSOR is not None, "child processor not initialised"
    result = getattr(_CHILD_PROCESSOR, method)(argument)
    result.valid = []  # the parent does not need the decoded events; saves pickling them back
    return result


class ProcessingBackend:
    def __init__(self, settings: Settings, catalog: TopicCatalog, in_child: bool):
        self.settings, self.catalog, self.in_child = settings, catalog, in_child
        self._processor: FeatureProcessor | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self.in_child:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_child,
                initargs=(self.settings,),
            )
            await asyncio.get_running_loop().run_in_executor(self._pool, _call_child, "ping", None)
        else:
            self._processor = await asyncio.to_thread(build_processor, self.settings, self.catalog)
        self._ready.set()

    async def call(self, method: str, argument: Any) -> BatchResult:
        await self._ready.wait()
        if self._pool is not None:
            return await asyncio.get_running_loop().run_in_executor(self._pool, _call_child, method, argument)
        return await asyncio.to_thread(getattr(self._processor, method), argument)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
