import pytest
from django.core.cache import cache

from communities.tests.conftest import world  # noqa: F401  (the shared data set)
from relocation.api.models import ApiToken


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the throttle's counters live in the cache
    yield
    cache.clear()


@pytest.fixture
def bearer():
    """``bearer(user)`` → the Authorization header of a new token for ``user``."""

    def make(user, **kw):
        _token, key = ApiToken.issue(name=f"系统 {user.username}", user=user, **kw)
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return make
