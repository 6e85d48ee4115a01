"""Password hashing, as a port: the application never picks an algorithm itself."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    """Slow on purpose (memory-hard); implementations run off the event loop, so a sign-in
    never stalls a live call's audio."""

    async def hash(self, password: str) -> str:
        """A self-describing hash string (algorithm, parameters, salt, digest)."""
        ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False for a mismatch or a malformed hash."""
        ...

    async def waste_time(self) -> None:
        """Cost as much as a `verify`: unknown emails must not answer faster than known ones."""
        ...
