"""Runs in SQL: status and times, immutable params, metric history, tags (MLflow's semantics)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from pack.errors import InvalidInput, NotFound
from pack.store.entities import (
    DatasetInput,
    DatasetSummary,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
    now_ms,
)
from pack.store.run_names import random_run_name
from pack.store.sql import run_io
from pack.store.sql.database import Database
from pack.store.sql.experiments import DEFAULT_EXPERIMENT_ID, SqlExperiments, as_id, view_stages
from pack.store.sql.logged_models import log_model_metrics
from pack.store.sql.metric_history import bulk_interval
from pack.store.sql.run_rows import to_runs
from pack.store.sql.run_search import run_search_statement
from pack.store.sql.search import check_max_results, decode_page_token, encode_page_token
from pack.store.sql.tables import experiments, run_tags, runs
from pack.store.sql.tables import metrics as metric_table
from pack.store.sql.tables import params as param_table
from pack.store.tags import RUN_NAME_TAG, USER_TAG

MAX_KEY_LENGTH = 250
MAX_PARAM_LENGTH = 6000
MAX_METRIC_HISTORY = 1_000_000


class SqlRuns:
    """Runs of one database, in the experiments of ``experiments``."""

    def __init__(self, db: Database, experiments: SqlExperiments) -> None:
        self.db = db
        self.experiments = experiments

    def create(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Start a RUNNING run; files go under ``<experiment artifact location>/<run_id>/artifacts``.

        Raises:
            NotFound: no such experiment. InvalidInput: the experiment is deleted.
        """
        if str(experiment_id) == DEFAULT_EXPERIMENT_ID:
            self.experiments.default_id()
        run_id = uuid.uuid4().hex
        all_tags = dict(tags or {})
        name = run_name or all_tags.get(RUN_NAME_TAG) or random_run_name()
        all_tags[RUN_NAME_TAG] = name
        all_tags.setdefault(USER_TAG, user_id)

        def insert_run(conn: Connection) -> None:
            experiment = conn.execute(
                select(experiments.c.artifact_location, experiments.c.lifecycle_stage).where(
                    experiments.c.experiment_id == as_id(experiment_id)
                )
            ).first()
            if experiment is None:
                raise NotFound(f"experiment {experiment_id!r} not found")
            if experiment.lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise InvalidInput(f"experiment {experiment_id!r} is deleted; restore it first")
            conn.execute(
                insert(runs).values(
                    run_id=run_id,
                    experiment_id=as_id(experiment_id),
                    name=name,
                    user_id=user_id,
                    status=RunStatus.RUNNING.value,
                    start_time=start_time if start_time is not None else now_ms(),
                    end_time=None,
                    artifact_uri=f"{experiment.artifact_location}/{run_id}/artifacts",
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                )
            )
            _write_tags(conn, run_id, all_tags)

        self.db.transact(insert_run)
        return self.get(run_id)

    def get(self, run_id: str) -> Run:
        """One run with params, tags and latest metrics.

        Raises:
            NotFound: no such run.
        """
        with self.db.read() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
            if row is None:
                raise NotFound(f"run {run_id!r} not found")
            return to_runs(conn, [row])[0]

    def update_info(
        self, run_id: str, status: RunStatus | str, end_time: int | None = None, run_name: str | None = None
    ) -> RunInfo:
        """Set a run's status, end time and (optionally) name.

        Raises:
            NotFound: no such run. InvalidInput: unknown status.
        """
        values: dict[str, Any] = {"status": RunStatus.parse(status).value, "end_time": end_time}
        if run_name:
            values["name"] = run_name

        def write(conn: Connection) -> None:
            _check_active(conn, run_id)
            if run_name:
                _write_tags(conn, run_id, {RUN_NAME_TAG: run_name})
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(**values))

        self.db.transact(write)
        return self.get(run_id).info

    def delete(self, run_id: str) -> None:
        """Soft-delete a run.

        Raises:
            NotFound: no such run.
        """
        self.db.transact(lambda conn: _set_lifecycle(conn, run_id, LifecycleStage.DELETED))

    def restore(self, run_id: str) -> None:
        """Undo ``delete``.

        Raises:
            NotFound: no such run.
        """
        self.db.transact(lambda conn: _set_lifecycle(conn, run_id, LifecycleStage.ACTIVE))

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags in one transaction.

        Params are immutable: logging a key again with the same value is a no-op, with another value
        an error (and nothing of the batch is written). Metrics naming a logged model (``model_id``)
        are recorded for it too; in the run's history such a value is written once (MLflow's client
        logs a run's metrics again for the model it logs).

        Raises:
            NotFound: no such run. InvalidInput: a bad key or value, or a changed param.
        """
        for key in [m.key for m in metrics] + [p.key for p in params] + [t.key for t in tags]:
            check_key(key)
        new_params = {p.key: str(p.value) for p in params}
        for key, value in new_params.items():
            if len(value) > MAX_PARAM_LENGTH:
                raise InvalidInput(f"param {key!r} is longer than {MAX_PARAM_LENGTH} characters")
        new_tags = {t.key: str(t.value) for t in tags}
        renamed = next((t.value for t in reversed(tags) if t.key == RUN_NAME_TAG), None)

        def write(conn: Connection) -> None:
            _check_active(conn, run_id)
            if new_params:
                _insert_params(conn, run_id, new_params)
            if metrics:
                rows = [_metric_row(run_id, m) for m in metrics]
                if any(m.model_id for m in metrics):
                    log_model_metrics(conn, run_id, metrics)
                    rows = _new_rows(conn, run_id, rows, [bool(m.model_id) for m in metrics])
                if rows:
                    conn.execute(insert(metric_table), rows)
            if new_tags:
                _write_tags(conn, run_id, new_tags)
            if renamed is not None:
                conn.execute(update(runs).where(runs.c.run_id == run_id).values(name=renamed))

        self.db.transact(write)

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput] = (), models: Sequence[LoggedModelInput] = ()
    ) -> None:
        """Record datasets and logged models the run read.

        Raises:
            NotFound: no such run. InvalidInput: the run is deleted.
        """

        def write(conn: Connection) -> None:
            _check_active(conn, run_id)
            run_io.write_inputs(conn, run_id, datasets, models)

        self.db.transact(write)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models the run produced.

        Raises:
            NotFound: no such run. InvalidInput: the run is deleted.
        """

        def write(conn: Connection) -> None:
            _check_active(conn, run_id)
            run_io.write_outputs(conn, run_id, models)

        self.db.transact(write)

    def metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int = 320,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """Values of a metric in several runs, down-sampled per run; see ``metric_history.bulk_interval``."""
        with self.db.read() as conn:
            return bulk_interval(conn, run_ids, key, max_results=max_results, start_step=start_step, end_step=end_step)

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """The datasets the runs of some experiments used."""
        with self.db.read() as conn:
            return run_io.search_datasets(conn, [as_id(e) for e in experiment_ids])

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag.

        Raises:
            NotFound: no such run or tag.
        """

        def write(conn: Connection) -> None:
            _check_active(conn, run_id)
            if not conn.execute(delete(run_tags).where(run_tags.c.run_id == run_id, run_tags.c.key == key)).rowcount:
                raise NotFound(f"run {run_id!r} has no tag {key!r}")

        self.db.transact(write)

    def metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Metric]:
        """Values logged for a metric, in logging order (every one unless ``max_results`` pages them).

        Raises:
            NotFound: no such run. InvalidInput: bad page size or token.
        """
        limit = check_max_results(max_results, MAX_METRIC_HISTORY) if max_results is not None else None
        offset = decode_page_token(page_token)
        statement = (
            select(metric_table.c.value, metric_table.c.is_nan, metric_table.c.timestamp, metric_table.c.step)
            .where(metric_table.c.run_id == run_id, metric_table.c.key == key)
            .order_by(metric_table.c.id)
            .offset(offset)
        )
        if limit is not None:
            statement = statement.limit(limit + 1)
        with self.db.read() as conn:
            if conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
                raise NotFound(f"run {run_id!r} not found")
            # plain tuples from the driver: a 50,000-point history spends its time here
            found = conn.execute(statement).cursor.fetchall()
        nan = math.nan
        points = [Metric(key, nan if is_nan else value, int(ts), int(step)) for value, is_nan, ts, step in found]
        if limit is None or len(points) <= limit:
            return PagedList(points, None)
        return PagedList(points[:limit], encode_page_token(offset + limit))

    def search(  # noqa: PLR0917 - MLflow's signature
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs of some experiments matching the filter; see ``run_search``.

        Raises:
            InvalidInput: bad filter, order, page size or token.
        """
        limit = check_max_results(max_results, 50_000)
        offset = decode_page_token(page_token)
        ids = [as_id(e) for e in experiment_ids]
        statement = run_search_statement(ids, view_stages(run_view_type), filter_string, order_by)
        with self.db.read() as conn:
            found = conn.execute(statement.limit(limit + 1).offset(offset)).all()
            result = to_runs(conn, found[:limit])
        return PagedList(result, encode_page_token(offset + limit) if len(found) > limit else None)


