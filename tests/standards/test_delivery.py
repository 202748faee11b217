"""Who may deliver an item and how long a visit takes: item `delivery` and document `qualifications`."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuwu.standards.models import ServiceItem, StandardVersion
from fuwu.standards.parsing import StandardFileError, parse_many, parse_standard_file
from fuwu.standards.selectors import item_delivery, qualifications_in_force
from fuwu.standards.services import standard_abolish, standards_load
from tests.conftest import MINI

FEES = '    fees: {text: {zh: 免费, en: Free}, clause: "6"}\n'
QUALIFICATIONS = """\
qualifications:
  - id: care-cert
    name: {zh: 养老护理员证书, en: Care worker certificate}
    clause: "5.1"
  - id: first-aid
    name: {zh: 急救证书}
    note: {zh: 红十字会颁发。, en: Issued by the Red Cross.}
    modeled: true
"""


def variant(
    tmp_path: Path,
    delivery: str = "{minutes: 45, staff: 2, qualifications: [care-cert, first-aid], clause: '5.1'}",
    qualifications: str = QUALIFICATIONS,
) -> Path:
    """The mini standard with a delivery on its item and qualifications declared before its parameters."""
    text = MINI.read_text(encoding="utf-8")
    assert FEES in text
    assert "\nparameters:\n" in text
    text = text.replace(FEES, f"{FEES}    delivery: {delivery}\n")
    text = text.replace("\nparameters:\n", f"\n{qualifications}parameters:\n")
    path = tmp_path / "delivery.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(StandardFileError) as caught:
        parse_many([path])
    return [str(e) for e in caught.value.errors]


def line_of(path: Path, anchor: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, start=1) if anchor in text and not text.startswith("#"))


def test_delivery_and_qualifications_load(tmp_path: Path) -> None:
    parsed = parse_standard_file(variant(tmp_path))
    delivery = parsed.document.items[0].delivery
    assert delivery is not None
    assert (delivery.minutes, delivery.staff, delivery.qualifications) == (45, 2, ["care-cert", "first-aid"])
    assert (delivery.clause, delivery.modeled) == ("5.1", False)
    assert [q.id for q in parsed.document.qualifications] == ["care-cert", "first-aid"]
    assert parsed.canonical["items"][0]["delivery"]["qualifications"] == ["care-cert", "first-aid"]
    assert parsed.canonical["qualifications"][1]["note"]["en"] == "Issued by the Red Cross."


def test_delivery_defaults_to_one_member_of_staff_and_no_qualifications(tmp_path: Path) -> None:
    parsed = parse_standard_file(variant(tmp_path, delivery="{minutes: 30}", qualifications=""))
    delivery = parsed.document.items[0].delivery
    assert delivery is not None
    assert (delivery.minutes, delivery.staff, delivery.qualifications, delivery.modeled) == (30, 1, [], False)


def test_a_file_without_qualifications_keeps_its_hash() -> None:
    # The new top-level list is left out when empty, so files that do not use it are not new versions.
    parsed = parse_standard_file(MINI)
    assert "qualifications" not in parsed.canonical
    assert "delivery" not in parsed.canonical["items"][0]


def test_unknown_qualification_names_file_line_item_id_and_the_declared_ones(tmp_path: Path) -> None:
    path = variant(tmp_path, delivery="{minutes: 45, qualifications: [care-cert, no-such-cert]}")
    [error] = errors_of(path)
    assert error == (
        f"{path}:{line_of(path, 'no-such-cert')}: items[0].delivery.qualifications[1]: "
        "item 'test-visit' delivery requires qualification 'no-such-cert', which is not declared; "
        "declared qualifications: care-cert, first-aid"
    )


def test_unknown_qualification_when_none_are_declared(tmp_path: Path) -> None:
    path = variant(tmp_path, delivery="{minutes: 45, qualifications: [care-cert]}", qualifications="")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:{line_of(path, 'delivery:')}: items[0].delivery.qualifications[0]: ")
    assert error.endswith("declared qualifications: none")


def test_unknown_qualifications_are_reported_with_rule_errors(tmp_path: Path) -> None:
    path = variant(tmp_path, delivery="{minutes: 45, qualifications: [nope]}")
    path.write_text(path.read_text(encoding="utf-8").replace('{expr: "age >= 80"', '{expr: "agee >= 80"'))
    errors = errors_of(path)
    assert any("unknown fact 'agee'" in e for e in errors), errors
    assert any("qualification 'nope'" in e for e in errors), errors


def test_duplicate_qualification_ids_are_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, qualifications=QUALIFICATIONS.replace("id: first-aid", "id: care-cert"))
    errors = errors_of(path)
    assert (
        f"{path}:{line_of(path, 'schema_version')}: (document): qualification ids must be unique; repeated: care-cert"
        in errors
    )


@pytest.mark.parametrize(
    ("delivery", "field", "hint"),
    [
        ("{minutes: 0}", "items[0].delivery.minutes", "greater than or equal to 1"),
        ("{minutes: 1441}", "items[0].delivery.minutes", "less than or equal to 1440"),
        ("{minutes: 60, staff: 11}", "items[0].delivery.staff", "less than or equal to 10"),
        ("{staff: 2}", "items[0].delivery.minutes", "required field is missing"),
        ("{minutes: 60, hours: 1}", "items[0].delivery.hours", "unknown field"),
        (
            "{minutes: 60, qualifications: [care-cert, care-cert]}",
            "items[0].delivery.qualifications",
            "listed once each; repeated: care-cert",
        ),
        ("{minutes: 60, qualifications: [Care Cert]}", "items[0].delivery.qualifications[0]", "should match pattern"),
    ],
)
def test_bad_deliveries_give_clear_errors(tmp_path: Path, delivery: str, field: str, hint: str) -> None:
    path = variant(tmp_path, delivery=delivery)
    errors = errors_of(path)
    matching = next((e for e in errors if hint in e), None)
    assert matching is not None, errors
    assert matching.startswith(f"{path}:{line_of(path, 'delivery:')}: {field}: "), matching


def test_clause_references_in_delivery_and_qualifications_must_resolve(tmp_path: Path) -> None:
    path = variant(
        tmp_path, delivery="{minutes: 45, clause: '9.1'}", qualifications=QUALIFICATIONS.replace('"5.1"', '"9.2"')
    )
    assert any("clause references not found in this standard's clauses: 9.1, 9.2" in e for e in errors_of(path))


@pytest.mark.django_db
def test_selectors_read_qualifications_and_delivery_from_the_version_in_force(tmp_path: Path) -> None:
    standards_load(parsed=parse_many([variant(tmp_path)]), actor=None)
    assert qualifications_in_force(standard_key="test-home-visits") == {
        "care-cert": {"name_zh": "养老护理员证书", "name_en": "Care worker certificate", "clause": "5.1"},
        "first-aid": {"name_zh": "急救证书", "name_en": "", "clause": None},
    }
    item = ServiceItem.objects.get(key="test-visit")
    assert item_delivery(item) == {
        "minutes": 45,
        "staff": 2,
        "qualifications": ["care-cert", "first-aid"],
        "clause": "5.1",
        "modeled": False,
    }


@pytest.mark.django_db
def test_selectors_without_delivery_or_qualifications(mini_version: StandardVersion) -> None:
    assert qualifications_in_force(standard_key="test-home-visits") == {}
    assert item_delivery(mini_version.items.get()) is None
    standard_abolish(version=mini_version, actor=None, note="withdrawn for the test")
    with pytest.raises(StandardVersion.DoesNotExist):
        qualifications_in_force(standard_key="test-home-visits")
