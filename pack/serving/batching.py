"""Adaptive batching: requests that arrive while a predict runs are merged into the next one.

``BatchingPredictor`` wraps any ``Predictor`` (composition, no patching). An idle model answers at
once; while it is busy, compatible requests queue up and go into the next predict call together, up
to ``max_batch_size`` rows. Requests are compatible when their prepared inputs are row-aligned with the
same layout (``pack.serving.rows``) and equal params; anything else runs alone. The merged output is
split back by row counts, so each caller gets exactly its own rows. Requests are checked against the
signature before they are queued, so only a model-raised error can fail a merged call: its halves are
then retried (down to single requests, each re-run counted), so one caller's poison fails only that
caller; if the output is not row-aligned, batching turns itself off for the model.

Predict calls run on one daemon thread per model: a predict that never returns cannot hold the
process past its drain.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol

from pack.serving.rows import layout_of, merge, row_count, split
from pack.types import Params, Predictor

logger = logging.getLogger("pack.serving")


class BatchObserver(Protocol):
    """Receives what the batcher does (for metrics)."""

    def batch(self, requests: int, rows: int, seconds: float) -> None: ...

    def queue(self, depth: int) -> None: ...

    def rerun(self, requests: int) -> None: ...


class AsyncPredictor(Protocol):
    """What serving predicts through: an awaitable predict (``BatchingPredictor`` is one)."""

    async def predict(self, data: Any, params: Params | None = None) -> Any: ...


class DaemonExecutor(Executor):
    """One daemon thread running submitted calls in order.

    Unlike ``ThreadPoolExecutor`` (whose threads the interpreter joins at exit), a call that never
    returns does not keep the process alive once the server has stopped.
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._calls.put((future, (lambda: fn(*args, **kwargs)) if kwargs else fn, () if kwargs else args))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._calls.put(None)
        if wait:
            self._thread.join()

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            future, fn, args = call
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)


@dataclass
class _Pending:
    data: Any
    params: Params | None
    rows: int | None  # None: not row-aligned, runs alone
    future: asyncio.Future[Any]
    weight: int = 1  # what the request adds to the queued rows
    _layout: Hashable = None

    @property
    def layout(self) -> Hashable:
        """``layout_of(data)``, worked out only when a merge is considered."""
        if self._layout is None:
            self._layout = layout_of(self.data)
        return self._layout


def _same_params(a: Params | None, b: Params | None) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


