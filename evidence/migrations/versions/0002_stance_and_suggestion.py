"""stance on evidence, suggested verdicts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Evidence gets its stance's confidence and reasons and its role in the composition (origin,
refutes, supports, context); a run keeps the suggested verdict; a verdict records what was
suggested and whether the reviewer agreed.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import evidence.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("stance_confidence", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column(
                "stance_reasons",
                evidence.types.JSONType(),
                nullable=False,
                server_default="[]",
            )
        )
        batch.add_column(
            sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
    with op.batch_alter_table("run") as batch:
        batch.add_column(
            sa.Column("suggestion", evidence.types.JSONType(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("verdict") as batch:
        batch.add_column(
            sa.Column(
                "suggested_rating", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch.add_column(sa.Column("agreed_with_suggestion", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verdict") as batch:
        batch.drop_column("agreed_with_suggestion")
        batch.drop_column("suggested_rating")
    with op.batch_alter_table("run") as batch:
        batch.drop_column("suggestion")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("role")
        batch.drop_column("stance_reasons")
        batch.drop_column("stance_confidence")
