"""Property-based tests against the served OpenAPI document (schemathesis).

Every operation is called with inputs generated from the document (ids,
cursors, areas, dates, page sizes, odd strings) as a county system account:
no answer may be a server error, and every answer must match the document
(status code, content type, body schema).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from relocation.api.auth import ApiRateThrottle
from relocation.api.models import ApiToken

application = get_wsgi_application()


@pytest.fixture
def api_schema(world, monkeypatch):
    from relocation.dashboards import engine

    engine.refresh_live(full=True)
    monkeypatch.setattr(ApiRateThrottle, "THROTTLE_RATES", {"api": "100000/min"})
    # Requests go straight to the WSGI application, which closes the database
    # connection after each one; inside a test (one transaction) it must stay
    # open, as django.test.Client arranges.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def county_key(world):
    _token, key = ApiToken.issue(name="省监测系统", user=world.county)
    return key


def _operations(api_schema):
    return [result.ok() for result in api_schema.get_all_operations()]


# One test per operation of the document, generated inside the test because the
# data and the token live in the test's database (schemathesis' own pytest
# loader does not run on pytest 9 yet).
def test_every_operation_is_covered(api_schema):
    paths = {op.path for op in _operations(api_schema)}
    assert {"/api/v1/people/", "/api/v1/people/{id}/", "/api/v1/indicators/"} <= paths
    assert len(paths) >= 11


def test_no_server_error_and_answers_match_the_document(api_schema, county_key):
    headers = {"Authorization": f"Bearer {county_key}"}
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers)

        check()
