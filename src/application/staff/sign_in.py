"""Use case: sign a staff member in, with failed attempts limited per account and address."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, PasswordHasher, UnitOfWorkFactory
from domain.staff import InvalidStaffInput, LoginThrottle, StaffAccount, StaffSession
from domain.staff import normalise_email as _normalise_email


def token_digest(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def throttle_subject(kind: str, value: str) -> str:
    """A digest naming an account or a client address: emails and addresses are not
    stored in the failures table."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn:
    email: str
    password: str
    client_address: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    account: StaffAccount
    token: str
    """The session's secret, for the cookie; only its digest is stored."""


class SignInRefused(Exception):
    """Wrong email or password: the message never says which."""

    code = "sign_in_refused"
    message = "Wrong email or password."


class SignInThrottled(Exception):
    code = "sign_in_throttled"

    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, -(-int(retry_after.total_seconds()) // 60))
        self.retry_after = retry_after
        self.message = (
            "Too many failed sign-ins for this account or from this address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        super().__init__(self.message)


class SignInHandler:
    """Check the throttle first (a throttled account cannot be guessed at even with the
    right password), then the password. A failure counts against both the account and
    the client address; a success clears the account's count. Unknown emails cost the
    same hashing time as known ones."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        throttle: LoginThrottle,
    ) -> None:
        self._uow, self._hasher, self._clock, self._throttle = uow, hasher, clock, throttle

    async def __call__(self, command: SignIn) -> SignedIn:
        now = self._clock.now()
        try:
            email = _normalise_email(command.email)
        except InvalidStaffInput:
            email = command.email.strip().lower()[:254]
        subjects = [
            throttle_subject("account", email),
            throttle_subject("address", command.client_address),
        ]
        async with self._uow() as uow:
            failures = await uow.login_failures.since(subjects, now - self._throttle.window)
            waits = [self._throttle.retry_after(failures.get(s, []), now) for s in subjects]
            longest = max((w for w in waits if w is not None), default=None)
            if longest is not None:
                raise SignInThrottled(longest)
            account = await uow.staff.get(email)
        if account is None:
            await self._hasher.waste_time()
            matched = False
        else:
            matched = await self._hasher.verify(account.password_hash, command.password)
        async with self._uow() as uow:
            if account is None or not matched:
                for subject in subjects:
                    await uow.login_failures.forget(subject, before=now - self._throttle.window)
                    await uow.login_failures.add(subject, now)
                await uow.commit()
                raise SignInRefused()
            token = secrets.token_urlsafe(32)
            await uow.staff_sessions.add(
                StaffSession(
                    token_digest=token_digest(token),
                    email=account.email,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            await uow.login_failures.forget(subjects[0])
            await uow.commit()
        return SignedIn(account, token)
