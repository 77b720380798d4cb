"""TLS of the sandbox's host: the self-signed certificate the stack issues, or cert-manager's.

The provider's own methods run here for real (key, certificate, a TLS handshake through
Python's ``ssl`` against a client that trusts only that certificate); the wiring into the
stack runs under mocks. The embedded cluster's Traefik serving it over HTTPS is in
tests/realnode/test_sandbox_on_real_node.py.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from components.tls import CERT_MANAGER_ISSUER_ANNOTATION, RENEW_BEFORE_DAYS, VALIDITY_DAYS, _SelfSignedProvider
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from components import ProjectDefaults

from .harness import base_spec, render

HOST = "sandbox-abc123.sbx.example.com"
ING = "kubernetes:networking.k8s.io/v1:Ingress"
SECRET = "kubernetes:core/v1:Secret"
DYNAMIC = "pulumi-python:dynamic:Resource"


def _props(hosts: list[str] | None = None) -> dict[str, Any]:
    return {"hosts": hosts or [HOST], "validity_days": VALIDITY_DAYS, "renew_before_days": RENEW_BEFORE_DAYS}


@pytest.fixture(scope="module")
def issued() -> dict[str, Any]:
    return dict(_SelfSignedProvider().create(_props()).outs)


def test_certificate_is_for_the_host_and_matches_its_key(issued: dict[str, Any]) -> None:
    cert = x509.load_pem_x509_certificate(issued["cert_pem"].encode())
    key = serialization.load_pem_private_key(issued["key_pem"].encode(), password=None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [HOST]
    days = (cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)).days
    assert VALIDITY_DAYS - 1 <= days <= VALIDITY_DAYS
    assert issued["not_after"] == cert.not_valid_after_utc.isoformat()
    assert "PRIVATE KEY" in issued["key_pem"]


def _handshake(issued: dict[str, Any], tmp_path: Path, server_hostname: str) -> bytes:
    """Serve the certificate on a local port; connect with a client that trusts only it."""
    cert_file, key_file = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_file.write_text(issued["cert_pem"])
    key_file.write_text(issued["key_pem"])
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello")
            except (ssl.SSLError, OSError):
                pass  # the client refused the certificate

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client_ctx = ssl.create_default_context(cafile=str(cert_file))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                    client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
                return tls.recv(5)
        finally:
            thread.join(5)


def test_a_client_trusting_the_certificate_completes_a_handshake_for_the_host(
        issued: dict[str, Any], tmp_path: Path) -> None:
    assert _handshake(issued, tmp_path, HOST) == b"hello"


def test_a_client_expecting_another_host_refuses_it(issued: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"match|mismatch"):
        _handshake(issued, tmp_path, "sandbox-zzz999.sbx.example.com")


def test_diff_keeps_the_certificate_until_hosts_change_or_renewal_is_due(issued: dict[str, Any]) -> None:
    provider = _SelfSignedProvider()
    assert not provider.diff("id", issued, _props()).changes
    moved = provider.diff("id", issued, _props(["sandbox-abc123.other.example"]))
    assert moved.changes and moved.replaces == ["hosts"]
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=RENEW_BEFORE_DAYS - 1)
    due = provider.diff("id", {**issued, "not_after": soon.isoformat()}, _props())
    assert due.changes and due.replaces == ["not_after"]


def test_tls_on_makes_a_tls_secret_the_ingress_names_and_waits_for() -> None:
    r = render(base_spec(platform={"base_domain": "sbx.example.com", "tls": True}))
    secret = r.named(SECRET, "sandbox-abc123-tls")
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert set(secret.inputs["stringData"]) == {"tls.crt", "tls.key"}
    assert secret.secret_inputs & {"stringData", "stringData.tls.key"}
    assert secret.labels["sandboxes.io/slug"] == "sandbox-abc123"
    cert = [d for d in r.of_type(DYNAMIC) if d.inputs.get("hosts") == [HOST]]
    assert len(cert) == 1
    ing = r.named(ING, "sandbox-abc123")
    assert ing.inputs["spec"]["tls"][0]["secretName"] == "sandbox-abc123-tls"
    assert CERT_MANAGER_ISSUER_ANNOTATION not in ing.metadata["annotations"]


def test_tls_with_a_cert_manager_issuer_makes_no_certificate_of_its_own() -> None:
    r = render(base_spec(platform={"tls": True}), ProjectDefaults(tls_issuer="letsencrypt"))
    ing = r.named(ING, "sandbox-abc123")
    assert ing.metadata["annotations"][CERT_MANAGER_ISSUER_ANNOTATION] == "letsencrypt"
    assert not [s for s in r.of_type(SECRET) if s.k8s_name == "sandbox-abc123-tls"]
    assert not [d for d in r.of_type(DYNAMIC) if "hosts" in d.inputs]


@pytest.mark.parametrize("issuer", ["", "letsencrypt"])
def test_tls_off_makes_no_certificate_and_no_issuer_annotation(issuer: str) -> None:
    r = render(base_spec(), ProjectDefaults(tls_issuer=issuer))
    assert not [s for s in r.of_type(SECRET) if s.k8s_name == "sandbox-abc123-tls"]
    assert CERT_MANAGER_ISSUER_ANNOTATION not in r.named(ING, "sandbox-abc123").metadata["annotations"]
