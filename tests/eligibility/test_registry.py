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
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.eligibility import screening, store
from fuwu.eligibility.facts import BASE_FACTS
from fuwu.eligibility.models import Candidate, RunStatus, ScreeningCount, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, export_registry, latest_registry_run, registry_schema
from fuwu.eligibility.screening import ScreeningError
from fuwu.eligibility.services import screening_registry_run
from fuwu.jobs.models import Job
from fuwu.jobs.worker import run_queue
from fuwu.population.generate import schema as population_schema
from fuwu.residents.crypto import ENCRYPTED_COLUMNS
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


def test_the_export_reads_no_encrypted_column_and_no_name(tmp_path: Path) -> None:
    """Only the facts leave the table: nothing a screening does not need is read, nothing is decrypted."""
    persons = [PersonFactory(), PersonFactory()]
    hidden = [c.field for c in ENCRYPTED_COLUMNS if c.model == "residents.Person"] + ["name", "id_number_hash"]
    with CaptureQueriesContext(connection) as queries:
        assert export_registry(tmp_path / "all.parquet") == 2
        assert export_registry(tmp_path / "one.parquet", only=[persons[0].pk]) == 1
    reads = [q["sql"] for q in queries.captured_queries if "residents_person" in q["sql"]]
    assert len(reads) == 2
    for sql in reads:
        for name in hidden:
            assert connection.ops.quote_name(Person._meta.get_field(name).column) not in sql, (name, sql)
    assert pq.read_table(tmp_path / "one.parquet").column("person_id").to_pylist() == [persons[0].pk]


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
    # The export (every person's facts) is deleted once stored; who lives with whom stays for the daily run.
    assert sorted(p.name for p in (tmp_path / "screen").iterdir()) == ["members.parquet", "results"]
    # The proactive list's candidates (bathing is worth a call) are in the database, by Person id.
    bathing = Candidate.objects.get(run=run, item="hc-bathing")
    assert (bathing.person_id, bathing.amount) == (registry["elder"].pk, Decimal("50.00"))
    assert bathing.hukou_area == IN_AREA_VILLAGE
    assert run.counts["hc-bathing"]["eligible"] == 1
    assert ScreeningCount.objects.get(run=run, item="hc-bathing").township == IN_AREA_VILLAGE[:9]
    # Candidates point at registry rows; the Hangzhou elder is not in Taizhou's home-care scheme.
    assert set(Candidate.objects.filter(run=run).values_list("person_id", flat=True)) <= set(
        Person.objects.values_list("pk", flat=True)
    )
    assert not Candidate.objects.filter(run=run, person_id=registry["hangzhou"].pk, item="hc-bathing").exists()
    assert not Candidate.objects.filter(run=run, person_id=registry["son"].pk, item="hc-bathing").exists()
    # Every answer is in the run's files; the database holds a small part of them.
    assert run.result_rows == screening.read_results(Path(run.output)).num_rows > run.stored_rows
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
        # Stored, the export of everyone's facts is gone; the answers stay until the retention rule.
        assert sorted(p.name for p in Path(run.output).parent.iterdir()) == ["members.parquet", "results"]


def test_the_service_refuses_without_rules_and_leaves_nothing(registry: dict[str, Person], var_dir: Path) -> None:
    with pytest.raises(ScreeningError, match="no rules in force"):
        screening_registry_run(actor=None, as_of=AS_OF)
    assert not ScreeningRun.objects.exists()
    assert not (var_dir / "registry-screens").exists()


