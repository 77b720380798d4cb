"""Who is asking: a principal is a name, a role and (for provider admins) a provider."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["LOCAL_ADMIN", "Principal", "Role"]


class Role(StrEnum):
    PROVIDER_ADMIN = "provider-admin"
    SYSTEM_ADMIN = "system-admin"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    provider_id: str | None = None

    def __post_init__(self) -> None:
        if self.role == Role.PROVIDER_ADMIN and not self.provider_id:
            raise ValueError("a provider-admin principal needs a provider_id")

    @property
    def is_system_admin(self) -> bool:
        return self.role == Role.SYSTEM_ADMIN

    def can_see(self, provider_id: str | None) -> bool:
        """System admins see everything; provider admins only their own provider's sandboxes."""
        return self.is_system_admin or (provider_id is not None and provider_id == self.provider_id)


#: The principal of a local ``sandboxctl`` user: whoever can read the records file is its admin.
LOCAL_ADMIN = Principal(name="local", role=Role.SYSTEM_ADMIN)
