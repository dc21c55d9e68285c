"""What runs read and produced: datasets and logged models (MLflow's ``RunInputs`` / ``RunOutputs``)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from pack.store.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    LoggedModelInput,
    LoggedModelOutput,
    RunInputs,
    RunOutputs,
)
from pack.store.sql.tables import run_datasets, run_models, runs

CONTEXT_TAG = "mlflow.data.context"
INPUT = "input"
OUTPUT = "output"


def write_inputs(
    conn: Connection, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[LoggedModelInput]
) -> None:
    """Record datasets and logged models a run read (logging one again replaces it)."""
    if datasets:
        rows = {
            (d.dataset.name, d.dataset.digest): {
                "run_id": run_id,
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "source": d.dataset.source,
                "schema": d.dataset.schema,
                "profile": d.dataset.profile,
                "tags": orjson.dumps(dict(d.tags)).decode(),
            }
            for d in datasets
        }
        for name, digest in rows:
            t = run_datasets
            conn.execute(delete(t).where(t.c.run_id == run_id, t.c.name == name, t.c.digest == digest))
        conn.execute(insert(run_datasets), list(rows.values()))
    _write_models(conn, run_id, INPUT, {m.model_id: 0 for m in models})


def write_outputs(conn: Connection, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
    """Record logged models a run produced (and at which step)."""
    _write_models(conn, run_id, OUTPUT, {m.model_id: int(m.step or 0) for m in models})


def _write_models(conn: Connection, run_id: str, direction: str, steps: dict[str, int]) -> None:
    if not steps:
        return
    t = run_models
    conn.execute(delete(t).where(t.c.run_id == run_id, t.c.direction == direction, t.c.model_id.in_(list(steps))))
    conn.execute(
        insert(t),
        [{"run_id": run_id, "model_id": m, "direction": direction, "step": s} for m, s in steps.items()],
    )


def read_io(conn: Connection, run_ids: Sequence[str]) -> dict[str, tuple[RunInputs, RunOutputs]]:
    """Inputs and outputs of each run that has any."""
    datasets: dict[str, list[DatasetInput]] = {}
    for row in conn.execute(
        select(run_datasets).where(run_datasets.c.run_id.in_(run_ids)).order_by(run_datasets.c.name)
    ):
        dataset = Dataset(row.name, row.digest, row.source_type, row.source, row.schema, row.profile)
        datasets.setdefault(row.run_id, []).append(DatasetInput(dataset, orjson.loads(row.tags)))
    inputs: dict[str, list[LoggedModelInput]] = {}
    outputs: dict[str, list[LoggedModelOutput]] = {}
    for row in conn.execute(select(run_models).where(run_models.c.run_id.in_(run_ids)).order_by(run_models.c.model_id)):
        if row.direction == INPUT:
            inputs.setdefault(row.run_id, []).append(LoggedModelInput(row.model_id))
        else:
            outputs.setdefault(row.run_id, []).append(LoggedModelOutput(row.model_id, int(row.step)))
    return {
        run_id: (
            RunInputs(tuple(datasets.get(run_id, ())), tuple(inputs.get(run_id, ()))),
            RunOutputs(tuple(outputs.get(run_id, ()))),
        )
        for run_id in {*datasets, *inputs, *outputs}
    }


def search_datasets(conn: Connection, experiment_ids: Sequence[int]) -> list[DatasetSummary]:
    """The distinct datasets (with context) used by the runs of some experiments."""
    found = conn.execute(
        select(runs.c.experiment_id, run_datasets.c.name, run_datasets.c.digest, run_datasets.c.tags)
        .join_from(run_datasets, runs, runs.c.run_id == run_datasets.c.run_id)
        .where(runs.c.experiment_id.in_(experiment_ids))
    )
    summaries = {
        DatasetSummary(str(row.experiment_id), row.name, row.digest, orjson.loads(row.tags).get(CONTEXT_TAG))
        for row in found
    }
    return sorted(summaries, key=lambda s: (s.experiment_id, s.name, s.digest, s.context or ""))


__all__ = ["CONTEXT_TAG", "read_io", "search_datasets", "write_inputs", "write_outputs"]
