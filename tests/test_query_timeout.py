"""A query PostgreSQL cancels (the web service's statement timeout) gives a page that says
so, keeps nothing the request wrote, and leaves the next request working."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.contrib.admin.views.main import ChangeList
from django.db import OperationalError, connection
from django.urls import reverse

from communities.admin import HouseholdAdmin
from communities.tests.conftest import world  # noqa: F401
from employment.tests.conftest import form_post_data
from relocation.query_timeout import is_cancelled_query

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def cancelled_query():
    """What a cancelled query raises: on PostgreSQL for real (a 20 ms limit on a 1 s
    sleep), elsewhere the same exception built by hand."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 20")
            cursor.execute("SELECT pg_sleep(1)")
        raise AssertionError("PostgreSQL did not cancel the query")
    error = OperationalError("canceling statement due to statement timeout")
    error.__cause__ = psycopg.errors.QueryCanceled()
    raise error


def test_a_cancelled_list_query_gives_a_chinese_503_and_the_next_page_works(client, world):  # noqa: F811
    client.force_login(world.county)
    households = reverse("admin:communities_household_changelist")
    with mock.patch.object(
        ChangeList, "get_results", side_effect=lambda request: cancelled_query()
    ):
        response = client.get(households)
    assert response.status_code == 503
    body = response.content.decode()
    assert "查询超时" in body and "请缩小范围后再试" in body
    assert "Traceback" not in body
    # The same connection serves the next request.
    response = client.get(households)
    assert response.status_code == 200
    assert world.households["a"].number in response.content.decode()


def test_a_cancelled_save_keeps_nothing_it_wrote(client, world):  # noqa: F811
    household = world.households["a"]
    client.force_login(world.admin)
    url = reverse("admin:communities_household_change", args=[household.pk])
    data = form_post_data(client.get(url))
    data["origin_village"] = "改过的村"
    with mock.patch.object(
        HouseholdAdmin, "save_related", side_effect=lambda *args: cancelled_query()
    ):
        response = client.post(url, data)
    assert response.status_code == 503
    household.refresh_from_db()
    assert household.origin_village != "改过的村"  # the household row was written, then rolled back
    assert not household.history.filter(origin_village="改过的村").exists()


def test_other_database_errors_are_not_taken_for_a_timeout(client, world):  # noqa: F811
    client.force_login(world.county)
    error = OperationalError("server closed the connection unexpectedly")
    assert not is_cancelled_query(error)
    with (
        mock.patch.object(ChangeList, "get_results", side_effect=error),
        pytest.raises(OperationalError),
    ):
        client.get(reverse("admin:communities_household_changelist"))


def settings_options(**env):
    """The PostgreSQL connection options the settings build from ``env`` (no connection)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "REPLICA"))}
    clean.update(
        env, ENV_FILE=str(ROOT / "no-such.env"), DJANGO_SETTINGS_MODULE="relocation.settings"
    )
    script = (
        "import json, django; django.setup(); from django.conf import settings; print(json.dumps("
        "{k: d.get('OPTIONS', {}).get('options', '') for k, d in settings.DATABASES.items()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_server_settings_apply_to_every_postgresql_connection():
    url = "postgres://u@127.0.0.1:5432/x"
    limited = settings_options(
        DATABASE_URL=url, REPLICA_DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT_MS="115000"
    )
    assert limited == {
        "default": "-c jit=off -c statement_timeout=115000",
        "replica": "-c jit=off -c statement_timeout=115000",
    }
    assert settings_options(DATABASE_URL=url) == {"default": "-c jit=off"}  # commands, the worker
    assert settings_options(DATABASE_URL=url, POSTGRES_JIT="true") == {"default": ""}


def test_the_web_service_sets_the_limit_under_gunicorns_timeout(monkeypatch):
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT_MS", raising=False)
    monkeypatch.setenv("GUNICORN_TIMEOUT", "60")
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert config["timeout"] == 60
    assert os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] == "55000"
    # An operator's own value is kept.
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "30000")
    runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] == "30000"
