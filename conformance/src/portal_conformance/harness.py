"""The harness: a provider's sandbox, a portal home, a connection and a sync, observed.

One ``Harness`` serves every check of one provider in one run. It builds what a check
needs lazily and keeps it: the *main run* (connect and sync once against a fresh sandbox,
with logs, egress and deliveries recorded) is shared by most checks; resilience, crash and
OAuth checks ask for fresh runs of their own. Everything goes through the real path: the
sandbox on a real socket, the real OAuth flow, a real SQLite file.

A provider with no sandbox whose importer offers sample files (``portal.samples``) is graded
in *import mode*: its "sandbox" is a ``SampleExport`` written to a folder of its own, and a
run imports each of its files through ``portal import``'s path instead of connecting and
syncing. The checks that read a run (counts, values, legibility, re-import, exports) read it
the same way; those about a service (OAuth, quotas, chaos) do not apply to a file.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from portal.app import Portal
from portal.auth.vault import FileStorage, Vault
from portal.engine.sync import SyncResult
from portal.errors import UserError
from portal.http import RetryPolicy
from portal.plugins import Plugins
from portal.provider import Provider, sandbox_endpoints
from portal.record.model import ENTITIES, Entity
from portal.record.tables import Connection
from portal.samples import SampleExport
from portal.sandbox import Sandbox
from portal.variants import SandboxVariants
from portal_conformance.declaration import Declaration, load_declaration
from portal_conformance.failures import (
    CheckFailed,
    DeclaredUnsupported,
    NotApplicable,
    NotForCredential,
    SetupFailed,
)
from portal_conformance.observe import EGRESS, DeliveryRecorder, capture_logs, suite_browser
from portal_conformance.truth import GroundTruth, read_truth

if TYPE_CHECKING:
    from portal.importing import Importer, ImportResult

FAST_RETRIES = RetryPolicy(initial_wait=0.05, max_wait=0.5)
"""Backoff the suite uses: short, so faults cost little time; Retry-After is still honoured."""
SYNC, IMPORT = "sync", "import"
"""The two modes: against a sandbox (connect and sync), or on sample files (import)."""
DEVICE_INTERVAL = 0.25
"""The polling interval the suite has a sandbox state for device logins (RFC 8628 §3.2).

