from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _chinese() -> Iterator[None]:
    # Messages are asserted in Chinese, whatever language an earlier test's page left active.
    with translation.override("zh-hans"):
        yield
