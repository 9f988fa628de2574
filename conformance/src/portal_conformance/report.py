"""The report: per check pass, fail, waived or skipped; a completeness and a legibility score
(0-100, or "not measured" when no check behind it ran); how many statuses were left
"unknown" in portal's vocabulary of states; and a tier (bronze: record valid and complete;
silver: plus resilience, resume, idempotence, change over time, determinism and delivery;
gold: plus OAuth, secrets, egress, budgets and permissions).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from portal.shown import shown
from portal_conformance.registry import BY_NAME, OPTIONAL_GROUPS, TIERS_BY_MODE


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
    """A skip that blocks the tier: every skip but a check the plugin declared unsupported."""
    mode: str = "sync"
    """How the provider was graded: against its sandbox (sync) or on sample files (import)."""

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

    A group must have run (a partial run with ``-k`` earns no tier it did not test), but
    for one a provider may have no check of (``registry.OPTIONAL_GROUPS``: ``writes``), and
    bronze needs both scores measured. Every skip blocks its tier except a check the plugin
    declared unsupported, whose reason the report shows. Waived checks count as passed: a
    waiver is a declared, dated exception, listed in the report.
    """
    by_group: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_group[o.group].append(o)
    reached = "none"
    completeness = [o for o in outcomes if o.group in ("completeness", "reconciliation")]
    if _score(completeness) is None or legibility_score(outcomes) is None:
        return reached
    modes = {o.mode for o in outcomes}
    for name, groups in TIERS_BY_MODE["import" if modes == {"import"} else "sync"]:
        for group in groups:
            results = by_group.get(group, [])
            if any(o.outcome == "failed" or (o.outcome == "skipped" and o.blocks) for o in results):
                return reached
            if not results and group not in OPTIONAL_GROUPS:
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
        "mode": outcomes[0].mode if outcomes else "sync",
        "tier": tier(outcomes),
        "completeness_score": _score(completeness),
        "legibility_score": legibility_score(outcomes),
        "states": states(outcomes),
        "counts": dict(counts),
        "checks": [asdict(o) for o in outcomes],
    }


def states(outcomes: list[Outcome]) -> dict[str, int]:
    """How many records' statuses were checked against portal's vocabulary of states, and
    how many of them the plugin deliberately left ``unknown``."""
    checked = [o for o in outcomes if o.family == "legible" and o.param.endswith(".state")]
    return {
        "checked": int(sum(o.stats.get("checked", 0) for o in checked)),
        "unknown": int(sum(o.stats.get("unknown", 0) for o in checked)),
    }


def score_text(score: int | None) -> str:
    """A score as a person reads it: ``87/100``, or ``not measured`` when no check ran."""
    return "not measured (no check behind it ran)" if score is None else f"{score}/100"


def states_text(counted: dict[str, int]) -> str:
    """The states line of the report."""
    if not counted.get("checked"):
        return "not measured (no record with a status was checked)"
    return (
        f"{counted['unknown']} of {counted['checked']} records with a status say it is"
        " unknown in portal's vocabulary of states"
    )


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


def _note(message: str) -> str:
    """What went wrong, and for a failure what to do about it, on one line of the table."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    fix = next((line.removeprefix("fix: ") for line in lines if line.startswith("fix: ")), "")
    return f"{lines[0][:240]} Fix: {fix}" if fix else lines[0]


def to_markdown(reports: list[dict[str, Any]]) -> str:
    """The report as Markdown: a headline per provider, then a table of every check."""
    lines = ["# portal conformance report", ""]
    for r in reports:
        lines += [
            f"## {shown(r['provider'])}: {r['tier']}",
            "",
            f"- tier: **{r['tier']}**"
            + (
                " (graded on its sample files: an import-only provider)"
                if r.get("mode") == "import"
                else ""
            ),
            f"- completeness score: {score_text(r['completeness_score'])}",
            f"- legibility score: {score_text(r['legibility_score'])}",
            f"- states: {states_text(r.get('states', {}))}",
            "- checks: " + ", ".join(f"{n} {k}" for k, n in sorted(r["counts"].items())),
            "",
            "| check | result | note |",
            "| --- | --- | --- |",
        ]
        for check in r["checks"]:
            # Messages quote what the provider sent: one neutralised line, no table breaks.
            note = shown(_note(check["message"]), limit=400).replace("|", "\\|")
            test = shown(check["test"]).replace("`", "'")
            mark = _MARK[check["outcome"]] + (" (blocks the tier)" if check.get("blocks") else "")
            lines.append(f"| `{test}` | {mark} | {note} |")
        lines.append("")
    return "\n".join(lines)
