"""Attacks through the inputs: hostile uploads on every upload endpoint, SQL and rule-language injection through
search and rule inputs, and script in every free text that is shown back — stored or reflected."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from PIL import Image

from fuwu.compliance.models import Answer, Evidence, Institution, RectificationOrder
from fuwu.eligibility import rules
from fuwu.homecare.models import Complaint, EntitlementAccount, Order, Rating, ServicePhoto
from fuwu.residents.masking import mask_name
from tests.common.test_uploads import jpeg
from tests.security.conftest import client_as
from tests.security.world import World

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(9)</script>"
ESCAPED = "&lt;script&gt;alert(9)&lt;/script&gt;"
IMG = '"><img src=x onerror=alert(9)>'


@pytest.fixture
def rollback(world: World) -> Any:
    """What a test writes to the world is undone (on top of pytest-django's own savepoint)."""
    with transaction.atomic():
        yield world
        transaction.set_rollback(True)


# --- hostile uploads -------------------------------------------------------------------------------------------


def _html_as_jpg() -> bytes:
    return b"<html><body><script>alert(document.cookie)</script></body></html>"


def _polyglot() -> bytes:
    # A real JPEG with an HTML document after its end marker: a browser sniffing it might run the script.
    return jpeg() + b"<html><script>alert(document.cookie)</script></html>"


def _broken() -> bytes:
    return jpeg()[:40] + b"\x00" * 200  # a JPEG header, then nothing a decoder can read


def _bomb_png() -> bytes:
    # 20,000 × 20,000 pixels declared in a few kilobytes: must be refused before it is decoded.
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    return out.getvalue()


def _svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


HOSTILE: dict[str, tuple[str, Callable[[], bytes]]] = {
    "html-renamed-jpg": ("photo.jpg", _html_as_jpg),
    "svg-with-script": ("photo.svg", _svg),
    "broken-image": ("photo.jpg", _broken),
    "oversize": ("photo.jpg", lambda: jpeg() + b"\x00" * 300_000),
    "pixel-bomb": ("photo.png", _bomb_png),
}


@pytest.fixture
def small_limits(settings: Any) -> None:
    # Oversize is tested against a small limit rather than by sending 10 MB through the test client.
    settings.FUWU_PHOTO_MAX_BYTES = 200_000
    settings.FUWU_UPLOAD_MAX_BYTES = 200_000


UploadTarget = tuple[str, str, Callable[[World], str], Callable[[World], int]]
# Every upload endpoint: who uploads, the field, the URL, and how many files are stored there.
UPLOADS: dict[str, UploadTarget] = {
    "homecare-visit-photo": (
        "caregiver",
        "photo",
        lambda w: f"/homecare/visits/{w.sides['A'].held.pk}/photos/",
        lambda w: ServicePhoto.objects.filter(order=w.sides["A"].held).count(),
    ),
    "inspection-evidence": (
        "inspector",
        "file",
        lambda w: f"/compliance/inspections/{w.sides['A'].inspection.pk}/items/{w.sides['A'].item.pk}/evidence/",
        lambda w: Evidence.objects.filter(item=w.sides["A"].item).count(),
    ),
    "rectification-evidence": (
        "institution",
        "file",
        lambda w: f"/compliance/rectifications/{w.sides['A'].rectification.pk}/evidence/",
        lambda w: Evidence.objects.filter(order=w.sides["A"].rectification).count(),
    ),
}


def _post_file(world: World, target: UploadTarget, name: str, data: bytes) -> Any:
    role, field, url, _count = target
    upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return client_as(world, role).post(url(world), {field: upload})


@pytest.mark.parametrize("endpoint", UPLOADS)
def test_a_real_photo_is_stored_on_every_upload_endpoint(rollback: World, endpoint: str) -> None:
    """The control: the endpoint takes a good photo, so the refusals below are refusals of the file."""
    target = UPLOADS[endpoint]
    before = target[3](rollback)
    response = _post_file(rollback, target, "photo.jpg", jpeg())
    assert response.status_code < 400
    assert target[3](rollback) == before + 1


# Issue 9's holes in home-care photos (a broken image or a pixel bomb stored, checked by first bytes only) are
# closed: photos go through the common upload kernel (fuwu.common.uploads), which decodes and re-encodes them.
KNOWN_UPLOAD_HOLES: dict[tuple[str, str], str] = {}


def _cases(attacks: Iterable[str], endpoints: Iterable[str], known: dict[tuple[str, str], str]) -> list[Any]:
    """Every attack on every endpoint; a known hole is a strict xfail with its reason."""
    return [
        pytest.param(
            attack,
            endpoint,
            id=f"{attack}-{endpoint}",
            marks=[pytest.mark.xfail(strict=True, reason=known[(attack, endpoint)])]
            if (attack, endpoint) in known
            else [],
        )
        for endpoint in endpoints
        for attack in attacks
    ]


@pytest.mark.parametrize(("attack", "endpoint"), _cases(HOSTILE, UPLOADS, KNOWN_UPLOAD_HOLES))
def test_hostile_files_are_refused_on_every_upload_endpoint(
    rollback: World, small_limits: None, endpoint: str, attack: str
) -> None:
    target = UPLOADS[endpoint]
    name, make = HOSTILE[attack]
    before = target[3](rollback)
    response = _post_file(rollback, target, name, make())
    assert response.status_code < 500
    assert target[3](rollback) == before, f"{attack} was stored through {endpoint}"


def _stored(endpoint: str, world: World) -> list[Any]:
    if endpoint == "homecare-visit-photo":
        return [p.image for p in ServicePhoto.objects.filter(order=world.sides["A"].held)]
    if endpoint == "inspection-evidence":
        return [e.file for e in Evidence.objects.filter(item=world.sides["A"].item)]
    return [e.file for e in Evidence.objects.filter(order=world.sides["A"].rectification)]


@pytest.mark.parametrize(
    "endpoint",
    [
        "homecare-visit-photo",
        "inspection-evidence",
        "rectification-evidence",
    ],
)
def test_a_polyglot_is_stored_clean_under_a_generated_name(rollback: World, endpoint: str) -> None:
    """A JPEG with HTML after it may be taken as a photo, but what is kept is re-encoded, named by the server."""
    target = UPLOADS[endpoint]
    response = _post_file(rollback, target, "poly.html", _polyglot())
    assert response.status_code < 500
    for stored in _stored(endpoint, rollback):
        assert not stored.name.endswith((".html", ".htm")), stored.name
        assert "poly" not in stored.name, stored.name
        with stored.open("rb") as handle:
            content = handle.read()
        assert b"<script" not in content, f"{stored.name} kept the script"


def _xlsx_with(part: str, xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        archive.writestr(part, xml)
    return out.getvalue()


XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><workbook>&e;</workbook>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    b"<workbook>&d;</workbook>"
)
SPREADSHEETS = {
    "html-renamed-xlsx": ("people.xlsx", b"<html><script>alert(1)</script></html>"),
    "not-a-zip": ("people.xlsx", b"PK\x03\x04" + b"\x00" * 100),
    "csv-with-formulas": ("people.csv", '姓名,身份证号\n=HYPERLINK("http://x"),=1+1\n'.encode()),
    "xxe": ("people.xlsx", _xlsx_with("xl/workbook.xml", XXE)),
    "billion-laughs": ("people.xlsx", _xlsx_with("xl/workbook.xml", LAUGHS)),
}
SPREADSHEET_ENDPOINTS = {
    "resident-import": ("officer", "/residents/import/"),
    "institution-import": (
        "officer",
        "/compliance/office/institutions/import/",
    ),
}


# Issue 9's spreadsheet holes (a file that is not a zip answered 500 on the institution import) are closed: every
# import goes through fuwu.common.sheet_guard before parsing.
KNOWN_SPREADSHEET_HOLES: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize(("attack", "endpoint"), _cases(SPREADSHEETS, SPREADSHEET_ENDPOINTS, KNOWN_SPREADSHEET_HOLES))
def test_hostile_spreadsheets_get_an_answer_not_a_500(rollback: World, endpoint: str, attack: str) -> None:
    """(The 1 MB zip bomb of issue 9 is not sent here: on the code before the fix it takes 16 GB.)"""
    role, url = SPREADSHEET_ENDPOINTS[endpoint]
    name, data = SPREADSHEETS[attack]
    response = client_as(rollback, role).post(
        url, {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")}
    )
    assert response.status_code < 500, f"{attack} through {endpoint}: {response.status_code}"
    assert b"root:x:0:0" not in response.content


# --- injection through search and rule inputs --------------------------------------------------------------------

SQL = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; DROP TABLE residents_person; --",
    "%' UNION SELECT id_number_encrypted FROM residents_person --",
    "\\'; SELECT pg_sleep(5); --",
    "%%%%",
    "_",
    "a" * 5000,
]


@pytest.mark.parametrize("q", SQL)
@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("anonymous", "/search/?q={q}"),
        ("anonymous", "/api/v1/search?q={q}"),
        ("anonymous", "/compliance/?q={q}"),
        ("officer", "/residents/?q={q}"),
        ("officer", "/homecare/office/accounts/?q={q}"),
        ("officer", "/proactive/{run}/list/?township={q}&item={q}&status={q}"),
    ],
)
def test_search_inputs_are_data_not_sql(world: World, role: str, url: str, q: str) -> None:
    from urllib.parse import quote

    response = client_as(world, role).get(url.format(q=quote(q), run=world.run.pk))
    assert response.status_code < 500, f"{url} with {q!r}: {response.status_code}"
    other = world.sides["B"].elder.name
    assert other.encode() not in response.content
    assert mask_name(other).encode() not in response.content or role == "anonymous"


