"""Finding and loading plugins, and calling provider hooks on the right plugin only.

Nothing happens at import: ``Plugins.load()`` builds a plugin manager on demand, so
``portal --help`` stays fast and one broken plugin cannot stop the CLI. Entry points are
loaded one by one; a plugin that fails to import becomes a warning naming it (or an error
under ``strict``), then ``check_pending()`` catches misspelled hook names.

``PORTAL_LOAD_PLUGINS`` limits which entry-point plugins load: a comma-separated list of
entry-point names, or an empty string for none (for tests and debugging).

Importing a plugin and calling its ``register_*`` hooks are bounded in time
(``portal.engine.watch.within``, 60 s or ``PORTAL_PLUGIN_LOAD_SECONDS``): a plugin that hangs
there becomes a warning naming it, as one that raises does, and every command goes on.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import logging
import os
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from portal import hookspecs
from portal.engine.watch import load_seconds, within
from portal.errors import ConfigError, UnknownProvider
from portal.provider import Provider

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "portal"


@dataclass
class Plugins:
    """The loaded plugins, the providers they declare, and typed access to their hooks."""

    pm: pluggy.PluginManager
    providers: dict[str, Provider] = field(default_factory=dict)
    owners: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    _callers: dict[tuple[str, str], pluggy.HookCaller] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        *,
        plugins_dir: Path | None = None,
        extra: Iterable[object] = (),
        entry_points: bool = True,
        strict: bool = False,
    ) -> Plugins:
        """Build a plugin manager with portal's default plugins and every installed plugin."""
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        plugins = cls(pm)
        from portal import defaults

        pm.register(defaults, name="portal.defaults")
        if entry_points:
            plugins._load_entry_points(strict)
        if plugins_dir is not None:
            plugins._load_dir(plugins_dir, strict)
        for plugin in extra:
            pm.register(plugin)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as error:
            raise ConfigError(
                f"A plugin implements a hook portal does not have: {error}",
                hint="Check the hook's spelling against portal.hookspecs.",
            ) from None
        plugins._collect_providers()
        return plugins

    def _load_entry_points(self, strict: bool) -> None:
        wanted = os.environ.get("PORTAL_LOAD_PLUGINS")
        names = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if names is not None and ep.name not in names:
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            self._guarded(f"entry point {ep.name!r} ({ep.value})", strict, ep.load, ep.name)

    def _load_dir(self, directory: Path, strict: bool) -> None:
        if not directory.is_dir():
            raise ConfigError(
                f"The plugins folder {str(directory)!r} does not exist.",
                hint="Pass an existing folder to --plugins-dir.",
            )
        paths = sorted(directory.glob("*.py"))
        for path in (directory, *paths):
            _refuse_if_others_can_write(path)
        for path in paths:
            self._guarded(f"{path}", strict, functools.partial(_import_file, path), f"file:{path}")

    def _guarded(self, what: str, strict: bool, load: Callable[[], Any], name: str) -> None:
        try:
            self.pm.register(within(load_seconds(), f"Plugin {what}", load), name=name)
        except Exception as error:  # a broken plugin must not stop the others from loading
            message = f"Plugin {what} failed to load: {type(error).__name__}: {error}"
            if strict:
                raise ConfigError(message, hint="Fix or uninstall the plugin.") from error
            log.warning(message)
            self.problems.append(message)

    def _collect_providers(self) -> None:
        for impl in self.pm.hook.register_providers.get_hookimpls():
            owner = impl.plugin

            def register(provider: Provider, owner: object = owner) -> None:
                if provider.name in self.providers:
                    raise ConfigError(
                        f"Two plugins declare provider {provider.name!r}.",
                        hint="Uninstall one of them.",
                    )
                self.providers[provider.name] = provider
                self.owners[provider.name] = owner

            name = self.pm.get_name(owner)
            call = functools.partial(impl.function, register=register)
            try:
                within(load_seconds(), f"Plugin {name!r}'s register_providers", call)
            except Exception as error:  # one broken declaration must not stop the others
                reason = declaration_problem(error)
                self.problems.append(f"Plugin {name!r}: {reason}")
                log.warning("Plugin %r declares an unusable provider: %s", name, reason)

    def provider(self, name: str) -> Provider:
        """The provider called ``name``, or a clear error listing the installed ones."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(sorted(self.providers)) or "none"
            raise UnknownProvider(
                f"No installed plugin offers a provider called {name!r} (installed: {known}).",
                hint="Run portal providers to list them, or pip install the provider's plugin.",
            ) from None

    def caller(self, provider: str, hook: str) -> pluggy.HookCaller:
        """The hook ``hook`` restricted to ``provider``'s plugin and the cross-cutting ones."""
        key = (provider, hook)
        if key not in self._callers:
            mine = self.owners[provider]
            others = {id(p): p for p in self.owners.values() if p is not mine}
            self._callers[key] = self.pm.subset_hook_caller(hook, list(others.values()))
        return self._callers[key]


def declaration_problem(error: Exception) -> str | ConfigError:
    """What a ``register_*`` hook that raised ``error`` is reported with."""
    return (
        error if isinstance(error, ConfigError) else f"it failed: {type(error).__name__}: {error}"
    )


def _refuse_if_others_can_write(path: Path) -> None:
    """Refuse a plugins folder (or a plugin file in it) another user could plant code in.

    Every ``*.py`` file in the folder is run as the person running portal, with their tokens
    at hand: the folder and its files must be theirs (or root's) and writable by no one else.
    """
    what = "plugins folder" if path.is_dir() else "plugin file"
    found = path.stat()
    if found.st_mode & stat.S_IWOTH:
        why = "is writable by every user on this machine"
    elif found.st_uid not in (os.geteuid(), 0):
        why = f"belongs to another user (uid {found.st_uid})"
    else:
        return
    raise ConfigError(
        f"The {what} {str(path)!r} {why}, so anyone could plant code there that portal would run.",
        hint=f"Make it yours and writable by you only (chmod go-w {str(path)!r}),"
        " or pass --plugins-dir another folder.",
    )


def _import_file(path: Path) -> ModuleType:
    name = f"portal_plugins_dir.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
