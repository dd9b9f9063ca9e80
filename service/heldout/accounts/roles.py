"""Roles and the authenticated principal handed to request handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from heldout.errors import InvalidInput

Role = Literal["admin", "publisher", "participant", "lab"]
ROLES: Final[tuple[str, ...]] = ("admin", "publisher", "participant", "lab")
PUBLISHER_ROLES: Final[frozenset[str]] = frozenset({"admin", "publisher"})


def check_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`ROLES`, else raise InvalidInput naming them."""
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


@dataclass(frozen=True)
class Principal:
    """Who is making a request: a user authenticated by one API key (detached from any session)."""

    id: int
    name: str
    role: str
    key_prefix: str
    masked_key: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_publish(self) -> bool:
        return self.role in PUBLISHER_ROLES
