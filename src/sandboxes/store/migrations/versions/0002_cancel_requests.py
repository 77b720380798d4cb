"""Cancel requests for running operations: who asked, and when.

The service records the request; the operation's worker, which polls for it, stops its
engine gracefully (SIGINT to ``pulumi``: in-flight steps finish, the state stays
consistent). A column rather than an event, because events have one writer, the worker.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("cancel_requested_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("cancel_requested_by", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("cancel_requested_by")
        batch.drop_column("cancel_requested_at")
