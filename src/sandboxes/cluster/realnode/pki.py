"""Client certificates signed by the cluster CA, and the kubeconfigs of the node's components."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import yaml

from sandboxes.cluster.realnode.base import RealNodeError
from sandboxes.cluster.realnode.host import _kwok_pki, _run, node_dir
from sandboxes.environment import embedded_kubeconfig

# --- certificates and kubeconfigs ---------------------------------------------------------


def _client_cert(name: str, common_name: str, organization: str | None) -> tuple[Path, Path]:
    """A client certificate signed by the kwok cluster's CA (openssl), reused while the CA is the same."""
    pki = node_dir() / "pki"
    pki.mkdir(parents=True, exist_ok=True)
    ca_crt, ca_key = _kwok_pki() / "ca.crt", _kwok_pki() / "ca.key"
    if not ca_crt.is_file() or not ca_key.is_file():
        raise RealNodeError(f"cluster CA not found in {_kwok_pki()}: run 'sandboxctl cluster up' first")
    crt, key = pki / f"{name}.crt", pki / f"{name}.key"
    ca_digest = hashlib.sha256(ca_crt.read_bytes()).hexdigest()
    stamp = pki / f"{name}.ca-sha256"
    if crt.is_file() and key.is_file() and stamp.is_file() and stamp.read_text() == ca_digest:
        return crt, key
    subject = (f"/O={organization}" if organization else "") + f"/CN={common_name}"
    csr, ext = pki / f"{name}.csr", pki / f"{name}.ext"
    ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=clientAuth\n")
    _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-subj", subject,
          "-out", str(csr)])
    _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
          "-set_serial", f"0x{secrets.token_hex(16)}", "-days", "365", "-extfile", str(ext), "-out", str(crt)])
    key.chmod(0o600)
    csr.unlink(missing_ok=True)
    stamp.write_text(ca_digest)
    return crt, key


def _server() -> str:
    config = yaml.safe_load(embedded_kubeconfig().read_text())
    return str(config["clusters"][0]["cluster"]["server"])


def _kubeconfig(name: str, crt: Path, key: Path) -> Path:
    path = node_dir() / "pki" / f"{name}.kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandboxes", "cluster": {"server": _server(),
                                                      "certificate-authority": str(_kwok_pki() / "ca.crt")}}],
        "users": [{"name": name, "user": {"client-certificate": str(crt), "client-key": str(key)}}],
        "contexts": [{"name": "sandboxes", "context": {"cluster": "sandboxes", "user": name}}],
        "current-context": "sandboxes",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