def check_key(key: Any) -> None:
    """Refuse an empty, overlong or NUL-containing param/metric/tag key.

    Raises:
        InvalidInput: the key is not acceptable.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise InvalidInput(f"invalid key {key!r}: a non-empty string of at most {MAX_KEY_LENGTH} characters")


def _insert_params(conn: Connection, run_id: str, new: dict[str, str]) -> None:
    found = conn.execute(
        select(param_table.c.key, param_table.c.value).where(
            param_table.c.run_id == run_id, param_table.c.key.in_(list(new))
        )
    )
    existing = {str(row.key): str(row.value) for row in found}
    for key, value in new.items():
        if key in existing and existing[key] != value:
            raise InvalidInput(
                f"param {key!r} of run {run_id} was already logged with value {existing[key]!r}; "
                f"params are immutable (attempted {value!r})"
            )
    fresh = [{"run_id": run_id, "key": k, "value": v} for k, v in new.items() if k not in existing]
    if fresh:
        conn.execute(insert(param_table), fresh)


def _check_active(conn: Connection, run_id: str) -> None:
    stage = conn.execute(select(runs.c.lifecycle_stage).where(runs.c.run_id == run_id)).scalar()
    if stage is None:
        raise NotFound(f"run {run_id!r} not found")
    if stage != LifecycleStage.ACTIVE.value:
        raise InvalidInput(f"run {run_id!r} is deleted; restore it first")


def _set_lifecycle(conn: Connection, run_id: str, stage: LifecycleStage) -> None:
    if not conn.execute(update(runs).where(runs.c.run_id == run_id).values(lifecycle_stage=stage.value)).rowcount:
        raise NotFound(f"run {run_id!r} not found")


def _metric_row(run_id: str, metric: Metric) -> dict[str, Any]:
    try:
        value = float(metric.value)
    except (TypeError, ValueError):
        raise InvalidInput(f"metric {metric.key!r} must be a number, got {metric.value!r}") from None
    nan = math.isnan(value)
    return {
        "run_id": run_id,
        "key": metric.key,
        "value": None if nan else value,
        "is_nan": nan,
        "timestamp": int(metric.timestamp),
        "step": int(metric.step or 0),
    }


def _new_rows(conn: Connection, run_id: str, rows: list[dict[str, Any]], for_model: list[bool]) -> list[dict[str, Any]]:
    """``rows`` without the model-attached ones already in the run's history (same key, time, step, value)."""
    keys = sorted({row["key"] for row, attached in zip(rows, for_model, strict=True) if attached})
    found = conn.execute(
        select(metric_table.c.key, metric_table.c.timestamp, metric_table.c.step, metric_table.c.value).where(
            metric_table.c.run_id == run_id, metric_table.c.key.in_(keys)
        )
    )
    seen = {(r.key, int(r.timestamp), int(r.step), r.value) for r in found}
    fresh = []
    for row, attached in zip(rows, for_model, strict=True):
        identity = (row["key"], row["timestamp"], row["step"], row["value"])
        if attached and identity in seen:
            continue
        seen.add(identity)
        fresh.append(row)
    return fresh


def _write_tags(conn: Connection, run_id: str, tags: Mapping[str, str]) -> None:
    if tags:
        conn.execute(delete(run_tags).where(run_tags.c.run_id == run_id, run_tags.c.key.in_(list(tags))))
        conn.execute(insert(run_tags), [{"run_id": run_id, "key": k, "value": str(v)} for k, v in tags.items()])


__all__ = ["MAX_KEY_LENGTH", "MAX_PARAM_LENGTH", "SqlRuns", "check_key"]
