"""The SQL schema (SQLAlchemy Core tables). Rows become entities in the store modules (``registry_rows``, ``runs``...).

Migrations in ``migrations/versions`` create exactly this schema; a test compares the two.

Registered models have a surrogate integer id, so a rename touches one row and version rows stay
small. ``registered_models.last_version`` is the per-model version counter: it is incremented under
the row's write lock, so versions are unique and never reused, even after a delete.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

NAME_LENGTH = 256
KEY_LENGTH = 250

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_LENGTH), nullable=False, unique=True),
    Column("artifact_location", Text, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("user_id", String(NAME_LENGTH), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("artifact_uri", Text, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Index("ix_runs_experiment_id_start_time", "experiment_id", "start_time"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Float),  # NULL when is_nan (SQLite cannot store NaN)
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Index("ix_metrics_run_id_key_step", "run_id", "key", "step"),
)

registered_models = Table(
    "registered_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_LENGTH), nullable=False, unique=True),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", Text),
    Column("last_version", Integer, nullable=False),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("model_id", Integer, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("model_id", Integer, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", Text),
    Column("user_id", String(NAME_LENGTH)),
    Column("current_stage", String(20), nullable=False),
    Column("source", Text),
    Column("run_id", String(32)),
    Column("run_link", Text),
    Column("status", String(32), nullable=False),
    Column("status_message", Text),
    Column("storage_location", Text),
    Column("size_bytes", BigInteger),
    Column("file_count", Integer),
    Column("flavors", String(500)),
    Column("signature", Text),
    Column("logged_model_id", String(64)),  # the MLflow 3 logged model it was registered from
    # models:/name/<Stage>: the highest version in a stage is one index probe.
    Index("ix_model_versions_model_id_current_stage_version", "model_id", "current_stage", "version"),
    Index("ix_model_versions_run_id", "run_id"),
)

_VERSION_FK = (["model_id", "version"], ["model_versions.model_id", "model_versions.version"])

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("model_id", Integer, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(*_VERSION_FK, ondelete="CASCADE"),
)

model_version_files = Table(
    "model_version_files",
    metadata,
    Column("model_id", Integer, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("path", String(1000), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    ForeignKeyConstraint(*_VERSION_FK, ondelete="CASCADE"),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("model_id", Integer, primary_key=True),
    Column("alias", String(NAME_LENGTH), primary_key=True),
    Column("version", Integer, nullable=False),
    ForeignKeyConstraint(*_VERSION_FK, ondelete="CASCADE"),
)

promotion_history = Table(
    "promotion_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("alias", String(NAME_LENGTH)),
    Column("from_value", String(NAME_LENGTH)),
    Column("to_value", String(NAME_LENGTH)),
    Column("user_id", String(NAME_LENGTH), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("reason", Text),
    Index("ix_promotion_history_model_id_id", "model_id", "id"),
)

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("source_run_id", String(32)),
    Column("model_type", String(NAME_LENGTH)),
    Column("lifecycle_stage", String(32), nullable=False),
    Index("ix_logged_models_experiment_id_creation_time", "experiment_id", "creation_time"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(64), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(64), ForeignKey("logged_models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(64), ForeignKey("logged_models.model_id", ondelete="CASCADE"), nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Float),
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("run_id", String(32)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(64)),
    Index("ix_logged_model_metrics_model_id_key", "model_id", "key"),
)

run_datasets = Table(
    "run_datasets",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(500), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("source_type", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    Column("tags", Text, nullable=False),  # a JSON object
)

run_models = Table(
    "run_models",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String(64), primary_key=True),
    Column("direction", String(8), primary_key=True),  # input | output
    Column("step", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(NAME_LENGTH), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
)

__all__ = [
    "api_tokens",
    "experiment_tags",
    "experiments",
    "logged_model_metrics",
    "logged_model_params",
    "logged_model_tags",
    "logged_models",
    "metadata",
    "metrics",
    "model_version_files",
    "model_version_tags",
    "model_versions",
    "params",
    "promotion_history",
    "registered_model_aliases",
    "registered_model_tags",
    "registered_models",
    "run_datasets",
    "run_models",
    "run_tags",
    "runs",
    "users",
]
