"""Object names derived from the slug: deterministic, so tests and ``kubectl`` need no lookups."""

from __future__ import annotations

__all__ = ["ObjectNames"]

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectNames:
    """Every ``metadata.name`` of a sandbox, computed from its slug."""

    slug: str

    @property
    def namespace(self) -> str:
        return self.slug

    @property
    def db(self) -> str:
        return f"{self.slug}-db"

    @property
    def db_headless(self) -> str:
        return f"{self.slug}-db-headless"

    @property
    def parent_db(self) -> str:
        return f"{self.slug}-parent-db"

    @property
    def web(self) -> str:
        return f"{self.slug}-web"

    @property
    def settings(self) -> str:
        return f"{self.slug}-settings"

    @property
    def ingress(self) -> str:
        return self.slug

    @property
    def tls(self) -> str:
        return f"{self.slug}-tls"

    @property
    def seed(self) -> str:
        return f"{self.slug}-seed"

    @property
    def devices(self) -> str:
        return f"{self.slug}-devices"

    @property
    def api_credentials(self) -> str:
        return f"{self.slug}-api-credentials"

    @property
    def role(self) -> str:
        return f"{self.slug}-access"

    @property
    def quota(self) -> str:
        return f"{self.slug}-quota"

    @property
    def limits(self) -> str:
        return f"{self.slug}-limits"

    def db_host(self) -> str:
        return f"{self.db}.{self.namespace}.svc.cluster.local"
