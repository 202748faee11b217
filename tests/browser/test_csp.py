"""Pages work under the Content-Security-Policy: no violation reported while htmx, ECharts, Swagger UI and
the apps' own scripts run (the policy allows only the site's static scripts)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_selfcheck import site  # noqa: F401 - the fixture: areas and standards loaded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scripted_pages_run_without_policy_violations(
    site: str,  # noqa: F811 - the fixture
    page: Any,
) -> None:
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " (e) => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    response = page.goto(site + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.goto(site + "/api/v1/docs")
    page.wait_for_selector("#swagger-ui .info", timeout=20_000)  # Swagger UI rendered from our static files
    page.goto(site + "/compliance/coverage/")
    page.wait_for_load_state("networkidle")
    page.goto(site + "/check/")
    page.locator("#id_age").fill("82")
    page.wait_for_load_state("networkidle")
    assert violations == [], "\n".join(violations)
