"""Issue #9 end to end: a ``preconfigured`` sandbox really running on the real node.

A private kwok cluster (the session's data directory, tests/fixtures/cluster.py) plus the
real node; the project's images built (incremental) and imported into the node's
containerd; then the engine creates the sandbox exactly as ``sandboxctl`` would. Checked
for real: the seed Job's pod ran on ``sandboxes-real`` and exited 0, the database holds the
row counts its ``seed_record`` states, the login page answers through Traefik, a settings
change reaches the page, RBAC and Pod Security reject what they must, and ``destroy``
leaves nothing behind (pods, claims, volumes, the volume's directory, the namespace).

A headless Chromium screenshot of the login page is written to ``artifacts/login-page.png``
(``docs/login-page.png``, the README's picture, is a copy of one such run).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandboxes import stackfiles
from sandboxes.cluster import embedded, realnode
from sandboxes.engine import Engine
from sandboxes.spec import SandboxSpec, new_slug, parse_spec
from tests.fixtures.cluster import KubeCluster

pytestmark = pytest.mark.realnode
REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
BASE_DOMAIN = "sandboxes.localhost"


def _kubectl(*args: str, timeout: float = 60, check: bool = True, stdin: str | None = None
             ) -> subprocess.CompletedProcess[str]:
    if stdin is None:
        return embedded.kubectl(*args, timeout=timeout, check=check)
    return subprocess.run(
        [str(embedded.toolchain_bin_dir() / "kubectl"), "--kubeconfig", str(embedded.embedded_kubeconfig()), *args],
        input=stdin, text=True, capture_output=True, timeout=timeout, check=check,
    )


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(_kubectl(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def node_with_images(kube_cluster: KubeCluster, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[dict[str, str]]:
    """The real node up and every project image in its containerd; returns images.json's map."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("the real node needs Linux and root")
    try:
        realnode.up()
    except realnode.RealNodeError as err:
        pytest.fail(f"real node did not start: {err}", pytrace=False)
    try:
        socket = realnode.node_dir() / "containerd" / "containerd.sock"
        build = subprocess.run(
            [sys.executable, "-m", "sandboxes.images", "build", "--containerd-socket", str(socket)],
            capture_output=True, text=True, timeout=3600, check=False, cwd=REPO,
        )
        if build.returncode != 0:
            pytest.fail(f"images build failed ({build.returncode}); install the tools with "
                        f"'sudo .ci/install-image-tools':\n{build.stderr[-4000:]}", pytrace=False)
        from sandboxes.images import image_refs

        refs = image_refs()
        for name in ("postgres", "seed", "workload"):
            assert name in refs, f"images.json lacks {name}: {refs}"
        yield refs
    finally:
        realnode.down()


@dataclass
class Sandbox:
    engine: Engine
    stacks: Path
    spec: SandboxSpec
    destroyed: bool = False

    @property
    def slug(self) -> str:
        return self.spec.slug

    @property
    def host(self) -> str:
        return f"{self.slug}.{BASE_DOMAIN}"


def _spec(slug: str, banner: bool = True, generation: int = 0) -> SandboxSpec:
    return parse_spec({
        "slug": slug, "name": "Real node demo", "provider_id": "acme", "modules": ["cpo", "msp"],
        "data": "preconfigured", "devices": {"enabled": False}, "platform": {"tls": True},
        "data_generation": generation,
        "settings": {"look_and_feel": {"show_sandbox_banner": banner}},
    })


