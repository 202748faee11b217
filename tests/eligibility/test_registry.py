"""Screening the resident registry in place: the export, the service, ``fuwu screen --registry`` and the page."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.eligibility.facts import BASE_FACTS
from fuwu.eligibility.models import RunStatus, ScreeningResult, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, export_registry, latest_registry_run, registry_schema
from fuwu.eligibility.screening import ScreeningError
from fuwu.eligibility.services import screening_registry_run
from fuwu.population.generate import schema as population_schema
from fuwu.residents.models import Person
from tests.conftest import REPO
from tests.residents.factories import IN_AREA_VILLAGE, HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 29)
HANGZHOU_VILLAGE = "330102001901"
# The facts of a Taizhou elder with no low-income status (tests/eligibility/personas/taizhou.yaml).
ELDER = {
    "hukou_area": IN_AREA_VILLAGE,
    "residence_area": IN_AREA_VILLAGE,
    "hukou_type": "urban",
    "low_income_status": "none",
    "disability_kind": "none",
    "disability_grade": 0,
    "care_need": "able",
    "lives_alone": False,
    "veteran_category": "none",
}
# As in a generated population: person_id, household_id, then the other base facts in their order.
COLUMNS = ["person_id", "household_id", *(f.name for f in BASE_FACTS if f.name != "household_id")]


def years_before(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year - years)


@pytest.fixture
def areas() -> dict[str, Area]:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    county = Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)
    township = Area.objects.create(code="331002001", name_zh="海门街道", level=AreaLevel.TOWNSHIP, parent=county)
    Area.objects.create(code=IN_AREA_VILLAGE, name_zh="海门社区", level=AreaLevel.VILLAGE, parent=township)
    return {"city": city, "county": county}


@pytest.fixture
def standards() -> None:
    call_command("standards", "load", str(REPO / "standards"), stdout=io.StringIO())


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    # The default output directory is under VAR_DIR; never the repository's var/ in tests.
    settings.VAR_DIR = tmp_path / "var"
    return Path(settings.VAR_DIR)


@pytest.fixture
def registry() -> dict[str, Person]:
    """An 82-year-old and a 40-year-old in one Jiaojiang household, an 85-year-old from Hangzhou."""
    household = HouseholdFactory()
    elder = PersonFactory(household=household, birth_date=years_before(AS_OF, 82), **ELDER)
    son = PersonFactory(
        household=household, relation="child", birth_date=years_before(AS_OF, 40), **{**ELDER, "care_need": None}
    )
    hangzhou = PersonFactory(
        birth_date=years_before(AS_OF, 85),
        **{**ELDER, "hukou_area": HANGZHOU_VILLAGE, "residence_area": HANGZHOU_VILLAGE},
    )
    return {"elder": elder, "son": son, "hangzhou": hangzhou}


def user(role: Role, area: Area | None = None) -> User:
    department = None
    if role == Role.DEPARTMENT_OFFICER:
        department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    return User.objects.create_user(
        f"u-{role}", password="x-long-password-1", role=role, area=area, department=department
    )


def client_for(u: User) -> Client:
    client = Client()
    client.force_login(u)
    return client


# --- the export -----------------------------------------------------------------------------------


def test_export_round_trip_keeps_columns_types_values_and_unknowns(tmp_path: Path) -> None:
    household = HouseholdFactory()
    PersonFactory(
        household=household,
        **ELDER,
        school_stage="none",
        boarding=False,
        fd_hypertension=True,
        fd_diabetes=False,
        fd_pregnant=False,
        fd_severe_mental=False,
        house_grade="B",
        income=Decimal("12345.67"),
    )
    # Only what the model requires: every other fact unknown.
    PersonFactory(household=household, relation=None, birth_date=dt.date(2000, 2, 29), female=True)
    path = tmp_path / "out" / "registry.parquet"

    assert export_registry(path) == 2

    table = pq.read_table(path)
    assert table.schema.names == COLUMNS
    generated = population_schema()
    for field in table.schema:
        assert field.type == generated.field(field.name).type, field.name
    assert table.schema == registry_schema()
    assert table.to_pylist() == [
        dict(zip(COLUMNS, row, strict=True)) for row in Person.objects.order_by("pk").values_list("pk", *COLUMNS[1:])
    ]
    blank = table.to_pylist()[1]
    assert blank["care_need"] is None
    assert blank["income"] is None
    assert blank["lives_alone"] is None
    assert blank["sex"] == "female"
    assert blank["household_id"] == household.household_id
    assert table.to_pylist()[0]["income"] == Decimal("12345.67")
    assert [p.name for p in path.parent.iterdir()] == ["registry.parquet"]  # no temporary file left


def test_export_streams_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fuwu.eligibility.registry.BATCH", 2)
    for _ in range(5):
        PersonFactory()
    path = tmp_path / "registry.parquet"
    assert export_registry(path) == 5
    parquet = pq.ParquetFile(path)
    assert [parquet.metadata.row_group(k).num_rows for k in range(parquet.num_row_groups)] == [2, 2, 1]
    assert parquet.read().column("person_id").to_pylist() == sorted(Person.objects.values_list("pk", flat=True))


def test_an_empty_registry_exports_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "registry.parquet"
    assert export_registry(path) == 0
    assert pq.read_table(path).num_rows == 0


# --- the service ----------------------------------------------------------------------------------


def test_the_service_screens_the_registry_into_results_by_person(
    standards: None, registry: dict[str, Person], tmp_path: Path
) -> None:
    run = screening_registry_run(actor=None, as_of=AS_OF, out_dir=tmp_path / "screen")

    assert (run.population, run.engine, run.status, run.as_of) == (REGISTRY, "duckdb", RunStatus.COMPLETED, AS_OF)
    assert Path(run.output) == (tmp_path / "screen" / "results").resolve()
    bathing = ScreeningResult.objects.get(run=run, item="hc-bathing")
    assert (bathing.person_id, bathing.status, bathing.amount) == (registry["elder"].pk, "eligible", Decimal("50.00"))
    assert bathing.hukou_area == IN_AREA_VILLAGE
    assert run.counts["hc-bathing"]["eligible"] == 1
    # Results point at registry rows; the Hangzhou elder is not in Taizhou's home-care scheme.
    assert set(ScreeningResult.objects.filter(run=run).values_list("person_id", flat=True)) <= set(
        Person.objects.values_list("pk", flat=True)
    )
    assert not ScreeningResult.objects.filter(run=run, person_id=registry["hangzhou"].pk, item="hc-bathing").exists()
    assert not ScreeningResult.objects.filter(run=run, person_id=registry["son"].pk, item="hc-bathing").exists()
    assert set(
        AuditLog.objects.filter(object_id=str(run.pk), object_type="eligibility.screeningrun").values_list(
            "event", flat=True
        )
    ) == {
        "screening.started",
        "screening.completed",
    }
    assert latest_registry_run() == run


def test_the_service_defaults_to_a_new_directory_under_var(
    standards: None, registry: dict[str, Person], var_dir: Path
) -> None:
    first = screening_registry_run(actor=None, as_of=AS_OF)
    second = screening_registry_run(actor=None, as_of=AS_OF)
    assert first.output != second.output
    for run in (first, second):
        assert Path(run.output).parent.parent == (var_dir / "registry-screens").resolve()
        assert (Path(run.output).parent / "registry.parquet").is_file()


def test_the_service_refuses_without_rules_and_leaves_nothing(registry: dict[str, Person], var_dir: Path) -> None:
    with pytest.raises(ScreeningError, match="no rules in force"):
        screening_registry_run(actor=None, as_of=AS_OF)
    assert not ScreeningRun.objects.exists()
    assert not (var_dir / "registry-screens").exists()


def test_a_failed_screening_rolls_back_and_removes_its_directory(
    standards: None, registry: dict[str, Person], var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("engine died")

    monkeypatch.setattr("fuwu.eligibility.screening.run", boom)
    with pytest.raises(RuntimeError):
        screening_registry_run(actor=None, as_of=AS_OF)
    assert not ScreeningRun.objects.exists()
    assert not AuditLog.objects.filter(event__startswith="screening.").exists()
    assert list((var_dir / "registry-screens").iterdir()) == []


def test_the_service_refuses_a_resident(standards: None) -> None:
    with pytest.raises(PermissionDenied):
        screening_registry_run(actor=user(Role.RESIDENT), as_of=AS_OF)


# --- the command ----------------------------------------------------------------------------------


def test_command_screens_the_registry(standards: None, registry: dict[str, Person], tmp_path: Path) -> None:
    call_command("screen", "--registry", "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / "cli"), "--quiet")
    run = ScreeningRun.objects.get()
    assert run.population == REGISTRY
    assert ScreeningResult.objects.filter(run=run, item="hc-bathing", person_id=registry["elder"].pk).exists()


def test_command_registry_and_population_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not allowed with"):
        call_command("screen", "--registry", "--population", str(tmp_path / "p.parquet"), "--out", str(tmp_path))
    with pytest.raises(CommandError, match="one of the arguments"):
        call_command("screen", "--out", str(tmp_path))


def test_command_registry_without_rules_fails_cleanly(registry: dict[str, Person], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no rules in force"):
        call_command("screen", "--registry", "--out", str(tmp_path / "cli"))


# --- the page -------------------------------------------------------------------------------------


def test_officer_screens_from_the_page_and_lands_on_the_run(
    standards: None, registry: dict[str, Person], areas: dict[str, Area], var_dir: Path
) -> None:
    client = client_for(user(Role.DEPARTMENT_OFFICER, areas["county"]))
    # With nothing screened yet, the proactive list sends the officer to the screening page.
    assert client.get("/proactive/").url == "/proactive/screen/"  # type: ignore[attr-defined]
    page = client.get("/proactive/screen/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "筛查户籍登记人员" in html
    assert "还没有筛查过户籍登记人员" in html
    assert '<label for="id_as_of">' in html
    assert 'type="date"' in html
    assert 'aria-describedby="id_as_of_helptext"' in html

    response = client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()})
    run = ScreeningRun.objects.get()
    assert response.status_code == 302
    assert response.url == f"/proactive/{run.pk}/"  # type: ignore[attr-defined]
    assert run.created_by is not None
    assert run.created_by.role == Role.DEPARTMENT_OFFICER

    overview = client.get(response.url).content.decode()  # type: ignore[attr-defined]
    assert "海门街道" in overview  # township from the hukou area
    assert f"/proactive/{run.pk}/331002001/hc-bathing/" in overview
    assert 'href="/proactive/screen/"' in overview
    people = client.get(f"/proactive/{run.pk}/331002001/hc-bathing/").content.decode()
    assert f"<td>{registry['elder'].pk}</td>" in people
    assert "海门社区" in people

    again = client.get("/proactive/screen/").content.decode()
    assert "助浴服务" in again
    assert AS_OF.isoformat() in again


def test_the_form_defaults_to_today_and_rejects_a_bad_date(
    standards: None, areas: dict[str, Area], var_dir: Path
) -> None:
    from django.utils import timezone

    client = client_for(user(Role.DEPARTMENT_OFFICER, areas["county"]))
    assert f'value="{timezone.localdate().isoformat()}"' in client.get("/proactive/screen/").content.decode()
    response = client.post("/proactive/screen/", {"as_of": "not a date"})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not ScreeningRun.objects.exists()


def test_standards_office_screens_and_sees_the_counts(
    standards: None, registry: dict[str, Person], areas: dict[str, Area], var_dir: Path
) -> None:
    client = client_for(user(Role.STANDARDS_OFFICE))
    response = client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()}, follow=True)
    assert response.redirect_chain == [("/proactive/screen/", 302)]
    html = response.content.decode()
    assert "助浴服务" in html
    assert "hc-bathing" in html
    assert ScreeningRun.objects.get().population == REGISTRY


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.CAREGIVER, Role.PROVIDER_ADMIN, Role.AUDITOR])
def test_other_roles_may_not_screen(role: Role, areas: dict[str, Area]) -> None:
    client = client_for(user(role))
    assert client.get("/proactive/screen/").status_code == 403
    assert client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()}).status_code == 403
    assert not ScreeningRun.objects.exists()


def test_anonymous_is_sent_to_log_in() -> None:
    for response in (Client().get("/proactive/screen/"), Client().post("/proactive/screen/", {"as_of": "2026-11-29"})):
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=/proactive/screen/")  # type: ignore[attr-defined]
    assert not ScreeningRun.objects.exists()
