"""``python -m sandboxes.worker <operation-id>``: run one engine operation in its own process.

Spawned by the API's worker pool (or the local CLI). One Automation API operation per
process keeps a crash, a hung plugin or a leaked resource contained to one sandbox,
and lets the pool see a death as an exit code. It also makes a cancel exact: every
``pulumi`` child of a worker belongs to its one operation, so a cancel request (which the
worker polls for) interrupts just that engine. The exit code is 0 whenever the outcome
was recorded (a failed ``up`` included); anything else means the process died early.
"""

from __future__ import annotations

import sys

from sandboxes.service.engines import make_engine
from sandboxes.service.execute import interrupt_engine_on_cancel, run_operation
from sandboxes.service.factory import open_database
from sandboxes.settings import Settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m sandboxes.worker <operation-id>\n")
        return 64
    settings = Settings()
    db = open_database(settings, migrate=False)
    try:
        with interrupt_engine_on_cancel(db, args[0]):
            status = run_operation(db, settings, args[0], make_engine(settings))
    finally:
        db.dispose()
    sys.stdout.write(f"operation {args[0]}: {status.value if status else 'not claimed (already taken)'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
