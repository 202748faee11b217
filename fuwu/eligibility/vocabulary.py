"""The facts vocabulary as a document (docs/facts.md) and as data (the API)."""

from __future__ import annotations

from typing import Any

from fuwu.eligibility.facts import BASE_FACTS, DERIVED_FACTS, Fact


def fact_as_dict(fact: Fact) -> dict[str, Any]:
    return {
        "name": fact.name,
        "type": str(fact.type),
        "zh": fact.zh,
        "en": fact.en,
        "allowed": list(fact.allowed),
        "derived": fact.derived,
        "household": fact.household,
        "unit": fact.unit,
    }


def facts_markdown() -> str:
    lines = [
        "# The facts vocabulary",
        "",
        "What eligibility rules may ask about a resident. Generated from `fuwu/eligibility/facts.py` by",
        "`fuwu eligibility facts --out docs/facts.md`; do not edit by hand.",
        "",
        'A missing fact is **unknown**, never "none": every fact has an explicit value for "does not apply"',
        "(`none`, `0`, `false`). A rule over an unknown fact answers *unknown* and names the fact.",
        "",
        "## Base facts (stored per person)",
        "",
        "| Fact | Type | 中文 | Meaning | Allowed values |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in BASE_FACTS:
        allowed = ", ".join(f"`{a}`" for a in f.allowed)
        lines.append(f"| `{f.name}` | {f.type}{f' ({f.unit})' if f.unit else ''} | {f.zh} | {f.en} | {allowed} |")
    lines += [
        "",
        "## Derived facts (defined once, computed by every engine)",
        "",
        "| Fact | Type | 中文 | Meaning | Definition |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in DERIVED_FACTS:
        scope = " (household)" if f.household else ""
        lines.append(f"| `{f.name}` | {f.type}{scope} | {f.zh} | {f.en} | `{f.derived}` |")
    return "\n".join(lines) + "\n"
