"""Alembic's environment for the store: run on the connection ``portal.store_schema`` gives.

That connection is already inside the one transaction the whole upgrade runs in (Alembic
then opens none of its own), so a revision that fails leaves the store as it was.
"""

from alembic import context
from sqlmodel import SQLModel

# Every table of the store, for comparing with the head revision.
import portal.imports_log
import portal.record.tables  # noqa: F401
from portal.store_schema import include_name

context.configure(
    connection=context.config.attributes["connection"],
    include_name=include_name,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
