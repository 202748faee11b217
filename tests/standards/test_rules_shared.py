"""A rule level's ``shared`` allowance: loading, hashing and the checks on items that share one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fuwu.eligibility.ruleset import rules_from_document
from fuwu.standards.parsing import StandardFileError, parse_many, parse_standard_file
from tests.conftest import REPO

NATIONAL = REPO / "standards" / "national" / "national-basic-public-services-2023.yaml"
HOME_CARE = REPO / "standards" / "taizhou" / "taizhou-home-care.yaml"
SUBSIDISED = [
    "hc-meals",
    "hc-bathing",
    "hc-cleaning",
    "hc-medical-escort",
    "hc-mobility",
    "hc-emergency",
    "hc-rehab-care",
    "hc-companionship",
    "hc-errands",
    "hc-hair-foot-care",
]


def test_an_unused_shared_field_does_not_change_the_hash() -> None:
    # The hash is of the canonical form; a file that does not use `shared` must not gain it there, or every
    # stored standard would be reloaded as a new version when the field was added to the format.
    parsed = parse_standard_file(NATIONAL)
    assert "shared:" not in NATIONAL.read_text(encoding="utf-8")
    assert '"shared"' not in json.dumps(parsed.canonical)


def test_the_ten_home_care_projects_share_one_allowance() -> None:
    rules = {r.item: r for r in rules_from_document(parse_standard_file(HOME_CARE).document)}
    assert {i for i, r in rules.items() if r.shared} == set(SUBSIDISED)
    assert {rules[i].shared for i in SUBSIDISED} == {"hc-monthly-allowance"}
    assert rules["hc-package-care"].shared is None  # paid by the elder, each package on its own


def _home_care_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = HOME_CARE.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"text not found once: {old!r}"
    path = tmp_path / "home-care.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(StandardFileError) as caught:
        parse_many([path])
    return [str(e) for e in caught.value.errors]


def test_items_sharing_an_allowance_must_have_the_same_period(tmp_path: Path) -> None:
    path = _home_care_variant(
        tmp_path,
        "        level: *hc-subsidy-level\n",
        "        level:\n"
        "          amount: \"param('hc-monthly-subsidy', 'destitute')\"\n"
        "          period: year\n"
        "          shared: hc-monthly-allowance\n",
    )
    [error] = _errors(path)
    line = path.read_text(encoding="utf-8").splitlines().index("          period: year") + 1
    assert error.startswith(f"{path}:{line}: items[")
    assert ".target_group.rule.level.period: item hc-rehab-care, level period:" in error
    assert "with hc-meals, which is paid per month, but is paid per year" in error


def test_a_shared_id_is_not_an_item_id(tmp_path: Path) -> None:
    path = _home_care_variant(tmp_path, "shared: hc-monthly-allowance", "shared: hc-meals")
    errors = _errors(path)
    assert len(errors) == len(SUBSIDISED)  # one per item, each at the anchor's line
    assert all("level shared: shared id 'hc-meals' is also an item id" in e for e in errors)