A quarter second instead of the sandbox's default 5 s (which users of ``portal sandbox``
keep), so a device login takes about a second; ``slow_down`` still adds RFC 8628's 5 s.
"""


@dataclass
class Run:
    """One portal home synced against one sandbox, and what was seen while it ran."""

    name: str
    portal: Portal
    sandbox: Any
    """The provider's double: its ``Sandbox``, or in import mode its ``SampleExport``
    (typed loosely: the checks that read a sandbox's own attributes run in sync mode only)."""
    recorder: DeliveryRecorder
    connection: Connection | None = None
    results: list[SyncResult] = field(default_factory=list)
    login_error: Exception | None = None
    """Why connecting failed, for a run made with ``tolerate_login_failure``."""
    logs: list[str] = field(default_factory=list)
    egress: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    """What portal printed in processes of its own run on this home (``portal sync``)."""

    @property
    def result(self) -> SyncResult:
        """The last sync's result."""
        return self.results[-1]

    provider: str = ""

    def rows(self, entity: type[Entity]) -> list[dict[str, Any]]:
        """Every stored row of ``entity`` for the provider, in id order."""
        return list(self.portal.store.rows(entity, self.provider))

    def snapshot(self) -> dict[str, set[tuple[str, str]]]:
        """The store as a set per category of (portal id, raw payload id)."""
        return {e.category.value: {(r["id"], r["raw_id"]) for r in self.rows(e)} for e in ENTITIES}


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


@dataclass(frozen=True)
class Trace:
    """What one run showed a person or a log, and the secrets its sandbox saw.

    Kept for the suite's last secret search after the run's sandbox and home are freed
    (a variant's harness frees them when it closes).
    """

    name: str
    logs: list[str]
    errors: list[Exception]
    outputs: list[str]
    secrets: dict[str, str]

    @classmethod
    def of(cls, run: Run, variant: str | None = None) -> Trace:
        """The trace of ``run`` as it stands (named with its sandbox variant, if any)."""
        errors = [r.error for r in run.results if r.error is not None]
        errors += [run.login_error] if run.login_error is not None else []
        name = f"{run.name} (variant {variant})" if variant else run.name
        return cls(name, run.logs, errors, run.outputs, dict(run.sandbox.secret_kinds()))


class Harness:
    """Everything the checks of one provider share within one run of the suite."""

    def __init__(
        self,
        provider_name: str,
        workdir: Path,
        *,
        plugins_dir: Path | None = None,
        retry_policy: RetryPolicy = FAST_RETRIES,
        device_interval: float = DEVICE_INTERVAL,
    ) -> None:
        self.name = provider_name
        self.workdir = workdir
        self.plugins_dir = plugins_dir
        self.retry_policy = retry_policy
        self.device_interval = device_interval
        self._stack = ExitStack()
        self._count = 0
        self._runs: list[Run] = []
        self.traces: list[Trace] = []
        """Traces of the runs already freed, this harness's and its variants' (shared)."""
        self.variant: str | None = None
        """The sandbox variant this harness syncs against (None: the usual sandbox)."""
        self.origin: Harness = self
        """The harness of the usual sandbox (itself, unless this one is for a variant)."""
        plugins = Plugins.load(plugins_dir=plugins_dir)
        self.provider: Provider = plugins.provider(provider_name)
        self.owner = plugins.owners[provider_name]
        self.importer: Importer | None = importer_of(plugins, self.provider)
        """The importer graded in import mode (None: the provider is graded on its sandbox)."""
        self.mode = IMPORT if self.importer is not None else SYNC
        self.declaration: Declaration = load_declaration(self.owner, provider_name)
        # Imported here: the registry imports this module (its checks take a Harness).
        from portal_conformance.registry import refuse_unknown_unsupported

        refuse_unknown_unsupported(self)

    def close(self) -> None:
        """Stop every sandbox and close every store the harness opened."""
        self._stack.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building blocks ---------------------------------------------------------------

    def unsupported(self, *names: str) -> None:
        """Skip (``DeclaredUnsupported``) if the plugin declares one of ``names`` unsupported."""
        reason = self.declaration.unsupported_reason(*names)
        if reason:
            raise DeclaredUnsupported(f"declared unsupported by the plugin: {reason}")

    def requires_oauth(self, what: str) -> None:
        """Skip (``NotForCredential``, which leaves the tier open) where the provider is not
        authorised by portal's OAuth client, naming its kind of credential and ``what``."""
        credential = self.provider.credential
        if credential is not None:
            from portal.auth.credentials import KIND_WORDS

            words = KIND_WORDS[credential.kind]
            article = "an" if words[0] in "aeiou" else "a"
            raise NotForCredential(
                f"{self.provider.display_name} is authorised by {article} {words}, not an"
                f" OAuth login: it has {what}"
            )

    def sandbox(self) -> Sandbox | SampleExport:
        """A fresh sandbox of the provider, started (and stopped when the harness closes);
        in import mode, its sample files written to a fresh folder."""
        if self.importer is not None:
            return self.samples()
        if self.provider.sandbox is None:
            raise CheckFailed(
                f"{self.provider.display_name} declares no sandbox.",
                where=f"Provider(name={self.name!r}).sandbox",
                fix="Ship a sandbox (portal.sandbox.Sandbox) seeded with a known dataset and"
                " declare its factory in Provider(sandbox=...).",
            )
        if self.variant is None:
            return self._stack.enter_context(self.provider.sandbox())
        factory = self.provider.sandbox
        if not isinstance(factory, SandboxVariants) or self.variant not in factory.variants:
            raise NotApplicable(f"the sandbox declares no variant {self.variant!r}")
        return self._stack.enter_context(factory(variant=self.variant))

    def samples(self, scale: int = 1) -> SampleExport:
        """The importer's sample files, written to a fresh folder of the work folder."""
        assert self.importer is not None
        if self.importer.samples is None:
            raise CheckFailed(
                f"{self.provider.display_name} declares no sandbox, and its importer"
                f" {self.importer.name!r} no sample files, so nothing can be checked.",
                where=f"Importer(name={self.importer.name!r})",
                fix="Write a portal.samples.SampleExport that lays out files as the provider's"
                " published format does and states what each must become, and declare it in"
                " Importer(samples=...).",
            )
        self._count += 1
        folder = self.workdir / f"{self._count:02d}-samples-x{scale}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        samples = self.importer.samples(folder, scale=scale)
        if not samples.files:
            raise CheckFailed(
                "The sample export wrote no files.",
                where=f"{type(samples).__name__}.files",
                fix="Write the files into the folder given and list them in self.files.",
            )
        return samples

    def import_file(self, run: Run, path: Path) -> ImportResult:
        """Import one file into ``run``'s home with the importer under test (its samples'
        ``account``, if they state one, for a format that names none)."""
        from portal.importing import import_file

        assert self.importer is not None
        account = getattr(run.sandbox, "account", None)
        return import_file(run.portal, path, importer=self.importer.name, account=account)

    def import_samples(self, run: Run) -> SyncResult:
        """Import every sample file of ``run`` through ``portal import``'s path, recording
        egress and logs; one result for them all (its error: the first file refused)."""
        assert isinstance(run.sandbox, SampleExport)
        result = SyncResult(self.name)
        with capture_logs() as logs, EGRESS.record() as egress:
            for path in run.sandbox.files:
                try:
                    done = self.import_file(run, path)
                except UserError as error:
                    result.error = error
                    break
                result.items += done.items
                for category, count in done.records.items():
                    result.records[category] = result.records.get(category, 0) + count
        run.logs.extend(logs.lines)
        run.egress.extend(egress)
        run.results.append(result)
        return result

    def for_variant(self, name: str) -> Harness:
        """A harness of this provider against its sandbox's variant ``name``: close it after.

        It shares the plugin and its declaration, and has a main run and truth of its own
        (in a folder of its own, removed on close), so every check written for the main run
        can be asked of the variant as well. Closing it frees its sandbox and store at once,
        rather than with the rest of the run.
        """
        other = copy.copy(self)
        # Nothing the main run cached carries over: main, login, truth, rows, raw items.
        for key in ("main", "login", "truth", "_rows", "_cache"):
            other.__dict__.pop(key, None)
        other.variant, other.origin, other._count, other._runs = name, self, 0, []
        other.workdir = self.workdir / f"variant-{name}"
        other._stack = ExitStack()
        other._stack.callback(shutil.rmtree, other.workdir, ignore_errors=True)
        return other

    def portal(
        self,
        label: str,
        *,
        recorder: DeliveryRecorder | None = None,
        transport: httpx.BaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        extra_plugins: Iterable[object] = (),
        quotas: bool = False,
    ) -> Portal:
        """A new portal home in the work folder (a file vault: never the machine's keyring).

        Declared quotas are not enforced (the suite syncs one sandbox many times) unless
        ``quotas`` is set, for the check of the quota itself."""
        self._count += 1
        home = self.workdir / f"{self._count:02d}-{label}"
        shutil.rmtree(home, ignore_errors=True)
        vault = Vault(
            FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock"
        )
        portal = Portal.open(
            home=home,
            vault=vault,
            plugins_dir=self.plugins_dir,
            extra_plugins=[*extra_plugins, *([recorder] if recorder else [])],
            transport=transport,
            retry_policy=retry_policy or self.retry_policy,
            # The suite judges the pages the plugin yields: each delivered on its own.
            merge_pages=False,
            # It syncs one sandbox more often than a service's quota allows in a day; the
            # quota itself is checked on its own (rules.security.quota).
            quotas=quotas,
        )
        self._stack.callback(portal.close)
        return portal

    def connect(self, portal: Portal, sandbox: Sandbox, **kw: Any) -> Connection:
        """Connect through the plugin's authenticate hook and the real OAuth flow, with the
        answers the sandbox's customer gives to what the provider asks (a key, a token)."""
        return portal.connect(
            self.name,
            browser=kw.pop("browser", suite_browser),
            endpoints=sandbox_endpoints(sandbox),
            timeout=kw.pop("timeout", 20),
            answers=kw.pop("answers", None) or sandbox.connect_answers() or None,
            **kw,
        )

    def run(
        self,
        label: str,
        *,
        recorder: DeliveryRecorder | None = None,
        transport: httpx.BaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        before_sync: Callable[[Run], None] | None = None,
        sync: bool = True,
        tolerate_login_failure: bool = False,
    ) -> Run:
        """A fresh sandbox and home, connected and (unless ``sync=False``) synced once;
        in import mode, fresh sample files imported into a fresh home."""
        sandbox = self.sandbox()
        recorder = recorder or DeliveryRecorder()
        portal = self.portal(
            label, recorder=recorder, transport=transport, retry_policy=retry_policy
        )
        run = Run(label, portal, sandbox, recorder, provider=self.name)
        self._runs.append(run)
        self._stack.callback(self._freed, run)
        if isinstance(sandbox, SampleExport):
            if sync:
                self.import_samples(run)
            return run
        assert isinstance(sandbox, Sandbox)
        with capture_logs() as logs:
            try:
                run.connection = self.connect(portal, sandbox)
            except Exception as error:
                run.login_error = error
                run.logs.extend(logs.lines)
                if tolerate_login_failure:
                    return run
                raise SetupFailed(
                    f"Connecting to the sandbox failed: {error}",
                    where=f"the authenticate hook of {self.name!r} against its sandbox",
                    fix="Make portal connect work against the sandbox (see the OAuth checks).",
                ) from None
            if before_sync is not None:
                before_sync(run)
            if sync:
                self.sync(run)
        run.logs.extend(logs.lines)
        return run

    def environment(self, run: Run) -> dict[str, str]:
        """The environment of a portal process of its own on ``run``'s home and vault."""
        env = {**os.environ, "PORTAL_HOME": str(run.portal.home), "PORTAL_VAULT": "file"}
        for inherited in ("PORTAL_VAULT_PASSPHRASE", "PORTAL_DB", "PORTAL_PLUGINS_DIR"):
            env.pop(inherited, None)
        if self.plugins_dir:
            env["PORTAL_PLUGINS_DIR"] = str(self.plugins_dir)
        return env

    def sync_in_process(self, run: Run, *, timeout: float = 300) -> tuple[int, str]:
        """``portal sync <provider>`` in a new process on the run's home, as a person runs it.

        Returns the exit code and the end of what it printed; all it printed is kept in
        ``run.outputs``, which the last secret search reads.
        """
        command = [sys.executable, "-c", "from portal.cli import main; main()", "sync", self.name]
        try:
            process = subprocess.run(  # noqa: S603 - portal's own CLI
                command,
                env=self.environment(run),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as stopped:
            run.outputs += [_text(stopped.stdout), _text(stopped.stderr)]
            return -1, f"it did not finish within {timeout:g} s and was stopped"
        run.outputs += [process.stdout, process.stderr]
        return process.returncode, (process.stderr.strip() or process.stdout.strip())[-600:]

    def _freed(self, run: Run) -> None:
        self.traces.append(Trace.of(run, self.variant))
        self._runs.remove(run)

    def every_run(self) -> list[Trace]:
        """A trace of every run made so far: freed ones, and this harness's live ones."""
        return [*self.traces, *(Trace.of(run, self.variant) for run in self._runs)]

    def sync(self, run: Run) -> SyncResult:
        """Sync ``run`` once more, recording egress and logs; return the result (in import
        mode: import its sample files once more)."""
        if isinstance(run.sandbox, SampleExport):
            return self.import_samples(run)
        with capture_logs() as logs, EGRESS.record() as egress:
            [result] = run.portal.sync([self.name])
        run.logs.extend(logs.lines)
        run.egress.extend(egress)
        run.results.append(result)
        return result

    # -- the main run, shared ---------------------------------------------------------

    @functools.cached_property
    def main(self) -> Run:
        """Connected and synced once against a fresh sandbox; most checks read this."""
        return self.run("main")

    @functools.cached_property
    def login(self) -> Run:
        """A login alone (no sync), kept even if it fails, for the OAuth checks to inspect."""
        return self.run("login", sync=False, tolerate_login_failure=True)

    @functools.cached_property
    def truth(self) -> GroundTruth:
        """What the main run's sandbox served."""
        return read_truth(self.main.sandbox)

    def rows(self, entity: type[Entity]) -> list[dict[str, Any]]:
        """The main run's stored rows of ``entity`` (cached)."""
        cache: dict[type[Entity], list[dict[str, Any]]] = self.__dict__.setdefault("_rows", {})
        if entity not in cache:
            cache[entity] = self.main.rows(entity)
        return cache[entity]

    def require_main_ok(self) -> Run:
        """The main run, or a failure saying the sync itself failed."""
        run = self.main
        if not run.result.ok:
            if self.mode == IMPORT:
                raise SetupFailed(
                    f"Importing the sample files failed: {run.result.error}",
                    where=f"portal import of {type(run.sandbox).__name__}'s files",
                    fix="Fix the importer or the sample files; every other check depends on"
                    " an import that completes.",
                )
            raise SetupFailed(
                f"The sync failed: {run.result.error}",
                where=f"portal sync {self.name} against its sandbox",
                fix="Fix the error above; every other check depends on a sync that completes.",
            )
        return run

    def entity(self, category: str) -> type[Entity]:
        """The record entity of ``category``."""
        for entity in ENTITIES:
            if entity.category.value == category:
                return entity
        raise NotApplicable(f"the record model has no entity for category {category!r}")


def importer_of(plugins: Plugins, provider: Provider) -> Importer | None:
    """The importer a provider with no sandbox is graded on (the one offering sample files,
    else its first), or None: the provider has a sandbox, or no importer."""
    if provider.sandbox is not None:
        return None
    from portal.importing import importers

    mine = [i for i in importers(plugins).values() if i.provider.name == provider.name]
    return next((i for i in mine if i.samples is not None), mine[0] if mine else None)
