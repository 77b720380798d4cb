"""The certificate behind ``https://<slug>.<base domain>`` when the spec turns TLS on.

Two sources, chosen by project config:

- ``sandboxes:tlsIssuer`` names a cert-manager ``ClusterIssuer`` (a real cluster with a
  public or company CA): the Ingress is annotated for it and cert-manager fills the
  ``<slug>-tls`` Secret. Nothing else is created here.
- unset (the default, and the embedded cluster): the stack issues a self-signed
  certificate for the host itself, so ``https://`` works the moment ``up`` returns and
  never depends on a controller that may not be installed. The key is made once, kept
  in the state as a secret, and the certificate is renewed by the first ``up`` within
  :data:`RENEW_BEFORE_DAYS` of its expiry.

Issuing runs in a Pulumi dynamic provider: a key made by the program itself would be new
on every run (a diff on every preview); a resource makes it once and remembers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
import pulumi_kubernetes as k8s

from sandboxes.spec import SandboxSpec

__all__ = [
    "CERT_MANAGER_ISSUER_ANNOTATION",
    "RENEW_BEFORE_DAYS",
    "VALIDITY_DAYS",
    "IngressCertificate",
    "IngressCertificateArgs",
    "SelfSignedCertificate",
]

CERT_MANAGER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
VALIDITY_DAYS = 397  # the longest validity browsers accept for a server certificate
RENEW_BEFORE_DAYS = 30


class _SelfSignedProvider(pulumi.dynamic.ResourceProvider):
    """Issues an ECDSA P-256 server certificate for ``hosts``; everything inside methods (runs in the provider host)."""

    def _issue(self, props: dict[str, Any]) -> dict[str, Any]:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        hosts = [str(h) for h in props["hosts"]]
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        not_after = now + datetime.timedelta(days=int(props["validity_days"]))
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sandboxes (self-signed)"),
        ])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                              encipher_only=False, decipher_only=False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256())
        )
        return {
            **props,
            "cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "key_pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode(),
            "not_after": not_after.isoformat(),
            "serial": format(cert.serial_number, "x"),
        }

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outs = self._issue(props)
        return pulumi.dynamic.CreateResult(id_=outs["serial"], outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        import datetime

        def as_text(value: Any) -> list[str]:
            return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]

        replaces = [k for k in ("hosts", "validity_days", "renew_before_days")
                    if as_text(olds.get(k)) != as_text(news.get(k))]
        try:
            not_after = datetime.datetime.fromisoformat(str(olds["not_after"]))
        except (KeyError, ValueError):
            replaces.append("not_after")
        else:
            renew_at = not_after - datetime.timedelta(days=int(news.get("renew_before_days", 0)))
            if datetime.datetime.now(datetime.UTC) >= renew_at:
                replaces.append("not_after")  # due for renewal: the next up issues a new one
        return pulumi.dynamic.DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_=id_, outs=props)  # nothing outside the state to read back


class SelfSignedCertificate(pulumi.dynamic.Resource):
    """A key and a self-signed certificate for ``hosts``, made once and renewed near expiry."""

    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]
    not_after: pulumi.Output[str]

    def __init__(self, name: str, hosts: list[str], opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "hosts": hosts,
            "validity_days": VALIDITY_DAYS,
            "renew_before_days": RENEW_BEFORE_DAYS,
            "cert_pem": None,
            "key_pem": None,
            "not_after": None,
            "serial": None,
        }
        super().__init__(
            _SelfSignedProvider(), name, props,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["key_pem"])),
        )


@dataclass(frozen=True)
class IngressCertificateArgs:
    spec: SandboxSpec
    host: str
    secret_name: str
    namespace: pulumi.Input[str]
    labels: dict[str, str]
    annotations: dict[str, str]


class IngressCertificate(pulumi.ComponentResource):
    """The ``kubernetes.io/tls`` Secret the Ingress names, holding a self-signed certificate for the host."""

    secret: k8s.core.v1.Secret

    def __init__(self, name: str, args: IngressCertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:IngressCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cert = SelfSignedCertificate(f"{name}-cert", [args.host], child)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.secret_name, namespace=args.namespace, labels=args.labels, annotations=args.annotations
            ),
            type="kubernetes.io/tls",
            string_data={"tls.crt": cert.cert_pem, "tls.key": pulumi.Output.secret(cert.key_pem)},
            opts=child,
        )
        self.register_outputs({"not_after": cert.not_after})
