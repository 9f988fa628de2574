"""When each sync started, per connection: what a provider's declared quota is counted on.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Timestamps as ``UTCDateTime`` stores them: ISO text in SQLite, TIMESTAMPTZ in PostgreSQL.
_MOMENT = sa.DateTime(timezone=True).with_variant(sa.String(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("started_at", _MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sync_starts_provider", "sync_starts", ["provider"])


def downgrade() -> None:
    op.drop_index("ix_sync_starts_provider", table_name="sync_starts")
    op.drop_table("sync_starts")
