"""The report: per check pass, fail, waived or skipped; a completeness and a legibility score
(0-100); and a tier (bronze: record valid and complete; silver: plus resilience, resume,
idempotence, change over time, determinism and delivery; gold: plus OAuth, secrets,
egress, budgets and permissions).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from portal.shown import shown
from portal_conformance.registry import BY_NAME, TIERS


@dataclass
class Outcome:
    """How one generated test ended."""

    provider: str
    test: str
    family: str
    param: str
    outcome: str
    """passed, failed, waived or skipped."""
    message: str = ""
    stats: dict[str, float] = field(default_factory=dict)
    blocks: bool = False
    """A skip that blocks the tier: the check applies but this run could not exercise it."""

    @property
    def group(self) -> str:
        """The family's group (completeness, legibility, ...)."""
        family = BY_NAME.get(self.family)
        return family.group if family else self.family


def _score(outcomes: list[Outcome]) -> int | None:
    counted = [o for o in outcomes if o.outcome in ("passed", "failed", "waived")]
    if not counted:
        return None
    return round(100 * sum(o.outcome == "passed" for o in counted) / len(counted))


def legibility_score(outcomes: list[Outcome]) -> int | None:
    """Legible values as a share of the values checked (value by value, not test by test)."""
    legible = [o for o in outcomes if o.group == "legibility" and o.outcome != "skipped"]
    checked = sum(o.stats.get("checked", 0) for o in legible)
    if not checked:
        return _score(legible)
    bad = sum(o.stats.get("illegible", 0) for o in legible)
    return round(100 * (checked - bad) / checked)


def tier(outcomes: list[Outcome]) -> str:
    """The highest tier whose groups (and every lower tier's) ran without a failure.

    A group must have run (a partial run with ``-k`` earns no tier it did not test); one
    whose checks were all skipped with a reason (a bank has no bills) does not block, but a
    check skipped because this run could not exercise it (``NotExercised``) does. Waived
    checks count as passed: a waiver is a declared, dated exception, listed in the report.
    """
    by_group: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_group[o.group].append(o)
    reached = "none"
    for name, groups in TIERS:
        for group in groups:
            results = by_group.get(group, [])
            if any(o.outcome == "failed" or (o.outcome == "skipped" and o.blocks) for o in results):
                return reached
            if not results and group != "permissions":
                return reached
        reached = name
    return reached


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """The report of one provider as plain data."""
    counts: dict[str, int] = defaultdict(int)
    for o in outcomes:
        counts[o.outcome] += 1
    completeness = [o for o in outcomes if o.group in ("completeness", "reconciliation")]
    return {
        "provider": outcomes[0].provider if outcomes else "",
        "tier": tier(outcomes),
        "completeness_score": _score(completeness),
        "legibility_score": legibility_score(outcomes),
        "counts": dict(counts),
        "checks": [asdict(o) for o in outcomes],
    }


def build(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One summary per provider."""
    by_provider: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_provider[o.provider].append(o)
    return [summarise(v) for _, v in sorted(by_provider.items())]


def to_json(reports: list[dict[str, Any]]) -> str:
    """The report as JSON: exact data, and ASCII only, so no provider's text in it (a failure
    message quoting a control or a bidi override) acts on a terminal or an editor."""
    return json.dumps({"providers": reports}, indent=2)


_MARK = {"passed": "pass", "failed": "FAIL", "waived": "waived", "skipped": "skipped"}


def to_markdown(reports: list[dict[str, Any]]) -> str:
    """The report as Markdown: a headline per provider, then a table of every check."""
    lines = ["# portal conformance report", ""]
    for r in reports:
        c, legible = r["completeness_score"], r["legibility_score"]
        lines += [
            f"## {shown(r['provider'])}: {r['tier']}",
            "",
            f"- tier: **{r['tier']}**",
            f"- completeness score: {'n/a' if c is None else f'{c}/100'}",
            f"- legibility score: {'n/a' if legible is None else f'{legible}/100'}",
            "- checks: " + ", ".join(f"{n} {k}" for k, n in sorted(r["counts"].items())),
            "",
            "| check | result | note |",
            "| --- | --- | --- |",
        ]
        for check in r["checks"]:
            # Messages quote what the provider sent: one neutralised line, no table breaks.
            note = (
                shown(check["message"].splitlines()[0], limit=160).replace("|", "\\|")
                if check["message"]
                else ""
            )
            test = shown(check["test"]).replace("`", "'")
            mark = _MARK[check["outcome"]] + (" (blocks the tier)" if check.get("blocks") else "")
            lines.append(f"| `{test}` | {mark} | {note} |")
        lines.append("")
    return "\n".join(lines)
