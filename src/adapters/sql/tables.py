"""The schema as SQLAlchemy Core tables; migrations create it, repositories read and write it.

The no-overlap rule is not declared here: autogenerate can see neither a Postgres
exclusion constraint nor SQLite triggers, so migration 0001 creates them by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    TypeDecorator,
    Uuid,
)

NO_OVERLAP = "appointments_no_overlap"
"""Name of the database rule that refuses overlapping booked appointments of one provider."""

IDEMPOTENCY_PKEY = "idempotency_keys_pkey"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "%(table_name)s_pkey",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant, stored in UTC.

    Postgres keeps it as `timestamptz`. SQLite has no time zones: the value is stored as
    naive UTC text of a fixed format, so comparing strings compares instants (the
    overlap triggers rely on it). Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


appointments = Table(
    "appointments",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_name", String(120), nullable=False),
    Column("patient_phone", String(16), nullable=False),
    Column("provider_id", String(64), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("call_sid", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    CheckConstraint("status IN ('booked', 'cancelled')", name="status"),
    CheckConstraint("channel IN ('phone', 'api')", name="channel"),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    Index("ix_appointments_patient_phone_starts_at", "patient_phone", "starts_at"),
    Index("ix_appointments_provider_id_starts_at", "provider_id", "starts_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(128), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column(
        "appointment_id",
        Uuid(),
        # Deferred: the unit of work writes the key before the appointment it names, so
        # a repeated request collides on the key (and is replayed), not on the slot.
        ForeignKey("appointments.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("scope", "key", name=IDEMPOTENCY_PKEY),
)
