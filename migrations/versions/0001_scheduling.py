"""Scheduling: appointments, idempotency keys, and the no-overlap rule.

Revision ID: 0001_scheduling
Revises:
Create Date: 2026-11-25

The no-overlap rule is engine-specific: an exclusion constraint on Postgres, a pair
of triggers on SQLite. Both report the name `appointments_no_overlap`, which the SQL
adapter turns into `SlotTaken`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_scheduling"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OVERLAPPING_BOOKED = """
    NEW.status = 'booked' AND EXISTS (
        SELECT 1 FROM appointments AS other
        WHERE other.provider_id = NEW.provider_id
          AND other.status = 'booked'
          AND other.starts_at < NEW.ends_at
          AND NEW.starts_at < other.ends_at
          {exclude_self}
    )
"""

SQLITE_TRIGGERS = {
    "appointments_no_overlap_insert": f"""
        CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
        WHEN {_OVERLAPPING_BOOKED.format(exclude_self="")}
        BEGIN SELECT RAISE(ABORT, 'appointments_no_overlap'); END
    """,
    "appointments_no_overlap_update": f"""
        CREATE TRIGGER appointments_no_overlap_update BEFORE UPDATE ON appointments
        WHEN {_OVERLAPPING_BOOKED.format(exclude_self="AND other.id <> NEW.id")}
        BEGIN SELECT RAISE(ABORT, 'appointments_no_overlap'); END
    """,
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_name", sa.String(120), nullable=False),
        sa.Column("patient_phone", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled')", name=op.f("ck_appointments_status")
        ),
        sa.CheckConstraint("channel IN ('phone', 'api')", name=op.f("ck_appointments_channel")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("appointments_pkey")),
    )
    op.create_index(
        "ix_appointments_patient_phone_starts_at", "appointments", ["patient_phone", "starts_at"]
    )
    op.create_index(
        "ix_appointments_provider_id_starts_at", "appointments", ["provider_id", "starts_at"]
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_idempotency_keys_appointment_id_appointments"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("idempotency_keys_pkey")),
    )
    if dialect == "postgresql":
        op.execute(
            """
            ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap
            EXCLUDE USING gist (
                provider_id WITH =,
                tstzrange(starts_at, ends_at, '[)') WITH &&
            ) WHERE (status = 'booked')
            """
        )
    elif dialect == "sqlite":
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    else:
        raise NotImplementedError(f"no overlap enforcement for {dialect}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_appointments_provider_id_starts_at", table_name="appointments")
    op.drop_index("ix_appointments_patient_phone_starts_at", table_name="appointments")
    op.drop_table("appointments")
    # btree_gist stays: other schemas may use it, and it holds no data.
