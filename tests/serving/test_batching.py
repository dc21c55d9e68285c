"""The batcher in process: merging, splitting back, isolation of failures, fallbacks."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

from pack.serving.batching import BatchingPredictor
from pack.serving.rows import merge, row_count, same_output, split, supports_batching


class Recorder:
    """Doubles column ``v`` (or an array); records every call's row count; raises on ``v == -1``."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.calls: list[int] = []
        self.params: list[Any] = []
        self.threads: set[str] = set()

    def predict(self, data: Any, params: Any = None) -> Any:
        self.calls.append(len(data))
        self.params.append(params)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        values = data["v"].to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
        if (values == -1).any():
            raise ValueError("v = -1")
        return values * 2


class Summer(Recorder):
    """Not row-aligned: one number per call."""

    def predict(self, data: Any, params: Any = None) -> Any:
        super().predict(data, params)
        return float(data["v"].sum())


def _frame(values: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"v": np.asarray(values, dtype=np.int64)})


async def _gather(batcher: BatchingPredictor, inputs: list[tuple[Any, Any]]) -> list[Any]:
    futures = [batcher.submit(data, params) for data, params in inputs]
    return await asyncio.gather(*futures, return_exceptions=True)


def test_row_count_merge_and_split() -> None:
    frames = [_frame([1, 2]), _frame([3])]
    assert [row_count(f) for f in frames] == [2, 1]
    assert row_count(np.zeros((4, 3))) == 4
    assert row_count({"a": np.zeros(2), "b": np.zeros((2, 5))}) == 2
    assert row_count({"a": np.zeros(2), "b": np.zeros(3)}) is None
    assert row_count(np.float64(1.0)) is None
    assert row_count([1, 2]) is None
    merged = merge(frames)
    assert merged["v"].tolist() == [1, 2, 3]
    mixed = merge([pd.DataFrame({"a": [1], "b": ["x"]}), pd.DataFrame({"a": [2], "b": ["y"]})])
    assert mixed.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    assert merge([np.ones((1, 2)), np.zeros((2, 2))]).shape == (3, 2)
    assert merge([{"t": np.ones(1)}, {"t": np.zeros(2)}])["t"].tolist() == [1, 0, 0]
    parts = split(np.arange(6), [1, 2, 3])
    assert parts is not None
    assert [p.tolist() for p in parts] == [[0], [1, 2], [3, 4, 5]]
    frame_parts = split(pd.DataFrame({"y": range(3)}, index=[7, 8, 9]), [2, 1])
    assert frame_parts is not None
    assert frame_parts[1].to_dict("list") == {"y": [2]}
    assert list(frame_parts[1].index) == [0]
    dict_parts = split({"a": np.arange(3), "b": [4, 5, 6]}, [1, 2])
    assert dict_parts is not None
    assert dict_parts[1]["b"] == [5, 6]
    assert split(np.arange(5), [1, 2]) is None
    assert split(3.0, [1, 2]) is None
    assert split({"a": np.arange(3), "b": 1.0}, [1, 2]) is None


