"""Reading metric histories without reading them whole: many runs' values of one metric, down-sampled
per run (``get_metric_history_bulk_interval``, what MLflow's run charts ask for), and each run's latest
value of every metric (what a run carries).

The work is bounded by the values returned, not by the values stored: every step and key is found
through the ``(run_id, key, step)`` index, so a run with a million points costs a few thousand index
lookups for a chart and a few per metric for its latest values, never a million-row scan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, bindparam, func, select, text
from sqlalchemy.engine import Connection

from pack.errors import InvalidInput
from pack.store.entities import Metric
from pack.store.sql.tables import metrics

MAX_RUNS = 100
MAX_POINTS = 2500
# For each of ``count`` targets spread evenly over [low, high], the first step at or after it.
_PROBES = text(
    "WITH RECURSIVE targets(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM targets WHERE i < :last) "
    "SELECT DISTINCT (SELECT MIN(m.step) FROM metrics m WHERE m.run_id = :run_id AND m.key = :key "
    "AND m.step >= :low + (CAST(targets.i AS BIGINT) * :span) / :last AND m.step <= :high) FROM targets"
).bindparams(
    bindparam("last", type_=Integer),
    bindparam("low", type_=BigInteger),
    bindparam("span", type_=BigInteger),
    bindparam("high", type_=BigInteger),
)
# Each run's metric keys (walking the index from one key to the next), then the latest row of each.
_LATEST = text(
    "WITH RECURSIVE keys(run_id, key) AS ("
    "SELECT r.run_id, (SELECT MIN(m.key) FROM metrics m WHERE m.run_id = r.run_id) FROM runs r WHERE r.run_id IN :ids "
    "UNION ALL SELECT k.run_id, (SELECT MIN(m.key) FROM metrics m WHERE m.run_id = k.run_id AND m.key > k.key) "
    "FROM keys k WHERE k.key IS NOT NULL) "
    "SELECT x.run_id, x.key, x.value, x.is_nan FROM keys k JOIN metrics x ON x.id = ("
    "SELECT m.id FROM metrics m WHERE m.run_id = k.run_id AND m.key = k.key "
    "ORDER BY m.step DESC, m.timestamp DESC, m.id DESC LIMIT 1) WHERE k.key IS NOT NULL"
).bindparams(bindparam("ids", expanding=True))
_IDS_PER_QUERY = 500
_SPAN_LIMIT = 1 << 50  # (i * span) must stay inside a signed 64-bit integer for i < MAX_POINTS


def evenly_spaced(total: int, count: int) -> list[int]:
    """At most ``count`` indices spread evenly over ``range(total)``, first and last included."""
    if total <= count:
        return list(range(total))
    if count == 1:
        return [0]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


def bulk_interval(
    conn: Connection,
    run_ids: Sequence[str],
    key: str,
    *,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    """For each run, the values of metric ``key`` at up to ``max_results`` of its steps in
    ``[start_step, end_step]``, by run then step.

    A run with at most ``max_results`` steps there gives all of them; a longer one gives its first
    and last step and, between them, the first step at or after each of ``max_results`` targets
    spread evenly over the step range (evenly spaced along a chart's step axis).

    Raises:
        InvalidInput: too many runs, a bad page size or step range.
    """
    if not 1 <= len(run_ids) <= MAX_RUNS:
        raise InvalidInput(f"between 1 and {MAX_RUNS} run ids are required, got {len(run_ids)}")
    if not 1 <= max_results <= MAX_POINTS:
        raise InvalidInput(f"max_results must be between 1 and {MAX_POINTS}, got {max_results}")
    if (start_step is None) != (end_step is None):
        raise InvalidInput("give both start_step and end_step, or neither")
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidInput(f"start_step ({start_step}) is after end_step ({end_step})")
    window = None if start_step is None or end_step is None else (start_step, end_step)
    result: list[Metric] = []
    for run_id in sorted(set(run_ids)):
        steps = _chosen_steps(conn, run_id, key, max_results, window)
        if steps:
            result.extend(_points(conn, run_id, key, steps)[:max_results])
    return result


def latest_values(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each run's latest value of each metric (highest step, then latest timestamp, then last logged)."""
    latest: dict[str, dict[str, float]] = {}
    ids = list(dict.fromkeys(run_ids))
    for start in range(0, len(ids), _IDS_PER_QUERY):
        for row in conn.execute(_LATEST, {"ids": ids[start : start + _IDS_PER_QUERY]}):
            latest.setdefault(row.run_id, {})[row.key] = math.nan if row.is_nan else float(row.value)
    return latest


def _in_range(statement: Select[Any], run_id: str, key: str, window: tuple[int, int] | None) -> Select[Any]:
    statement = statement.where(metrics.c.run_id == run_id, metrics.c.key == key)
    return statement if window is None else statement.where(metrics.c.step.between(*window))


def _chosen_steps(conn: Connection, run_id: str, key: str, count: int, window: tuple[int, int] | None) -> list[int]:
    first = select(metrics.c.step).distinct().order_by(metrics.c.step).limit(count + 1)
    leading = [int(s) for s in conn.execute(_in_range(first, run_id, key, window)).scalars()]
    if len(leading) <= count:
        return leading  # every step in the range
    low = leading[0]
    highest = _in_range(select(func.max(metrics.c.step)), run_id, key, window)  # alone: one lookup
    high = int(conn.execute(highest).scalar_one())
    if count == 1:
        return [low]
    span = high - low
    if span >= _SPAN_LIMIT:  # astronomically sparse steps: the targets are computed here instead
        targets = {low + round(i * span / (count - 1)) for i in range(count)}
        found = {_first_at_or_after(conn, run_id, key, t, high) for t in targets}
    else:
        probes = {"last": count - 1, "low": low, "span": span, "high": high, "run_id": run_id, "key": key}
        found = {int(s) for s in conn.execute(_PROBES, probes).scalars() if s is not None}
    return sorted(found | {low, high})[:count]


def _first_at_or_after(conn: Connection, run_id: str, key: str, target: int, high: int) -> int:
    statement = select(func.min(metrics.c.step)).where(
        metrics.c.run_id == run_id, metrics.c.key == key, metrics.c.step >= target, metrics.c.step <= high
    )
    return int(conn.execute(statement).scalar_one())


def _points(conn: Connection, run_id: str, key: str, steps: list[int]) -> list[Metric]:
    statement = (
        select(metrics.c.key, metrics.c.value, metrics.c.is_nan, metrics.c.timestamp, metrics.c.step)
        .where(metrics.c.run_id == run_id, metrics.c.key == key, metrics.c.step.in_(steps))
        .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id)
    )
    return [
        Metric(
            key=row.key,
            value=math.nan if row.is_nan else float(row.value),
            timestamp=int(row.timestamp),
            step=int(row.step),
            run_id=run_id,
        )
        for row in conn.execute(statement)
    ]


__all__ = ["MAX_POINTS", "MAX_RUNS", "bulk_interval", "evenly_spaced", "latest_values"]
