"""load_demo --only and --no-history, across the apps' demo steps."""

import io

import pytest
from django.core.management import call_command

from communities.models import Household
from employment.models import EmploymentRecord
from relocation.dashboards.models import Period


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_load_demo_national_only_and_no_history():
    out = io.StringIO()
    call_command(
        "load_demo",
        "--national",
        "--households=300",
        "--settlements=40",
        "--only=dashboards,communities",
        "--no-history",
        stdout=out,
    )
    text = out.getvalue()
    assert "300 户" in text.splitlines()[0]
    assert "[22/22] 海南省" in text
    assert Household.objects.count() == 300
    # Only the running periods were stored (no year of history).
    today_kinds = set(Period.objects.values_list("kind", flat=True))
    assert Period.objects.count() == len(today_kinds)
    # --only left the employment step out.
    assert not EmploymentRecord.objects.exists()


@pytest.mark.django_db
def test_only_adds_the_steps_a_step_builds_on():
    out = io.StringIO()
    call_command("load_demo", "--households=30", "--only=employment", stdout=out)
    # employment builds on communities: both ran; nothing else did.
    assert Household.objects.count() == 30
    assert EmploymentRecord.objects.exists()
    assert "数据看板" not in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [["--settlements=0"], ["--households=10", "--settlements=11"], ["--households=0"]],
)
def test_load_demo_refuses_impossible_sizes(args):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="必须"):
        call_command("load_demo", *args, stdout=io.StringIO())
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_every_step_that_builds_says_how_long_it_took():
    from relocation.demo import steps

    out = io.StringIO()
    call_command("load_demo", "--households=30", stdout=out)
    lines = out.getvalue().splitlines()
    # One 用时 line per step (the dashboards' in its one report line).
    assert sum("用时" in line for line in lines) == len(steps())
