"""`frontdesk staff add|list|remove`: console accounts, managed by whoever runs the server."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TYPE_CHECKING, Any

# Only the standard library at import time: `frontdesk --help` builds this parser, and
# must not wait for the database libraries (they are imported when the command runs).

ROLES = ("staff", "admin")
"""`domain.staff.Role`'s values, repeated so the parser needs no import (a test checks)."""

if TYPE_CHECKING:
    from entrypoints.container import Container


def add_staff_parser(commands: Any) -> None:
    staff = commands.add_parser("staff", help="manage console accounts")
    actions = staff.add_subparsers(dest="staff_command", required=True)
    add = actions.add_parser("add", help="create a console account (asks for the password)")
    add.add_argument("email")
    add.add_argument("--role", choices=ROLES, default="staff")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of prompting",
    )
    actions.add_parser("list", help="list console accounts")
    remove = actions.add_parser("remove", help="delete an account and end its sessions")
    remove.add_argument("email")


def _password(args: argparse.Namespace) -> str:
    from domain.staff import InvalidStaffInput

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        raise InvalidStaffInput("The two passwords differ; nothing was changed.")
    return first


async def _run(container: Container, args: argparse.Namespace) -> str:
    from application.staff.accounts import AddStaff
    from domain.staff import Role

    try:
        if args.staff_command == "add":
            account = await container.add_staff()(
                AddStaff(email=args.email, password=_password(args), role=Role(args.role))
            )
            return f"added {account.email} ({account.role.value})"
        if args.staff_command == "list":
            accounts = await container.list_staff()()
            if not accounts:
                return "no staff accounts yet: add one with `frontdesk staff add EMAIL`"
            return "\n".join(
                f"{a.email}\t{a.role.value}\tsince {a.created_at:%Y-%m-%d}" for a in accounts
            )
        await container.remove_staff()(args.email)
        return f"removed {args.email.strip().lower()} and ended its sessions"
    finally:
        await container.database().dispose()


def run_staff(container: Container, args: argparse.Namespace) -> int:
    from adapters.sql import upgrade_to_head
    from domain.staff import InvalidStaffInput, StaffAccountExists, StaffAccountNotFound

    settings = container.settings()
    if settings.embedded_database:
        upgrade_to_head(settings.resolved_database_url())
    try:
        print(asyncio.run(_run(container, args)))
    except (InvalidStaffInput, StaffAccountExists, StaffAccountNotFound) as refused:
        print(f"frontdesk: {refused.message}", file=sys.stderr)
        return 1
    return 0
