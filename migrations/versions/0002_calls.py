"""Call records: calls, their turns and tool invocations.

Revision ID: 0002_calls
Revises: 0001_scheduling
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_calls"
down_revision: str | None = "0001_scheduling"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("sid", sa.String(64), nullable=False),
        sa.Column("from_number", sa.String(64), nullable=False),
        sa.Column("to_number", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_step", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("twilio_status", sa.String(32), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("stream_token_digest", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "status IN ('ringing', 'in_progress', 'ended')", name=op.f("ck_calls_status")
        ),
        sa.PrimaryKeyConstraint("sid", name=op.f("calls_pkey")),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    for table, columns in (
        (
            "call_turns",
            [
                sa.Column("speaker", sa.String(16), nullable=False),
                sa.Column("text", sa.Text(), nullable=False),
                sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("interrupted", sa.Boolean(), nullable=False),
            ],
        ),
        (
            "call_tool_invocations",
            [
                sa.Column("name", sa.String(64), nullable=False),
                sa.Column("arguments", sa.Text(), nullable=False),
                sa.Column("outcome", sa.String(64), nullable=False),
                sa.Column("result", sa.Text(), nullable=False),
                sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("duration_ms", sa.Float(), nullable=False),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("call_sid", sa.String(64), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(
                ["call_sid"],
                ["calls.sid"],
                name=op.f(f"fk_{table}_call_sid_calls"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("call_sid", "seq", name=op.f(f"{table}_pkey")),
        )


def downgrade() -> None:
    op.drop_table("call_tool_invocations")
    op.drop_table("call_turns")
    op.drop_index("ix_calls_started_at", table_name="calls")
    op.drop_table("calls")
