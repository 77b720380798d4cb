"""SQLAlchemy models of the records.

The one rule the database itself enforces for the service: at most one *active*
(queued or running) operation per sandbox, as a partial unique index. Two API
processes or twenty threads racing for the same sandbox then cannot both win, whatever
the service's in-memory state believes.

Operations keep the sandbox slug and provider as plain columns (no foreign key): a
destroy deletes the sandbox record, and its operation history must stay readable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACTIVE_STATUSES = ("queued", "running")
_ACTIVE_SQL = "status IN ('queued', 'running')"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class SandboxRecord(Base):
    __tablename__ = "sandboxes"

    slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    provider_id: Mapped[str | None] = mapped_column(String(63), index=True)
    parent: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    owner: Mapped[str] = mapped_column(String(255), default="api")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(String(2048))
    needs_repair: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OperationRecord(Base):
    __tablename__ = "operations"
    __table_args__ = (
        Index(
            "uq_operations_one_active_per_sandbox",
            "sandbox_slug",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_operations_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sandbox_slug: Mapped[str] = mapped_column(String(32), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # Set by the service when someone cancels a running operation; its worker acts on it.
    cancel_requested_at: Mapped[datetime | None] = mapped_column()
    cancel_requested_by: Mapped[str | None] = mapped_column(String(255))


class EventRecord(Base):
    __tablename__ = "operation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class TokenRecord(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
