"""The applications world (preschool aid on the real student-aid standard) serves the notices' tests too."""

from tests.applications.conftest import world  # noqa: F401 - the fixture, shared