@pytest.fixture(scope="module")
def sandbox(node_with_images: dict[str, str], pulumi_workspace_env: dict[str, str],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    stacks = tmp_path_factory.mktemp("stacks")
    spec = _spec(new_slug())
    stackfiles.write(stacks, spec)
    box = Sandbox(engine=Engine(stacks_dir=stacks), stacks=stacks, spec=spec)
    try:
        box.engine.up(spec.slug)
    except Exception as err:
        pods = _kubectl("get", "pods", "-n", spec.slug, "-o", "wide", check=False).stdout
        events = _kubectl("get", "events", "-n", spec.slug, check=False).stdout
        try:
            box.engine.destroy(spec.slug)
        finally:
            pytest.fail(f"engine up failed: {err}\n{getattr(err, 'detail', '')}\npods:\n{pods}\nevents:\n{events}",
                        pytrace=False)
    try:
        yield box
    finally:
        if not box.destroyed:
            box.engine.destroy(spec.slug)


def _get(host: str, path: str = "/") -> tuple[int, str]:
    """An HTTP request to Traefik on 127.0.0.1:80 for ``host`` (no name resolution needed)."""
    req = urllib.request.Request(f"http://127.0.0.1{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")
    except OSError as err:
        return 0, str(err)


def _wait_page(host: str, predicate, timeout: float) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    status, body = _get(host)
    while not predicate(status, body) and time.monotonic() < deadline:
        time.sleep(1)
        status, body = _get(host)
    return status, body


def test_seed_job_ran_on_the_real_node_and_exited_0(sandbox: Sandbox) -> None:
    pods = _json("get", "pods", "-n", sandbox.slug, "-l", f"job-name={sandbox.slug}-seed")["items"]
    assert pods, "no seed pod"
    succeeded = [p for p in pods if p["status"].get("phase") == "Succeeded"]
    assert succeeded, [(p["metadata"]["name"], p["status"].get("phase")) for p in pods]
    pod = succeeded[0]
    assert pod["spec"]["nodeName"] == realnode.NODE_NAME
    [state] = pod["status"]["containerStatuses"]
    assert state["state"]["terminated"]["exitCode"] == 0, state
    running = {}
    for other in _json("get", "pods", "-n", sandbox.slug)["items"]:
        assert other["spec"].get("nodeName") == realnode.NODE_NAME, other["metadata"]["name"]
        component = other["metadata"]["labels"].get("app.kubernetes.io/component", other["metadata"]["name"])
        if other["status"].get("phase") == "Running":
            conditions = {c["type"]: c["status"] for c in other["status"].get("conditions", [])}
            running[component] = conditions.get("Ready")
    # the database (pg_isready) and the page (/healthz) pass their readiness probes for real
    assert len(running) >= 2 and set(running.values()) == {"True"}, running


def _psql(slug: str, query: str) -> str:
    """``psql`` inside the Postgres pod, as the sandbox's user with the password the pod got from its Secret."""
    script = ('PGPASSWORD="$POSTGRES_PASSWORD" exec psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'
              ' -XAtq -c "$1"')
    return _kubectl("exec", "-n", slug, f"{slug}-db-0", "-c", "postgresql", "--", "sh", "-c", script, "sh", query,
                    timeout=60).stdout.strip()


def test_database_holds_what_seed_record_states(sandbox: Sandbox) -> None:
    record = _psql(sandbox.slug, "SELECT json_build_object('status', status, 'mode', mode, 'modules', modules, "
                                 "'counts', row_counts) FROM seed_record ORDER BY id DESC LIMIT 1")
    seeded = json.loads(record)
    assert (seeded["status"], seeded["mode"], seeded["modules"]) == ("succeeded", "preconfigured", "cpo,msp")
    counts: dict[str, int] = seeded["counts"]
    assert sum(counts.values()) > 500, counts
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in sorted(counts))
    actual = {line.split("|")[0]: int(line.split("|")[1]) for line in _psql(sandbox.slug, query).splitlines()}
    assert actual == counts


def test_login_page_answers_through_the_ingress(sandbox: Sandbox) -> None:
    status, body = _wait_page(sandbox.host, lambda s, b: s == 200, 60)
    assert status == 200, body[:2000]
    assert "Sandbox mode" in body
    assert sandbox.spec.name in body


def test_screenshot_of_the_login_page(sandbox: Sandbox, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: install it with 'sudo .ci/install-browser' (apt-get install -y chromium)",
                    pytrace=False)
    out = REPO / "artifacts" / "login-page.png"
    out.parent.mkdir(exist_ok=True)
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", f"--host-resolver-rules=MAP *.{BASE_DOMAIN} 127.0.0.1",
         f"--screenshot={out}", "--window-size=1280,800", f"http://{sandbox.host}/"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.exists() and out.stat().st_size > 10_000, (proc.returncode, proc.stderr[-3000:])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _https_get(host: str, ca_pem: str) -> str:
    """GET / from Traefik on 127.0.0.1:443 with SNI ``host``, trusting only ``ca_pem``; the raw response."""
    context = ssl.create_default_context(cadata=ca_pem)
    with socket.create_connection(("127.0.0.1", 443), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_https_serves_the_sandboxs_own_certificate(sandbox: Sandbox) -> None:
    """platform.tls: the stack's self-signed certificate, served by Traefik for the host, verifies."""
    assert sandbox.engine.outputs(sandbox.slug)["url"] == f"https://{sandbox.host}"
    crt = base64.b64decode(_json("get", "secret", "-n", sandbox.slug, f"{sandbox.slug}-tls")["data"]["tls.crt"])
    deadline = time.monotonic() + 60
    while True:  # Traefik picks the Secret up from its watch
        try:
            response = _https_get(sandbox.host, crt.decode())
            break
        except (ssl.SSLError, OSError) as err:
            if time.monotonic() > deadline:
                raise AssertionError(f"no verified HTTPS for {sandbox.host}: {err}") from err
            time.sleep(1)
    assert response.startswith("HTTP/1.1 200"), response[:500]
    assert "Sandbox mode" in response
    with pytest.raises(ssl.SSLCertVerificationError):  # another name: the certificate is for this host only
        _https_get(f"other-{sandbox.host}", crt.decode())


def test_another_sandboxs_service_account_cannot_read_the_secret(sandbox: Sandbox) -> None:
    secret = f"{sandbox.slug}-db"
    assert _kubectl("get", "secret", "-n", sandbox.slug, secret, "-o", "name").returncode == 0
    other = "other-sandbox"
    proc = _kubectl("get", "secret", "-n", sandbox.slug, secret,
                    f"--as=system:serviceaccount:{other}:default", "--as-group=system:serviceaccounts",
                    f"--as-group=system:serviceaccounts:{other}", "--as-group=system:authenticated", check=False)
    assert proc.returncode != 0
    # kubectl prints the API server's 403 as "Error from server (Forbidden)"
    assert "(Forbidden)" in proc.stderr and 'cannot get resource "secrets"' in proc.stderr, proc.stderr
    raw = _kubectl("get", "--raw", f"/api/v1/namespaces/{sandbox.slug}/secrets/{secret}",
                   f"--as=system:serviceaccount:{other}:default", "--as-group=system:serviceaccounts",
                   check=False)
    assert raw.returncode != 0 and "Forbidden" in raw.stderr, raw.stderr


def test_a_privileged_pod_is_rejected(sandbox: Sandbox, node_with_images: dict[str, str]) -> None:
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "privileged", "namespace": sandbox.slug},
        "spec": {
            "nodeSelector": {realnode.NODE_LABEL_KEY: realnode.NODE_LABEL_VALUE},
            "containers": [{"name": "x", "image": node_with_images["workload"], "imagePullPolicy": "Never",
                            "securityContext": {"privileged": True}}],
        },
    }
    proc = _kubectl("create", "-f", "-", stdin=json.dumps(pod), check=False)
    assert proc.returncode != 0
    assert "Forbidden" in proc.stderr and "violates PodSecurity \"restricted" in proc.stderr, proc.stderr
    assert _kubectl("get", "pod", "-n", sandbox.slug, "privileged", check=False).returncode != 0


