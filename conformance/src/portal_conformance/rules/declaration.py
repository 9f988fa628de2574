"""The declaration: a valid manifest, an inventory in the core vocabulary, HTTPS endpoints,
least scopes, request limits kept, a sandbox with a ground truth, well-formed waivers;
and permissions: a narrower grant returns less.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from portal.provider import is_loopback
from portal.record.vocab import CATEGORY_LABELS, Category, Sector
from portal_conformance.failures import CheckFailed, NotApplicable, examples, require
from portal_conformance.harness import Harness
from portal_conformance.rules.completeness import undeclared

ASPECTS = ("manifest", "inventory", "https", "scopes", "rate_limits", "sandbox", "waivers")
IMPORT_ASPECTS = ("manifest", "inventory", "samples", "waivers")
"""A provider graded on sample files: no endpoints, scopes or request limits to declare."""
_BROAD_SCOPE = re.compile(r"(^|[:._/-])(write|admin|payments?|all|full|\*)($|[:._/-])", re.I)
_BROAD_FOR_A_WRITER = re.compile(r"(^|[:._/-])(admin|payments?|all|full|\*)($|[:._/-])", re.I)
"""For a plugin that declares ``Provider.writes``: the scope its ``apply_change`` hook needs
to change a permission (``preferences:write``) is not more than it needs."""


def declaration(h: Harness, aspect: str) -> None:
    """One aspect of the provider's declaration."""
    p = h.provider
    where = f"Provider(name={p.name!r}) in {getattr(h.owner, '__name__', h.owner)}"
    if aspect == "manifest" and h.importer is not None:
        missing = [f for f in ("display_name", "description") if not getattr(p, f)]
        missing += ["the importer's description"] if not h.importer.description.strip() else []
        require(
            not missing and p.sector in Sector,
            f"The declaration lacks {missing or 'a sector'}.",
            where=where,
            fix="Declare the provider's display_name, a one-line description and its sector,"
            " and say in Importer(description=...) which download the importer reads and"
            " where the person gets it.",
        )
    elif aspect == "manifest":
        missing = [f for f in ("display_name", "description") if not getattr(p, f)]
        require(
            not missing
            and p.sector in Sector
            and bool(p.oauth.client_id or p.credential or p.own_client),
            f"The declaration lacks {missing or 'a sector or a way to authorise portal'}.",
            where=where,
            fix="Declare display_name, a one-line description, the sector and the OAuth client id"
            " (or a key credential, or ask the person for their own client id).",
        )
    elif aspect == "inventory":
        problems = [
            f"{i.category!r} is not a core category"
            for i in p.inventory
            if i.category not in CATEGORY_LABELS
        ]
        problems += [
            f"{i.category} has no description" for i in p.inventory if not i.description.strip()
        ]
        dupes = {c for c in p.categories if p.categories.count(c) > 1}
        problems += [f"{c} is declared twice" for c in dupes]
        if not p.inventory:
            problems.append("the inventory is empty")
        problems += [f"{c} arrives but is not declared" for c in undeclared(h)]
        require(
            not problems,
            f"The inventory is wrong: {examples(problems)}.",
            where=f"{where}.inventory",
            fix="List every category the provider holds, from"
            f" {', '.join(c.value for c in Category)},"
            " each with the words of its privacy notice.",
        )
    elif aspect == "https":
        plain = [u for u in p.urls() if urlsplit(u).scheme != "https" and not is_loopback(u)]
        require(
            not plain,
            f"Endpoints are not HTTPS: {examples(plain)}.",
            where=where,
            fix="Declare https:// endpoints only.",
        )
    elif aspect == "scopes":
        _scopes(h, where)
    elif aspect == "rate_limits":
        limits = getattr(p, "limits", None)
        if limits is None:
            raise NotApplicable("this portal has no request-limit declaration")
        seen = getattr(h.main.sandbox, "max_in_flight", None)
        require(
            seen is None or seen <= limits.concurrent,
            f"The sandbox saw {seen} requests at once; the declaration allows {limits.concurrent}.",
            where=f"{where}.limits",
            fix="Make every request through the client portal hands you,"
            " which holds them to Provider.limits; never open threads or clients of your own.",
        )
    elif aspect in ("sandbox", "samples"):
        h.require_main_ok()
        served = set(h.truth.categories)
        missing = [c.value for c in p.categories if c.value not in served]
        stated = "expected_records()" if aspect == "samples" else "ground_truth()"
        require(
            not missing,
            f"The {'sample files' if aspect == 'samples' else 'sandbox'} state nothing about"
            f" {missing}.",
            where=f"{type(h.main.sandbox).__name__}.{stated}",
            fix=f"Seed every declared category and state it in {stated}.",
        )
    elif aspect == "waivers":
        expired = [f"{w.check} (expired {w.expires})" for w in h.declaration.waivers if w.expired()]
        require(
            not expired,
            f"Waivers have expired: {examples(expired)}.",
            where=f"PORTAL_CONFORMANCE[{p.name!r}]['waivers']",
            fix="Fix the check, or renew the waiver with a new date and a reason.",
        )


