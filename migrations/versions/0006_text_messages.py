"""Texts to patients, written through the outbox and sent by the text dispatcher.

Revision ID: 0006_text_messages
Revises: 0005_webhooks
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_text_messages"
down_revision: str | None = "0005_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "text_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("to_phone", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=True),
        sa.Column("claim", sa.Uuid(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("sent_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_text_messages_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("text_messages_pkey")),
    )
    op.create_index(
        "ix_text_messages_status_next_attempt_at",
        "text_messages",
        ["status", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_text_messages_status_next_attempt_at", "text_messages")
    op.drop_table("text_messages")
