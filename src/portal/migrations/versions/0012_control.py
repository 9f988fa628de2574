"""Control: the person's preferences, and every change asked of a provider.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Timestamps as ``UTCDateTime`` stores them: ISO text in SQLite, TIMESTAMPTZ in PostgreSQL.
_MOMENT = sa.DateTime(timezone=True).with_variant(sa.String(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "preferences",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("allow", sa.Boolean(), nullable=False),
        sa.Column("stated_at", _MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "asked_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("allow", sa.Boolean(), nullable=False),
        sa.Column("consent", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("instead", sa.String(), nullable=False),
        sa.Column("asked_at", _MOMENT, nullable=False),
        sa.Column("checked_at", _MOMENT, nullable=True),
        sa.Column("held", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_asked_changes_provider", "asked_changes", ["provider"])


def downgrade() -> None:
    op.drop_index("ix_asked_changes_provider", table_name="asked_changes")
    op.drop_table("asked_changes")
    op.drop_table("preferences")
