"""Real worker processes on the test database: one killed with SIGKILL in the middle of storing a registry
screening, the next finishing it; and two people using the site while a worker screens, without an error."""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area
from fuwu.eligibility.models import Candidate, RunStatus, ScreeningCount, ScreeningRun
from fuwu.eligibility.registry import latest_registry_run
from fuwu.jobs.models import Job, JobStatus
from fuwu.jobs.services import job_start, jobs_reap
from tests.jobs.conftest import AS_OF, populate, worker_process

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-test-password-1"
HERE = Path(__file__).parent


def officer() -> User:
    department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    return User.objects.create_user(
        "screen-officer",
        password=PASSWORD,
        role=Role.DEPARTMENT_OFFICER,
        area=Area.objects.get(code="331002"),
        department=department,
    )


def test_a_worker_killed_mid_load_leaves_nothing_shown_and_the_retry_completes(
    file_database: str, tmp_path: Path
) -> None:
    populate(tmp_path, 2_000)
    user = officer()
    job = job_start(kind="eligibility.registry_screen", actor=user, params={"as_of": AS_OF})

    dying = worker_process(
        file_database,
        tmp_path,
        script=str(HERE / "dying_worker.py"),
        env={"KILL_IN_MODEL": "Candidate"},
    )
    out, _ = dying.communicate(timeout=300)
    assert dying.returncode == -signal.SIGKILL, out

    # What the kill left: a running job and a running run. Its storing commits in short transactions (the
    # township counts first, then the candidates), so some rows may be there, but nothing shows a running run.
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    killed = ScreeningRun.objects.get()
    assert killed.status == RunStatus.RUNNING
    assert ScreeningCount.objects.filter(run=killed).exists()  # committed before the kill
    assert latest_registry_run() is None
    client = Client()
    client.force_login(user)
    assert client.get(f"/proactive/{killed.pk}/").status_code == 404
    assert "进行中" in client.get(f"/jobs/{job.pk}/").content.decode()

    # The watchdog, once the heartbeat is old, queues it again; the next worker cleans up and finishes.
    assert jobs_reap(now=timezone.now() + dt.timedelta(minutes=5)) == [job]
    survivor = worker_process(file_database, tmp_path)
    out, _ = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, out

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2), job.error
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert not Candidate.objects.filter(run=killed).exists()
    assert not ScreeningCount.objects.filter(run=killed).exists()  # the abandoned attempt's rows are gone
    done = latest_registry_run()
    assert done is not None
    assert done.pk == job.result["run"] != killed.pk
    candidates = Candidate.objects.filter(run=done).count()
    assert done.stored_rows == candidates + ScreeningCount.objects.filter(run=done).count()
    assert done.result_rows == sum(c["eligible"] + c["unknown"] for c in done.counts.values()) > candidates > 0
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "户籍登记人员筛查完成" in page
    assert client.get(f"/proactive/{done.pk}/").status_code == 200


def test_two_people_use_the_site_while_a_worker_screens_the_registry(file_database: str, tmp_path: Path) -> None:
    populate(tmp_path, 5_000)
    user = officer()
    User.objects.create_user("a-resident", password=PASSWORD, role=Role.RESIDENT)
    job = job_start(kind="eligibility.registry_screen", actor=user, params={"as_of": AS_OF})
    # The site waits up to 60 s for SQLite's write lock (settings); these people wait 2 s at most, so a
    # screening that held the lock for seconds (as one long transaction did) answers them with a 500 here.
    options = connection.settings_dict.setdefault("OPTIONS", {})
    if connection.vendor == "sqlite":
        options["timeout"] = 2
    connections.close_all()

    statuses: list[tuple[str, int, str]] = []
    # Each person's sessions that began and ended while the job was running, the worker held before storing.
    held_sessions = {"officer": 0, "resident": 0}
    stop = threading.Event()
    gate = tmp_path / "gate"
    gate.mkdir()

    def officer_session() -> list[tuple[str, int]]:
        client = Client(raise_request_exception=False)  # a 500 is an answer to count, not an exception
        seen = [
            ("login", client.post("/accounts/login/", {"username": "screen-officer", "password": PASSWORD}).status_code)
        ]
        seen.append(("residents", client.get("/residents/").status_code))
        seen.append(("search", client.post("/residents/", {"q": "王"}).status_code))
        seen.append(("screen page", client.get("/proactive/screen/").status_code))
        seen.append(("job", client.get(f"/jobs/{job.pk}/panel/").status_code))
        seen.append(("logout", client.post("/accounts/logout/").status_code))
        return seen

    def resident_session() -> list[tuple[str, int]]:
        client = Client(raise_request_exception=False)
        seen = [
            ("login", client.post("/accounts/login/", {"username": "a-resident", "password": PASSWORD}).status_code)
        ]
        seen.append(("menu", client.get("/").status_code))
        seen.append(("english", client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code))
        seen.append(("self-check", client.get("/check/").status_code))
        seen.append(("logout", client.post("/accounts/logout/").status_code))
        return seen

    crashed: list[BaseException] = []

    def person(name: str, session: Callable[[], list[tuple[str, int]]]) -> None:
        try:
            while not stop.is_set():
                held = not (gate / "open").exists()
                running = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists()
                for step, status in session():
                    statuses.append((name, status, step))
                if held and running and not (gate / "open").exists():
                    held_sessions[name] += 1
        except BaseException as exc:  # e.g. "database is locked" outside a request
            crashed.append(exc)
        finally:
            connections.close_all()

    people = [
        threading.Thread(target=person, args=("officer", officer_session)),
        threading.Thread(target=person, args=("resident", resident_session)),
    ]
    # The worker screens, then holds before storing (tests/jobs/gated_worker.py) until both people have used
    # the site while it ran; then it stores while they go on. However slow the machine, they overlap it.
    worker = worker_process(file_database, tmp_path, script=str(HERE / "gated_worker.py"), env={"GATE_DIR": str(gate)})
    try:
        deadline = time.monotonic() + 300
        while not (gate / "reached").exists():
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, "the worker never reached the end of its screening"
            time.sleep(0.05)
        for thread in people:
            thread.start()
        while min(held_sessions.values()) < 1 and not crashed:
            assert time.monotonic() < deadline, f"the sessions did not finish while the worker waited: {statuses}"
            time.sleep(0.05)
    finally:
        (gate / "open").touch()
        try:
            out, _ = worker.communicate(timeout=300)
        finally:
            time.sleep(0.5)
            stop.set()
            for thread in people:
                if thread.is_alive():
                    thread.join(timeout=120)
    assert worker.returncode == 0, out
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert crashed == []
    errors = [s for s in statuses if s[1] >= 500]
    stored = (gate / "stored").read_text()
    assert errors == [], f"storing the results took {stored} s, and someone waited 2 s for the lock: {errors}"
    assert {s[1] for s in statuses} <= {200, 302}, statuses
    assert min(held_sessions.values()) >= 1, "the sessions must overlap the screening"
    assert {name for name, _, _ in statuses} == {"officer", "resident"}