# PostgreSQL refuses a NUL in a text parameter (SQLite takes it): where a view passed the query string to a query
# without a form (whose CharField refuses NUL), that was a 500. fuwu.common.middleware.NulRefusingMiddleware
# answers 400 for a NUL anywhere in the path or the query string, on SQLite as on PostgreSQL.
@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("anonymous", "/search/?q=a%00b"),
        ("anonymous", "/api/v1/search?q=a%00b"),
        ("anonymous", "/api/v1/areas?parent=33%00"),
        ("anonymous", "/api/v1/standards/taizhou%00"),
        ("officer", "/proactive/{run}/list/?township=33%00&item=a%00"),
        ("anonymous", "/compliance/?q=a%00b"),
        ("officer", "/residents/?q=a%00b"),
        ("officer", "/homecare/office/accounts/?q=a%00b"),
        ("officer", "/residents/?a%00=1"),
    ],
)
def test_a_nul_byte_gets_an_answer_not_a_500(world: World, role: str, url: str) -> None:
    response = client_as(world, role).get(url.format(run=world.run.pk))
    assert response.status_code == 400, f"{url}: {response.status_code}"
    if url.startswith("/api/"):
        assert response.json()["code"] == "nul_byte"
    else:
        assert "空字符" in response.content.decode()


