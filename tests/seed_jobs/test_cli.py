"""The CLI contract without a database: argument/env validation, --dry-run, one-line errors, exit codes."""

from __future__ import annotations

import pytest

from tests.seed_jobs.conftest import one_line_error, run_args, seed_cli

URL = "postgresql://seed:pw@db.sandbox-a34g56.svc:5432/sandbox"
PARENT = "postgresql://seed:pw@db.sandbox-parent.svc:5432/sandbox"


@pytest.mark.parametrize("mode", ["blank", "preconfigured", "copy", "masked-copy"])
@pytest.mark.parametrize("modules", ["msp", "cpo", "msp,cpo", "cpo,msp"])
def test_dry_run_accepts_every_mode_and_module_choice(mode: str, modules: str) -> None:
    env = {"DATABASE_URL": URL, "PARENT_DATABASE_URL": PARENT, "SANDBOX_SLUG": "sandbox-a34g56",
           "SEED_MASKED_COPY_ALLOWED": "true"}
    proc = seed_cli(*run_args(mode, modules, "medium", 7, "--reset", "--dry-run"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("dry-run ok:")
    assert "pw" not in proc.stdout  # never echo the password


@pytest.mark.parametrize(
    ("args", "env", "code", "needle"),
    [
        (run_args("full"), {}, 2, "unknown mode 'full'"),
        (run_args("blank", "msp,ocpi"), {}, 2, "unknown module 'ocpi'"),
        (run_args("blank", "msp,msp"), {}, 2, "duplicate module"),
        (run_args("blank", ""), {}, 2, "--modules"),
        (run_args("blank", size="huge"), {}, 2, "unknown size 'huge'"),
        (["run", "--mode", "blank", "--modules", "msp", "--size", "small", "--random-seed", "x"], {}, 2, "invalid int"),
        (["run", "--mode", "blank"], {}, 2, "required"),
        (["explode"], {}, 2, "invalid choice"),
        (run_args("masked-copy"), {"PARENT_DATABASE_URL": PARENT}, 6, "SEED_MASKED_COPY_ALLOWED is off"),
        (run_args("masked-copy"), {"PARENT_DATABASE_URL": PARENT, "SEED_MASKED_COPY_ALLOWED": "false"}, 6, "refused"),
        (run_args("masked-copy"), {"SEED_MASKED_COPY_ALLOWED": "maybe"}, 2, "SEED_MASKED_COPY_ALLOWED must be"),
        (run_args("copy"), {}, 2, "needs PARENT_DATABASE_URL"),
        (run_args("copy"), {"PARENT_DATABASE_URL": URL}, 2, "same database"),
        (run_args("blank"), {"DATABASE_URL": ""}, 2, "DATABASE_URL is not set"),
        (run_args("blank"), {"DATABASE_URL": "mysql://x@y/z"}, 2, "postgresql://"),
        (run_args("blank"), {"DATABASE_URL": "postgresql://x@y:5432/"}, 2, "names no database"),
        (run_args("blank"), {"SEED_CONNECT_TIMEOUT": "soon"}, 2, "SEED_CONNECT_TIMEOUT"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(args: list[str], env: dict[str, str], code: int, needle: str) -> None:
    proc = seed_cli(*args, "--dry-run", env={"DATABASE_URL": URL, **env}) if args[0] == "run" else \
        seed_cli(*args, env={"DATABASE_URL": URL, **env})
    line = one_line_error(proc)
    assert proc.returncode == code, line
    assert needle in line


def test_help_is_the_default_command_of_the_image() -> None:
    proc = seed_cli("--help")
    assert proc.returncode == 0
    assert "run" in proc.stdout
    proc = seed_cli("run", "--help")
    for flag in ("--mode", "--modules", "--size", "--random-seed", "--reset", "--dry-run"):
        assert flag in proc.stdout


def test_package_imports_nothing_from_the_provisioner() -> None:
    """The seed image carries only stdlib + psycopg: no `sandboxes` import may sneak in."""
    import ast
    from pathlib import Path

    from tests.seed_jobs.conftest import SEED_DIR

    allowed_third_party = {"psycopg"}
    import sys

    for path in (SEED_DIR / "sandbox_seed").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for name in names:
                top = name.split(".")[0]
                assert top == "sandbox_seed" or top in sys.stdlib_module_names or top in allowed_third_party, \
                    f"{Path(path).name} imports {name}"
