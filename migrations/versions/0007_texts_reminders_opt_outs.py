"""Reminder texts, opted-out numbers, and the subject of each webhook event.

`text_messages` gains `kind` (confirmation or reminder) and `appointment_id`, and the
statuses `skipped` (the number opted out) and `voided` (a reminder whose appointment was
cancelled or moved); `text_opt_outs` holds the numbers that texted STOP;
`webhook_events.subject_id` names the call or appointment an event is about.

Revision ID: 0007_texts_reminders_opt_outs
Revises: 0006_text_messages
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_texts_reminders_opt_outs"
down_revision: str | None = "0006_text_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = "ck_text_messages_status"
_NEW = "status IN ('pending', 'sent', 'failed', 'skipped', 'voided')"
_OLD = "status IN ('pending', 'sent', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("text_messages") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="confirmation")
        )
        batch.add_column(sa.Column("appointment_id", sa.Uuid(), nullable=True))
        batch.drop_constraint(op.f(_STATUS), type_="check")
        batch.create_check_constraint(op.f(_STATUS), _NEW)
        batch.create_index("ix_text_messages_appointment_id", ["appointment_id"])
    op.create_table(
        "text_opt_outs",
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("text_opt_outs_pkey")),
    )
    with op.batch_alter_table("webhook_events") as batch:
        batch.add_column(sa.Column("subject_id", sa.Uuid(), nullable=True))
        batch.create_index("ix_webhook_events_subject_id", ["subject_id"])


def downgrade() -> None:
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_index("ix_webhook_events_subject_id")
        batch.drop_column("subject_id")
    op.drop_table("text_opt_outs")
    op.execute("DELETE FROM text_messages WHERE status IN ('skipped', 'voided')")
    with op.batch_alter_table("text_messages") as batch:
        batch.drop_index("ix_text_messages_appointment_id")
        batch.drop_constraint(op.f(_STATUS), type_="check")
        batch.create_check_constraint(op.f(_STATUS), _OLD)
        batch.drop_column("appointment_id")
        batch.drop_column("kind")
