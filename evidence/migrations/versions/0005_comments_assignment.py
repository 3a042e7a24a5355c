"""team notes on claims, and assignment of a review task to a named reviewer

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

``claim_comment`` holds threaded notes (``parent_id``), visible to the team and never
exported; ``review_task.assigned_to`` names the reviewer an editor assigned the claim to.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import evidence.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = evidence.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("review_task") as batch:
        batch.add_column(sa.Column("assigned_to", _str(length=120), nullable=True))

    op.create_table(
        "claim_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author", _str(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _when(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"]),
        sa.ForeignKeyConstraint(["parent_id"], ["claim_comment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_comment") as batch:
        batch.create_index(batch.f("ix_claim_comment_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("claim_comment") as batch:
        batch.drop_index(batch.f("ix_claim_comment_claim_id"))
    op.drop_table("claim_comment")
    with op.batch_alter_table("review_task") as batch:
        batch.drop_column("assigned_to")
