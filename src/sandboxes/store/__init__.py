"""Records of the service: sandboxes, operations, their engine events and API tokens.

SQLAlchemy 2 models (``models``), engine/session set-up with the SQLite specifics
(``database``), and Alembic migrations shipped inside the package (``migrate``), so an
installed ``sandboxctl db upgrade`` needs no checkout.
"""

from sandboxes.store.database import Database, connect
from sandboxes.store.migrate import upgrade
from sandboxes.store.models import (
    ACTIVE_STATUSES,
    Base,
    EventRecord,
    OperationRecord,
    SandboxRecord,
    TokenRecord,
)

__all__ = [
    "ACTIVE_STATUSES",
    "Base",
    "Database",
    "EventRecord",
    "OperationRecord",
    "SandboxRecord",
    "TokenRecord",
    "connect",
    "upgrade",
]