def test_a_failed_screening_leaves_a_failed_run_without_results_or_directory(
    standards: None, registry: dict[str, Person], var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = []

    def dies_after_the_counts(model: Any, columns: Any, batches: Any, **constants: Any) -> int:
        # The counts are written; then the database goes before the candidates: nothing may stay.
        if written:
            raise RuntimeError("database went away")
        written.append(model)
        return real(model, columns, batches, **constants)

    real = store.bulk_insert
    monkeypatch.setattr("fuwu.eligibility.store.bulk_insert", dies_after_the_counts)
    with pytest.raises(RuntimeError, match="went away"):
        screening_registry_run(actor=None, as_of=AS_OF)
    run = ScreeningRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.finished_at is not None
    assert written == [ScreeningCount]
    assert not ScreeningCount.objects.exists()
    assert not Candidate.objects.exists()
    assert latest_registry_run() is None
    events = AuditLog.objects.filter(event__startswith="screening.").values_list("event", flat=True)
    assert sorted(events) == ["screening.failed", "screening.started"]
    assert list((var_dir / "registry-screens").iterdir()) == []


def test_a_failure_before_the_run_starts_leaves_nothing(
    standards: None, registry: dict[str, Person], var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr("fuwu.eligibility.services.export_registry", boom)
    with pytest.raises(RuntimeError):
        screening_registry_run(actor=None, as_of=AS_OF)
    assert not ScreeningRun.objects.exists()
    assert list((var_dir / "registry-screens").iterdir()) == []


def test_what_people_act_on_is_stored_before_the_transaction_that_completes_the_run(
    standards: None, registry: dict[str, Person], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts and candidates go in, a batch a transaction (``test_storing.py``), while the run is still running:
    nothing reads a running run's rows. The last transaction completes it."""
    seen: list[tuple[Any, bool, str]] = []
    real = store.bulk_insert

    def watch(model: Any, columns: Any, batches: Any, **constants: Any) -> int:
        status = ScreeningRun.objects.get(pk=constants["run_id"]).status
        seen.append((model, connection.in_atomic_block, status))
        return real(model, columns, batches, **constants)

    monkeypatch.setattr("fuwu.eligibility.store.bulk_insert", watch)
    steps: list[tuple[int, int | None, str]] = []
    run = screening_registry_run(
        actor=None, as_of=AS_OF, out_dir=tmp_path / "s", progress=lambda d, t, m="": steps.append((d, t, m))
    )
    assert [m for m, _, _ in seen] == [ScreeningCount, Candidate]  # no previous run: no changes to store
    assert all(atomic and status == RunStatus.RUNNING for _, atomic, status in seen)
    assert run.status == RunStatus.COMPLETED
    assert run.stored_rows == Candidate.objects.filter(run=run).count() + ScreeningCount.objects.filter(run=run).count()
    assert {m for _, _, m in steps} == {"导出居民档案", "逐项判断是否符合条件", "汇总筛查结果", "载入筛查结果"}
    completed = AuditLog.objects.get(event="screening.completed")
    assert completed.after["transactions"] >= 3  # the counts, the candidates, the closing one


def test_the_service_refuses_a_resident(standards: None) -> None:
    with pytest.raises(PermissionDenied):
        screening_registry_run(actor=user(Role.RESIDENT), as_of=AS_OF)


# --- the command ----------------------------------------------------------------------------------


def test_command_screens_the_registry(standards: None, registry: dict[str, Person], tmp_path: Path) -> None:
    call_command("screen", "--registry", "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / "cli"), "--quiet")
    run = ScreeningRun.objects.get()
    assert run.population == REGISTRY
    assert Candidate.objects.filter(run=run, item="hc-bathing", person_id=registry["elder"].pk).exists()


def test_command_registry_and_population_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not allowed with"):
        call_command("screen", "--registry", "--population", str(tmp_path / "p.parquet"), "--out", str(tmp_path))
    with pytest.raises(CommandError, match="one of the arguments"):
        call_command("screen", "--out", str(tmp_path))


def test_command_registry_without_rules_fails_cleanly(registry: dict[str, Person], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"no standard is in force.*fuwu standards load standards/"):
        call_command("screen", "--registry", "--out", str(tmp_path / "cli"))


# --- the page -------------------------------------------------------------------------------------


def test_officer_screens_from_the_page_follows_the_job_and_lands_on_the_run(
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

    # The request only queues the work: no run yet, and the officer is sent to the job's page.
    response = client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response.url == f"/jobs/{job.pk}/"  # type: ignore[attr-defined]
    assert not ScreeningRun.objects.exists()
    waiting = client.get(response.url).content.decode()  # type: ignore[attr-defined]
    assert "排队中" in waiting
    assert f'hx-get="/jobs/{job.pk}/panel/"' in waiting
    # A second click while it waits starts nothing new.
    again = client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()})
    assert again.url == f"/jobs/{job.pk}/"  # type: ignore[attr-defined]
    assert "您提交的筛查正在后台进行" in client.get("/proactive/screen/").content.decode()

    assert run_queue() == 1
    run = ScreeningRun.objects.get()
    assert run.status == RunStatus.COMPLETED
    assert run.created_by is not None
    assert run.created_by.role == Role.DEPARTMENT_OFFICER
    panel = client.get(f"/jobs/{job.pk}/panel/").content.decode()
    assert "户籍登记人员筛查完成" in panel
    assert "hx-get" not in panel  # finished: the page stops polling
    assert f'href="/proactive/{run.pk}/"' in panel

    overview = client.get(f"/proactive/{run.pk}/").content.decode()
    assert "海门街道" in overview  # township from the hukou area
    assert f"/proactive/{run.pk}/331002001/hc-bathing/" in overview
    assert 'href="/proactive/screen/"' in overview
    people = client.get(f"/proactive/{run.pk}/331002001/hc-bathing/").content.decode()
    assert f"<td>{registry['elder'].pk}</td>" in people
    assert "海门社区" in people

    again_page = client.get("/proactive/screen/").content.decode()
    assert "助浴服务" in again_page
    assert AS_OF.isoformat() in again_page
    assert "您提交的筛查正在后台进行" not in again_page


def test_a_run_still_loading_is_not_shown(
    standards: None, registry: dict[str, Person], areas: dict[str, Area], tmp_path: Path
) -> None:
    run = screening_registry_run(actor=None, as_of=AS_OF, out_dir=tmp_path / "s")
    ScreeningRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, finished_at=None)
    client = client_for(user(Role.DEPARTMENT_OFFICER, areas["county"]))
    assert client.get(f"/proactive/{run.pk}/").status_code == 404
    assert client.get(f"/proactive/{run.pk}/331002001/hc-bathing/").status_code == 404


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
    response = client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()})
    run_queue()
    panel = client.get(response.url).content.decode()  # type: ignore[attr-defined]
    assert 'href="/proactive/screen/"' in panel  # no area's list: the counts are on the screening page
    html = client.get("/proactive/screen/").content.decode()
    assert "助浴服务" in html
    assert "hc-bathing" in html
    assert ScreeningRun.objects.get().population == REGISTRY


def test_a_job_without_rules_tells_the_officer_what_is_missing(areas: dict[str, Area], var_dir: Path) -> None:
    client = client_for(user(Role.DEPARTMENT_OFFICER, areas["county"]))
    response = client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()})
    run_queue()
    panel = client.get(response.url).content.decode()  # type: ignore[attr-defined]
    assert "还没有正在执行的标准" in panel
    assert Job.objects.get().status == "failed"
    assert not ScreeningRun.objects.exists()


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.CAREGIVER, Role.PROVIDER_ADMIN, Role.AUDITOR])
def test_other_roles_may_not_screen(role: Role, areas: dict[str, Area]) -> None:
    client = client_for(user(role))
    assert client.get("/proactive/screen/").status_code == 403
    assert client.post("/proactive/screen/", {"as_of": AS_OF.isoformat()}).status_code == 403
    assert not ScreeningRun.objects.exists()
    assert not Job.objects.exists()


def test_anonymous_is_sent_to_log_in() -> None:
    for response in (Client().get("/proactive/screen/"), Client().post("/proactive/screen/", {"as_of": "2026-11-29"})):
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=/proactive/screen/")  # type: ignore[attr-defined]
    assert not ScreeningRun.objects.exists()
