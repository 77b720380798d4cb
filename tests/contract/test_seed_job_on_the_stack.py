"""Contract on the real engine: the seed Job the stack puts in the cluster really seeds a database.

kwok marks the Job Complete without running it, so here its container is read back from
the API server (command, arguments, every environment variable, Secrets resolved) and run
as a local process against a real PostgreSQL server. Only the database's address is
changed: the credentials, mode, modules, size and seed are the stack's own.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from kubernetes import client
from psycopg import sql

from sandboxes import stackfiles
from sandboxes.engine import Engine
from sandboxes.spec import new_slug, parse_spec
from tests.fixtures.cluster import KubeCluster

pytestmark = pytest.mark.engine
SEED_JOBS = Path(__file__).resolve().parents[2] / "seed-jobs"


def _resolve_env(core: client.CoreV1Api, namespace: str, container: client.V1Container) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in container.env or []:
        if item.value is not None:
            env[item.name] = item.value
            continue
        ref = item.value_from.secret_key_ref
        secret = core.read_namespaced_secret(ref.name, namespace)
        env[item.name] = base64.b64decode(secret.data[ref.key]).decode()
    return env


def _retarget(cluster_url: str, local_url: str) -> str:
    """The stack's URL (user, password) pointed at the local server's host, port and database."""
    theirs, ours = urlsplit(cluster_url), urlsplit(local_url)
    netloc = f"{theirs.username}:{theirs.password}@{ours.hostname}:{ours.port}"
    return urlunsplit((theirs.scheme, netloc, ours.path, "", ""))


def test_the_stacks_seed_job_seeds_a_real_database(
    tmp_path: Path, kube_cluster: KubeCluster, pulumi_workspace_env: dict[str, str], postgres_server: object
) -> None:
    slug = new_slug()
    spec = parse_spec({"slug": slug, "name": "Seed contract", "provider_id": "acme", "modules": ["cpo", "msp"],
                       "data": "preconfigured", "devices": {"enabled": False}})
    stacks = tmp_path / "stacks"
    stackfiles.write(stacks, spec)
    engine = Engine(stacks_dir=stacks)
    engine.up(slug)
    try:
        api = kube_cluster.api_client()
        core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
        job = batch.read_namespaced_job(f"{slug}-seed", slug)
        [container] = job.spec.template.spec.containers
        env = _resolve_env(core, slug, container)
        cluster_url = env["DATABASE_URL"]
        assert urlsplit(cluster_url).hostname == f"{slug}-db.{slug}.svc.cluster.local"

        user, password = urlsplit(cluster_url).username, urlsplit(cluster_url).password
        assert user and password
        server = postgres_server
        local = server.create_database()  # type: ignore[attr-defined]
        with psycopg.connect(server.url(), autocommit=True) as admin:  # type: ignore[attr-defined]
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
            admin.execute(sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(user), sql.Literal(password)))
            admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(urlsplit(local).path.lstrip("/")), sql.Identifier(user)))
        env["DATABASE_URL"] = _retarget(cluster_url, local)

        command = list(container.command)
        assert command[:1] == ["python3"], "the seed image runs Debian's python3"
        argv = [sys.executable, *command[1:], *container.args]
        done = subprocess.run(
            argv, cwd=SEED_JOBS, capture_output=True, text=True, timeout=300, check=False,
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(SEED_JOBS), **env},
        )
        assert done.returncode == 0, done.stderr
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            status, mode, modules, counts = conn.execute(
                "SELECT status, mode, modules, row_counts FROM seed_record ORDER BY id DESC LIMIT 1"
            ).fetchone()
            assert (status, mode, modules) == ("succeeded", "preconfigured", "cpo,msp")
            assert sum(counts.values()) > 500
            for table, count in counts.items():
                assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == count, table
    finally:
        engine.destroy(slug)
