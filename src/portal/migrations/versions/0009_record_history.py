"""Every earlier version of a record, and where each provider's history of changes starts.

The tables only: the triggers that fill ``record_versions`` are made from the models by
``portal.store_history.ensure_history`` each time a store is opened to write (as the search
index's are), so that they follow the columns of the tables they watch, and are made again
after a revision copies a table.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Timestamps as ``UTCDateTime`` stores them: ISO text in SQLite, TIMESTAMPTZ in PostgreSQL.
_MOMENT = sa.DateTime(timezone=True).with_variant(sa.String(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("valid_from", _MOMENT, nullable=True),
        sa.Column("replaced_at", _MOMENT, nullable=False),
        sa.Column("why", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_record_versions_record", "record_versions", ["table_name", "record_id"])
    op.create_index("ix_record_versions_replaced", "record_versions", ["replaced_at"])
    op.create_index("ix_record_versions_provider", "record_versions", ["provider"])
    op.create_table(
        "history_starts",
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("started_at", _MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("provider"),
    )
    # What a store held before history was kept is each provider's starting point.
    op.execute(
        "INSERT INTO history_starts (provider, started_at)"
        " SELECT provider, coalesce(last_sync_at, connected_at) FROM connections"
    )


def downgrade() -> None:
    op.drop_table("history_starts")
    op.drop_index("ix_record_versions_provider", "record_versions")
    op.drop_index("ix_record_versions_replaced", "record_versions")
    op.drop_index("ix_record_versions_record", "record_versions")
    op.drop_table("record_versions")
