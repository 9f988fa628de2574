"""The record model reference (``docs/record-model.md``), written from the model itself.

Every entity of ``portal.record.model.ENTITIES`` and the value objects they hold, each field
with its title, description, type and whether a plugin must give it; every vocabulary of
``portal.record.vocab`` with each code, its label and what it means; the value types of
``portal.record.types``; and the understanding layer's tables (``portal.understand.tables``),
so a table a step adds there appears on the next regeneration. A plugin author reads the page,
not the source; ``tests/test_record_reference.py`` keeps the committed page equal to this.

Regenerate it with::

    python -m portal.record.reference > docs/record-model.md

The output depends only on the code (definition order, never a set or a clock), so two runs
give the same bytes.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import sys
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo
from sqlmodel import SQLModel

from portal.record import types as value_types
from portal.record import vocab
from portal.record.base import Entity
from portal.record.model import ENTITIES
from portal.record.tables import TABLES

COMMAND = "python -m portal.record.reference > docs/record-model.md"
"""How to write the page again after changing the model."""

NAMED_TYPES: tuple[tuple[str, Any, str], ...] = (
    ("Money", value_types.Money, "a NUMERIC column: a number that sorts and sums in SQL"),
    ("Quantity", value_types.Quantity, "a NUMERIC column, like money"),
    ("Currency", value_types.Currency, "text"),
    ("Country", value_types.Country, "text"),
    ("Digest", value_types.Digest, "text"),
    ("Text", value_types.Text, "text"),
    ("Timestamp", value_types.Timestamp, "UTC ISO 8601 text of fixed width, so it sorts"),
)
"""The record's own value types, by the name the page gives them, with how the store keeps
each (``portal.record.types``)."""

_PLAIN: dict[Any, str] = {
    str: "string",
    int: "integer",
    bool: "true or false",
    date: "date",
    datetime: "[Timestamp](#timestamp)",
    AwareDatetime: "[Timestamp](#timestamp)",
    Decimal: "decimal",
    Any: "any JSON value",
}


def render() -> str:
    """The whole page, as Markdown."""
    return "\n".join(_page()).rstrip("\n") + "\n"


def _page() -> Iterator[str]:
    yield "# The record model"
    yield ""
    yield (
        "Every provider's data becomes one record model, whatever the sector. This page is"
        " generated from the model (`src/portal/record/`) and the understanding layer's"
        " tables (`src/portal/understand/tables.py`): do not edit it by hand. After changing"
        f" them, run `{COMMAND}`; `tests/test_record_reference.py` fails while it is stale."
    )
    yield ""
    yield (
        "A plugin builds these entities in `normalise`; they validate on construction, so a"
        " float amount, a naive timestamp or an unknown currency is refused naming the field."
        " Amounts are signed from the customer's side: [amount-signs.md](amount-signs.md)"
        " states the rule with a table for every kind of account. A code (a status, a kind,"
        " a category) always travels with its words in the field beside it (`status` and"
        " `status_label`), and a status also with its meaning in portal's own"
        " [State](#state) vocabulary."
    )
    yield ""
    yield from _contents()
    yield from _provenance()
    yield "## Entities"
    yield ""
    for entity in ENTITIES:
        yield from _entity(entity)
    yield from _value_objects()
    yield from _value_types()
    yield from _vocabulary_sections()
    yield from _understanding()


def _contents() -> Iterator[str]:
    def links(names: Iterable[str]) -> str:
        return ", ".join(f"[{name}](#{name.lower()})" for name in names)

    yield "## Contents"
    yield ""
    yield "- [Provenance](#provenance): the fields every entity carries"
    for entity in ENTITIES:
        yield f"- [{entity.__name__}](#{entity.__name__.lower()}): {_summary(entity)}"
    yield "- [Value objects](#value-objects): " + links(m.__name__ for m in _nested())
    yield "- [Value types](#value-types): " + links(n for n, _, _ in NAMED_TYPES)
    yield "- [Vocabularies](#vocabularies): " + links(v.__name__ for v, _ in _vocabularies())
    yield "- [Understanding tables](#understanding-tables): what portal derives across providers"
    yield ""


def _value_objects() -> Iterator[str]:
    yield "## Value objects"
    yield ""
    yield (
        "Values held inside an entity's field (a list of bill lines, of prices, of"
        " addresses), stored as JSON in the entity's row."
    )
    yield ""
    for model in _nested():
        yield from (f"### {model.__name__}", "", _doc(model), "")
        yield from _fields(model.model_fields.items())


def _summary(model: type) -> str:
    return _doc(model).split("\n\n", 1)[0].replace("\n", " ")


def _doc(model: type) -> str:
    # Its own docstring only: ``inspect.getdoc`` would give a table without one pydantic's.
    return _markdown(inspect.cleandoc(model.__doc__ or ""))


def _provenance() -> Iterator[str]:
    yield "## Provenance"
    yield ""
    yield (
        f"{_doc(Entity)} A plugin gives `provider_id` (and `origin` and `extra` where they"
        " apply); the engine fills in the rest when it stores the row."
    )
    yield ""
    yield from _fields(Entity.model_fields.items())


def _entity(entity: type[Entity]) -> Iterator[str]:
    table: Any = TABLES[entity]
    yield f"### {entity.__name__}"
    yield ""
    yield _doc(entity)
    yield ""
    label = vocab.CATEGORY_LABELS[entity.category]
    yield (
        f"Category `{entity.category.value}` ({label}); table `{table.__tablename__}`."
        " Besides the [provenance](#provenance) fields:"
    )
    yield ""
    shared = Entity.model_fields
    own = [
        (name, info)
        for name, info in entity.model_fields.items()
        if name not in shared or info.default != shared[name].default
    ]
    yield from _fields(own)


def _fields(fields: Iterable[tuple[str, FieldInfo]]) -> Iterator[str]:
    rows = [
        (f"`{name}`", info.title or "", _type_of(info), _required(info), info.description or "")
        for name, info in fields
    ]
    yield from _table(("field", "title", "type", "required", "description"), rows)


def _table(heads: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> Iterator[str]:
    """A Markdown table, without the columns no row fills (a vocabulary with no meanings,
    a table whose columns have no titles)."""
    keep = [n for n in range(len(heads)) if n == 0 or any(row[n] for row in rows)]
    yield "| " + " | ".join(heads[n] for n in keep) + " |"
    yield "|" + " --- |" * len(keep)
    for row in rows:
        yield "| " + " | ".join(_cell(row[n]) for n in keep) + " |"
    yield ""


def _required(info: FieldInfo) -> str:
    if info.is_required():
        return "yes"
    default = info.get_default(call_default_factory=False)
    if default is None or info.default_factory is not None:
        return "no"
    if default == "":
        return "no (set by the engine)"
    return f"no (default `{default}`)"


def _type_of(info: FieldInfo) -> str:
    # Pydantic keeps a field's ``Annotated`` marks apart from its type: put them back, so
    # that ``Money`` is told from a plain Decimal by its validators.
    validators = [m for m in info.metadata if type(m).__name__ != "FieldInfoMetadata"]
    annotation: Any = info.annotation
    if validators:
        annotation = Annotated[(annotation, *validators)]
    return _describe(annotation)


def _describe(annotation: Any) -> str:
    """A field's type in words, each of the record's own types linked to its section.

    A type the page has no section for (an enum or a model of a step's own) is named in
    plain words, so a table a step adds never stops the page from being written."""
    for name, named, _ in NAMED_TYPES:
        if annotation == named:
            return f"[{name}](#{name.lower()})"
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        kinds = " or ".join(_describe(a) for a in args if a is not type(None))
        return f"{kinds}, or empty" if type(None) in args else kinds
    if origin is Annotated:
        return _describe(args[0])
    if origin is list:
        return f"list of {_describe(args[0])}"
    if origin is dict:
        return "JSON object"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if any(annotation is enum for enum, _ in _vocabularies()):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()}) code"
        return "code: " + ", ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in _nested():
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        return "JSON object"
    plain = _PLAIN.get(annotation)
    return plain if plain is not None else str(getattr(annotation, "__name__", "value"))


def _cell(text: str) -> str:
    return _markdown(text).replace("|", "\\|").replace("\n", " ")


def _markdown(text: str) -> str:
    """Docstring text as Markdown: reStructuredText's double backticks become single."""
    return text.replace("``", "`")


def _nested() -> list[type[BaseModel]]:
    """The value objects the entities hold, in the order the page first meets them."""
    found: list[type[BaseModel]] = []
    for entity in ENTITIES:
        for info in entity.model_fields.values():
            for kind in _walk(info.annotation):
                if issubclass(kind, BaseModel) and kind not in found:
                    found.append(kind)
    return found


def _walk(annotation: Any) -> Iterator[type]:
    if isinstance(annotation, type):
        yield annotation
    for arg in get_args(annotation):
        yield from _walk(arg)


def _value_types() -> Iterator[str]:
    yield "## Value types"
    yield ""
    yield (
        "The types that make a record legible (`portal.record.types`): a value that is not"
        " one is refused when the entity is built, naming the field."
    )
    yield ""
    meanings = _attribute_docs(value_types)
    for name, _, stored in NAMED_TYPES:
        yield f"### {name}"
        yield ""
        yield _markdown(f"{meanings.get(name, '')} Stored as {stored}.".strip())
        yield ""


def _vocabularies() -> list[tuple[type[StrEnum], Mapping[Any, str]]]:
    """Each vocabulary of ``portal.record.vocab`` with its labels: the mapping there whose
    keys are exactly its codes (empty when it has none)."""
    found: list[tuple[type[StrEnum], Mapping[Any, str]]] = []
    for value in vars(vocab).values():
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum:
            labels = next(
                (
                    table
                    for table in vars(vocab).values()
                    if isinstance(table, dict)
                    and table
                    and set(table) == set(value)
                    and all(type(words) is str for words in table.values())  # not a code
                ),
                {},
            )
            found.append((value, labels))
    return found


def _vocabulary_sections() -> Iterator[str]:
    yield "## Vocabularies"
    yield ""
    yield (
        "The fixed vocabularies of the record (`portal.record.vocab`): a field of one of"
        " these types holds one of its codes, and a person reads its label."
    )
    yield ""
    meanings = _attribute_docs(vocab)
    for enum, labels in _vocabularies():
        yield f"### {enum.__name__}"
        yield ""
        yield _doc(enum)
        yield ""
        rows = [
            (
                f"`{member.value}`",
                labels.get(member, "(no label)"),
                meanings.get(f"{enum.__name__}.{member.name}", ""),
            )
            for member in enum
        ]
        yield from _table(("code", "label", "meaning"), rows)
        if enum is vocab.Standing:
            yield from _standings()


def _standings() -> Iterator[str]:
    yield "A consent's standing follows from its state (`portal.record.vocab.standing_of`):"
    yield ""
    yield "| state | standing |"
    yield "| --- | --- |"
    for state, standing in vocab.STANDINGS.items():
        yield f"| `{state.value}` | `{standing.value}` |"
    yield ""
    yield "Any other state has no standing: the provider's own words stand alone."
    yield ""


def _attribute_docs(module: types.ModuleType) -> dict[str, str]:
    """The docstring written under each assignment of ``module`` (``Money = ...`` then a
    string), by name, and under each member of its classes, as ``Class.member``."""
    found: dict[str, str] = {}

    def collect(body: list[ast.stmt], prefix: str) -> None:
        for statement, following in itertools.pairwise(body):
            target = None
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
            elif isinstance(statement, ast.AnnAssign):
                target = statement.target
            if (
                isinstance(target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                found[prefix + target.id] = inspect.cleandoc(following.value.value)
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                collect(statement.body, f"{statement.name}.")

    collect(ast.parse(inspect.getsource(module)).body, "")
    return {name: " ".join(text.split()) for name, text in found.items()}


def _understanding() -> Iterator[str]:
    from portal.understand import tables as understanding

    yield "## Understanding tables"
    yield ""
    yield (
        "What portal derives across providers (`portal.understand`) is kept in tables of its"
        " own, never in the rows a provider released, so it can be worked out again by a"
        " better rule at any time."
    )
    yield ""
    yield from table_sections(understanding)


def table_sections(module: types.ModuleType) -> Iterator[str]:
    """A section for each SQLModel table ``module`` defines, in the order it defines them:
    its docstring, its key, and each column with its type and description."""
    for value in vars(module).values():
        if not (
            isinstance(value, type)
            and issubclass(value, SQLModel)
            and value.__module__ == module.__name__
            and hasattr(value, "__table__")
        ):
            continue
        table: Any = value
        keys = ", ".join(f"`{c.name}`" for c in table.__table__.primary_key.columns)
        yield from (f"### {table.__tablename__}", "", _doc(table), "", f"Key: {keys}.", "")
        yield from _fields(table.model_fields.items())


def main() -> None:
    """Write the page to standard output, as UTF-8 whatever the terminal's encoding."""
    sys.stdout.buffer.write(render().encode("utf-8"))


if __name__ == "__main__":
    main()
