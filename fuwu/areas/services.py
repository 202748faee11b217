"""Loading administrative areas from ``data/areas/*.yaml``, and generating demo villages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from fuwu.areas.models import Area, AreaLevel

CHILD_LEVEL = {AreaLevel.CITY: AreaLevel.COUNTY, AreaLevel.COUNTY: AreaLevel.TOWNSHIP}
CODE_LENGTH = {AreaLevel.CITY: 6, AreaLevel.COUNTY: 6, AreaLevel.TOWNSHIP: 9, AreaLevel.VILLAGE: 12}
# Generated villages take codes from 901 up, well above the real ones under a township.
GENERATED_FROM = 901
GENERATED_NAMES = ["和美", "幸福", "平安", "兴旺", "文明", "康宁"]


class AreaFileError(Exception):
    pass


@dataclass(frozen=True)
class AreasLoaded:
    created: int
    updated: int
    generated: int


def _check(node: dict[str, Any], parent: dict[str, Any] | None, where: str) -> None:
    for key in ("code", "name", "level", "kind"):
        if key not in node:
            raise AreaFileError(f"{where}: missing field {key!r}")
    level = node["level"]
    if level not in AreaLevel.values or level == AreaLevel.VILLAGE:
        raise AreaFileError(f"{where}: level {level!r} is not one of city, county, township")
    code = str(node["code"])
    if not code.isdigit() or len(code) != CODE_LENGTH[AreaLevel(level)]:
        raise AreaFileError(f"{where}: code {code!r} should be {CODE_LENGTH[AreaLevel(level)]} digits for a {level}")
    if parent is not None:
        if CHILD_LEVEL.get(AreaLevel(parent["level"])) != level:
            raise AreaFileError(f"{where}: a {level} cannot sit under a {parent['level']}")
        # A county's code replaces the city's trailing "00"; a township's extends its county's.
        prefix = str(parent["code"])[:4] if parent["level"] == AreaLevel.CITY else str(parent["code"])
        if not code.startswith(prefix):
            raise AreaFileError(f"{where}: code {code} does not start with its parent's prefix {prefix}")


@transaction.atomic
def areas_load(*, path: Path, villages_per_township: int = 2) -> AreasLoaded:
    """Create or update every area in the file; idempotent."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AreaFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("areas"), list):
        raise AreaFileError(f"{path}: expected a mapping with an 'areas' list")
    created = updated = generated = 0
    seen: set[str] = set()

    def visit(node: dict[str, Any], parent_node: dict[str, Any] | None, parent: Area | None, where: str) -> None:
        nonlocal created, updated, generated
        _check(node, parent_node, where)
        code = str(node["code"])
        if code in seen:
            raise AreaFileError(f"{where}: code {code} appears twice")
        seen.add(code)
        area, was_created = Area.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": node["name"]["zh"],
                "name_en": node["name"].get("en", ""),
                "level": node["level"],
                "kind_zh": node["kind"],
                "parent": parent,
                "generated": False,
                "modeled": bool(node.get("modeled", False)),
            },
        )
        created += was_created
        updated += not was_created
        for i, child in enumerate(node.get("children") or []):
            visit(child, node, area, f"{where} > {child.get('code', f'children[{i}]')}")
        if area.level == AreaLevel.TOWNSHIP:
            generated += _generate_villages(township=area, count=villages_per_township)

    for i, root in enumerate(data["areas"]):
        visit(root, None, None, f"{path}: areas[{i}]")
    return AreasLoaded(created=created, updated=updated, generated=generated)


def _generate_villages(*, township: Area, count: int) -> int:
    # Streets (街道) have communities; towns and townships have villages.
    is_street = township.kind_zh == "街道"
    suffix_zh, suffix_en = ("社区", "Community") if is_street else ("村", "Village")
    made = 0
    for n in range(count):
        name = GENERATED_NAMES[n % len(GENERATED_NAMES)]
        _, was_created = Area.objects.update_or_create(
            code=f"{township.code}{GENERATED_FROM + n:03d}",
            defaults={
                "name_zh": f"{name}{suffix_zh}",
                "name_en": f"{name} {suffix_en} (generated)",
                "level": AreaLevel.VILLAGE,
                "kind_zh": suffix_zh,
                "parent": township,
                "generated": True,
                "modeled": True,
            },
        )
        made += was_created
    return made
