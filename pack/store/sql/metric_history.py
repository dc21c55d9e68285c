"""Metric history for charts: many runs' values of one metric, down-sampled per run
(``get_metric_history_bulk_interval``, what MLflow's run charts ask for)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pack.errors import InvalidInput
from pack.store.entities import Metric
from pack.store.sql.tables import metrics

MAX_RUNS = 100
MAX_POINTS = 2500


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
    ``[start_step, end_step]`` (evenly spread, the first and last step always in), by run then step.

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
    statement = select(metrics).where(metrics.c.run_id.in_(list(run_ids)), metrics.c.key == key)
    if start_step is not None and end_step is not None:
        statement = statement.where(metrics.c.step.between(start_step, end_step))
    by_run: dict[str, list[Metric]] = {}
    for row in conn.execute(statement.order_by(metrics.c.run_id, metrics.c.step, metrics.c.timestamp, metrics.c.id)):
        value = math.nan if row.is_nan else float(row.value)
        by_run.setdefault(row.run_id, []).append(
            Metric(key=row.key, value=value, timestamp=int(row.timestamp), step=int(row.step), run_id=row.run_id)
        )
    result: list[Metric] = []
    for run_id in sorted(by_run):
        points = by_run[run_id]
        steps = sorted({m.step for m in points})
        chosen = {steps[i] for i in evenly_spaced(len(steps), max_results)}
        result.extend([m for m in points if m.step in chosen][:max_results])
    return result


__all__ = ["MAX_POINTS", "MAX_RUNS", "bulk_interval", "evenly_spaced"]
