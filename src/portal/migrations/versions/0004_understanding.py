"""The understanding layer's bookkeeping: how far each of its steps has read the store.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "understood",
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("through", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("step"),
    )


def downgrade() -> None:
    op.drop_table("understood")
