"""``portal plugin new``: a provider plugin package that passes the conformance suite as made.

The templates in ``templates/`` are ``string.Template`` files: a declaration and hooks
(``plugin.py``), a sandbox seeded with a demo customer that states its ground truth
(``sandbox.py``), the plugin's own tests, and CI for GitHub Actions and tox that runs
``portal conformance``. The sector picks the wording of the main account.
"""

from __future__ import annotations

import keyword
import string
from dataclasses import dataclass
from pathlib import Path

from portal.errors import UserError
from portal.record.vocab import Sector

TEMPLATES = Path(__file__).parent / "templates"

ACCOUNT_BY_SECTOR: dict[Sector, tuple[str, str]] = {
    Sector.bank: ("current_account", "Current account"),
    Sector.utility: ("energy_supply", "Energy supply account"),
    Sector.telco: ("mobile_contract", "Mobile phone contract"),
    Sector.retailer: ("store_card", "Store card account"),
    Sector.other: ("customer_account", "Customer account"),
}
"""The main account of the demo customer, by sector: (code, label)."""


@dataclass(frozen=True)
class Layout:
    """Where each template goes in the new package (``{package}`` is the module name)."""

    files: tuple[tuple[str, str], ...] = (
        ("pyproject.toml.tmpl", "pyproject.toml"),
        ("README.md.tmpl", "README.md"),
        ("tox.ini.tmpl", "tox.ini"),
        ("github/conformance.yml.tmpl", ".github/workflows/conformance.yml"),
        ("plugin.py.tmpl", "src/{package}/plugin.py"),
        ("sandbox.py.tmpl", "src/{package}/sandbox.py"),
        ("conftest.py.tmpl", "tests/conftest.py"),
        ("test_plugin.py.tmpl", "tests/test_plugin.py"),
    )


def new_plugin(name: str, sector: str, dest: Path, display_name: str | None = None) -> list[Path]:
    """Write a plugin package for provider ``name`` into ``dest``; return the files written."""
    if not name.isidentifier() or name != name.lower() or keyword.iskeyword(name):
        raise UserError(
            f"{name!r} cannot be a provider name.",
            hint="Use a short lower-case identifier, such as acme or acme_energy.",
        )
    try:
        chosen = Sector(sector)
    except ValueError:
        raise UserError(
            f"{sector!r} is not a sector portal knows.",
            hint=f"Pick one of: {', '.join(s.value for s in Sector)}.",
        ) from None
    if dest.exists() and any(dest.iterdir()):
        raise UserError(
            f"{dest} already exists and is not empty.", hint="Pick another folder with --dir."
        )
    account_type, account_label = ACCOUNT_BY_SECTOR[chosen]
    package = f"portal_{name}"
    values = {
        "name": name,
        "Name": "".join(part.capitalize() for part in name.split("_")),
        "package": package,
        "display_name": display_name or name.replace("_", " ").title(),
        "sector": chosen.value,
        "host": f"{name.replace('_', '-')}.example",
        "account_type": account_type,
        "account_type_label": account_label,
    }
    written = []
    for template, target in Layout().files:
        text = string.Template((TEMPLATES / template).read_text(encoding="utf-8"))
        path = dest / target.format(package=package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.substitute(values), encoding="utf-8")
        written.append(path)
    init = dest / "src" / package / "__init__.py"
    init.write_text(f'"""portal provider plugin for {values["display_name"]}."""\n')
    written.append(init)
    return written
