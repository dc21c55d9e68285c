"""Experiments in SQL (MLflow's semantics: string ids, soft delete, the ``Default`` experiment 0)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy import exists, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from pack.errors import AlreadyExists, InvalidInput, NotFound
from pack.store.entities import Experiment, LifecycleStage, PagedList, ViewType, now_ms
from pack.store.sql.conditions import STRING_OPS, check_ops, compare
from pack.store.sql.database import Database
from pack.store.sql.search import (
    check_max_results,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)
from pack.store.sql.tables import experiment_tags, experiments

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
_ORDER = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.experiment_id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}


class SqlExperiments:
    """Experiments of one database; new ones keep their files under ``<artifact_root>/<id>``."""

    def __init__(self, db: Database, artifact_root: str) -> None:
        self.db = db
        self.artifact_root = artifact_root.rstrip("/")
        self._default_ready = False

    def create(self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None) -> str:
        """Create an experiment; its id. Files go under ``artifact_location`` (default: root/<id>).

        Raises:
            InvalidInput: empty name. AlreadyExists: the name is taken.
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("experiment name must be a non-empty string")

        def insert_experiment(conn: Connection) -> str:
            timestamp = now_ms()
            new_id = conn.execute(
                insert(experiments)
                .values(
                    name=name,
                    artifact_location=artifact_location or "",
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    creation_time=timestamp,
                    last_update_time=timestamp,
                )
                .returning(experiments.c.experiment_id)
            ).scalar_one()
            if not artifact_location:
                conn.execute(
                    update(experiments)
                    .where(experiments.c.experiment_id == new_id)
                    .values(artifact_location=f"{self.artifact_root}/{new_id}")
                )
            _insert_tags(conn, int(new_id), tags or {})
            return str(new_id)

        try:
            return self.db.transact(insert_experiment)
        except IntegrityError:
            raise AlreadyExists(f"experiment {name!r} already exists") from None

    def default_id(self) -> str:
        """The id of the ``Default`` experiment, created on first use."""
        if self._default_ready:
            return DEFAULT_EXPERIMENT_ID
        with self.db.read() as conn:
            if conn.execute(select(exists().where(experiments.c.experiment_id == 0))).scalar():
                self._default_ready = True
                return DEFAULT_EXPERIMENT_ID

        def insert_default(conn: Connection) -> None:
            timestamp = now_ms()
            conn.execute(
                insert(experiments).values(
                    experiment_id=0,
                    name=DEFAULT_EXPERIMENT_NAME,
                    artifact_location=f"{self.artifact_root}/0",
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    creation_time=timestamp,
                    last_update_time=timestamp,
                )
            )

        with suppress(IntegrityError):  # created meanwhile by another process, or the name "Default" is taken
            self.db.transact(insert_default)
        self._default_ready = True
        return DEFAULT_EXPERIMENT_ID

    def get(self, experiment_id: str) -> Experiment:
        """One experiment.

        Raises:
            NotFound: no such experiment.
        """
        if str(experiment_id) == DEFAULT_EXPERIMENT_ID:
            self.default_id()
        with self.db.read() as conn:
            row = conn.execute(select(experiments).where(experiments.c.experiment_id == as_id(experiment_id))).first()
            if row is None:
                raise NotFound(f"experiment {experiment_id!r} not found")
            return _to_experiments(conn, [row])[0]

    def get_by_name(self, name: str) -> Experiment | None:
        """The experiment named ``name``, or None."""
        if name == DEFAULT_EXPERIMENT_NAME:
            self.default_id()
        with self.db.read() as conn:
            row = conn.execute(select(experiments).where(experiments.c.name == name)).first()
            return None if row is None else _to_experiments(conn, [row])[0]

    def search(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching ``name`` / ``tags.<key>`` clauses; newest first unless ordered.

        Raises:
            InvalidInput: bad filter, order, page size or token.
        """
        limit = check_max_results(max_results, 50_000)
        offset = decode_page_token(page_token)
        self.default_id()
        statement = select(experiments).where(experiments.c.lifecycle_stage.in_(view_stages(view_type)))
        for clause in parse_filter(filter_string):
            check_ops(clause, STRING_OPS)
            if clause.prefix == "tags":
                statement = statement.where(
                    exists().where(
                        experiment_tags.c.experiment_id == experiments.c.experiment_id,
                        experiment_tags.c.key == clause.key,
                        compare(experiment_tags.c.value, clause),
                    )
                )
            elif clause.prefix == "attributes" and clause.key == "name":
                statement = statement.where(compare(experiments.c.name, clause))
            else:
                raise InvalidInput(f"cannot filter experiments on {clause.key!r} (use name or tags.<key>)")
        terms = parse_order_by(order_by, list(_ORDER))
        order = [_ORDER[t.key].asc() if t.ascending else _ORDER[t.key].desc() for t in terms]
        order.append(experiments.c.experiment_id.desc())
        with self.db.read() as conn:
            found = conn.execute(statement.order_by(*order).limit(limit + 1).offset(offset)).all()
            result = _to_experiments(conn, found[:limit])
        return PagedList(result, encode_page_token(offset + limit) if len(found) > limit else None)

    def delete(self, experiment_id: str) -> None:
        """Soft-delete an experiment (restorable).

        Raises:
            NotFound: no such experiment.
        """
        self.db.transact(lambda conn: _touch(conn, experiment_id, lifecycle_stage=LifecycleStage.DELETED.value))

    def restore(self, experiment_id: str) -> None:
        """Undo ``delete``.

        Raises:
            NotFound: no such experiment.
        """
        self.db.transact(lambda conn: _touch(conn, experiment_id, lifecycle_stage=LifecycleStage.ACTIVE.value))

    def rename(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment.

        Raises:
            NotFound: no such experiment. AlreadyExists: the name is taken.
        """
        try:
            self.db.transact(lambda conn: _touch(conn, experiment_id, name=new_name))
        except IntegrityError:
            raise AlreadyExists(f"experiment {new_name!r} already exists") from None

    def set_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set (or replace) an experiment tag.

        Raises:
            NotFound: no such experiment.
        """

        def write(conn: Connection) -> None:
            _touch(conn, experiment_id)
            conn.execute(
                experiment_tags.delete().where(
                    experiment_tags.c.experiment_id == as_id(experiment_id), experiment_tags.c.key == key
                )
            )
            _insert_tags(conn, as_id(experiment_id), {key: value})

        self.db.transact(write)

    def delete_tag(self, experiment_id: str, key: str) -> None:
        """Delete an experiment tag.

        Raises:
            NotFound: no such experiment or tag.
        """
        table = experiment_tags

        def write(conn: Connection) -> None:
            _touch(conn, experiment_id)
            where = (table.c.experiment_id == as_id(experiment_id), table.c.key == key)
            if not conn.execute(table.delete().where(*where)).rowcount:
                raise NotFound(f"experiment {experiment_id!r} has no tag {key!r}")

        self.db.transact(write)


def _touch(conn: Connection, experiment_id: str, **values: Any) -> None:
    changed = conn.execute(
        update(experiments)
        .where(experiments.c.experiment_id == as_id(experiment_id))
        .values(last_update_time=now_ms(), **values)
    ).rowcount
    if not changed:
        raise NotFound(f"experiment {experiment_id!r} not found")


def _insert_tags(conn: Connection, experiment_id: int, tags: Mapping[str, str]) -> None:
    if tags:
        conn.execute(
            insert(experiment_tags),
            [{"experiment_id": experiment_id, "key": k, "value": str(v)} for k, v in tags.items()],
        )


def _to_experiments(conn: Connection, found: Sequence[Row[Any]]) -> list[Experiment]:
    ids = [row.experiment_id for row in found]
    tags: dict[int, dict[str, str]] = {}
    if ids:
        for tag in conn.execute(select(experiment_tags).where(experiment_tags.c.experiment_id.in_(ids))):
            tags.setdefault(tag.experiment_id, {})[tag.key] = tag.value
    return [
        Experiment(
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            lifecycle_stage=row.lifecycle_stage,
            tags=tags.get(row.experiment_id, {}),
            creation_time=int(row.creation_time),
            last_update_time=int(row.last_update_time),
        )
        for row in found
    ]


def as_id(experiment_id: str | int) -> int:
    """An experiment id as the integer key (ids are strings in the API).

    Raises:
        NotFound: not an integer, so no such experiment.
    """
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise NotFound(f"experiment {experiment_id!r} not found") from None


def view_stages(view_type: ViewType | int) -> list[str]:
    """The lifecycle stages a view type selects."""
    view = ViewType(view_type)
    if view == ViewType.ACTIVE_ONLY:
        return [LifecycleStage.ACTIVE.value]
    if view == ViewType.DELETED_ONLY:
        return [LifecycleStage.DELETED.value]
    return [LifecycleStage.ACTIVE.value, LifecycleStage.DELETED.value]


__all__ = ["DEFAULT_EXPERIMENT_ID", "DEFAULT_EXPERIMENT_NAME", "SqlExperiments", "as_id", "view_stages"]
