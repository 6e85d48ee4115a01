"""`PasswordHasher` over argon2-cffi: argon2id with the library's RFC 9106 low-memory profile."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2PasswordHasher:
    """Each hash costs tens of milliseconds of CPU and 64 MiB: it runs in a worker thread
    so the event loop (and the calls it carries) never waits for it."""

    def __init__(self, hasher: _Argon2 | None = None) -> None:
        self._hasher = hasher or _Argon2()
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    async def waste_time(self) -> None:
        await asyncio.to_thread(self._waste_time)

    def _waste_time(self) -> None:
        if self._dummy is None:
            self._dummy = self._hasher.hash("not anyone's password")
        self._verify(self._dummy, "")

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
