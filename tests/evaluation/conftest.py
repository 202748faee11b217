"""The home-care world and its month of known counts, shared with the supervision report's tests."""

from tests.homecare.conftest import world  # noqa: F401 - a fixture, used by name
from tests.homecare.test_supervision import built  # noqa: F401 - a fixture, used by name
