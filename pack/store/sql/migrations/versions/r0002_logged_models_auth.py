"""MLflow 3 logged models, run inputs/outputs, the logged model of a version, users and API tokens.

Revision ID: 0002_logged_models_auth
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_logged_models_auth"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def _logged_model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"], ["logged_models.model_id"], name=f"fk_{table}_model_id", ondelete="CASCADE"
    )


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=f"fk_{table}_run_id", ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("logged_model_id", sa.String(64)))
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("model_type", sa.String(256)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_logged_models_experiment_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_logged_models_experiment_id_creation_time", "logged_models", ["experiment_id", "creation_time"])
    for table in ("logged_model_tags", "logged_model_params"):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(64), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{table}"),
            _logged_model_fk(table),
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_logged_model_metrics"),
        _logged_model_fk("logged_model_metrics"),
    )
    op.create_index("ix_logged_model_metrics_model_id_key", "logged_model_metrics", ["model_id", "key"])
    op.create_table(
        "run_datasets",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source_type", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text),
        sa.Column("profile", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "name", "digest", name="pk_run_datasets"),
        _run_fk("run_datasets"),
    )
    op.create_table(
        "run_models",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "model_id", "direction", name="pk_run_models"),
        _run_fk("run_models"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(256), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id", ondelete="CASCADE"),
    )


def downgrade() -> None:
    raise NotImplementedError("pack never downgrades a database")
