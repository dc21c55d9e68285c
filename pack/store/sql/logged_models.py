"""MLflow 3 logged models in SQL: ``m-<hex>`` ids, files under the experiment, tags, params, metrics.

A logged model is created PENDING, its files are uploaded to ``artifact_location``, and the client
finalizes it READY. Metrics reach a logged model through ``log_batch`` with ``Metric.model_id`` set
(recorded in the run's history too, as MLflow does). Deleting one is a soft delete.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.engine import Connection, Row

from pack.errors import InvalidInput, NotFound
from pack.store.entities import LifecycleStage, LoggedModel, LoggedModelStatus, Metric, PagedList, now_ms
from pack.store.sql.conditions import STRING_OPS, check_ops, compare
from pack.store.sql.database import Database
from pack.store.sql.experiments import as_id
from pack.store.sql.search import (
    Clause,
    check_max_results,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)
from pack.store.sql.tables import experiments, logged_model_metrics, logged_model_params, logged_model_tags
from pack.store.sql.tables import logged_models as lm

MAX_RESULTS = 10_000
_NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
_ATTRIBUTES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "name": (lm.c.name, STRING_OPS),
    "model_id": (lm.c.model_id, STRING_OPS),
    "status": (lm.c.status, STRING_OPS),
    "source_run_id": (lm.c.source_run_id, STRING_OPS),
    "model_type": (lm.c.model_type, STRING_OPS),
    "creation_timestamp": (lm.c.creation_time, _NUMBER_OPS),
    "creation_time": (lm.c.creation_time, _NUMBER_OPS),
    "last_updated_timestamp": (lm.c.last_updated_time, _NUMBER_OPS),
}
_ORDER = {
    "name": lm.c.name,
    "model_id": lm.c.model_id,
    "creation_timestamp": lm.c.creation_time,
    "creation_time": lm.c.creation_time,
    "last_updated_timestamp": lm.c.last_updated_time,
}


class SqlLoggedModels:
    """Logged models of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        experiment_id: str,
        name: str | None = None,
        *,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new PENDING logged model in an experiment, its files to go under
        ``<experiment artifact location>/models/<model_id>/artifacts``.

        Raises:
            NotFound: no such experiment. InvalidInput: the experiment is deleted.
        """
        model_id = f"m-{uuid.uuid4().hex}"
        label = name or model_id

        def write(conn: Connection) -> None:
            found = conn.execute(
                select(experiments.c.artifact_location, experiments.c.lifecycle_stage).where(
                    experiments.c.experiment_id == as_id(experiment_id)
                )
            ).first()
            if found is None:
                raise NotFound(f"experiment {experiment_id!r} not found")
            if found.lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise InvalidInput(f"experiment {experiment_id!r} is deleted; restore it first")
            timestamp = now_ms()
            conn.execute(
                insert(lm).values(
                    model_id=model_id,
                    experiment_id=as_id(experiment_id),
                    name=label,
                    artifact_location=f"{found.artifact_location}/models/{model_id}/artifacts",
                    status=LoggedModelStatus.PENDING.value,
                    creation_time=timestamp,
                    last_updated_time=timestamp,
                    source_run_id=source_run_id or None,
                    model_type=model_type or None,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                )
            )
            _put(conn, logged_model_tags, model_id, tags or {})
            _put(conn, logged_model_params, model_id, params or {})

        self.db.transact(write)
        return self.get(model_id)

    def get(self, model_id: str) -> LoggedModel:
        """One logged model with tags, params and metrics.

        Raises:
            NotFound: no such (or a deleted) logged model.
        """
        with self.db.read() as conn:
            row = conn.execute(select(lm).where(lm.c.model_id == model_id)).first()
            if row is None or row.lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise NotFound(f"logged model {model_id!r} not found")
            return _to_models(conn, [row])[0]

    def finalize(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """Set a logged model's status (READY once its files are uploaded).

        Raises:
            NotFound: no such logged model. InvalidInput: unknown status.
        """
        value = LoggedModelStatus.parse(status).value
        self.db.transact(lambda conn: _touch(conn, model_id, status=value))
        return self.get(model_id)

    def set_tags(self, model_id: str, tags: Mapping[str, str]) -> LoggedModel:
        """Set (or replace) tags.

        Raises:
            NotFound: no such logged model.
        """

        def write(conn: Connection) -> None:
            _touch(conn, model_id)
            _put(conn, logged_model_tags, model_id, tags, replace=True)

        self.db.transact(write)
        return self.get(model_id)

    def delete_tag(self, model_id: str, key: str) -> None:
        """Delete a tag.

        Raises:
            NotFound: no such logged model or tag.
        """
        table = logged_model_tags

        def write(conn: Connection) -> None:
            _touch(conn, model_id)
            if not conn.execute(delete(table).where(table.c.model_id == model_id, table.c.key == key)).rowcount:
                raise NotFound(f"logged model {model_id!r} has no tag {key!r}")

        self.db.transact(write)

    def log_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """Record params (a key logged again keeps its first value, as MLflow).

        Raises:
            NotFound: no such logged model.
        """
        table = logged_model_params

        def write(conn: Connection) -> None:
            _touch(conn, model_id)
            found = conn.execute(
                select(table.c.key).where(table.c.model_id == model_id, table.c.key.in_(list(params)))
            ).scalars()
            existing = set(found)
            _put(conn, table, model_id, {k: v for k, v in params.items() if k not in existing})

        self.db.transact(write)

    def delete(self, model_id: str) -> None:
        """Soft-delete a logged model.

        Raises:
            NotFound: no such logged model.
        """
        self.db.transact(lambda conn: _touch(conn, model_id, lifecycle_stage=LifecycleStage.DELETED.value))

    def search(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Logged models of some experiments matching e.g. ``name = 'model' AND tags.k = 'v'``;
        newest first unless ordered.

        Raises:
            InvalidInput: bad filter, order, page size or token.
        """
        limit = check_max_results(max_results, MAX_RESULTS)
        offset = decode_page_token(page_token)
        ids = [as_id(e) for e in experiment_ids]
        statement = select(lm).where(lm.c.experiment_id.in_(ids), lm.c.lifecycle_stage == LifecycleStage.ACTIVE.value)
        for clause in parse_filter(filter_string):
            statement = statement.where(_condition(clause))
        terms = parse_order_by(order_by, list(_ORDER))
        order = [_ORDER[t.key].asc() if t.ascending else _ORDER[t.key].desc() for t in terms]
        order.extend([lm.c.creation_time.desc(), lm.c.model_id.asc()])
        with self.db.read() as conn:
            found = conn.execute(statement.order_by(*order).limit(limit + 1).offset(offset)).all()
            result = _to_models(conn, found[:limit])
        return PagedList(result, encode_page_token(offset + limit) if len(found) > limit else None)


