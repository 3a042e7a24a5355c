"""server-side sessions and the login throttle's attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

A signed-in browser is a ``user_session`` row (the cookie's random id stored as its SHA-256),
so logout, a password or role change and deactivation end it at once. ``login_attempt``
records every password check the throttle admitted, shared by all app processes.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import evidence.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = evidence.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _str(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", _str(length=64), nullable=True),
        sa.Column("user_agent", _str(length=300), nullable=True),
        sa.Column("created_at", _when(timezone=True), nullable=False),
        sa.Column("last_seen_at", _when(timezone=True), nullable=False),
        sa.Column("expires_at", _when(timezone=True), nullable=False),
        sa.Column("revoked_at", _when(timezone=True), nullable=True),
        sa.Column("revoked_reason", _str(length=60), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("user_session") as batch:
        batch.create_index(batch.f("ix_user_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", _str(length=120), nullable=False),
        sa.Column("address", _str(length=64), nullable=False),
        sa.Column("at", _when(timezone=True), nullable=False),
        sa.Column("outcome", _str(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt") as batch:
        batch.create_index("ix_login_attempt_account_at", ["account", "at"], unique=False)
        batch.create_index("ix_login_attempt_address_at", ["address", "at"], unique=False)
        batch.create_index(batch.f("ix_login_attempt_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_attempt") as batch:
        batch.drop_index(batch.f("ix_login_attempt_at"))
        batch.drop_index("ix_login_attempt_address_at")
        batch.drop_index("ix_login_attempt_account_at")
    op.drop_table("login_attempt")
    with op.batch_alter_table("user_session") as batch:
        batch.drop_index(batch.f("ix_user_session_user_id"))
    op.drop_table("user_session")
