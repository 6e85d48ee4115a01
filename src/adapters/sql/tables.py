"""The schema as SQLAlchemy Core tables; migrations create it, repositories read and write it.

The no-overlap rule is not declared here: autogenerate can see neither a Postgres
exclusion constraint nor SQLite triggers, so migration 0001 creates them by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)

NO_OVERLAP = "appointments_no_overlap"
"""Name of the database rule that refuses overlapping booked appointments of one provider."""

IDEMPOTENCY_PKEY = "idempotency_keys_pkey"

TOOL_NAME_LENGTH = 64
"""Width of a recorded tool invocation's name."""

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
    Column("call_id", Uuid(), nullable=True),
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

calls = Table(
    "calls",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("carrier", String(16), nullable=False),
    Column("carrier_call_id", String(64), nullable=False),
    Column("from_number", String(64), nullable=False),
    Column("to_number", String(64), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("next_step", String(16), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("end_reason", String(32), nullable=True),
    Column("carrier_status", String(32), nullable=True),
    Column("duration_s", Integer(), nullable=True),
    Column("stream_token_digest", String(64), nullable=True),
    CheckConstraint("status IN ('ringing', 'in_progress', 'ended')", name="status"),
    Index("ix_calls_started_at", "started_at"),
    UniqueConstraint("carrier", "carrier_call_id"),
)

call_turns = Table(
    "call_turns",
    metadata,
    Column("call_id", Uuid(), ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("speaker", String(16), nullable=False),
    Column("text", Text(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("interrupted", Boolean(), nullable=False),
    PrimaryKeyConstraint("call_id", "seq"),
)

call_tool_invocations = Table(
    "call_tool_invocations",
    metadata,
    Column("call_id", Uuid(), ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("name", String(TOOL_NAME_LENGTH), nullable=False),
    Column("arguments", Text(), nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("result", Text(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("duration_ms", Float(), nullable=False),
    PrimaryKeyConstraint("call_id", "seq"),
)

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("email", String(254), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("role IN ('admin', 'staff')", name="role"),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    # Sessions are deleted with their account by the repository (SQLite does not
    # enforce foreign keys unless asked), and by the cascade on Postgres.
    Column(
        "email",
        String(254),
        ForeignKey("staff_accounts.email", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Index("ix_staff_sessions_email", "email"),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("subject", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_login_failures_subject_at", "subject", "at"),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("events", Text(), nullable=False),  # a JSON array of event type names
    Column("description", String(500), nullable=False),
    # Kept as given (whsec_...): signing needs the key itself, so it cannot be hashed.
    Column("secret", String(128), nullable=False),
    Column("previous_secret", String(128), nullable=True),
    Column("previous_secret_expires_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("failing_since", UtcDateTime(), nullable=True),
    Column("disabled_at", UtcDateTime(), nullable=True),
    Column("disabled_reason", String(16), nullable=True),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("body", Text(), nullable=False),  # exactly the bytes every attempt sends
    Column("fanned_out", Boolean(), nullable=False),
    Column("subject_id", Uuid(), nullable=True),  # the call or appointment it is about
    Index("ix_webhook_events_fanned_out_occurred_at", "fanned_out", "occurred_at"),
    Index("ix_webhook_events_subject_id", "subject_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "event_id",
        Uuid(),
        ForeignKey("webhook_events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "subscription_id",
        Uuid(),
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("failed_attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("claim", Uuid(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    UniqueConstraint("event_id", "subscription_id"),
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_subscription_id_created_at", "subscription_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column(
        "delivery_id",
        Uuid(),
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("status_code", Integer(), nullable=True),
    Column("error", String(500), nullable=True),
    Column("latency_ms", Float(), nullable=False),
    Column("next_retry_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("delivery_id", "seq"),
)

text_messages = Table(
    "text_messages",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("to_phone", String(16), nullable=False),
    Column("body", Text(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failed_attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("claim", Uuid(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_id", String(64), nullable=True),  # the provider's message id
    Column("last_error", String(500), nullable=True),
    Column("kind", String(16), nullable=False, server_default="confirmation"),
    Column("appointment_id", Uuid(), nullable=True),
    CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped', 'voided')", name="status"),
    Index("ix_text_messages_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_text_messages_appointment_id", "appointment_id"),
)

text_opt_outs = Table(
    "text_opt_outs",
    metadata,
    Column("phone", String(16), primary_key=True),  # E.164
    Column("opted_out_at", UtcDateTime(), nullable=False),
)
