"""Staff accounts, their console sessions, and failed sign-ins (for throttling).

Revision ID: 0004_staff
Revises: 0003_neutral_calls
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_staff"
down_revision: str | None = "0003_neutral_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'staff')", name=op.f("ck_staff_accounts_role")),
        sa.PrimaryKeyConstraint("email", name=op.f("staff_accounts_pkey")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["email"],
            ["staff_accounts.email"],
            name=op.f("fk_staff_sessions_email_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("staff_sessions_pkey")),
    )
    op.create_index("ix_staff_sessions_email", "staff_sessions", ["email"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("login_failures_pkey")),
    )
    op.create_index("ix_login_failures_subject_at", "login_failures", ["subject", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_subject_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_staff_sessions_email", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_accounts")