class BatchingPredictor:
    """An ``AsyncPredictor``: runs a predictor off the event loop, one call at a time, merging requests
    that queue up.

    Args:
        predictor: what predicts (for pack models, already-prepared data goes in).
        max_batch_size: most rows in one merged call; 1 disables merging.
        max_delay: seconds a batch may wait for more requests after its first (0: never wait).
        batchable: False when the model's outputs are known not to be row-aligned.
        observer: receives batch sizes, predict times and queue depth.
        name: used for the predict thread's name and log lines.
    """

    def __init__(
        self,
        predictor: Predictor,
        *,
        max_batch_size: int = 1024,
        max_delay: float = 0.0,
        batchable: bool = True,
        observer: BatchObserver | None = None,
        name: str = "model",
    ) -> None:
        self._predictor = predictor
        self.max_batch_size = max_batch_size
        self.max_delay = max_delay
        self._batchable = batchable and max_batch_size > 1
        self._observer = observer
        self._name = name
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._worker: asyncio.Task[None] | None = None
        self._arrived: asyncio.Event | None = None
        self._executor = DaemonExecutor(f"predict-{name}")
        self._busy_since: float | None = None

    @property
    def batchable(self) -> bool:
        """Whether requests may be merged."""
        return self._batchable

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the model."""
        return len(self._queue)

    @property
    def queued_rows(self) -> int:
        """Rows waiting for the model (requests that are not row-aligned count as one)."""
        return self._queued_rows

    def running_for(self) -> float:
        """Seconds the current predict call has been running (0 when the model is idle)."""
        since = self._busy_since
        return time.monotonic() - since if since is not None else 0.0

    def submit(self, data: Any, params: Params | None = None, *, rows: int | None = -1) -> asyncio.Future[Any]:
        """Queue a request; the future resolves to its predictions (or the model's error).

        ``rows``: ``row_count(data)`` when the caller already knows it. A future that is already done
        when its turn comes (cancelled, timed out) is skipped.
        """
        loop = asyncio.get_running_loop()
        counted = row_count(data) if rows == -1 else rows
        rows = counted if self._batchable and counted else None  # empty or not row-aligned: runs alone
        pending = _Pending(data, params, rows, loop.create_future(), counted or 1)
        self._queue.append(pending)
        self._queued_rows += pending.weight
        self._report_queue()
        if self._arrived is not None:
            self._arrived.set()
        if self._worker is None:
            self._worker = loop.create_task(self._drain())
        return pending.future

    async def predict(self, data: Any, params: Params | None = None) -> Any:
        """Predict through the queue (see ``submit``)."""
        return await self.submit(data, params)

    def close(self) -> None:
        """Stop the predict thread once the running call returns; queued requests fail."""
        for pending in self._queue:
            if not pending.future.done():
                pending.future.cancel()
        self._queue.clear()
        self._queued_rows = 0
        self._executor.shutdown(wait=False)

    # -- the drain loop ---------------------------------------------------------------------

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._take()
                if not batch:
                    continue
                if self.max_delay > 0 and batch[0].rows is not None:
                    await self._wait_for_more(batch)
                self._report_queue()
                try:
                    await self._run(batch)
                except Exception as exc:  # a bug here must not strand the callers
                    logger.exception("batching failed for model %s", self._name)
                    for pending in batch:
                        _fail(pending, exc)
        finally:
            self._worker = None

    def _take(self, batch: list[_Pending] | None = None) -> list[_Pending]:
        """Pop the next batch: the head request plus compatible ones right behind it."""
        queue = self._queue
        batch = [] if batch is None else batch
        while queue and queue[0].future.done():
            self._queued_rows -= queue.popleft().weight
        if not batch:
            if not queue:
                return batch
            batch.append(self._pop())
        first = batch[0]
        if first.rows is None:
            return batch
        total = sum(p.rows or 0 for p in batch)
        while queue:
            candidate = queue[0]
            if candidate.future.done():
                self._queued_rows -= queue.popleft().weight
                continue
            if (
                candidate.rows is None
                or total + candidate.rows > self.max_batch_size
                or candidate.layout != first.layout
                or not _same_params(candidate.params, first.params)
            ):
                break
            batch.append(self._pop())
            total += candidate.rows
        return batch

    def _pop(self) -> _Pending:
        pending = self._queue.popleft()
        self._queued_rows -= pending.weight
        return pending

    async def _wait_for_more(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_delay
        self._arrived = asyncio.Event()
        try:
            while sum(p.rows or 0 for p in batch) < self.max_batch_size:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._arrived.clear()
                self._take(batch)
                if self._queue:  # the head does not fit this batch
                    break
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    self._take(batch)
                    break
        finally:
            self._arrived = None

    async def _run(self, batch: list[_Pending]) -> None:
        """Predict a batch; if it fails, predict its halves (down to single requests)."""
        batch = [p for p in batch if not p.future.done()]
        if len(batch) <= 1:
            for pending in batch:
                await self._run_alone(pending)
            return
        loop = asyncio.get_running_loop()
        counts = [p.rows or 0 for p in batch]
        try:
            parts = await loop.run_in_executor(
                self._executor, self._predict_merged, [p.data for p in batch], batch[0].params, counts
            )
        except Exception:
            logger.debug("merged predict of %d requests failed; splitting it", len(batch))
            if self._observer is not None:
                self._observer.rerun(len(batch))
            middle = len(batch) // 2
            await self._run(batch[:middle])
            await self._run(batch[middle:])
            return
        if parts is None:
            logger.warning("model %s returned output that is not row-aligned; batching is off for it", self._name)
            self._batchable = False
            for pending in batch:
                await self._run_alone(pending)
            return
        for pending, part in zip(batch, parts, strict=True):
            _resolve(pending, part)

    async def _run_alone(self, pending: _Pending) -> None:
        if pending.future.done():
            return
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self._executor, self._predict_one, pending.data, pending.params, pending.rows or 0
            )
        except Exception as exc:
            _fail(pending, exc)
            return
        _resolve(pending, result)

    # -- in the predict thread ---------------------------------------------------------------

    def _predict_one(self, data: Any, params: Params | None, rows: int) -> Any:
        return self._timed(data, params, 1, rows)

    def _predict_merged(self, parts: list[Any], params: Params | None, counts: list[int]) -> list[Any] | None:
        return split(self._timed(merge(parts), params, len(parts), sum(counts)), counts)

    def _timed(self, data: Any, params: Params | None, requests: int, rows: int) -> Any:
        self._busy_since = started = time.monotonic()
        try:
            return self._predictor.predict(data, params)
        finally:
            self._busy_since = None
            self._report_batch(requests, rows, time.monotonic() - started)

    def _report_batch(self, requests: int, rows: int, seconds: float) -> None:
        if self._observer is not None:
            self._observer.batch(requests, rows, seconds)

    def _report_queue(self) -> None:
        if self._observer is not None:
            self._observer.queue(len(self._queue))


def _resolve(pending: _Pending, result: Any) -> None:
    if not pending.future.done():
        pending.future.set_result(result)


def _fail(pending: _Pending, error: BaseException) -> None:
    if not pending.future.done():
        pending.future.set_exception(error)


__all__ = ["AsyncPredictor", "BatchObserver", "BatchingPredictor", "DaemonExecutor"]
