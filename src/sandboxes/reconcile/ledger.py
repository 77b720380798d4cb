"""The reconciler's local record of what it last applied, so unchanged sandboxes cost nothing.

Reading a stack's outputs is one engine call (one ``pulumi`` process, about a second);
for 500 sandboxes that is minutes. The ledger keeps, per slug, the spec hash last applied
*successfully*, the owner that applied it and when, in one JSON file per (stacks
directory, backend) pair under ``$SANDBOXES_DATA_DIR/reconcile/``. The backend is part
of the key because the same directory reconciled against two backends has two truths.

The ledger is a cache of the backend, never the other way round: when an entry is
missing for a stack that exists, the planner rebuilds it from the stack's ``spec_hash``
output. It is written after every successful operation (atomically, under a lock), so
an interrupted apply keeps what it finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sandboxes.paths import data_dir

__all__ = ["Entry", "Ledger", "default_path"]

VERSION = 1


@dataclass(frozen=True)
class Entry:
    spec_hash: str | None
    owner: str
    applied_at: str
    parent: str | None = None
    # A drift remediation failed after its refresh: the state now holds the out-of-band values,
    # so a refresh preview no longer sees the drift. Only this flag remembers that an up is owed.
    remediation_pending: bool = False


def default_path(directory: Path, backend: str) -> Path:
    key = hashlib.sha256(f"{directory.resolve()}\n{backend}".encode()).hexdigest()[:16]
    return data_dir() / "reconcile" / f"{key}.json"


class Ledger:
    def __init__(self, path: Path, directory: Path | None = None, backend: str = "") -> None:
        self.path = path
        self.directory = str(directory.resolve()) if directory else ""
        self.backend = backend
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            raw = json.loads(self.path.read_text())
            entries = raw.get("entries", {}) if raw.get("version") == VERSION else {}
            self._entries = {slug: Entry(**value) for slug, value in entries.items()}
        except (OSError, ValueError, TypeError):
            # A damaged cache is dropped, not trusted: the planner rebuilds from stack outputs.
            self._entries = {}

    def claims_elsewhere(self) -> dict[str, str]:
        """Slugs that other directories' ledgers on this machine (same backend) applied: slug -> directory.

        A stack that this directory's ledger does not know is adopted from its outputs only
        if no other reconciled directory here claims it; across machines, only an ``owner``
        output naming a manager (``sandbox:owner: git:<dir>`` in the file) can tell.
        """
        claims: dict[str, str] = {}
        for other in sorted(self.path.parent.glob("*.json")) if self.path.parent.is_dir() else []:
            if other == self.path:
                continue
            try:
                raw = json.loads(other.read_text())
            except (OSError, ValueError):
                continue
            if raw.get("version") != VERSION or raw.get("backend") != self.backend:
                continue
            if raw.get("directory") == self.directory:
                continue
            for slug in raw.get("entries", {}):
                claims.setdefault(slug, str(raw.get("directory", other.name)))
        return claims

    def get(self, slug: str) -> Entry | None:
        with self._lock:
            return self._entries.get(slug)

    def entries(self) -> dict[str, Entry]:
        with self._lock:
            return dict(self._entries)

    def record(self, slug: str, spec_hash: str | None, owner: str, parent: str | None = None,
               at: datetime | None = None) -> None:
        stamp = (at or datetime.now().astimezone()).isoformat(timespec="seconds")
        with self._lock:
            self._entries[slug] = Entry(spec_hash=spec_hash, owner=owner, applied_at=stamp, parent=parent)
            self._save()

    def set_remediation_pending(self, slug: str, pending: bool) -> None:
        with self._lock:
            entry = self._entries.get(slug)
            if entry is not None and entry.remediation_pending != pending:
                self._entries[slug] = replace(entry, remediation_pending=pending)
                self._save()

    def forget(self, slug: str) -> None:
        with self._lock:
            if self._entries.pop(slug, None) is not None:
                self._save()

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": VERSION,
            "directory": self.directory,
            "backend": self.backend,
            "entries": {slug: asdict(entry) for slug, entry in sorted(self._entries.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
