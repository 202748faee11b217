from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fuwu.standards.models import StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini-standard.yaml"
REPO = Path(__file__).parent.parent


@pytest.fixture
def write_standard(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a variant of the mini standard: ``write_standard(old, new)`` replaces text."""

    def write(old: str = "", new: str = "", *, name: str = "variant.yaml") -> Path:
        text = MINI.read_text(encoding="utf-8")
        if old:
            assert old in text, f"fixture text not found: {old!r}"
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def mini_version(db: None) -> StandardVersion:
    standards_load(parsed=parse_many([MINI]), actor=None)
    return StandardVersion.objects.get(standard__key="test-home-visits")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Real hashing costs ~0.3 s a login; tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_cache(settings: Any) -> None:
    # Each test gets an empty in-memory cache, never the demo's files under var/.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