def _scopes(h: Harness, where: str) -> None:
    h.requires_oauth("no scopes to declare (its key sees what the customer sees)")
    scopes = h.provider.oauth.scopes
    pattern = _BROAD_FOR_A_WRITER if h.provider.writes else _BROAD_SCOPE
    broad = [s for s in scopes if pattern.search(s)]
    needed = "reading and the declared writes" if h.provider.writes else "reading"
    require(
        bool(scopes) and len(set(scopes)) == len(scopes) and not broad,
        f"The scopes {list(scopes)} are not the least needed"
        f"{': ' + ', '.join(broad) + ' grant more than ' + needed if broad else ''}.",
        where=f"{where}.oauth.scopes",
        fix="Ask only for read scopes that the data needs, each once (and, for a plugin"
        " that declares Provider.writes, the scope its changes need).",
    )
    supported = getattr(h.main.sandbox, "settings", None)
    if supported is not None:
        unknown = [s for s in scopes if s not in supported.scopes]
        require(
            not unknown,
            f"The sandbox does not know the declared scopes {unknown}.",
            where=f"{where}.oauth.scopes",
            fix="Declare the scopes the provider really has.",
        )
    granted = h.main.connection.scopes.split() if h.main.connection else []
    require(
        set(granted) <= set(scopes),
        f"The grant carries {sorted(set(granted) - set(scopes))} beyond the declared scopes.",
        where="the connection's granted scopes",
        fix="Refuse tokens with scopes beyond the request.",
    )


def permissions(h: Harness, category: str) -> None:
    """Fetched under a grant without ``category``'s scope, that category must not arrive."""
    h.unsupported("permissions")
    h.requires_oauth("no scopes to narrow (its key sees what the customer sees)")
    scopes = h.declaration.category_scopes.get(category, ())
    scope = " or ".join(repr(s) for s in scopes)
    if not scopes:
        raise NotApplicable(
            f"{h.name!r} declares no scope for {category} (PORTAL_CONFORMANCE"
            " 'category_scopes'), so no narrower grant exists to test; declare the scope that"
            f" grants it, or declare 'permissions.{category}' (or 'permissions') unsupported"
            " with the reason"
        )
    narrower = tuple(s for s in h.provider.oauth.scopes if s not in scopes)
    sandbox = h.sandbox()
    portal = h.portal(f"narrow-{category}")
    from portal.auth.flows import auto_approve_browser
    from portal.provider import sandbox_endpoints

    provider = h.provider.with_endpoints(sandbox_endpoints(sandbox))
    import dataclasses

    provider = dataclasses.replace(
        provider, oauth=dataclasses.replace(provider.oauth, scopes=narrower)
    )
    portal.plugins.providers[h.name] = provider
    portal.connect(
        h.name, browser=auto_approve_browser, endpoints=sandbox_endpoints(sandbox), timeout=20
    )
    [result] = portal.sync([h.name])
    entity = h.entity(category)
    got = list(portal.store.rows(entity, h.name))
    if got:
        raise CheckFailed(
            f"Under a grant without {scope}, {len(got)} {category} records still arrived.",
            where=f"portal sync {h.name} with scopes {list(narrower)}",
            fix="Fetch only what the grant allows; treat a 403 for a category as 'not granted'.",
        )
    require(
        result.ok,
        f"Under a narrower grant the sync failed instead of returning less: {result.error}",
        where=f"portal sync {h.name}",
        fix="Skip categories the grant does not cover.",
    )
