"""Adaptive batching: requests that arrive while a predict runs are merged into the next one.

``BatchingPredictor`` wraps any ``Predictor`` (composition, no patching). An idle model answers at
once; while it is busy, compatible requests queue up and go into the next predict call together, up
to ``max_batch_size`` rows. Requests are compatible when their prepared inputs are row-aligned (a
DataFrame, an array, or a dict of arrays with one row count) with the same columns/dtypes/trailing
shape and equal params; anything else runs alone. The merged output is split back by row counts,
so each caller gets exactly its own rows. If the merged call raises, its halves are retried (down
to single requests), so one caller's bad input fails only that caller; if the output is not
row-aligned, batching turns itself off for the model.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from pack.flavors.casts import column_dtypes
from pack.types import Params, Predictor

logger = logging.getLogger("pack.serving")


class BatchObserver(Protocol):
    """Receives what the batcher does (for metrics)."""

    def batch(self, requests: int, rows: int, seconds: float) -> None: ...

    def queue(self, depth: int) -> None: ...


# ---------------------------------------------------------------------------------------------
# row-aligned data: count, merge, split, compare


def row_count(data: Any) -> int | None:
    """Rows in ``data`` when it is row-aligned (DataFrame, array, dict of arrays), else None."""
    if isinstance(data, pd.DataFrame):
        return len(data)
    if isinstance(data, np.ndarray):
        return int(data.shape[0]) if data.ndim >= 1 else None
    if isinstance(data, Mapping) and data:
        counts = {v.shape[0] for v in data.values() if isinstance(v, np.ndarray) and v.ndim >= 1}
        if len(counts) == 1 and all(isinstance(v, np.ndarray) and v.ndim >= 1 for v in data.values()):
            return int(counts.pop())
    return None


def layout_of(data: Any) -> Hashable:
    """What must be equal for two inputs to merge: columns and dtypes, or trailing shapes and dtypes."""
    if isinstance(data, pd.DataFrame):
        return ("frame", tuple(data.columns.tolist()), tuple(column_dtypes(data)))
    if isinstance(data, np.ndarray):
        return ("array", data.shape[1:], data.dtype)
    return ("tensors", tuple((key, value.shape[1:], value.dtype) for key, value in data.items()))


def merge(parts: Sequence[Any]) -> Any:
    """Concatenate inputs of one layout along the rows."""
    first = parts[0]
    if isinstance(first, pd.DataFrame):
        dtypes = set(column_dtypes(first))
        if len(dtypes) == 1 and isinstance(dtype := dtypes.pop(), np.dtype) and dtype.kind in "biuf":
            values = np.concatenate([part.to_numpy() for part in parts])  # one block, no pandas concat
            return pd.DataFrame(values, columns=first.columns)
        return pd.concat(parts, ignore_index=True)
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    return {key: np.concatenate([part[key] for part in parts]) for key in first}


def split(output: Any, counts: Sequence[int]) -> list[Any] | None:
    """Cut a merged output back into per-request parts, or None if it is not row-aligned."""
    total = sum(counts)
    bounds = np.cumsum([0, *counts]).tolist()
    pairs = list(itertools.pairwise(bounds))
    if isinstance(output, np.ndarray):
        if output.ndim >= 1 and output.shape[0] == total:
            return [output[a:b] for a, b in pairs]
        return None
    if isinstance(output, (pd.DataFrame, pd.Series)):
        if len(output) == total:
            return [output.iloc[a:b].reset_index(drop=True) for a, b in pairs]
        return None
    if isinstance(output, (list, tuple)):
        return [list(output[a:b]) for a, b in pairs] if len(output) == total else None
    if isinstance(output, Mapping) and output:
        columns = {key: split(value, counts) for key, value in output.items()}
        if any(parts is None for parts in columns.values()):
            return None
        return [{key: parts[i] for key, parts in columns.items() if parts is not None} for i in range(len(counts))]
    return None


def same_output(a: Any, b: Any) -> bool:
    """True when two predictions are equal (NaN equal to NaN)."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            left, right = np.asarray(a), np.asarray(b)
            nan_ok = left.dtype.kind in "fc" and right.dtype.kind in "fc"
            return left.shape == right.shape and bool(np.array_equal(left, right, equal_nan=nan_ok))
        if isinstance(a, (pd.DataFrame, pd.Series)) and type(a) is type(b):
            return bool(a.reset_index(drop=True).equals(b.reset_index(drop=True)))
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            return a.keys() == b.keys() and all(same_output(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(same_output(x, y) for x, y in zip(a, b, strict=True))
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def supports_batching(predictor: Predictor, data: Any, params: Params | None, single: Any) -> bool:
    """Whether merging ``data`` with itself predicts ``single`` twice (the warm-up check).

    ``single`` is the prediction on ``data`` alone. A model whose output is not row-aligned, or
    depends on what else is in the batch, fails the check and is served without batching.
    """
    rows = row_count(data)
    if not rows:
        return False
    doubled = predictor.predict(merge([data, data]), params)
    parts = split(doubled, [rows, rows])
    return parts is not None and all(same_output(part, single) for part in parts)


# ---------------------------------------------------------------------------------------------
# the batcher


@dataclass
class _Pending:
    data: Any
    params: Params | None
    rows: int | None  # None: not row-aligned, runs alone
    future: asyncio.Future[Any]
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
    """Runs a predictor off the event loop, one call at a time, merging requests that queue up.

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
        self._worker: asyncio.Task[None] | None = None
        self._arrived: asyncio.Event | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"predict-{name}")

    @property
    def batchable(self) -> bool:
        """Whether requests may be merged."""
        return self._batchable

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the model."""
        return len(self._queue)

    def submit(self, data: Any, params: Params | None = None) -> asyncio.Future[Any]:
        """Queue a request; the future resolves to its predictions (or the model's error).

        A future that is already done when its turn comes (cancelled, timed out) is skipped.
        """
        loop = asyncio.get_running_loop()
        rows = row_count(data) if self._batchable else None
        if rows == 0:
            rows = None  # an empty request runs alone: the model decides what empty input means
        pending = _Pending(data, params, rows, loop.create_future())
        self._queue.append(pending)
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
        self._executor.shutdown(wait=False, cancel_futures=True)

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
            queue.popleft()
        if not batch:
            if not queue:
                return batch
            batch.append(queue.popleft())
        first = batch[0]
        if first.rows is None:
            return batch
        total = sum(p.rows or 0 for p in batch)
        while queue:
            candidate = queue[0]
            if candidate.future.done():
                queue.popleft()
                continue
            if (
                candidate.rows is None
                or total + candidate.rows > self.max_batch_size
                or candidate.layout != first.layout
                or not _same_params(candidate.params, first.params)
            ):
                break
            batch.append(queue.popleft())
            total += candidate.rows
        return batch

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
        started = time.perf_counter()
        try:
            return self._predictor.predict(data, params)
        finally:
            self._report_batch(1, rows, time.perf_counter() - started)

    def _predict_merged(self, parts: list[Any], params: Params | None, counts: list[int]) -> list[Any] | None:
        merged = merge(parts)
        started = time.perf_counter()
        try:
            output = self._predictor.predict(merged, params)
        finally:
            self._report_batch(len(parts), sum(counts), time.perf_counter() - started)
        return split(output, counts)

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


__all__ = [
    "BatchObserver",
    "BatchingPredictor",
    "layout_of",
    "merge",
    "row_count",
    "same_output",
    "split",
    "supports_batching",
]