def log_model_metrics(conn: Connection, run_id: str, metrics: Sequence[Metric]) -> None:
    """Record metrics that name a logged model (``Metric.model_id``) for that model, in the caller's
    transaction.

    Raises:
        NotFound: a named logged model does not exist.
    """
    ids = sorted({m.model_id for m in metrics if m.model_id})
    if not ids:
        return
    known = set(conn.execute(select(lm.c.model_id).where(lm.c.model_id.in_(ids))).scalars())
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFound(f"logged model {missing[0]!r} not found")
    rows = []
    for metric in metrics:
        if not metric.model_id:
            continue
        value = float(metric.value)
        nan = math.isnan(value)
        rows.append(
            {
                "model_id": metric.model_id,
                "key": metric.key,
                "value": None if nan else value,
                "is_nan": nan,
                "timestamp": int(metric.timestamp),
                "step": int(metric.step or 0),
                "run_id": run_id,
                "dataset_name": metric.dataset_name or None,
                "dataset_digest": metric.dataset_digest or None,
            }
        )
    conn.execute(insert(logged_model_metrics), rows)


def _condition(clause: Clause) -> Any:
    if clause.prefix == "metrics":
        check_ops(clause, _NUMBER_OPS)
        metric = logged_model_metrics
        latest = (
            select(metric.c.value)
            .where(metric.c.model_id == lm.c.model_id, metric.c.key == clause.key)
            .order_by(metric.c.step.desc(), metric.c.timestamp.desc(), metric.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        return compare(latest, clause)
    if clause.prefix in ("params", "tags"):
        check_ops(clause, STRING_OPS)
        table = logged_model_params if clause.prefix == "params" else logged_model_tags
        return exists().where(
            table.c.model_id == lm.c.model_id, table.c.key == clause.key, compare(table.c.value, clause)
        )
    if clause.key not in _ATTRIBUTES:
        raise InvalidInput(
            f"cannot filter logged models on {clause.key!r} (use: {', '.join(_ATTRIBUTES)}, "
            "metrics.<key>, params.<key>, tags.<key>)"
        )
    column, ops = _ATTRIBUTES[clause.key]
    check_ops(clause, ops)
    return compare(column, clause)


def _touch(conn: Connection, model_id: str, **values: Any) -> None:
    changed = conn.execute(
        update(lm)
        .where(lm.c.model_id == model_id, lm.c.lifecycle_stage == LifecycleStage.ACTIVE.value)
        .values(last_updated_time=now_ms(), **values)
    ).rowcount
    if not changed:
        raise NotFound(f"logged model {model_id!r} not found")


def _put(conn: Connection, table: Any, model_id: str, values: Mapping[str, str], *, replace: bool = False) -> None:
    if not values:
        return
    if replace:
        conn.execute(delete(table).where(table.c.model_id == model_id, table.c.key.in_(list(values))))
    conn.execute(insert(table), [{"model_id": model_id, "key": k, "value": str(v)} for k, v in values.items()])


def _to_models(conn: Connection, found: Sequence[Row[Any]]) -> list[LoggedModel]:
    ids = [row.model_id for row in found]
    if not ids:
        return []
    tags: dict[str, dict[str, str]] = {}
    for row in conn.execute(select(logged_model_tags).where(logged_model_tags.c.model_id.in_(ids))):
        tags.setdefault(row.model_id, {})[row.key] = row.value
    params: dict[str, dict[str, str]] = {}
    for row in conn.execute(select(logged_model_params).where(logged_model_params.c.model_id.in_(ids))):
        params.setdefault(row.model_id, {})[row.key] = row.value
    latest: dict[str, dict[tuple[str, str | None, str | None], tuple[tuple[int, int, int], Metric]]] = {}
    metric = logged_model_metrics
    for row in conn.execute(select(metric).where(metric.c.model_id.in_(ids))):
        rank = (int(row.step), int(row.timestamp), int(row.id))
        key = (row.key, row.dataset_name, row.dataset_digest)
        per_model = latest.setdefault(row.model_id, {})
        if key not in per_model or per_model[key][0] < rank:
            value = math.nan if row.is_nan else float(row.value)
            per_model[key] = (
                rank,
                Metric(
                    key=row.key,
                    value=value,
                    timestamp=int(row.timestamp),
                    step=int(row.step),
                    model_id=row.model_id,
                    dataset_name=row.dataset_name,
                    dataset_digest=row.dataset_digest,
                    run_id=row.run_id,
                ),
            )
    return [
        LoggedModel(
            model_id=row.model_id,
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            status=row.status,
            creation_timestamp=int(row.creation_time),
            last_updated_timestamp=int(row.last_updated_time),
            source_run_id=row.source_run_id,
            model_type=row.model_type,
            tags=tags.get(row.model_id, {}),
            params=params.get(row.model_id, {}),
            metrics=tuple(m for _, m in sorted(latest.get(row.model_id, {}).values(), key=lambda item: item[1].key)),
        )
        for row in found
    ]


__all__ = ["SqlLoggedModels", "log_model_metrics"]
