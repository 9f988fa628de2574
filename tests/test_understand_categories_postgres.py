"""Spending categories on a PostgreSQL store: the same decisions as on SQLite (the step's
SQL has a branch per dialect: the four-digit check of a merchant code, the amounts' join)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

import pg
from portal.cli import ExitCode, cli
from portal.store import Store, sqlite_url
from portal.understand.rules import add_rule, remove_rule
from portal.understand.spending import Spending

DECIDED = "SELECT transaction_id, category, rule, paired_with FROM transaction_categories"


def portal(home: Path, *args: str) -> tuple[int, str]:
    """Run ``portal --home HOME ARGS`` as a person would; its exit code and all it printed."""
    result = CliRunner().invoke(
        cli, ["--home", str(home), *args], env={"PORTAL_VAULT": "file"}, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def stores(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo synced by ``portal sync --demo`` into PostgreSQL and into SQLite."""
    root = tmp_path_factory.mktemp("categories-pg")
    with pg.database(postgres, "portal_categories") as url:
        code, said = portal(root / "pg", "--db", url, "sync", "--demo")
        assert code == ExitCode.OK, said
        assert "Understood: categories: 1" in said  # the step ran, and did not fail
        code, said = portal(root / "sqlite", "sync", "--demo", "--quiet")
        assert code == ExitCode.OK, said
        yield url, sqlite_url(root / "sqlite" / "portal.db")


def decided(url: str) -> set[tuple[str, str, str, str | None]]:
    store = Store(url)
    try:
        with store.engine.connect() as db:
            return {tuple(row) for row in db.execute(text(DECIDED))}  # type: ignore[misc]
    finally:
        store.close()


def test_postgresql_decides_every_category_as_sqlite_does(stores: tuple[str, str]) -> None:
    on_postgres, on_sqlite = (decided(url) for url in stores)
    assert len(on_postgres) > 1000 and on_postgres == on_sqlite
    assert {row[2] for row in on_postgres} >= {"own-transfer", "mcc:5411", "none"}


def test_a_rule_on_postgresql_is_applied_and_removed(stores: tuple[str, str]) -> None:
    store = Store(stores[0])
    try:
        matched = add_rule(store, "tesco*", Spending.shopping)
        assert matched > 10
        after = {row for row in decided(stores[0]) if row[2] == "person:tesco*"}
        assert len(after) == matched and {row[1] for row in after} == {"shopping"}
        assert remove_rule(store, "tesco*") == matched
    finally:
        store.close()
    assert decided(stores[0]) == decided(stores[1])
