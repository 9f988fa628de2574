"""Links across providers: a bill and the payment that paid it, an order and its card payment;
and an index on when each transaction was fetched, which every step of the understanding
layer reads by.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("from_table", sa.String(), nullable=False),
        sa.Column("from_id", sa.String(), nullable=False),
        sa.Column("to_table", sa.String(), nullable=False),
        sa.Column("to_id", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("confidence", sa.String(), nullable=False),
        sa.Column("found_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("from_table", "from_id", "to_table", "to_id"),
    )
    op.create_index("ix_links_to", "links", ["to_table", "to_id"])


def downgrade() -> None:
    op.drop_index("ix_links_to", table_name="links")
    op.drop_table("links")
