"""The simulator ships alone: no imports from the provisioner, and an image definition with the agreed shape."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "device-simulator"


def test_simulator_imports_nothing_from_sandboxes() -> None:
    for path in (ROOT / "device_simulator").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] == "sandboxes"], f"{path} imports sandboxes"


def test_containerfile_shape() -> None:
    text = (ROOT / "Containerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "ARG BASE=debian:bookworm-slim" in lines and "FROM ${BASE}" in lines
    assert "USER 10001" in lines and "EXPOSE 8080" in lines
    assert 'CMD ["python3","-m","device_simulator","serve","--host","0.0.0.0","--port","8080"]' in lines
    reqs = (ROOT / "requirements.txt").read_text()
    assert "fastapi" in reqs and "uvicorn" in reqs
