"""Initial records: sandboxes, operations (one active per sandbox), events, API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "sandboxes",
        sa.Column("slug", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("provider_id", sa.String(63), nullable=True),
        sa.Column("parent", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=True),
        sa.Column("needs_repair", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sandboxes_provider_id", "sandboxes", ["provider_id"])
    op.create_index("ix_sandboxes_parent", "sandboxes", ["parent"])
    op.create_index("ix_sandboxes_status", "sandboxes", ["status"])
    op.create_table(
        "operations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sandbox_slug", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(63), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("worker_host", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_operations_sandbox_slug", "operations", ["sandbox_slug"])
    op.create_index("ix_operations_status", "operations", ["status"])
    op.create_index("uq_operations_one_active_per_sandbox", "operations", ["sandbox_slug"], unique=True,
                    sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)
    op.create_table(
        "operation_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("operation_id", sa.String(32), sa.ForeignKey("operations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_operation_events_operation_id", "operation_events", ["operation_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(63), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("operation_events")
    op.drop_index("uq_operations_one_active_per_sandbox", table_name="operations")
    op.drop_table("operations")
    op.drop_table("sandboxes")