def test_same_output() -> None:
    assert same_output(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert not same_output(np.array([1, 2]), np.array([1, 3]))
    assert not same_output(np.array([1, 2]), np.array([[1, 2]]))
    assert same_output(pd.Series([1], index=[5]), pd.Series([1]))
    assert same_output({"a": [1]}, {"a": [1]})
    assert not same_output({"a": [1]}, {"b": [1]})
    assert same_output(2.0, 2.0)


def test_supports_batching() -> None:
    recorder, summer = Recorder(0), Summer(0)
    frame = _frame([1, 2])
    assert supports_batching(recorder, frame, None, recorder.predict(frame))
    assert not supports_batching(summer, frame, None, summer.predict(frame))
    assert not supports_batching(recorder, _frame([]), None, np.array([]))


def test_an_idle_batcher_predicts_at_once_off_the_event_loop() -> None:
    recorder = Recorder(0)

    async def run() -> Any:
        batcher = BatchingPredictor(recorder, name="m")
        try:
            return await batcher.predict(_frame([5]))
        finally:
            batcher.close()

    assert asyncio.run(run()).tolist() == [10]
    assert recorder.calls == [1]
    assert recorder.threads == {"predict-m"}


def test_concurrent_requests_merge_and_each_gets_its_own_rows() -> None:
    recorder = Recorder()
    inputs = [(_frame([i * 10 + k for k in range(i % 3 + 1)]), None) for i in range(40)]

    async def run() -> list[Any]:
        batcher = BatchingPredictor(recorder, max_batch_size=1000)
        try:
            return await _gather(batcher, inputs)
        finally:
            batcher.close()

    results = asyncio.run(run())
    for (frame, _), result in zip(inputs, results, strict=True):
        assert result.tolist() == (frame["v"] * 2).tolist()
    assert len(recorder.calls) < len(inputs)
    assert sum(recorder.calls) == sum(len(f) for f, _ in inputs)


def test_batches_respect_the_size_limit_and_params() -> None:
    recorder = Recorder()
    inputs = [(_frame([i, i]), {"p": i % 2}) for i in range(20)]

    async def run() -> list[Any]:
        batcher = BatchingPredictor(recorder, max_batch_size=6)
        try:
            return await _gather(batcher, inputs)
        finally:
            batcher.close()

    results = asyncio.run(run())
    assert [r.tolist() for r in results] == [[2 * i, 2 * i] for i in range(20)]
    assert max(recorder.calls) <= 6
    # params alternate, so no two neighbours may share a call
    assert len(recorder.calls) == 20


def test_one_bad_request_fails_alone() -> None:
    recorder = Recorder(0.005)
    inputs = [(_frame([-1 if i == 13 else i]), None) for i in range(32)]

    async def run() -> list[Any]:
        batcher = BatchingPredictor(recorder)
        try:
            return await _gather(batcher, inputs)
        finally:
            batcher.close()

    results = asyncio.run(run())
    for i, result in enumerate(results):
        if i == 13:
            assert isinstance(result, ValueError)
        else:
            assert result.tolist() == [2 * i]


def test_outputs_that_are_not_row_aligned_turn_batching_off() -> None:
    summer = Summer()
    inputs = [(_frame([i, 1]), None) for i in range(16)]

    async def run() -> tuple[list[Any], bool]:
        batcher = BatchingPredictor(summer)
        try:
            return await _gather(batcher, inputs), batcher.batchable
        finally:
            batcher.close()

    results, batchable = asyncio.run(run())
    assert results == [float(i + 1) for i in range(16)]
    assert not batchable


def test_unaligned_inputs_and_empty_requests_run_alone() -> None:
    recorder = Recorder()

    async def run() -> list[Any]:
        batcher = BatchingPredictor(recorder)
        try:
            return await _gather(batcher, [([1, 2], None), (_frame([]), None), (_frame([3]), None)])
        finally:
            batcher.close()

    results = asyncio.run(run())
    assert [list(r) for r in results] == [[2, 4], [], [6]]
    assert recorder.calls == [2, 0, 1]


def test_abandoned_requests_are_skipped() -> None:
    recorder = Recorder(0.05)

    async def run() -> list[Any]:
        batcher = BatchingPredictor(recorder)
        try:
            first = batcher.submit(_frame([1]))
            abandoned = batcher.submit(_frame([2]))
            kept = batcher.submit(_frame([3]))
            abandoned.cancel()
            return [await first, await kept]
        finally:
            batcher.close()

    results = asyncio.run(run())
    assert [r.tolist() for r in results] == [[2], [6]]
    assert sum(recorder.calls) == 2


def test_a_batch_delay_collects_late_requests() -> None:
    recorder = Recorder(0)

    async def run() -> list[Any]:
        batcher = BatchingPredictor(recorder, max_delay=0.2)
        try:
            first = batcher.submit(_frame([1]))
            await asyncio.sleep(0.01)
            second = batcher.submit(_frame([2]))
            return [await first, await second]
        finally:
            batcher.close()

    results = asyncio.run(run())
    assert [r.tolist() for r in results] == [[2], [4]]
    assert recorder.calls == [2]


def test_batching_can_be_switched_off() -> None:
    recorder = Recorder()

    async def run() -> list[Any]:
        batcher = BatchingPredictor(recorder, max_batch_size=1)
        try:
            return await _gather(batcher, [(_frame([i]), None) for i in range(5)])
        finally:
            batcher.close()

    assert [r.tolist() for r in asyncio.run(run())] == [[2 * i] for i in range(5)]
    assert recorder.calls == [1] * 5


def test_closing_cancels_what_is_queued() -> None:
    recorder = Recorder(0.05)

    async def run() -> tuple[Any, bool]:
        batcher = BatchingPredictor(recorder)
        running = batcher.submit(_frame([1]))
        await asyncio.sleep(0.01)  # the first request is in the model now
        waiting = batcher.submit(_frame([2]))
        batcher.close()
        return await running, waiting.cancelled()

    result, cancelled = asyncio.run(run())
    assert result.tolist() == [2]
    assert cancelled
