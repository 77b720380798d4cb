"""The rooms of ARCHITECTURE.md, checked on the import statements themselves."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "sandboxes"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(*parts: str) -> list[Path]:
    target = SRC.joinpath(*parts)
    return sorted(target.rglob("*.py")) if target.is_dir() else [target]


def test_service_knows_no_shell() -> None:
    for path in _files("service"):
        bad = {m for m in _imports(path) if m.split(".")[0] in {"fastapi", "starlette", "typer", "rich", "uvicorn"}}
        assert not bad, f"{path.name} imports {bad}"


def test_api_and_cli_use_only_the_service() -> None:
    forbidden = ("sandboxes.engine", "sandboxes.store", "components", "pulumi", "sandboxes.service.execute",
                 "sandboxes.service.fake_engine")
    for path in [*_files("api"), *_files("cli", "sandbox_cmds.py")]:
        bad = {m for m in _imports(path) if m.startswith(forbidden)}
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_no_private_names_across_modules() -> None:
    for path in [*_files("api"), *_files("cli", "sandbox_cmds.py"), *_files("service"), SRC / "worker.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sandboxes"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from {node.module}"
