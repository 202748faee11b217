"""Hostile spreadsheets through the page an officer uses (/residents/import/): refused with a message, never a 500,
never parsed into memory. The files are generated in tests/common/hostile_sheets.py."""

from __future__ import annotations

import io
import resource
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fuwu.accounts.models import Role, User
from fuwu.common import sheet_guard
from fuwu.jobs.models import Job
from fuwu.jobs.worker import run_queue
from fuwu.residents.models import Person, PersonImport
from fuwu.residents.services import persons_import
from tests.common import hostile_sheets
from tests.common.formula_cells import HOSTILE, assert_inert_xlsx
from tests.residents.test_import import GOOD, HEADER, upload, write_csv

pytestmark = pytest.mark.django_db

HOSTILE_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip-bomb": (hostile_sheets.zip_bomb, "解压后过大"),
    "xxe": (hostile_sheets.xxe, "文档类型定义"),
    "billion-laughs": (hostile_sheets.billion_laughs, "文档类型定义"),
}


def officer_client(make_user: Callable[..., User]) -> Client:
    client = Client()
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    return client


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_a_hostile_workbook_is_refused_on_the_upload_page(make_user: Callable[..., User], kind: str) -> None:
    make, message = HOSTILE_FILES[kind]
    data = make()
    assert len(data) < 1024 * 1024
    client = officer_client(make_user)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    response = client.post("/residents/import/", {"file": SimpleUploadedFile(f"{kind}.xlsx", data)})
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KB: under 200 MB more
    assert response.status_code == 200  # the form again, with the reason; nothing was queued
    assert message in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_the_import_itself_refuses_them_too(make_user: Callable[..., User], kind: str) -> None:
    """Whatever reaches the reader without the form (the job, the command line) meets the same guard."""
    make, message = HOSTILE_FILES[kind]
    report = persons_import(
        file=io.BytesIO(make()), filename=f"{kind}.xlsx", actor=make_user(Role.DEPARTMENT_OFFICER), valid_only=True
    )
    assert report.record.outcome == PersonImport.Outcome.REJECTED
    [error] = report.errors
    assert message in error.problem
    assert Person.objects.count() == 0


def test_a_sheet_that_claims_every_cell_is_read_in_bounded_time(make_user: Callable[..., User]) -> None:
    started = time.monotonic()
    report = persons_import(
        file=io.BytesIO(hostile_sheets.every_cell()),
        filename="wide.xlsx",
        actor=make_user(Role.DEPARTMENT_OFFICER),
        valid_only=True,
    )
    assert time.monotonic() - started < 10
    # Read as far as Excel's last row, 201 columns wide; a cell beyond the 200th column is not read.
    assert report.record.outcome == PersonImport.Outcome.REJECTED
    assert Person.objects.count() == 0


def test_too_many_rows_is_a_message_on_the_job_page(
    make_user: Callable[..., User], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheet_guard, "LIMITS", sheet_guard.Limits(rows=3))
    client = officer_client(make_user)
    job = upload(client, write_csv(tmp_path / "long.csv", GOOD))  # four rows: only known when they are read
    run_queue()
    job.refresh_from_db()
    assert job.status == "succeeded"  # the import ran and refused the file: a report, not a crash
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "没有导入任何数据" in page
    record = PersonImport.objects.get()
    assert "名单超过 3 行" in record.errors[0]["problem"]
    assert Person.objects.count() == 0


def test_a_csv_too_big_or_malformed_is_refused(make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER)
    client = Client()
    client.force_login(officer)
    monkeypatch.setattr(sheet_guard, "LIMITS", sheet_guard.Limits(upload_bytes=1000))
    big = ",".join(HEADER).encode() + b"\n" + b"x," * 1000
    response = client.post("/residents/import/", {"file": SimpleUploadedFile("big.csv", big)})
    assert response.status_code == 200
    assert "文件超过" in response.content.decode()
    monkeypatch.undo()
    # A field longer than the csv module allows (128 KB) used to escape as csv.Error.
    huge_field = (",".join(HEADER) + '\n"' + "x" * 200_000 + '"\n').encode()
    report = persons_import(file=io.BytesIO(huge_field), filename="f.csv", actor=officer, valid_only=True)
    assert "CSV 文件格式有误" in report.errors[0].problem


def test_a_command_line_file_may_be_bigger_than_an_upload(
    make_user: Callable[..., User], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheet_guard, "LIMITS", sheet_guard.Limits(upload_bytes=100))
    report = persons_import(path=write_csv(tmp_path / "ok.csv", GOOD), actor=None, valid_only=False)
    assert report.written, report.errors


def test_the_error_report_neutralises_a_header_typed_as_a_formula(
    make_user: Callable[..., User], tmp_path: Path
) -> None:
    client = officer_client(make_user)
    job = upload(client, write_csv(tmp_path / "f.csv", GOOD, header=[*HEADER, HOSTILE]))
    run_queue()
    job.refresh_from_db()
    record = PersonImport.objects.get()
    response = client.get(f"/residents/import/{record.pk}/errors.xlsx")
    assert response.status_code == 200
    assert_inert_xlsx(response.content)
