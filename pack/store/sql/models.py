"""Registered models in SQL: the models themselves, their tags, aliases and promotion history.

Changes to one model are serialised by touching its row first (``registry_rows.lock_model``); each
alias change writes its history event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pack.errors import AlreadyExists, InvalidInput, NotFound
from pack.store.entities import (
    ModelVersion,
    PagedList,
    PromotionEvent,
    RegisteredModel,
    Stage,
    now_ms,
)
from pack.store.sql import registry_rows as rows
from pack.store.sql.conditions import STRING_OPS, check_ops, compare, tag_condition
from pack.store.sql.database import Database
from pack.store.sql.search import (
    Clause,
    check_max_results,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)
from pack.store.sql.tables import (
    promotion_history,
    registered_model_aliases,
    registered_model_tags,
)

mv = rows.mv
rm = rows.rm
ra = registered_model_aliases
_MODEL_ORDER = {
    "name": rm.c.name,
    "creation_timestamp": rm.c.creation_time,
    "last_updated_timestamp": rm.c.last_updated_time,
}


class SqlRegisteredModels:
    """Registered models of one database, with their tags, aliases and promotion history."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create a model.

        Raises:
            AlreadyExists: the name is taken.
        """

        def insert_model(conn: Connection) -> None:
            timestamp = now_ms()
            model = conn.execute(
                insert(rm)
                .values(
                    name=name,
                    creation_time=timestamp,
                    last_updated_time=timestamp,
                    description=description,
                    last_version=0,
                )
                .returning(rm.c.id)
            ).scalar_one()
            if tags:
                conn.execute(
                    insert(registered_model_tags),
                    [{"model_id": model, "key": k, "value": v} for k, v in tags.items()],
                )

        try:
            self.db.transact(insert_model)
        except IntegrityError:
            raise AlreadyExists(f"registered model {name!r} already exists") from None
        return self.get(name)

    def get(self, name: str) -> RegisteredModel:
        """A model with its tags, aliases and latest version per stage.

        Raises:
            NotFound: no such model.
        """
        with self.db.read() as conn:
            row = conn.execute(select(rm).where(rm.c.name == name)).first()
            if row is None:
                raise NotFound(f"registered model {name!r} not found")
            latest = []
            for stage in Stage:
                found = conn.execute(
                    select(*rows.VERSION_COLUMNS)
                    .join_from(mv, rm, mv.c.model_id == rm.c.id)
                    .where(mv.c.model_id == row.id, mv.c.current_stage == stage.value)
                    .order_by(mv.c.version.desc())
                    .limit(1)
                ).first()
                if found is not None:
                    latest.append(found)
            return self._to_models(conn, [row], {row.id: rows.to_versions(conn, latest)})[0]

    def search(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Models matching ``name`` / ``tags.<key>`` clauses, ordered by name unless ``order_by`` says.

        Raises:
            InvalidInput: bad filter, order, page size or token.
        """
        limit = check_max_results(max_results, 1000)
        offset = decode_page_token(page_token)
        statement = select(rm)
        for clause in parse_filter(filter_string):
            statement = statement.where(self._model_condition(clause))
        terms = parse_order_by(order_by, list(_MODEL_ORDER))
        order = [_MODEL_ORDER[t.key].asc() if t.ascending else _MODEL_ORDER[t.key].desc() for t in terms]
        if not any(t.key == "name" for t in terms):
            order.append(rm.c.name.asc())
        with self.db.read() as conn:
            found = conn.execute(statement.order_by(*order).limit(limit + 1).offset(offset)).all()
            page = found[:limit]
            latest = self._latest_versions(conn, [row.id for row in page])
            models = self._to_models(conn, page, latest)
        return PagedList(models, encode_page_token(offset + limit) if len(found) > limit else None)

    def rename(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model (its versions, aliases and history follow).

        Raises:
            NotFound: no such model. AlreadyExists: ``new_name`` is taken.
        """

        def write(conn: Connection) -> None:
            model = rows.lock_model(conn, name, now_ms())
            conn.execute(update(rm).where(rm.c.id == model).values(name=new_name))

        try:
            self.db.transact(write)
        except IntegrityError:
            raise AlreadyExists(f"registered model {new_name!r} already exists") from None
        return self.get(new_name)

    def update(self, name: str, description: str | None) -> RegisteredModel:
        """Set a model's description.

        Raises:
            NotFound: no such model.
        """

        def write(conn: Connection) -> None:
            model = rows.lock_model(conn, name, now_ms())
            conn.execute(update(rm).where(rm.c.id == model).values(description=description))

        self.db.transact(write)
        return self.get(name)

    def delete(self, name: str) -> list[str]:
        """Delete a model with all its versions; the storage locations whose files should go.

        Raises:
            NotFound: no such model.
        """

        def write(conn: Connection) -> list[str]:
            model = rows.lock_model(conn, name, now_ms())
            locations = conn.execute(
                select(mv.c.storage_location).where(mv.c.model_id == model, mv.c.storage_location.is_not(None))
            ).scalars()
            result = [str(location) for location in locations]
            conn.execute(delete(rm).where(rm.c.id == model))
            return result

        return self.db.transact(write)

    def set_tag(self, name: str, key: str, value: str) -> None:
        """Set (or replace) a model tag.

        Raises:
            NotFound: no such model.
        """
        table = registered_model_tags

        def write(conn: Connection) -> None:
            model = rows.lock_model(conn, name, now_ms())
            conn.execute(delete(table).where(table.c.model_id == model, table.c.key == key))
            conn.execute(insert(table).values(model_id=model, key=key, value=value))

        self.db.transact(write)

    def delete_tag(self, name: str, key: str) -> None:
        """Delete a model tag.

        Raises:
            NotFound: no such model or tag.
        """
        table = registered_model_tags

        def write(conn: Connection) -> None:
            model = rows.lock_model(conn, name, now_ms())
            gone = conn.execute(delete(table).where(table.c.model_id == model, table.c.key == key)).rowcount
            if not gone:
                raise NotFound(f"registered model {name!r} has no tag {key!r}")

        self.db.transact(write)

    def latest_versions(self, name: str, stages: Sequence[Stage] | None = None) -> list[ModelVersion]:
        """The highest version in each stage (every stage when ``stages`` is empty).

        Raises:
            NotFound: no such model.
        """
        wanted = {s.value for s in stages} if stages else {s.value for s in Stage}
        model = self.get(name)
        return [v for v in model.latest_versions if v.current_stage in wanted]

    # aliases and history

    def set_alias(self, name: str, alias: str, version: int, *, user: str) -> None:
        """Point ``alias`` at ``version`` (recorded when it changes).

        Raises:
            NotFound: no such model or version.
        """

        def write(conn: Connection) -> None:
            timestamp = now_ms()
            model = rows.lock_model(conn, name, timestamp)
            rows.version_row(conn, model, name, version)
            where = (ra.c.model_id == model, ra.c.alias == alias)
            previous = conn.execute(select(ra.c.version).where(*where)).scalar()
            if previous == version:
                return
            if previous is None:
                conn.execute(insert(ra).values(model_id=model, alias=alias, version=version))
            else:
                conn.execute(update(ra).where(*where).values(version=version))
            rows.record(
                conn,
                model,
                version,
                "alias",
                user=user,
                timestamp=timestamp,
                alias=alias,
                from_value=None if previous is None else str(previous),
                to_value=str(version),
            )

        self.db.transact(write)

    def delete_alias(self, name: str, alias: str, *, user: str) -> None:
        """Remove an alias (recorded).

        Raises:
            NotFound: no such model or alias.
        """

        def write(conn: Connection) -> None:
            timestamp = now_ms()
            model = rows.lock_model(conn, name, timestamp)
            where = (ra.c.model_id == model, ra.c.alias == alias)
            previous = conn.execute(select(ra.c.version).where(*where)).scalar()
            if previous is None:
                raise NotFound(f"registered model {name!r} has no alias {alias!r}")
            conn.execute(delete(ra).where(*where))
            rows.record(
                conn,
                model,
                int(previous),
                "alias",
                user=user,
                timestamp=timestamp,
                alias=alias,
                from_value=str(previous),
            )

        self.db.transact(write)

    def history(
        self, name: str, version: int | None = None, max_results: int = 1000, page_token: str | None = None
    ) -> PagedList[PromotionEvent]:
        """Stage and alias changes of a model (or one version), newest first.

        Raises:
            NotFound: no such model.
        """
        limit = check_max_results(max_results, 10_000)
        offset = decode_page_token(page_token)
        ph = promotion_history
        with self.db.read() as conn:
            model = rows.model_id(conn, name)
            statement = select(ph, rm.c.name).join_from(ph, rm, ph.c.model_id == rm.c.id).where(ph.c.model_id == model)
            if version is not None:
                statement = statement.where(ph.c.version == version)
            found = conn.execute(statement.order_by(ph.c.id.desc()).limit(limit + 1).offset(offset)).all()
        events = [rows.to_event(row) for row in found[:limit]]
        return PagedList(events, encode_page_token(offset + limit) if len(found) > limit else None)

    def _model_condition(self, clause: Clause) -> Any:
        if clause.prefix == "tags":
            table = registered_model_tags
            return tag_condition(table, (table.c.model_id == rm.c.id,), clause)
        if clause.prefix == "attributes" and clause.key == "name":
            check_ops(clause, STRING_OPS)
            return compare(rm.c.name, clause)
        raise InvalidInput(f"cannot filter registered models on {clause.prefix}.{clause.key} (use name or tags.<key>)")

    def _latest_versions(self, conn: Connection, models: Sequence[int]) -> dict[int, list[ModelVersion]]:
        if not models:
            return {}
        highest = (
            select(mv.c.model_id, mv.c.current_stage, func.max(mv.c.version).label("version"))
            .where(mv.c.model_id.in_(models))
            .group_by(mv.c.model_id, mv.c.current_stage)
            .subquery()
        )
        found = conn.execute(
            select(*rows.VERSION_COLUMNS)
            .join_from(mv, rm, mv.c.model_id == rm.c.id)
            .join(highest, (highest.c.model_id == mv.c.model_id) & (highest.c.version == mv.c.version))
        ).all()
        result: dict[int, list[ModelVersion]] = {}
        for row, version in zip(found, rows.to_versions(conn, found), strict=True):
            result.setdefault(row.model_id, []).append(version)
        return result

    def _to_models(
        self, conn: Connection, found: Sequence[Any], latest: Mapping[int, list[ModelVersion]]
    ) -> list[RegisteredModel]:
        ids = [row.id for row in found]
        tags: dict[int, dict[str, str]] = {}
        aliases: dict[int, dict[str, int]] = {}
        if ids:
            table = registered_model_tags
            for tag in conn.execute(select(table).where(table.c.model_id.in_(ids))):
                tags.setdefault(tag.model_id, {})[tag.key] = tag.value
            for alias in conn.execute(select(ra).where(ra.c.model_id.in_(ids)).order_by(ra.c.alias)):
                aliases.setdefault(alias.model_id, {})[alias.alias] = int(alias.version)
        return [
            RegisteredModel(
                name=row.name,
                creation_timestamp=int(row.creation_time),
                last_updated_timestamp=int(row.last_updated_time),
                description=row.description,
                tags=tags.get(row.id, {}),
                aliases=aliases.get(row.id, {}),
                latest_versions=tuple(sorted(latest.get(row.id, []), key=lambda v: v.version)),
            )
            for row in found
        ]


__all__ = ["SqlRegisteredModels"]
