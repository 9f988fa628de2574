"""The schema of portal 0.1, the last release before versions; adopts a store it wrote.

A new database gets every table. A store portal 0.1 (or an earlier build) wrote has no
``alembic_version``: it gets the tables it lacks, and the nullable columns and indexes
added since it was written, as portal 0.1 itself added them when it opened a store
(``Store._add_missing_columns``). Money, quantities and timestamps were text then.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_schema = sa.MetaData()


def _entity(name: str, *columns: sa.Column[object] | sa.Constraint) -> sa.Table:
    """A record table: the provenance every record carries, then its own columns."""
    return sa.Table(
        name,
        _schema,
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("provider_id", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("connection_id", sa.String(), nullable=False),
        sa.Column("consent_id", sa.String(), nullable=True),
        sa.Column("fetched_at", sa.String(), nullable=True),
        sa.Column("raw_id", sa.String(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        *columns,
    )


_entity(
    "accounts",
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("account_type", sa.String(), nullable=False),
    sa.Column("account_type_label", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=True),
    sa.Column("status_label", sa.String(), nullable=True),
    sa.Column("state", sa.String(), nullable=True),
    sa.Column("currency", sa.String(), nullable=True),
    sa.Column("opened_on", sa.Date(), nullable=True),
    sa.Column("identifiers", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "balances",
    sa.Column("account_id", sa.String(), nullable=False),
    sa.Column("amount", sa.String(), nullable=False),
    sa.Column("currency", sa.String(), nullable=True),
    sa.Column("unit", sa.String(), nullable=True),
    sa.Column("balance_type", sa.String(), nullable=False),
    sa.Column("balance_type_label", sa.String(), nullable=False),
    sa.Column("as_of", sa.String(), nullable=False),
    sa.Column("credit_limit", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "bills",
    sa.Column("account_id", sa.String(), nullable=False),
    sa.Column("bill_number", sa.String(), nullable=False),
    sa.Column("issued_on", sa.Date(), nullable=False),
    sa.Column("due_on", sa.Date(), nullable=True),
    sa.Column("period_start", sa.Date(), nullable=False),
    sa.Column("period_end", sa.Date(), nullable=False),
    sa.Column("total", sa.String(), nullable=False),
    sa.Column("currency", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("status_label", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=True),
    sa.Column("lines", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "connections",
    _schema,
    sa.Column("id", sa.String(), nullable=False),
    sa.Column("provider", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("scopes", sa.String(), nullable=False),
    sa.Column("consent_id", sa.String(), nullable=True),
    sa.Column("endpoints", sa.JSON(), nullable=False),
    sa.Column("connected_at", sa.String(), nullable=False),
    sa.Column("grant_expires_at", sa.String(), nullable=True),
    sa.Column("last_sync_at", sa.String(), nullable=True),
    sa.Column("last_sync_status", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("provider"),
)
_entity(
    "consents",
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("kind_label", sa.String(), nullable=False),
    sa.Column("purpose", sa.String(), nullable=False),
    sa.Column("channel", sa.String(), nullable=True),
    sa.Column("channel_label", sa.String(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("status_label", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=True),
    sa.Column("permissions", sa.JSON(), nullable=False),
    sa.Column("granted_at", sa.String(), nullable=True),
    sa.Column("status_updated_at", sa.String(), nullable=True),
    sa.Column("expires_at", sa.String(), nullable=True),
    sa.Column("grantee", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "cursors",
    _schema,
    sa.Column("connection_id", sa.String(), nullable=False),
    sa.Column("stream", sa.String(), nullable=False),
    sa.Column("provider", sa.String(), nullable=False),
    sa.Column("value", sa.JSON(), nullable=False),
    sa.Column("updated_at", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "stream"),
)
_entity(
    "documents",
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("kind_label", sa.String(), nullable=False),
    sa.Column("title", sa.String(), nullable=False),
    sa.Column("issued_on", sa.Date(), nullable=False),
    sa.Column("content_type", sa.String(), nullable=False),
    sa.Column("digest", sa.String(), nullable=False),
    sa.Column("size_bytes", sa.Integer(), nullable=True),
    sa.Column("account_id", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "inferences",
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("kind_label", sa.String(), nullable=False),
    sa.Column("value", sa.String(), nullable=False),
    sa.Column("score", sa.String(), nullable=True),
    sa.Column("derived_at", sa.String(), nullable=True),
    sa.Column("explanation", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "party",
    sa.Column("full_name", sa.String(), nullable=False),
    sa.Column("legal_name", sa.String(), nullable=True),
    sa.Column("party_type", sa.String(), nullable=True),
    sa.Column("party_type_label", sa.String(), nullable=True),
    sa.Column("customer_number", sa.String(), nullable=True),
    sa.Column("birth_date", sa.Date(), nullable=True),
    sa.Column("email", sa.String(), nullable=True),
    sa.Column("phone", sa.String(), nullable=True),
    sa.Column("mobile", sa.String(), nullable=True),
    sa.Column("addresses", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "payees",
    sa.Column("account_id", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=True),
    sa.Column("kind_label", sa.String(), nullable=True),
    sa.Column("reference", sa.String(), nullable=True),
    sa.Column("identifiers", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "processing",
    sa.Column("purpose", sa.String(), nullable=False),
    sa.Column("purpose_code", sa.String(), nullable=False),
    sa.Column("legal_basis", sa.String(), nullable=False),
    sa.Column("legal_basis_label", sa.String(), nullable=False),
    sa.Column("data_categories", sa.JSON(), nullable=False),
    sa.Column("recipients", sa.JSON(), nullable=False),
    sa.Column("third_country_safeguards", sa.String(), nullable=True),
    sa.Column("retention", sa.String(), nullable=False),
    sa.Column("source", sa.String(), nullable=False),
    sa.Column("automated_decision", sa.Boolean(), nullable=False),
    sa.Column("automated_logic", sa.String(), nullable=True),
    sa.Column("automated_consequences", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "products",
    sa.Column("account_id", sa.String(), nullable=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("product_type", sa.String(), nullable=False),
    sa.Column("product_type_label", sa.String(), nullable=False),
    sa.Column("description", sa.String(), nullable=True),
    sa.Column("prices", sa.JSON(), nullable=False),
    sa.Column("terms", sa.String(), nullable=True),
    sa.Column("valid_from", sa.Date(), nullable=True),
    sa.Column("valid_to", sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "purchases",
    sa.Column("account_id", sa.String(), nullable=True),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("kind_label", sa.String(), nullable=False),
    sa.Column("order_number", sa.String(), nullable=False),
    sa.Column("purchased_at", sa.String(), nullable=False),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("channel_label", sa.String(), nullable=False),
    sa.Column("store", sa.String(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("status_label", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=True),
    sa.Column("total", sa.String(), nullable=False),
    sa.Column("currency", sa.String(), nullable=False),
    sa.Column("lines", sa.JSON(), nullable=False),
    sa.Column("points_earned", sa.String(), nullable=True),
    sa.Column("points_spent", sa.String(), nullable=True),
    sa.Column("original_order_number", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "raw_items",
    _schema,
    sa.Column("id", sa.String(), nullable=False),
    sa.Column("provider", sa.String(), nullable=False),
    sa.Column("stream", sa.String(), nullable=False),
    sa.Column("connection_id", sa.String(), nullable=False),
    sa.Column("fetched_at", sa.String(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "recurring_payments",
    sa.Column("account_id", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("kind_label", sa.String(), nullable=False),
    sa.Column("payee", sa.String(), nullable=False),
    sa.Column("reference", sa.String(), nullable=True),
    sa.Column("amount", sa.String(), nullable=True),
    sa.Column("currency", sa.String(), nullable=True),
    sa.Column("frequency", sa.String(), nullable=True),
    sa.Column("frequency_label", sa.String(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("status_label", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=True),
    sa.Column("first_payment_on", sa.Date(), nullable=True),
    sa.Column("next_payment_on", sa.Date(), nullable=True),
    sa.Column("last_payment_on", sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "rejections",
    _schema,
    sa.Column("raw_id", sa.String(), nullable=False),
    sa.Column("provider", sa.String(), nullable=False),
    sa.Column("stream", sa.String(), nullable=False),
    sa.Column("reason", sa.String(), nullable=False),
    sa.Column("rejected_at", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("raw_id"),
)
_entity(
    "transactions",
    sa.Column("account_id", sa.String(), nullable=False),
    sa.Column("booked_at", sa.String(), nullable=False),
    sa.Column("value_at", sa.String(), nullable=True),
    sa.Column("amount", sa.String(), nullable=False),
    sa.Column("currency", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("status_label", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=True),
    sa.Column("description", sa.String(), nullable=False),
    sa.Column("reference", sa.String(), nullable=True),
    sa.Column("counterparty", sa.String(), nullable=True),
    sa.Column("merchant_name", sa.String(), nullable=True),
    sa.Column("merchant_category_code", sa.String(), nullable=True),
    sa.Column("merchant_category_label", sa.String(), nullable=True),
    sa.Column("category_code", sa.String(), nullable=True),
    sa.Column("category_label", sa.String(), nullable=True),
    sa.Column("balance_after", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
_entity(
    "usage",
    sa.Column("account_id", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("kind_label", sa.String(), nullable=False),
    sa.Column("started_at", sa.String(), nullable=False),
    sa.Column("duration_seconds", sa.Integer(), nullable=True),
    sa.Column("quantity", sa.String(), nullable=False),
    sa.Column("unit", sa.String(), nullable=False),
    sa.Column("quality", sa.String(), nullable=True),
    sa.Column("quality_label", sa.String(), nullable=True),
    sa.Column("meter_id", sa.String(), nullable=True),
    sa.Column("direction", sa.String(), nullable=True),
    sa.Column("counterparty", sa.String(), nullable=True),
    sa.Column("roaming", sa.Boolean(), nullable=True),
    sa.Column("country", sa.String(), nullable=True),
    sa.Column("charge", sa.String(), nullable=True),
    sa.Column("currency", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)


# The log of imports (``portal.imports_log``), made when a store first imported a file.
sa.Table(
    "imported_rows",
    _schema,
    sa.Column("import_id", sa.Integer(), nullable=False),
    sa.Column("table_name", sa.String(), nullable=False),
    sa.Column("row_id", sa.String(), nullable=False),
    sa.Column("change", sa.String(), nullable=False),
    sa.Column("raw_id", sa.String(), nullable=True),
    sa.Column("previous", sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint("import_id", "table_name", "row_id"),
)
sa.Table(
    "imports",
    _schema,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("file", sa.String(), nullable=False),
    sa.Column("sha256", sa.String(), nullable=False),
    sa.Column("importer", sa.String(), nullable=False),
    sa.Column("provider", sa.String(), nullable=False),
    sa.Column("account", sa.String(), nullable=True),
    sa.Column("imported_at", sa.String(), nullable=False),
    sa.Column("counts", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sqlite_autoincrement=True,
)
sa.Index("ix_imported_rows_row_id", _schema.tables["imported_rows"].c.row_id)
sa.Index("ix_imports_provider", _schema.tables["imports"].c.provider)
sa.Index("ix_imports_sha256", _schema.tables["imports"].c.sha256)

sa.Index("ix_accounts_provider", _schema.tables["accounts"].c.provider)
sa.Index("ix_balances_account_id", _schema.tables["balances"].c.account_id)
sa.Index("ix_balances_provider", _schema.tables["balances"].c.provider)
sa.Index("ix_bills_account_id", _schema.tables["bills"].c.account_id)
sa.Index("ix_bills_provider", _schema.tables["bills"].c.provider)
sa.Index("ix_consents_provider", _schema.tables["consents"].c.provider)
sa.Index("ix_cursors_provider", _schema.tables["cursors"].c.provider)
sa.Index("ix_documents_provider", _schema.tables["documents"].c.provider)
sa.Index("ix_inferences_provider", _schema.tables["inferences"].c.provider)
sa.Index("ix_party_provider", _schema.tables["party"].c.provider)
sa.Index("ix_payees_account_id", _schema.tables["payees"].c.account_id)
sa.Index("ix_payees_provider", _schema.tables["payees"].c.provider)
sa.Index("ix_processing_provider", _schema.tables["processing"].c.provider)
sa.Index("ix_products_provider", _schema.tables["products"].c.provider)
sa.Index("ix_purchases_provider", _schema.tables["purchases"].c.provider)
sa.Index("ix_raw_items_provider", _schema.tables["raw_items"].c.provider)
sa.Index("ix_recurring_payments_account_id", _schema.tables["recurring_payments"].c.account_id)
sa.Index("ix_recurring_payments_provider", _schema.tables["recurring_payments"].c.provider)
sa.Index("ix_rejections_provider", _schema.tables["rejections"].c.provider)
sa.Index("ix_transactions_account_id", _schema.tables["transactions"].c.account_id)
sa.Index("ix_transactions_booked_at", _schema.tables["transactions"].c.booked_at)
sa.Index("ix_transactions_provider", _schema.tables["transactions"].c.provider)
sa.Index("ix_usage_account_id", _schema.tables["usage"].c.account_id)
sa.Index("ix_usage_provider", _schema.tables["usage"].c.provider)
sa.Index("ix_usage_started_at", _schema.tables["usage"].c.started_at)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    for table in _schema.sorted_tables:
        if table.name not in present:
            table.create(bind)  # with its indexes
            continue
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            # A column that is not nullable cannot be added to rows that lack it; 0.1 never
            # added one since a release.
            if column.name not in columns and column.nullable:
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(bind)


def downgrade() -> None:
    for table in reversed(_schema.sorted_tables):
        op.drop_table(table.name)
