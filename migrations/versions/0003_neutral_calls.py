"""Calls in neutral terms: our own id, the carrier and its reference, the carrier's status.

`calls.sid` (a Twilio call sid) becomes `id` (a UUID of ours) plus `carrier` and
`carrier_call_id` (unique together); `twilio_status` becomes `carrier_status`; turns,
tool invocations and appointments point at the call by `call_id`. Existing rows are
Twilio calls: each gets a fresh id, and its children and appointments follow it.

Postgres alters the tables in place. SQLite cannot change a primary key in place, so
the call tables are rebuilt under new names, filled, and renamed (children dropped
before their parent, so no cascade runs).

Revision ID: 0003_neutral_calls
Revises: 0002_calls
Create Date: 2026-12-06
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_neutral_calls"
down_revision: str | None = "0002_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHILDREN = ("call_turns", "call_tool_invocations")
LEGACY_CARRIER = "twilio"


def _child_columns(table: str) -> list[sa.Column[object]]:
    if table == "call_turns":
        return [
            sa.Column("speaker", sa.String(16), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("interrupted", sa.Boolean(), nullable=False),
        ]
    return [
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
    ]


def _call_columns(*, neutral: bool) -> list[sa.Column[object]]:
    keys: list[sa.Column[object]] = (
        [
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("carrier", sa.String(16), nullable=False),
            sa.Column("carrier_call_id", sa.String(64), nullable=False),
        ]
        if neutral
        else [sa.Column("sid", sa.String(64), nullable=False)]
    )
    return [
        *keys,
        sa.Column("from_number", sa.String(64), nullable=False),
        sa.Column("to_number", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_step", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("carrier_status" if neutral else "twilio_status", sa.String(32), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("stream_token_digest", sa.String(64), nullable=True),
    ]


def _new_ids() -> dict[str, uuid.UUID]:
    """A fresh id for every stored call, by its old sid."""
    rows = op.get_bind().execute(sa.text("SELECT sid FROM calls")).all()
    return {row.sid: uuid.uuid4() for row in rows}


def _old_sids() -> dict[uuid.UUID, str]:
    """The sid each call goes back to: its reference, prefixed when not Twilio's."""
    calls = sa.table(
        "calls", sa.column("id", sa.Uuid()), sa.column("carrier"), sa.column("carrier_call_id")
    )
    rows = op.get_bind().execute(sa.select(calls)).all()
    return {
        row.id: (
            row.carrier_call_id
            if row.carrier == LEGACY_CARRIER
            else f"{row.carrier}:{row.carrier_call_id}"[:64]
        )
        for row in rows
    }


def upgrade() -> None:
    ids = _new_ids()
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(neutral=True, keys=ids)
    else:
        _upgrade_postgres(ids)
    # Plain ALTERs on both engines: a batch rebuild on SQLite would drop the overlap
    # triggers that migration 0001 set on this table.
    op.add_column("appointments", sa.Column("call_id", sa.Uuid(), nullable=True))
    appointments = sa.table("appointments", sa.column("call_sid"), sa.column("call_id", sa.Uuid()))
    for sid, call_id in ids.items():
        op.execute(
            appointments.update().where(appointments.c.call_sid == sid).values(call_id=call_id)
        )
    op.drop_column("appointments", "call_sid")


def downgrade() -> None:
    sids = _old_sids()
    op.add_column("appointments", sa.Column("call_sid", sa.String(64), nullable=True))
    appointments = sa.table("appointments", sa.column("call_sid"), sa.column("call_id", sa.Uuid()))
    for call_id, sid in sids.items():
        op.execute(
            appointments.update().where(appointments.c.call_id == call_id).values(call_sid=sid)
        )
    op.drop_column("appointments", "call_id")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(neutral=False, keys=sids)
    else:
        _downgrade_postgres(sids)


# --- Postgres: in place ----------------------------------------------------------------


def _upgrade_postgres(ids: dict[str, uuid.UUID]) -> None:
    op.add_column("calls", sa.Column("id", sa.Uuid(), nullable=True))
    op.add_column("calls", sa.Column("carrier", sa.String(16), nullable=True))
    op.alter_column("calls", "sid", new_column_name="carrier_call_id")
    op.alter_column("calls", "twilio_status", new_column_name="carrier_status")
    calls = sa.table("calls", sa.column("id", sa.Uuid()), sa.column("carrier_call_id"))
    for sid, call_id in ids.items():
        op.execute(calls.update().where(calls.c.carrier_call_id == sid).values(id=call_id))
    op.execute(sa.table("calls", sa.column("carrier")).update().values(carrier=LEGACY_CARRIER))
    for table in CHILDREN:
        op.add_column(table, sa.Column("call_id", sa.Uuid(), nullable=True))
        op.execute(
            sa.text(
                f"UPDATE {table} SET call_id = calls.id FROM calls "  # noqa: S608
                f"WHERE calls.carrier_call_id = {table}.call_sid"
            )
        )
        op.drop_constraint(f"fk_{table}_call_sid_calls", table, type_="foreignkey")
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.drop_column(table, "call_sid")
        op.alter_column(table, "call_id", nullable=False)
    op.drop_constraint("calls_pkey", "calls", type_="primary")
    for column in ("id", "carrier"):
        op.alter_column("calls", column, nullable=False)
    op.create_primary_key("calls_pkey", "calls", ["id"])
    op.create_unique_constraint(
        "uq_calls_carrier_carrier_call_id", "calls", ["carrier", "carrier_call_id"]
    )
    for table in CHILDREN:
        op.create_primary_key(f"{table}_pkey", table, ["call_id", "seq"])
        op.create_foreign_key(
            f"fk_{table}_call_id_calls", table, "calls", ["call_id"], ["id"], ondelete="CASCADE"
        )


