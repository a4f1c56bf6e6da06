"""Dynamic batching: the items of concurrent requests pooled into model batches.

Requests `submit` items (texts, or task inputs) under a group key (an extraction schema, or a task), each
with a cost in tokens. One worker takes the oldest waiting item's group and gathers that group's items, oldest
first, until the batch holds `max_batch_tokens` or the oldest item has waited `max_wait` seconds; then it runs
the batch in a worker thread, off the event loop, and answers each item. The pipeline sorts a batch by length
itself. At most `max_queue` items wait: a submission that would go over is refused whole (`QueueFull`). An item
whose request went away (cancelled, timed out) is dropped before it reaches the model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


class QueueFull(Exception):
    """The queue cannot take a submission's items now."""


@dataclass
class _Item:
    group: Hashable
    value: object
    cost: int
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


class Batcher:
    """Pools submitted items into batches for `run(group, values) -> results` (see the module docstring)."""

    def __init__(
        self,
        run: Callable[[Hashable, list], list],
        max_batch_tokens: int = 16384,
        max_wait: float = 0.005,
        max_queue: int = 1024,
        on_batch: Callable[[Hashable, int, int], None] | None = None,
    ):
        """`on_batch(group, items, tokens)` is told of each batch before it runs (for metrics)."""
        self.run = run
        self.max_batch_tokens = max_batch_tokens
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.on_batch = on_batch
        self.waiting: list[_Item] = []
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="erniem-model")
        self._arrived = asyncio.Event()
        self._worker: asyncio.Task | None = None

    @property
    def depth(self) -> int:
        """Items waiting for the model."""
        return len(self.waiting)

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Stop after the batch in progress; items still waiting are cancelled."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for item in self.waiting:
            item.future.cancel()
        self.waiting.clear()
        self.executor.shutdown(wait=True)

    async def submit(self, group: Hashable, values: list, costs: list[int]) -> list:
        """The results of `values`, in order, once their batches have run.

        Raises:
            QueueFull: the queue cannot take them all.
        """
        if len(self.waiting) + len(values) > self.max_queue:
            raise QueueFull(f"{len(self.waiting)} items wait, at most {self.max_queue}")
        loop = asyncio.get_running_loop()
        items = [_Item(group, value, cost, loop.create_future()) for value, cost in zip(values, costs, strict=True)]
        self.waiting.extend(items)
        self._arrived.set()
        try:
            return list(await asyncio.gather(*(item.future for item in items)))
        except asyncio.CancelledError:
            for item in items:
                item.future.cancel()
            raise

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._drop_cancelled()
            if not self.waiting:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            batch = await self._gather()
            if not batch:
                continue
            if self.on_batch is not None:
                self.on_batch(batch[0].group, len(batch), sum(item.cost for item in batch))
            try:
                results = await loop.run_in_executor(self.executor, self.run, batch[0].group, [i.value for i in batch])
            except Exception as error:  # the batch's requests get the error; the worker goes on
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(error)
                continue
            for item, result in zip(batch, results, strict=True):
                if not item.future.done():
                    item.future.set_result(result)

    async def _gather(self) -> list[_Item]:
        """The next batch: the oldest item's group, up to the token budget or the oldest item's deadline."""
        oldest = self.waiting[0]
        while True:
            group = [item for item in self.waiting if item.group == oldest.group and not item.future.done()]
            remaining = oldest.arrived + self.max_wait - time.monotonic()
            if sum(item.cost for item in group) >= self.max_batch_tokens or remaining <= 0 or oldest.future.done():
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:  # noqa: UP041 (a distinct class before Python 3.11)
                pass
        batch, tokens = [], 0
        for item in group:
            if batch and tokens + item.cost > self.max_batch_tokens:
                break
            batch.append(item)
            tokens += item.cost
        taken = set(map(id, batch))
        self.waiting = [item for item in self.waiting if id(item) not in taken]
        return batch

    def _drop_cancelled(self) -> None:
        self.waiting = [item for item in self.waiting if not item.future.done()]
