"""How clauses are assessed, the kinds of institution a standard governs, and its grading: the format's checks.

Every bad file names its file, line and field, and says what would be valid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuwu.standards.parsing import StandardFileError, parse_many, parse_standard_file
from tests.conftest import MINI

KINDS = """\
institution_kinds:
  - id: visit-team
    name: {zh: 探访服务队, en: Visiting team}
    level: township
  - id: visit-point
    name: {zh: 探访服务点, en: Visiting point}
    level: village
"""
GRADING = """\
grading:
  pass_score: 60
  grades:
    - {id: gold, name: {zh: 金牌, en: Gold}, min_score: 90, stars: 3}
    - {id: silver, name: {zh: 银牌, en: Silver}, min_score: 75}
  acceptance: {min_average_score: 80, min_passing_percent: 100}
  clause: "5"
"""
STAFFING = "        subject: staffing\n"
TRAINING = "        subject: training\n"
ASSESS_51 = """\
        assessment:
          applies_to: [visit-team]
          method: document
          evidence: [file, number]
          measure: {name: {zh: 持证人数, en: Certified staff}, unit: {zh: 人, en: persons}, at_least: 2}
          weight: 3
          critical: true
"""
ASSESS_52 = """\
        assessment: {method: interview, weight: 1}
"""


def variant(
    tmp_path: Path,
    *,
    kinds: str = KINDS,
    grading: str = GRADING,
    a51: str = ASSESS_51,
    a52: str = ASSESS_52,
    name: str = "assessed.yaml",
) -> Path:
    text = MINI.read_text(encoding="utf-8")
    assert STAFFING in text
    assert TRAINING in text
    text = text.replace(STAFFING, STAFFING + a51).replace(TRAINING, TRAINING + a52)
    text = text.rstrip("\n") + "\n" + kinds + grading
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(*paths: Path) -> list[str]:
    with pytest.raises(StandardFileError) as caught:
        parse_many(list(paths))
    return [str(e) for e in caught.value.errors]


def line_of(path: Path, anchor: str, occurrence: int = 1) -> int:
    found = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if anchor in text]
    return found[occurrence - 1]


def test_assessments_kinds_and_grading_load(tmp_path: Path) -> None:
    document = parse_standard_file(variant(tmp_path)).document
    assert [(k.id, k.level) for k in document.institution_kinds] == [
        ("visit-team", "township"),
        ("visit-point", "village"),
    ]
    staffing = document.clauses[2].children[0].assessment
    assert staffing is not None
    assert (staffing.method, staffing.evidence, staffing.weight, staffing.critical) == (
        "document",
        ["file", "number"],
        3,
        True,
    )
    assert staffing.measure is not None
    assert staffing.measure.at_least == 2
    assert document.grading is not None
    assert [g.id for g in document.grading.grades] == ["gold", "silver"]
    assert document.grading.partial_credit == pytest.approx(0.5)  # the default


def test_a_file_without_institution_kinds_keeps_its_hash() -> None:
    parsed = parse_standard_file(MINI)
    assert "institution_kinds" not in parsed.canonical
    assert "grading" not in parsed.canonical
    assert "assessment" not in parsed.canonical["clauses"][2]["children"][0]


def test_a_requirement_binding_institutions_needs_an_assessment(tmp_path: Path) -> None:
    path = variant(tmp_path, a51="")
    [error] = errors_of(path)
    line = line_of(path, 'number: "5.1"')
    assert error.startswith(f"{path}:{line}: clauses[2].children[0]: requirement 5.1 ")
    assert "add `assessment:`" in error
    assert "not_assessed" in error


def test_a_recommendation_may_go_unassessed(tmp_path: Path) -> None:
    document = parse_standard_file(variant(tmp_path, a52="")).document
    assert document.clauses[2].children[1].assessment is None


def test_a_requirement_can_say_why_it_is_not_assessed(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        a51="        assessment: {not_assessed: {zh: 约束主管部门, en: Binds the department}, modeled: true, "
        "basis: ours}\n",
    )
    staffing = parse_standard_file(path).document.clauses[2].children[0].assessment
    assert staffing is not None
    assert staffing.not_assessed is not None


@pytest.mark.parametrize(
    ("a51", "anchor", "field", "hint"),
    [
        (
            ASSESS_51.replace("applies_to: [visit-team]", "applies_to: [visit-tram]"),
            "visit-tram",
            "clauses[2].children[0].assessment.applies_to[0]",
            "institution kind 'visit-tram', which is not declared; declared institution kinds: visit-team, visit-point",
        ),
        (
            ASSESS_51.replace("method: document", "method: hearsay"),
            "method: hearsay",
            "clauses[2].children[0].assessment.method",
            "'document', 'on_site', 'interview' or 'data_check'",
        ),
        (
            ASSESS_51.replace("evidence: [file, number]", "evidence: [file]"),
            "assessment:",
            "clauses[2].children[0].assessment",
            "evidence lists `number` exactly when a `measure` says what number to record",
        ),
        (
            ASSESS_51.replace("weight: 3", "weight: 0"),
            "weight: 0",
            "clauses[2].children[0].assessment.weight",
            "greater than or equal to 1",
        ),
        (
            ASSESS_51.replace("at_least: 2", "at_least: 2, at_most: 1"),
            "measure:",
            "clauses[2].children[0].assessment.measure",
            "at_least (2) is above at_most (1)",
        ),
        (
            ASSESS_51.replace("          critical: true\n", "          modeled: true\n"),
            "assessment:",
            "clauses[2].children[0].assessment",
            "a modelled assessment needs a `basis`",
        ),
        (
            "        assessment: {method: document}\n        assesment: {}\n",
            "assesment:",
            "clauses[2].children[0].assesment",
            "unknown field",
        ),
    ],
)
def test_bad_assessments_name_line_field_and_fix(tmp_path: Path, a51: str, anchor: str, field: str, hint: str) -> None:
    path = variant(tmp_path, a51=a51)
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:{line_of(path, anchor)}: {field}: ") and hint in e for e in errors), errors


def test_only_a_requirement_can_be_critical(tmp_path: Path) -> None:
    path = variant(tmp_path, a52="        assessment: {method: interview, critical: true}\n")
    [error] = errors_of(path)
    assert error == (
        f"{path}:{line_of(path, 'critical: true', 2)}: clauses[2].children[1].assessment.critical: "
        "clause 5.2 is a recommendation (宜); only a requirement (应) can be critical"
    )


def test_statements_and_permissions_are_not_assessed(tmp_path: Path) -> None:
    path = variant(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        '    text: {zh: 申请、评估、服务。, en: "Apply, assess, serve."}\n',
        '    text: {zh: 申请、评估、服务。, en: "Apply, assess, serve."}\n    assessment: {method: document}\n',
    )
    path.write_text(text, encoding="utf-8")
    [error] = errors_of(path)
    assert "clauses[3].assessment: clause 6 is a statement; only requirements and recommendations are assessed" in error


def test_an_assessment_needs_declared_kinds(tmp_path: Path) -> None:
    path = variant(tmp_path, kinds="", a51="        assessment: {method: document}\n")
    errors = errors_of(path)
    assert any("clause 5.1 has an assessment but the standard declares no institution_kinds" in e for e in errors)


@pytest.mark.parametrize(
    ("grading", "hint"),
    [
        (GRADING.replace("min_score: 75", "min_score: 95"), "grades must be listed highest first"),
        (GRADING.replace("min_score: 75", "min_score: 50"), "grades below the pass score (60): silver"),
        (GRADING.replace("pass_score: 60", "pass_score: 101"), "less than or equal to 100"),
        (GRADING.replace('clause: "5"', 'clause: "9.9"'), "clause references not found"),
    ],
)
def test_bad_grading_is_refused(tmp_path: Path, grading: str, hint: str) -> None:
    errors = errors_of(variant(tmp_path, grading=grading))
    assert any(hint in e for e in errors), errors


def test_kinds_are_unique_in_a_standard(tmp_path: Path) -> None:
    path = variant(tmp_path, kinds=KINDS.replace("id: visit-point", "id: visit-team"))
    errors = errors_of(path)
    assert any("institution kind ids must be unique; repeated: visit-team" in e for e in errors), errors


def test_a_kind_shared_by_two_standards_has_one_name(tmp_path: Path) -> None:
    first = variant(tmp_path, name="first.yaml")
    second = tmp_path / "second.yaml"
    text = first.read_text(encoding="utf-8").replace("id: test-home-visits", "id: test-other-visits")
    text = text.replace("id: test-visit\n", "id: test-visit-2\n").replace("探访服务点", "探访站")
    second.write_text(text, encoding="utf-8")
    [error] = errors_of(first, second)
    assert error.startswith(f"{second}:{line_of(second, 'name: {zh: 探访站')}: institution_kinds[1].name: ")
    assert "also declared by test-home-visits as 探访服务点 (village)" in error


def test_the_real_standards_assess_every_requirement_that_binds_institutions() -> None:
    repo = MINI.parents[2] / "standards" / "taizhou"
    for name in ("home-care", "veterans-service-centre", "sports-venues", "rural-fire-safety"):
        document = parse_standard_file(repo / f"taizhou-{name}.yaml").document
        assert document.institution_kinds, name
        assert document.grading is not None, name
        assert document.grading.modeled, name
        assert document.grading.basis, name
