"""The person's settings, kept in their portal home as ``settings.json`` (``portal config``).

Only the settings named in ``SETTINGS`` exist, each checked before it is kept, so the file
never holds something portal would refuse later; a file edited by hand into something
unreadable is named in the error, with what to do. It is written whole and atomically,
readable by its owner only, like everything else in the home.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from portal.errors import ConfigError, UserError

FILE_NAME = "settings.json"


def _timezone(value: str, where: str) -> str:
    from portal.localtime import zone_named

    return zone_named(value, where).key


def _name(value: str, where: str) -> str:
    kept = " ".join(value.split())
    if not kept or len(kept) > 200 or not kept.isprintable():
        raise UserError(
            f"{where} must be a name of printable characters, at most 200 ({value[:40]!r}).",
            hint="For example: portal config name 'Ada Lovelace'",
        )
    return kept


SETTINGS: dict[str, tuple[str, Callable[[str, str], str]]] = {
    "timezone": ("The time zone times are shown in (an IANA name, e.g. Europe/London).", _timezone),
    "name": ("How your consent receipts name you (their PII principal).", _name),
}
"""Each setting: what it is, and its check (value, where it came from) -> the value kept."""


def settings_file(home: Path) -> Path:
    """Where the settings of the home ``home`` are kept."""
    return home / FILE_NAME


def read(home: Path) -> dict[str, str]:
    """The settings kept in ``home`` (none if it has no settings file yet)."""
    path = settings_file(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(
            f"Cannot read the settings at {path} ({error.strerror}).",
            hint="Make the file readable by you, or remove it to start again.",
        ) from None
    try:
        kept = json.loads(text)
    except ValueError:
        kept = None
    if not isinstance(kept, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in kept.items()
    ):
        raise ConfigError(
            f"The settings at {path} are not a JSON object of names and text values.",
            hint="Fix the file, or remove it and set each again with portal config NAME VALUE.",
        )
    return kept


def known(name: str) -> str:
    """``name``, if it is a setting; else a clear error naming the settings there are."""
    if name not in SETTINGS:
        raise UserError(
            f"There is no setting called {name!r}.",
            hint=f"Settings: {', '.join(SETTINGS)} (portal config lists them).",
        )
    return name


def check(name: str, value: str, where: str) -> str:
    """``value`` as the setting ``name`` keeps it; a clear error if either is not valid."""
    return SETTINGS[known(name)][1](value, where)


def write(home: Path, name: str, value: str | None) -> None:
    """Keep ``value`` as the setting ``name`` in ``home`` (None: forget it)."""
    kept = read(home)
    if value is None:
        kept.pop(name, None)
    else:
        kept[name] = check(name, value, f"the setting {name}")
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=home, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:  # mkstemp: owner only
            json.dump(kept, file, indent=2, sort_keys=True)
            file.write("\n")
        os.replace(temporary, settings_file(home))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
