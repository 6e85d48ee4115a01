"""Use cases: add, list and remove staff accounts (the `frontdesk staff` commands)."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, PasswordHasher, UnitOfWorkFactory
from domain.staff import (
    Role,
    StaffAccount,
    StaffAccountExists,
    StaffAccountNotFound,
    check_password,
    normalise_email,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddStaff:
    email: str
    password: str
    role: Role = Role.STAFF


class AddStaffHandler:
    """Create an account. Rules: the email is normalised and unique (`StaffAccountExists`);
    the password is long enough (`InvalidStaffInput`) and only its hash is stored."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow, self._hasher, self._clock = uow, hasher, clock

    async def __call__(self, command: AddStaff) -> StaffAccount:
        email = normalise_email(command.email)
        check_password(command.password)
        account = StaffAccount(
            email=email,
            role=command.role,
            password_hash=await self._hasher.hash(command.password),
            created_at=self._clock.now(),
        )
        async with self._uow() as uow:
            if await uow.staff.get(email) is not None:
                raise StaffAccountExists(email)
            await uow.staff.add(account)
            await uow.commit()
        return account


class ListStaffHandler:
    """Every account, by email. Reads only."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self) -> list[StaffAccount]:
        async with self._uow() as uow:
            return await uow.staff.all()


class RemoveStaffHandler:
    """Delete an account and end its sessions at once (`StaffAccountNotFound` if none)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, email: str) -> None:
        normalised = normalise_email(email)
        async with self._uow() as uow:
            if not await uow.staff.remove(normalised):
                raise StaffAccountNotFound(normalised)
            await uow.commit()
