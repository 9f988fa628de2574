"""Consent receipts: every grant, change and share, in Kantara's fields.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Timestamps as ``UTCDateTime`` stores them: ISO text in SQLite, TIMESTAMPTZ in PostgreSQL.
_MOMENT = sa.DateTime(timezone=True).with_variant(sa.String(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("made_at", _MOMENT, nullable=False),
        sa.Column("document", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_receipts_kind", "receipts", ["kind"])
    op.create_index("ix_receipts_provider", "receipts", ["provider"])


def downgrade() -> None:
    op.drop_index("ix_receipts_provider", table_name="receipts")
    op.drop_index("ix_receipts_kind", table_name="receipts")
    op.drop_table("receipts")
