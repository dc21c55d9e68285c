"""Model versions in SQL: allocation, READY/FAILED, stages, tags, deletion, and resolution queries.

A version is created PENDING_REGISTRATION with the next number from the model's counter (incremented
under the model row's write lock, retried on transient lock conflicts), then made READY in one
transaction together with its file checksums. Stage changes are recorded in the promotion history in
the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from pack.errors import InvalidInput, NotFound
from pack.store.entities import ModelVersion, ModelVersionFile, ModelVersionStatus, PagedList, Stage, now_ms
from pack.store.sql import registry_rows as rows
from pack.store.sql.database import Database
from pack.store.sql.tables import model_version_files, model_version_tags, registered_model_aliases
from pack.store.sql.version_search import search_versions

mv = rows.mv
rm = rows.rm
ra = registered_model_aliases
_READY = ModelVersionStatus.READY.value
_PENDING = ModelVersionStatus.PENDING_REGISTRATION.value
# A registration's statements, built once (SQLAlchemy then reuses their compiled form).
_ALLOCATE = (
    update(rm)
    .where(rm.c.name == bindparam("model_name"))
    .values(last_version=rm.c.last_version + 1, last_updated_time=bindparam("now"))
    .returning(rm.c.id, rm.c.last_version)
)
_INSERT_VERSION = insert(mv)
_INSERT_TAGS = insert(model_version_tags)
_INSERT_FILES = insert(model_version_files)
_FINISH = (
    update(mv)
    .where(
        mv.c.model_id == select(rm.c.id).where(rm.c.name == bindparam("model_name")).scalar_subquery(),
        mv.c.version == bindparam("number"),
        mv.c.status == _PENDING,
    )
    .values(
        status=_READY,
        last_updated_time=bindparam("now"),
        size_bytes=bindparam("total_size"),
        file_count=bindparam("count"),
        flavors=bindparam("flavor_list"),
        signature=bindparam("summary"),
    )
    .returning(*mv.c)
)
# models:/name@alias: unique name index -> alias primary key -> version primary key.
_BY_ALIAS = (
    select(*rows.VERSION_COLUMNS)
    .join_from(ra, mv, (ra.c.model_id == mv.c.model_id) & (ra.c.version == mv.c.version))
    .join(rm, rm.c.id == mv.c.model_id)
    .where(rm.c.name == bindparam("name"), ra.c.alias == bindparam("alias"))
)
# models:/name/latest: the primary key read backwards, skipping versions that are not READY.
_HIGHEST = (
    select(*rows.VERSION_COLUMNS)
    .join_from(mv, rm, mv.c.model_id == rm.c.id)
    .where(mv.c.model_id == bindparam("model"), mv.c.status == _READY)
    .order_by(mv.c.version.desc())
    .limit(1)
)
# models:/name/<Stage>: one probe of the (model_id, current_stage, version) index.
_HIGHEST_IN_STAGE = _HIGHEST.where(mv.c.current_stage == bindparam("stage"))


class SqlModelVersions:
    """Versions of the registered models of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        name: str,
        *,
        source: str | None,
        storage_location: Callable[[int], str],
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Allocate the next version number and record it as PENDING_REGISTRATION.

        ``storage_location(version)`` names where the version's files will go.

        Raises:
            NotFound: no such model.
        """

        def allocate(conn: Connection) -> ModelVersion:
            timestamp = now_ms()
            allocated = conn.execute(_ALLOCATE, {"model_name": name, "now": timestamp}).first()
            if allocated is None:
                raise NotFound(f"registered model {name!r} not found")
            model, version = int(allocated[0]), int(allocated[1])
            location = storage_location(version)
            conn.execute(
                _INSERT_VERSION,
                {
                    "model_id": model,
                    "version": version,
                    "creation_time": timestamp,
                    "last_updated_time": timestamp,
                    "description": description,
                    "user_id": user_id,
                    "current_stage": Stage.NONE.value,
                    "source": source,
                    "run_id": run_id,
                    "run_link": run_link,
                    "status": _PENDING,
                    "storage_location": location,
                    "logged_model_id": model_id,
                },
            )
            if tags:
                conn.execute(
                    _INSERT_TAGS,
                    [{"model_id": model, "version": version, "key": k, "value": v} for k, v in tags.items()],
                )
            return ModelVersion(
                name=name,
                version=version,
                creation_timestamp=timestamp,
                last_updated_timestamp=timestamp,
                description=description,
                user_id=user_id,
                source=source,
                run_id=run_id,
                run_link=run_link,
                status=ModelVersionStatus.PENDING_REGISTRATION.value,
                tags=dict(tags or {}),
                storage_location=location,
                model_id=model_id,
            )

        return self.db.transact(allocate)

    def finish(
        self,
        name: str,
        version: int,
        files: Sequence[ModelVersionFile],
        *,
        flavors: Sequence[str] = (),
        signature: str | None = None,
    ) -> ModelVersion:
        """Record a pending version's files and make it READY (one transaction).

        Raises:
            NotFound: no such version. InvalidInput: the version is not pending.
        """

        def write(conn: Connection) -> ModelVersion:
            done = conn.execute(
                _FINISH,
                {
                    "model_name": name,
                    "number": version,
                    "now": now_ms(),
                    "total_size": sum(f.size for f in files),
                    "count": len(files),
                    "flavor_list": ",".join(flavors) or None,
                    "summary": signature,
                },
            ).first()
            if done is None:
                row = rows.version_row(conn, rows.model_id(conn, name), name, version)  # NotFound if missing
                raise InvalidInput(f"version {version} of {name!r} is {row.status}, not pending")
            if files:
                model = done.model_id
                conn.execute(
                    _INSERT_FILES,
                    [
                        {"model_id": model, "version": version, "path": f.path, "sha256": f.sha256, "size": f.size}
                        for f in files
                    ],
                )
            return rows.to_versions(conn, [(name, *done)])[0]

        return self.db.transact(write)

    def fail(self, name: str, version: int, message: str) -> bool:
        """Mark a version FAILED_REGISTRATION with a reason if it is still pending; True if it was."""

        def write(conn: Connection) -> bool:
            timestamp = now_ms()
            model = rows.lock_model(conn, name, timestamp)
            marked = conn.execute(
                update(mv)
                .where(
                    mv.c.model_id == model,
                    mv.c.version == version,
                    mv.c.status == ModelVersionStatus.PENDING_REGISTRATION.value,
                )
                .values(
                    status=ModelVersionStatus.FAILED_REGISTRATION.value,
                    status_message=message[:2000],
                    last_updated_time=timestamp,
                )
            ).rowcount
            return bool(marked)

        return self.db.transact(write)

    def get(self, name: str, version: int) -> ModelVersion:
        """One version with tags and aliases.

        Raises:
            NotFound: no such model or version.
        """
        with self.db.read() as conn:
            row = rows.version_row(conn, rows.model_id(conn, name), name, version)
            return rows.to_versions(conn, [row])[0]

    def files(self, name: str, version: int) -> list[ModelVersionFile]:
        """The files recorded for a version, sorted by path.

        Raises:
            NotFound: no such model or version.
        """
        files = model_version_files
        with self.db.read() as conn:
            model = rows.model_id(conn, name)
            rows.version_row(conn, model, name, version)
            found = conn.execute(
                select(files.c.path, files.c.sha256, files.c.size)
                .where(files.c.model_id == model, files.c.version == version)
                .order_by(files.c.path)
            )
            return [ModelVersionFile(path=r.path, sha256=r.sha256, size=int(r.size)) for r in found]

    def update(self, name: str, version: int, description: str | None) -> ModelVersion:
        """Set a version's description.

        Raises:
            NotFound: no such model or version.
        """

        def write(conn: Connection) -> None:
            timestamp = now_ms()
            model = rows.lock_model(conn, name, timestamp)
            rows.version_row(conn, model, name, version)
            conn.execute(
                update(mv)
                .where(mv.c.model_id == model, mv.c.version == version)
                .values(description=description, last_updated_time=timestamp)
            )

        self.db.transact(write)
        return self.get(name, version)

    def transition_stage(
        self, name: str, version: int, stage: Stage, *, archive_existing_versions: bool, user: str
    ) -> ModelVersion:
        """Move a version to ``stage``; with ``archive_existing_versions`` the others in that stage
        move to Archived. Every change is recorded.

        Raises:
            NotFound: no such model or version.
        """

        def write(conn: Connection) -> None:
            timestamp = now_ms()
            model = rows.lock_model(conn, name, timestamp)
            row = rows.version_row(conn, model, name, version)
            if archive_existing_versions:
                others = conn.execute(
                    select(mv.c.version).where(
                        mv.c.model_id == model, mv.c.current_stage == stage.value, mv.c.version != version
                    )
                ).scalars()
                for other in list(others):
                    rows.set_stage(
                        conn,
                        model,
                        other,
                        old=stage.value,
                        new=Stage.ARCHIVED.value,
                        user=user,
                        timestamp=timestamp,
                        reason=f"archived: version {version} moved to {stage.value}",
                    )
            if row.current_stage != stage.value:
                rows.set_stage(
                    conn,
                    model,
                    version,
                    old=row.current_stage,
                    new=stage.value,
                    user=user,
                    timestamp=timestamp,
                )

        self.db.transact(write)
        return self.get(name, version)

    def delete(self, name: str, version: int, *, user: str) -> str | None:
        """Delete a version (its aliases go too, recorded); its storage location.

        Raises:
            NotFound: no such model or version.
        """

        def write(conn: Connection) -> str | None:
            timestamp = now_ms()
            model = rows.lock_model(conn, name, timestamp)
            row = rows.version_row(conn, model, name, version)
            for alias in conn.execute(
                select(ra.c.alias).where(ra.c.model_id == model, ra.c.version == version)
            ).scalars():
                rows.record(
                    conn,
                    model,
                    version,
                    "alias",
                    user=user,
                    timestamp=timestamp,
                    alias=alias,
                    from_value=str(version),
                    reason="version deleted",
                )
            rows.record(
                conn,
                model,
                version,
                "stage",
                user=user,
                timestamp=timestamp,
                from_value=row.current_stage,
                to_value="Deleted",
                reason="version deleted",
            )
            conn.execute(delete(mv).where(mv.c.model_id == model, mv.c.version == version))
            return None if row.storage_location is None else str(row.storage_location)

        return self.db.transact(write)

    def search(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching the filter; see ``version_search.search_versions``."""
        with self.db.read() as conn:
            return search_versions(conn, filter_string, max_results, order_by, page_token)

    def set_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set (or replace) a version tag.

        Raises:
            NotFound: no such model or version.
        """
        table = model_version_tags

        def write(conn: Connection) -> None:
            model = rows.lock_model(conn, name, now_ms())
            rows.version_row(conn, model, name, version)
            where = (table.c.model_id == model, table.c.version == version, table.c.key == key)
            conn.execute(delete(table).where(*where))
            conn.execute(insert(table).values(model_id=model, version=version, key=key, value=value))

        self.db.transact(write)

    def delete_tag(self, name: str, version: int, key: str) -> None:
        """Delete a version tag.

        Raises:
            NotFound: no such model, version or tag.
        """
        table = model_version_tags

        def write(conn: Connection) -> None:
            model = rows.lock_model(conn, name, now_ms())
            rows.version_row(conn, model, name, version)
            where = (table.c.model_id == model, table.c.version == version, table.c.key == key)
            if not conn.execute(delete(table).where(*where)).rowcount:
                raise NotFound(f"version {version} of {name!r} has no tag {key!r}")

        self.db.transact(write)

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points to.

        Raises:
            NotFound: no such model or alias.
        """
        with self.db.read() as conn:
            row = conn.execute(_BY_ALIAS, {"name": name, "alias": alias}).first()
            if row is None:
                rows.model_id(conn, name)
                raise NotFound(f"registered model {name!r} has no alias {alias!r}")
            return rows.to_versions(conn, [row])[0]

    def highest(self, name: str, stage: Stage | None = None) -> ModelVersion:
        """The highest READY version overall or in ``stage``.

        Raises:
            NotFound: no such model, or no READY version (in that stage).
        """
        with self.db.read() as conn:
            model = rows.model_id(conn, name)
            if stage is None:
                row = conn.execute(_HIGHEST, {"model": model}).first()
            else:
                row = conn.execute(_HIGHEST_IN_STAGE, {"model": model, "stage": stage.value}).first()
            if row is None:
                where = f" in stage {stage.value}" if stage is not None else ""
                raise NotFound(f"registered model {name!r} has no ready version{where}")
            return rows.to_versions(conn, [row])[0]


__all__ = ["SqlModelVersions"]
