"""The English catalogue is complete and its compiled form is current."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

PO = REPO / "fuwu" / "locale" / "en" / "LC_MESSAGES" / "django.po"

pytestmark = pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs gettext's msgfmt")


def msgfmt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["msgfmt", *args], capture_output=True, text=True, check=True)  # noqa: S603, S607


def test_every_message_is_translated() -> None:
    stats = msgfmt("--check", "--statistics", "-o", "/dev/null", str(PO)).stderr
    assert "untranslated" not in stats, stats
    assert "fuzzy" not in stats, stats


def test_compiled_catalogue_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    msgfmt("-o", str(fresh), str(PO))
    assert fresh.read_bytes() == PO.with_suffix(".mo").read_bytes(), "run `make messages`"
