"""Idempotence and determinism: a second sync adds nothing; the same input, the same output.

Determinism runs the plugin's normalise over every stored raw item in fresh processes
under other time zones (Pacific/Chatham at +12:45/+13:45, and zones with daylight saving
and half hours), other locales where the machine has them, and other hash seeds, and
compares each item's records with what the suite's own process made.
"""

from __future__ import annotations

import json
import locale
import os
import subprocess
import sys
from typing import Any

from portal_conformance.determinism import digests
from portal_conformance.failures import CheckFailed, examples, require
from portal_conformance.harness import Harness

ZONES = ("Pacific/Chatham", "America/St_Johns")
"""+12:45/+13:45 with DST; -03:30/-02:30 with DST: the awkward ones."""
LOCALES = ("tr_TR.UTF-8", "de_DE.UTF-8", "ar_SA.UTF-8", "C.UTF-8")


def available_locale() -> str:
    """The first of ``LOCALES`` this machine has (``C.UTF-8`` at least)."""
    current = locale.setlocale(locale.LC_ALL)
    try:
        for name in LOCALES:
            try:
                locale.setlocale(locale.LC_ALL, name)
                return name
            except locale.Error:
                continue
        return "C"
    finally:
        locale.setlocale(locale.LC_ALL, current)


def idempotent(h: Harness, what: str) -> None:
    """A second sync against unchanged data changes no row and adds none."""
    h.unsupported("idempotence")
    run = h.run("idempotence")
    require(
        run.result.ok,
        f"The sync failed: {run.result.error}",
        where=f"portal sync {h.name}",
        fix="Fix the sync first.",
    )
    from portal.record.model import ENTITIES

    before = {e.__name__: run.rows(e) for e in ENTITIES}
    again = h.sync(run)
    after = {e.__name__: run.rows(e) for e in ENTITIES}
    changes = []
    for name in before:
        old = {r["id"]: r for r in before[name]}
        new = {r["id"]: r for r in after[name]}
        added = len(set(new) - set(old))
        changed = sum(1 for i in set(new) & set(old) if new[i] != old[i])
        if added or changed:
            changes.append(f"{name}: {added} added, {changed} changed")
    require(
        again.ok and not changes,
        f"A second sync of unchanged data {'failed' if not again.ok else 'changed the store'}:"
        f" {again.error or examples(changes)}.",
        where=f"the second portal sync {h.name}",
        fix="Give every item a provider_id that depends only on the provider's data (its own"
        " id), never on the time, the page or the run.",
    )
    del what


def _workers(h: Harness) -> dict[str, dict[str, str]]:
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "determinism" in cache:
        return cache["determinism"]  # type: ignore[no-any-return]
    home = h.require_main_ok().portal.home
    chosen = available_locale()
    processes = {}
    for seed, zone in enumerate(ZONES, 1):
        env = {
            **os.environ,
            "TZ": zone,
            "PYTHONHASHSEED": str(seed * 7919),
            "LC_ALL": chosen,
            "LANG": chosen,
            "PORTAL_VAULT": "file",
        }
        env.pop("PORTAL_VAULT_PASSPHRASE", None)
        if h.plugins_dir:
            env["PORTAL_PLUGINS_DIR"] = str(h.plugins_dir)
        processes[zone] = subprocess.Popen(  # noqa: S603 - our own worker
            [sys.executable, "-m", "portal_conformance.determinism", str(home), h.name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for zone, process in processes.items():
        out, err = process.communicate(timeout=120)
        if process.returncode != 0:
            raise CheckFailed(
                f"The determinism worker failed under TZ={zone}: {err.strip()[-500:]}",
                where="python -m portal_conformance.determinism",
                fix="Make the plugin importable and its normalise runnable in a fresh process.",
            )
        results[zone] = json.loads(out)
    cache["determinism"] = {
        "zones": results,
        "here": digests(home, h.name, h.plugins_dir),
        "locale": chosen,
    }
    return cache["determinism"]  # type: ignore[no-any-return]


def deterministic(h: Harness, zone: str) -> None:
    """Under TZ=``zone`` (and another locale and hash seed) every item normalises the same."""
    h.unsupported("determinism")
    found = _workers(h)
    here, there = found["here"], found["zones"][zone]
    differing = sorted(k for k in here if here[k] != there.get(k))
    require(
        not differing,
        f"{len(differing)} of {len(here)} raw items normalise differently under TZ={zone},"
        f" LC_ALL={found['locale']} and another hash seed than in the suite's own process"
        f" (raw ids {examples(d[:12] for d in differing)}).",
        where=f"the normalise hook of {h.name!r}",
        fix="Parse times with their own offset or the provider's named zone (never the"
        " machine's), format numbers without the locale, and build ids from the provider's"
        " data, never hash() or random values.",
    )