def _downgrade_postgres(sids: dict[uuid.UUID, str]) -> None:
    for table in CHILDREN:
        op.add_column(table, sa.Column("call_sid", sa.String(64), nullable=True))
        op.drop_constraint(f"fk_{table}_call_id_calls", table, type_="foreignkey")
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
    op.drop_constraint("uq_calls_carrier_carrier_call_id", "calls", type_="unique")
    op.drop_constraint("calls_pkey", "calls", type_="primary")
    calls = sa.table("calls", sa.column("id", sa.Uuid()), sa.column("carrier_call_id"))
    for call_id, sid in sids.items():
        op.execute(calls.update().where(calls.c.id == call_id).values(carrier_call_id=sid))
    for table in CHILDREN:
        op.execute(
            sa.text(
                f"UPDATE {table} SET call_sid = calls.carrier_call_id FROM calls "  # noqa: S608
                f"WHERE calls.id = {table}.call_id"
            )
        )
        op.drop_column(table, "call_id")
        op.alter_column(table, "call_sid", nullable=False)
    op.drop_column("calls", "id")
    op.drop_column("calls", "carrier")
    op.alter_column("calls", "carrier_call_id", new_column_name="sid")
    op.alter_column("calls", "carrier_status", new_column_name="twilio_status")
    op.create_primary_key("calls_pkey", "calls", ["sid"])
    for table in CHILDREN:
        op.create_primary_key(f"{table}_pkey", table, ["call_sid", "seq"])
        op.create_foreign_key(
            f"fk_{table}_call_sid_calls", table, "calls", ["call_sid"], ["sid"], ondelete="CASCADE"
        )


# --- SQLite: rebuilt and renamed -------------------------------------------------------


def _rebuild_sqlite(*, neutral: bool, keys: dict[str, uuid.UUID] | dict[uuid.UUID, str]) -> None:
    """Build the call tables in the target shape as `*_new`, copy every row across with
    its new key, drop the old tables (children first) and rename the new ones."""
    key = "id" if neutral else "sid"
    child_key, old_child_key = ("call_id", "call_sid") if neutral else ("call_sid", "call_id")
    key_type: sa.types.TypeEngine[object] = sa.Uuid() if neutral else sa.String(64)
    call_constraints: list[sa.Constraint] = [
        sa.CheckConstraint("status IN ('ringing', 'in_progress', 'ended')", name="ck_calls_status"),
        sa.PrimaryKeyConstraint(key, name="calls_pkey"),
    ]
    if neutral:
        call_constraints.append(
            sa.UniqueConstraint(
                "carrier", "carrier_call_id", name="uq_calls_carrier_carrier_call_id"
            )
        )
    new_calls = op.create_table("calls_new", *_call_columns(neutral=neutral), *call_constraints)
    assert new_calls is not None
    bind = op.get_bind()
    old_calls = sa.Table("calls", sa.MetaData(), autoload_with=bind)
    rows = [dict(row._mapping) for row in bind.execute(sa.select(old_calls)).all()]
    uuid_result = sa.Uuid().result_processor(bind.dialect, None)
    for row in rows:
        if neutral:
            sid = row.pop("sid")
            row["id"] = keys[sid]  # type: ignore[index]
            row["carrier"] = LEGACY_CARRIER
            row["carrier_call_id"] = sid
            row["carrier_status"] = row.pop("twilio_status")
        else:
            call_id = uuid_result(row.pop("id")) if uuid_result else row.pop("id")
            row["sid"] = keys[call_id]  # type: ignore[index]
            row.pop("carrier")
            row.pop("carrier_call_id")
            row["twilio_status"] = row.pop("carrier_status")
    if rows:
        op.bulk_insert(new_calls, rows)
    for table in CHILDREN:
        new_child = op.create_table(
            f"{table}_new",
            sa.Column(child_key, key_type, nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            *_child_columns(table),
            sa.ForeignKeyConstraint(
                [child_key],
                ["calls_new." + key],
                name=f"fk_{table}_{child_key}_calls",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(child_key, "seq", name=f"{table}_pkey"),
        )
        assert new_child is not None
        old_child = sa.Table(table, sa.MetaData(), autoload_with=bind)
        children = [dict(row._mapping) for row in bind.execute(sa.select(old_child)).all()]
        for child in children:
            old = child.pop(old_child_key)
            if not neutral and uuid_result:
                old = uuid_result(old)
            child[child_key] = keys[old]  # type: ignore[index]
        if children:
            op.bulk_insert(new_child, children)
        op.drop_table(table)
    op.drop_index("ix_calls_started_at", table_name="calls")
    op.drop_table("calls")
    op.rename_table("calls_new", "calls")
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    for table in CHILDREN:
        op.rename_table(f"{table}_new", table)
