"""The published JSON Schema matches the typed models, and validates the real files."""

from __future__ import annotations

import json

import jsonschema

from fuwu.standards.parsing import expand_paths, read_yaml
from fuwu.standards.schema import json_schema
from tests.conftest import MINI, REPO


def test_published_schema_is_current() -> None:
    published = json.loads((REPO / "docs" / "standard.schema.json").read_text(encoding="utf-8"))
    assert published == json_schema(), "docs/standard.schema.json is stale: run `make schema`"


def test_schema_accepts_the_files_the_loader_accepts() -> None:
    validator = jsonschema.Draft202012Validator(json_schema(), format_checker=jsonschema.FormatChecker())
    for path in [MINI, *expand_paths([REPO / "standards"])]:
        data, _ = read_yaml(path.read_text(encoding="utf-8"))
        # YAML gives dates; JSON Schema sees their ISO text.
        data = json.loads(json.dumps(data, default=str))
        errors = list(validator.iter_errors(data))
        assert not errors, f"{path}: {errors[0].message}"


def test_schema_rejects_an_unknown_life_area() -> None:
    data, _ = read_yaml(MINI.read_text(encoding="utf-8"))
    data = json.loads(json.dumps(data, default=str))
    data["items"][0]["life_area"] = "space"
    assert list(jsonschema.Draft202012Validator(json_schema()).iter_errors(data))