def test_turning_the_banner_off_removes_it(sandbox: Sandbox) -> None:
    spec = _spec(sandbox.slug, banner=False)
    stackfiles.write(sandbox.stacks, spec)
    sandbox.engine.up(sandbox.slug)
    sandbox.spec = spec
    status, body = _wait_page(sandbox.host, lambda s, b: s == 200 and "Sandbox mode" not in b, 90)
    assert status == 200, body[:2000]
    assert "Sandbox mode" not in body
    assert sandbox.spec.name in body


def test_reseed_really_wipes_the_data_and_seeds_it_again(sandbox: Sandbox) -> None:
    """data_generation bumped: the engine replaces the seed Job, whose program resets and seeds once, for real."""
    slug = sandbox.slug
    _psql(slug, "UPDATE locations SET name = 'edited by a user' WHERE id = 1")
    assert _psql(slug, "SELECT name FROM locations WHERE id = 1") == "edited by a user"
    before = _json("get", "job", "-n", slug, f"{slug}-seed")["metadata"]["uid"]
    spec = _spec(slug, banner=sandbox.spec.settings.look_and_feel.show_sandbox_banner, generation=1)
    stackfiles.write(sandbox.stacks, spec)
    sandbox.engine.up(slug)
    sandbox.spec = spec
    job = _json("get", "job", "-n", slug, f"{slug}-seed")
    assert job["metadata"]["uid"] != before and job["status"].get("succeeded") == 1
    assert _psql(slug, "SELECT name FROM locations WHERE id = 1") != "edited by a user"
    generations = _psql(slug, "SELECT status || ':' || reset_generation FROM seed_record ORDER BY id").splitlines()
    assert generations == ["succeeded:0", "succeeded:1"]


def test_destroy_leaves_nothing(sandbox: Sandbox) -> None:
    slug = sandbox.slug
    volumes = [pv for pv in _json("get", "pv")["items"]
               if (pv["spec"].get("claimRef") or {}).get("namespace") == slug]
    assert volumes, "the database has no PersistentVolume"
    dirs = [Path((pv["spec"].get("hostPath") or pv["spec"].get("local"))["path"]) for pv in volumes]
    assert all(d.is_dir() for d in dirs), dirs
    sandbox.engine.destroy(slug)
    sandbox.destroyed = True
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ns = _kubectl("get", "namespace", slug, check=False)
        left_pv = [pv["metadata"]["name"] for pv in _json("get", "pv")["items"]
                   if pv["metadata"]["name"] in {v["metadata"]["name"] for v in volumes}]
        if ns.returncode != 0 and not left_pv:
            break
        time.sleep(1)
    assert "NotFound" in _kubectl("get", "namespace", slug, check=False).stderr
    pods = [p for p in _json("get", "pods", "-A")["items"] if p["metadata"]["namespace"] == slug]
    assert not pods
    assert not [c for c in _json("get", "pvc", "-A")["items"] if c["metadata"]["namespace"] == slug]
    assert not [pv["metadata"]["name"] for pv in _json("get", "pv")["items"]
                if pv["metadata"]["name"] in {v["metadata"]["name"] for v in volumes}]
    assert not [d for d in dirs if d.exists()], dirs
