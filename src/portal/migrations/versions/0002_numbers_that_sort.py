"""Money and quantities become numbers that sort, compare and sum in SQL.

They were exact text (``'82.40'``), which SQLite sorts as text (972.03 before 82.40 before
8.62) and sums through its own reading of the text. Now each is a NUMERIC column holding,
on SQLite, an INTEGER when whole and else a REAL that gives the decimal back to the digit
(``portal.record.types.DecimalText``); on PostgreSQL a NUMERIC, exact at any scale.

SQLite cannot change a column's type in place: batch mode copies each table, converting
with ``CAST(... AS NUMERIC)``. Before a table is copied, every value is read with what that
cast makes of it, and one the number would not give back exactly (more digits than a
double holds, or not a number at all) stops the migration with an error naming the table,
column, row id and value: the whole upgrade is one transaction, so the store is left as it
was.

Revision ID: 0002
Revises: 0001
"""

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op

from portal.errors import StoreSchema
from portal.shown import shown

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NUMBERS = {
    "balances": ("amount", "credit_limit"),
    "bills": ("total",),
    "inferences": ("score",),
    "purchases": ("total", "points_earned", "points_spent"),
    "recurring_payments": ("amount",),
    "transactions": ("amount", "balance_after"),
    "usage": ("quantity", "charge"),
}
"""The money and quantity columns of 0.1's schema, by table."""


def upgrade() -> None:
    bind = op.get_bind()
    for table, columns in NUMBERS.items():
        if bind.dialect.name == "sqlite":
            for column in columns:
                _check(bind, table, column)
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    type_=sa.Numeric(),
                    existing_type=sa.String(),
                    postgresql_using=f'"{column}"::numeric',
                )


def downgrade() -> None:
    for table, columns in NUMBERS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    type_=sa.String(),
                    existing_type=sa.Numeric(),
                    postgresql_using=f'"{column}"::text',
                )


def _check(bind: sa.Connection, table: str, column: str) -> None:
    """Stop on the first value of ``table.column`` that its SQLite number would not keep."""
    # Names from NUMBERS above, never from the store.
    rows = bind.exec_driver_sql(
        f'SELECT id, "{column}", CAST("{column}" AS NUMERIC) FROM "{table}"'  # noqa: S608
        f' WHERE "{column}" IS NOT NULL'
    )
    for row_id, text, number in rows:
        if not _same(text, number):
            rows.close()
            raise StoreSchema(
                f"The store's {table}.{column} in row {shown(str(row_id))} holds"
                f" {shown(str(text))}, which a number column cannot keep exactly, so the store"
                " was not migrated (it is as it was).",
                hint="Correct or delete that row (with sqlite3), then run portal migrate again.",
            )


def _same(text: object, number: object) -> bool:
    """Whether SQLite's number for stored ``text`` reads back as the same decimal."""
    if isinstance(text, int | float):
        text = repr(text)  # a value that was already a number: checked as its text
    try:
        exact = Decimal(str(text))
    except InvalidOperation:
        return False
    if isinstance(number, float):
        read = Decimal(repr(number))
    elif isinstance(number, int):
        read = Decimal(number)
    else:
        return False
    return exact.is_finite() and read == exact