def test_an_always_true_search_finds_nobody_outside_the_area(world: World) -> None:
    page = client_as(world, "officer").get("/residents/", {"q": "' OR '1'='1"})
    assert page.status_code == 200
    assert world.sides["B"].elder.name.encode() not in page.content


ESCAPES = [
    "age >= 60; DROP TABLE residents_person",
    "age >= 60 OR (SELECT COUNT(*) FROM residents_person) > 0",
    "age >= 60 AND pg_sleep(10) IS NULL",
    "read_csv('/etc/passwd') IS NOT NULL",
    "age >= 60 UNION SELECT 1",
    "residents_person.income > 0",
    "lower(name) = 'x'",
    "current_setting('is_superuser') = 'on'",
    "param('../../etc/passwd') > 0",
    "EXISTS (SELECT 1)",
    "CAST(age AS TEXT) = '60'",
    "getvariable('x') = 1",
    "'a' || 'b' = 'ab'",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_a_rule_cannot_escape_its_whitelist(source: str) -> None:
    with pytest.raises(rules.RuleError):
        rules.parse(source, parameters={})


def test_a_deeply_nested_rule_is_refused_with_a_message() -> None:
    with pytest.raises(rules.RuleError):
        rules.parse("(" * 3000 + "age >= 60" + ")" * 3000, parameters={})


FACTS = [
    {"age": "60; DROP TABLE residents_person"},
    {"age": "' OR 1=1 --"},
    {"hukou_area": "331002' OR '1'='1"},
    {"low_income_status": "<script>alert(1)</script>"},
    {"__class__": "x"},
    {"age": 1e308},
    {"age": -1},
    {"income": "1e999999"},
]


@pytest.mark.parametrize("facts", FACTS)
def test_eligibility_facts_are_checked_values(client: Client, facts: dict[str, Any]) -> None:
    response = client.post("/api/v1/eligibility", {"facts": facts}, content_type="application/json")
    assert response.status_code in (200, 422), response.content[:300]
    assert b"<script>" not in response.content or response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("value", ["' OR 1=1 --", SCRIPT, "99999999999999999999", "-1", "\x00"])
def test_the_self_check_takes_any_answer_without_a_500(client: Client, value: str) -> None:
    response = client.get("/check/", {"age": value, "hukou_area": value, "township": value, "income": value})
    assert response.status_code < 500
    assert SCRIPT.encode() not in response.content


# --- script in text that is shown back --------------------------------------------------------------------------

Stored = tuple[Callable[[World], None], str, Callable[[World], str]]


def _set(model: Any, pk: Callable[[World], int], **values: str) -> Callable[[World], None]:
    return lambda w: model.objects.filter(pk=pk(w)).update(**values) and None


A = lambda w: w.sides["A"]  # noqa: E731 - the matrix's own county

STORED: dict[str, Stored] = {
    "complaint text (officer's complaints list)": (
        _set(Complaint, lambda w: A(w).complaint.pk, text=SCRIPT + IMG),
        "officer",
        lambda w: "/homecare/office/complaints/",
    ),
    "rating comment (family's order page)": (
        _set(Rating, lambda w: A(w).order.rating.pk, comment=SCRIPT + IMG),
        "family",
        lambda w: f"/homecare/orders/{A(w).order.pk}/",
    ),
    "check-out notes (family's order page)": (
        _set(Order, lambda w: A(w).order.pk, notes=SCRIPT + IMG),
        "family",
        lambda w: f"/homecare/orders/{A(w).order.pk}/",
    ),
    "home address (officer's account page)": (
        _set(EntitlementAccount, lambda w: A(w).account.pk, address=SCRIPT + IMG),
        "officer",
        lambda w: f"/homecare/office/accounts/{A(w).account.pk}/",
    ),
    "inspector's note (public result page)": (
        lambda w: Answer.objects.filter(item__inspection=A(w).published).update(note=SCRIPT + IMG) and None,
        "anonymous",
        lambda w: f"/compliance/results/{A(w).published.pk}/",
    ),
    "institution's answer (rectification page)": (
        _set(RectificationOrder, lambda w: A(w).rectification.pk, response=SCRIPT + IMG),
        "institution",
        lambda w: f"/compliance/rectifications/{A(w).rectification.pk}/",
    ),
    "institution name (public finder)": (
        _set(Institution, lambda w: A(w).institution.pk, name=SCRIPT + IMG),
        "anonymous",
        lambda w: "/compliance/",
    ),
    "institution name (public institution page)": (
        _set(Institution, lambda w: A(w).institution.pk, name=SCRIPT + IMG),
        "anonymous",
        lambda w: f"/compliance/institutions/{A(w).institution.pk}/",
    ),
    "elder's name (family's statement)": (
        lambda w: type(A(w).elder).objects.filter(pk=A(w).elder.pk).update(name=SCRIPT) and None,
        "family",
        lambda w: f"/homecare/reports/statement/{A(w).account.pk}/2026-12/",
    ),
}


@pytest.mark.parametrize("case", STORED)
def test_stored_text_is_escaped_where_it_is_shown(rollback: World, case: str) -> None:
    store, role, url = STORED[case]
    store(rollback)
    page = client_as(rollback, role).get(url(rollback))
    assert page.status_code == 200, f"{case}: {page.status_code}"
    html = page.content.decode()
    assert SCRIPT not in html, f"{case}: the script is in the page as markup"
    assert "<img src=x onerror" not in html
    assert ESCAPED in html, f"{case}: the text is not on the page at all (the test would prove nothing)"


REFLECTED = [
    ("anonymous", "/search/?q={p}"),
    ("anonymous", "/compliance/?q={p}"),
    ("anonymous", "/compliance/results/?q={p}"),
    ("officer", "/residents/?q={p}"),
    ("officer", "/homecare/office/plan/?day={p}"),
    ("officer", "/proactive/{run}/list/?township={p}"),
    ("anonymous", "/check/?age={p}"),
]


@pytest.mark.parametrize(("role", "url"), REFLECTED)
@pytest.mark.parametrize("payload", [SCRIPT, IMG, "javascript:alert(9)//"])
def test_reflected_input_is_escaped(world: World, role: str, url: str, payload: str) -> None:
    from urllib.parse import quote

    page = client_as(world, role).get(url.format(p=quote(payload), run=world.run.pk))
    assert page.status_code < 500
    html = page.content.decode(errors="replace")
    assert SCRIPT not in html
    assert "<img src=x onerror" not in html
    assert 'href="javascript:' not in html


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("stdoffice", "/staff/versions/{version}/begin_review/"),
        ("officer", "/compliance/office/inspections/{published}/publish/"),
    ],
)
def test_a_posted_next_never_leads_off_the_site(world: World, role: str, url: str) -> None:
    with transaction.atomic():
        response = client_as(world, role).post(
            url.format(version=world.version.pk, published=world.sides["A"].published.pk),
            {"next": "https://evil.example/login", "note": "复审"},
        )
        transaction.set_rollback(True)
    assert response.status_code in (302, 303)
    assert not response["Location"].startswith(("http://", "https://", "//")), response["Location"]
