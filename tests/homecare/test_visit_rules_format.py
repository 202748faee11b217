"""The standard format's visit rules (``visit_rules`` in fuwu/standards/schema.py): refused with file:line and a fix."""

from __future__ import annotations

import pytest

from fuwu.standards.parsing import StandardFileError, parse_standard_text
from tests.homecare.conftest import HOME_CARE

TEXT = HOME_CARE.read_text(encoding="utf-8")


def errors_of(text: str) -> list[str]:
    with pytest.raises(StandardFileError) as refused:
        parse_standard_text(text, name="home-care.yaml")
    return [str(e) for e in refused.value.errors]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_home_care_standard_declares_its_visit_rules() -> None:
    document, _ = parse_standard_text(TEXT, name="home-care.yaml")
    assert document.visit_rules is not None
    settle = {r.flag: r.settle for r in document.visit_rules.flags}
    assert settle == {
        "short": "pro_rata",
        "early": "hold",
        "late": "hold",
        "out_of_range": "hold",
        "typed_location": "hold",
        "staff_missing": "hold",
    }
    assert all(r.clause == "9.9" and r.modeled for r in document.visit_rules.flags)


def test_an_undeclared_parameter_is_named_at_its_line() -> None:
    text = TEXT.replace("  checkin_window: hc-checkin-window-minutes", "  checkin_window: hc-checkin-window")
    (error,) = errors_of(text)
    assert error.startswith(f"home-care.yaml:{line_of(text, '  checkin_window: hc-checkin-window')}: ")
    assert "visit_rules.checkin_window: names parameter 'hc-checkin-window', which is not declared" in error
    assert "hc-checkin-window-minutes" in error  # the declared ones are listed


def test_a_window_that_is_not_a_table_is_refused_at_the_value() -> None:
    text = TEXT.replace("value: {before: 60, after: 60}", "value: 60")
    (error,) = errors_of(text)
    assert "parameter 'hc-checkin-window-minutes' is used as visit_rules.checkin_window" in error
    assert "{before: minutes, after: minutes}" in error
    assert error.startswith(f"home-care.yaml:{line_of(text, '{effective_from: 2021-11-29, value: 60}')}: ")


def test_every_flag_is_settled_once() -> None:
    text = TEXT.replace('    - {flag: staff_missing, settle: hold, clause: "9.9", modeled: true}\n', "")
    (error,) = errors_of(text)
    assert "say how every flag is settled; missing: staff_missing" in error
    assert error.startswith(f"home-care.yaml:{line_of(text, '  flags:')}: visit_rules.flags")


def test_pro_rata_is_for_short_visits_only() -> None:
    text = TEXT.replace("{flag: late, settle: hold", "{flag: late, settle: pro_rata")
    (error,) = errors_of(text)
    assert "use full or hold for: late" in error


def test_an_unknown_settlement_is_refused() -> None:
    text = TEXT.replace("{flag: early, settle: hold", "{flag: early, settle: deduct")
    (error,) = errors_of(text)
    assert "'deduct' is not allowed" in error
    assert error.startswith(f"home-care.yaml:{line_of(text, 'settle: deduct')}: ")
