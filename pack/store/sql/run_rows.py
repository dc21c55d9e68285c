"""Run rows as ``Run`` entities: params, tags, each metric's latest value, inputs and outputs, read for a
whole page of runs in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection, Row

from pack.store.entities import Run, RunData, RunInfo, RunInputs, RunOutputs
from pack.store.sql import run_io
from pack.store.sql.metric_history import latest_values
from pack.store.sql.tables import params as param_table
from pack.store.sql.tables import run_tags


def to_runs(conn: Connection, found: Sequence[Row[Any]]) -> list[Run]:
    """The entities of some run rows (in their order)."""
    ids = [row.run_id for row in found]
    if not ids:
        return []
    run_params = _by_run(conn, param_table, ids)
    tags = _by_run(conn, run_tags, ids)
    latest = latest_values(conn, ids)
    io = run_io.read_io(conn, ids)
    result = []
    for row in found:
        inputs, outputs = io.get(row.run_id, (RunInputs(), RunOutputs()))
        info = RunInfo(
            run_id=row.run_id,
            experiment_id=str(row.experiment_id),
            run_name=row.name,
            user_id=row.user_id,
            status=row.status,
            start_time=int(row.start_time),
            end_time=None if row.end_time is None else int(row.end_time),
            artifact_uri=row.artifact_uri,
            lifecycle_stage=row.lifecycle_stage,
        )
        data = RunData(
            metrics=latest.get(row.run_id, {}),
            params=run_params.get(row.run_id, {}),
            tags=tags.get(row.run_id, {}),
        )
        result.append(Run(info=info, data=data, inputs=inputs, outputs=outputs))
    return result


def _by_run(conn: Connection, table: Table, ids: list[str]) -> dict[str, dict[str, str]]:
    """``{run_id: {key: value}}`` of a key-value table for some runs (rows unpacked as tuples: a page of
    runs holds thousands of them)."""
    found: dict[str, dict[str, str]] = {}
    statement = select(table.c.run_id, table.c.key, table.c.value).where(table.c.run_id.in_(ids))
    for run_id, key, value in conn.execute(statement):
        values = found.get(run_id)
        if values is None:
            values = found[run_id] = {}
        values[key] = value
    return found


__all__ = ["to_runs"]
