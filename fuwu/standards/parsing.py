"""Reading a standard file: YAML with line numbers, validated against the schema.

Errors name the file, the line, the field path and what would be valid, so an
official editing a standard in a text editor can go straight to the fix.
Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fuwu.eligibility.ruleset import check_rules
from fuwu.evaluation.definitions import indicator_problems
from fuwu.standards.schema import (
    StandardDocument,
    assessment_problems,
    institution_kind_conflicts,
    proactive_problems,
    undeclared_qualifications,
    visit_rule_problems,
)

Path_ = tuple[str | int, ...]

# Top-level lists added to the format after files were first loaded. Left out of the canonical form when empty,
# so adding one to the format does not change the hash (and so the version) of a file that does not use it.
_ADDED_LATER = ("qualifications", "institution_kinds")


@dataclass(frozen=True)
class FileError:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(document)'}: {self.message}"


class StandardFileError(Exception):
    """One or more problems in one or more standard files."""

    def __init__(self, errors: list[FileError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class ParsedStandard:
    path: Path
    document: StandardDocument
    lines: dict[Path_, int] = field(repr=False)

    @property
    def canonical(self) -> dict[str, Any]:
        """The document as plain JSON data, with defaults filled in."""
        data: dict[str, Any] = self.document.model_dump(mode="json", exclude_none=True)
        for key in _ADDED_LATER:
            if not data.get(key):
                data.pop(key, None)
        return data

    @property
    def content_hash(self) -> str:
        """A hash of the meaning, not the bytes: comments and key order do not count."""
        encoded = json.dumps(self.canonical, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()


class _DuplicateKeyError(Exception):
    def __init__(self, path: Path_, line: int, first_line: int) -> None:
        self.path, self.line, self.first_line = path, line, first_line


def _to_python(node: yaml.Node, loader: yaml.SafeLoader, path: Path_, lines: dict[Path_, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key = str(key)
            if key in seen:
                raise _DuplicateKeyError((*path, key), key_node.start_mark.line + 1, seen[key])
            seen[key] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, loader, (*path, key), lines)
            # Point errors about a key at the key's own line.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, loader, (*path, i), lines) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


# libyaml's scanner where PyYAML was built with it (the wheels are): ten times the pure-Python one, same nodes
# and marks. Reading the standards was most of the time `fuwu standards load` took.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML, keeping the line of every value; refuse duplicate keys."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        data = None if node is None else _to_python(node, loader, (), lines)
    finally:
        loader.dispose()
    return data, lines


def _line_for(loc: Path_, lines: dict[Path_, int]) -> int | None:
    # Walk up the path until a node with a known line is found (a missing
    # field has no line of its own, so its parent's line is the best hint).
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _describe(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    ctx = error.get("ctx") or {}
    if error["type"] == "extra_forbidden":
        return "unknown field; remove it or check its spelling against docs/standard.schema.json"
    if error["type"] == "missing":
        return "required field is missing"
    if "expected" in ctx:
        return f"{error.get('input')!r} is not allowed; valid: {ctx['expected']}"
    if "pattern" in ctx:
        return f"{message}; got {error.get('input')!r}"
    return message


def _field_path(loc: Path_) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml_reporting(text: str, *, name: str) -> tuple[Any, dict[Path_, int]]:
    """``read_yaml``, its problems raised as a StandardFileError naming the file and line."""
    try:
        return read_yaml(text)
    except _DuplicateKeyError as exc:
        raise StandardFileError(
            [
                FileError(
                    name,
                    exc.line,
                    _field_path(exc.path),
                    f"duplicate key (first defined on line {exc.first_line}); keep one",
                )
            ]
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise StandardFileError(
            [FileError(name, mark.line + 1 if mark else None, "", f"not valid YAML: {problem}")]
        ) from exc


def parse_standard_text(text: str, *, name: str) -> tuple[StandardDocument, dict[Path_, int]]:
    data, lines = read_yaml_reporting(text, name=name)
    if not isinstance(data, dict):
        raise StandardFileError([FileError(name, 1, "", "a standard file must be a YAML mapping at the top level")])
    try:
        document = StandardDocument.model_validate(data)
    except ValidationError as exc:
        errors = [
            FileError(name, _line_for(tuple(e["loc"]), lines), _field_path(tuple(e["loc"])), _describe(dict(e)))
            for e in exc.errors(include_url=False)
        ]
        raise StandardFileError(errors) from exc
    # Rules, qualification and visit-rule references are checked here rather than in the
    # schema so each error can point at the criterion's or reference's own line.
    errors = [
        FileError(
            name,
            _line_for(p.path, lines),
            _field_path(p.path),
            f"item {p.item}, {p.part}: {p.error} (at: {p.error.token!r})",
        )
        for p in check_rules(document)
    ]
    errors += [
        FileError(name, _line_for(path, lines), _field_path(path), message)
        for path, message in [
            *undeclared_qualifications(document),
            *visit_rule_problems(document),
            *assessment_problems(document),
            *indicator_problems(document),
            *proactive_problems(document),
        ]
    ]
    if errors:
        raise StandardFileError(errors)
    return document, lines


def parse_standard_file(path: Path) -> ParsedStandard:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StandardFileError([FileError(str(path), None, "", "not UTF-8 text; save the file as UTF-8")]) from exc
    except OSError as exc:
        raise StandardFileError([FileError(str(path), None, "", f"cannot read the file: {exc.strerror}")]) from exc
    document, lines = parse_standard_text(text, name=str(path))
    return ParsedStandard(path=path, document=document, lines=lines)


# Folders beside the standards that hold other data, not standards: search's synonym list (docs/search.md).
NOT_STANDARDS = frozenset({"search"})


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, and directories expanded to their YAML files (not those in ``NOT_STANDARDS``), sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(
                p
                for p in path.rglob("*.y*ml")
                if p.suffix in {".yaml", ".yml"} and not NOT_STANDARDS & set(p.relative_to(path).parts[:-1])
            )
        else:
            out.append(path)
    return out


def parse_many(paths: list[Path]) -> list[ParsedStandard]:
    """Parse all files; raise one error listing every problem in every file."""
    parsed: list[ParsedStandard] = []
    errors: list[FileError] = []
    for path in expand_paths(paths):
        try:
            parsed.append(parse_standard_file(path))
        except StandardFileError as exc:
            errors += exc.errors
    ids: dict[str, Path] = {}
    item_ids: dict[str, Path] = {}
    for p in parsed:
        if p.document.id in ids:
            errors.append(
                FileError(
                    str(p.path),
                    p.lines.get(("id",)),
                    "id",
                    f"standard id {p.document.id!r} is also used by {ids[p.document.id]}",
                )
            )
        ids[p.document.id] = p.path
        for i, item in enumerate(p.document.items):
            if item.id in item_ids and item_ids[item.id] != p.path:
                errors.append(
                    FileError(
                        str(p.path),
                        p.lines.get(("items", i, "id")),
                        f"items[{i}].id",
                        f"item id {item.id!r} is also used in {item_ids[item.id]}; "
                        "item ids are unique across standards",
                    )
                )
            item_ids[item.id] = p.path
    by_id = {p.document.id: p for p in parsed}
    for standard, i, message in institution_kind_conflicts([p.document for p in parsed]):
        p = by_id[standard]
        where: Path_ = ("institution_kinds", i, "name")
        errors.append(FileError(str(p.path), _line_for(where, p.lines), _field_path(where), message))
    if errors:
        raise StandardFileError(errors)
    return parsed
