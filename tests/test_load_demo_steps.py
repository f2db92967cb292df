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


@pytest.mark.django_db
def test_verbosity_2_marks_where_each_step_starts_and_ends():
    import re

    from relocation.demo import steps

    out = io.StringIO()
    call_command("load_demo", "--households=30", "--only=employment", verbosity=2, stdout=out)
    marks = re.findall(r"^\[步骤 (\w+)\] (开始|结束：[\d.]+ 秒)", out.getvalue(), re.M)
    keys = [step.key for step in steps() if step.key in ("communities", "employment")]
    expected = [(key, mark) for key in keys for mark in ("开始", "结束")]
    assert [(key, mark[:2]) for key, mark in marks] == expected
    # The employment report comes between its own marks.
    text = out.getvalue()
    start, end = text.index("[步骤 employment] 开始"), text.index("[步骤 employment] 结束")
    assert "就业与收入演示数据已生成" in text[start:end]


@pytest.mark.django_db
def test_default_verbosity_prints_no_step_marks():
    out = io.StringIO()
    call_command("load_demo", "--households=30", "--only=communities", stdout=out)
    assert "[步骤" not in out.getvalue()


@pytest.mark.django_db
def test_long_steps_say_how_far_they_are():
    """A step over 50 settlements or more prints a line at each tenth of them, so that
    the 2-million-people demo's minutes-long steps are never silent."""
    import re

    out = io.StringIO()
    call_command(
        "load_demo",
        "--households=100",
        "--settlements=50",
        "--only=employment,services_protection,governance_org,dashboards",
        stdout=out,
    )
    text = out.getvalue()
    for label in ("就业与收入", "社会保障待遇记录", "社区治理"):
        done = [int(n) for n in re.findall(rf"  {label}：已处理 (\d+)/50 个安置点（\d+ 秒）", text)]
        assert done == list(range(5, 51, 5)), (label, done)
    assert "数据看板：正在计算往期快照 16 期和当期指标……" in text


def test_progress_is_silent_for_a_small_step_or_without_stdout():
    from communities.demo.generate import Progress

    out = io.StringIO()
    small = Progress(out, "社区治理", 49)
    for done in range(1, 50):
        small.tick(done)
    small.say("  权益落实记录：由数据库逐户生成……")
    assert out.getvalue() == ""
    silent = Progress(None, "社区治理", 500)
    silent.tick(50)  # nothing to write to, and no error
    silent.say("line")
    progress = Progress(out, "社区治理", 500)
    progress.tick(49)
    progress.tick(50)
    progress.say("|own line")
    assert out.getvalue() == "  社区治理：已处理 50/500 个安置点（0 秒）|own line"
