"""The staff command's parser names the roles without importing the domain."""

from __future__ import annotations

from domain.staff import Role
from entrypoints.staff_command import ROLES


def test_the_parsers_roles_are_the_domains_roles() -> None:
    assert set(ROLES) == {role.value for role in Role}
