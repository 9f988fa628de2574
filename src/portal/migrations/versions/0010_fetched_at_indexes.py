"""An index on ``fetched_at`` in every record table: what the understanding layer's steps
read after every sync (the rows fetched since each last ran) is a seek, not a scan of a
million rows (``portal.record.tables`` says what it was measured to save and cost).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = (
    "party",
    "accounts",
    "products",
    "balances",
    "transactions",
    "purchases",
    "bills",
    "usage",
    "recurring_payments",
    "consents",
    "processing",
    "inferences",
    "documents",
    "payees",
)


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_fetched_at", table, ["fetched_at"], if_not_exists=True)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_fetched_at", table_name=table, if_exists=True)
