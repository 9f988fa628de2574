"""The store's schema versions: Alembic migrations, run by ``portal.store_schema``.

How the schema is versioned
    Every store has an ``alembic_version`` table naming the revision its schema is at.
    Opening a store to write runs the migrations from there to the head revision, after a
    backup of a SQLite file (``<store>.before-<revision>.bak``), all in one transaction:
    a migration that stops leaves the store exactly as it was. A new store is made from
    the models (``portal.record.tables``) and stamped at head. A store opened only to read
    (``portal view``) is never migrated: an older one is refused with a pointer to
    ``portal migrate``. Stores written before versions (portal 0.1) have no
    ``alembic_version``: revision 0001 adopts them.

How to add a migration (any change to a table of ``portal.record.tables``)
    1. Change the model.
    2. Write ``versions/NNNN_what_it_does.py`` (copy the newest one: ``revision`` is the next
       number, ``down_revision`` the newest one's), with ``upgrade()`` using
       ``op.batch_alter_table`` (SQLite cannot alter a column in place; batch mode copies
       the table) and ``downgrade()`` where it can be undone. A migration that converts
       values checks each one first and stops with ``StoreSchema`` naming the table,
       column, row id and value that cannot be converted. Set ``portal.store_schema.HEAD``
       to the new revision (a store at head is recognised without importing Alembic).
    3. ``tests/test_migrations.py`` fails until the head revision and the models agree
       (Alembic's autogenerate finds no difference), and migrates a store made by 0.1.

Revisions never import the models: each spells out the schema it expects, so that a later
change to a model cannot change what an old migration does. docs/store.md says all this
for the people whose stores are migrated.
"""
