"""``load_demo`` runs the steps that may start together side by side (PostgreSQL).

A step that names the steps it builds on (``after``) starts as soon as they are
done; one that names none runs alone.  On PostgreSQL with ``--workers`` above 1
the steps run in forked processes, each in its own transaction; elsewhere one
after another.  The rows are the same either way (``test_demo_processes``
compares them); here: the order, a failing step, a killed one.
"""

import io
import os
import re
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

import relocation.demo as demo
from communities.models import Household, Region
from employment.models import EmploymentRecord
from relocation.demo.running import ready


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _step(key, *after):
    return SimpleNamespace(key=key, after=after)


ORDERED = [
    _step("communities"),
    _step("employment", "communities"),
    _step("places", "communities"),
    _step("monitoring", "communities", "employment"),
    _step("dashboards"),
    _step("late", "communities"),  # after the dashboards in build order
]


def _keys(steps):
    return [step.key for step in steps]


@pytest.mark.parametrize(
    "done, running, expected",
    [
        pytest.param(set(), set(), ["communities"], id="a-step-naming-none-runs-first-alone"),
        pytest.param({"communities"}, set(), ["employment", "places"], id="both-after-it"),
        pytest.param({"communities"}, {"employment"}, ["places"], id="monitoring-waits"),
        pytest.param(
            {"communities", "employment"}, {"places"}, ["monitoring"], id="its-steps-done"
        ),
        pytest.param(
            {"communities", "employment", "monitoring"}, {"places"}, [], id="dashboards-wait-all"
        ),
        pytest.param(
            {"communities", "employment", "monitoring", "places"},
            set(),
            ["dashboards"],
            id="then-the-dashboards-alone",
        ),
        pytest.param(
            {"communities", "employment", "monitoring", "places", "dashboards"},
            set(),
            ["late"],
            id="a-later-step-waits-for-the-one-before-it-that-runs-alone",
        ),
    ],
)
def test_which_steps_may_start(done, running, expected):
    assert _keys(ready(ORDERED, done, running)) == expected


def _marks(text):
    return re.findall(r"^\[步骤 (\w+)\] (开始|结束)", text, re.M)


@pytest.mark.django_db(transaction=True)
def test_steps_after_the_same_step_run_side_by_side_on_postgresql():
    out = io.StringIO()
    call_command(
        "load_demo",
        "--households=40",
        "--only=employment,services_places,monitoring",
        "--workers=2",
        verbosity=2,
        stdout=out,
    )
    text = out.getvalue()
    marks = _marks(text)
    position = {mark: index for index, mark in enumerate(marks)}
    assert set(marks) == {
        (key, mark)
        for key in ("communities", "employment", "services_places", "monitoring")
        for mark in ("开始", "结束")
    }
    # The communities demo runs alone, first; monitoring builds on employment.
    assert marks[:2] == [("communities", "开始"), ("communities", "结束")]
    assert position[("employment", "结束")] < position[("monitoring", "开始")]
    beside = position[("services_places", "开始")] < position[("employment", "结束")]
    if connection.vendor == "postgresql":
        assert "（可并行的步骤同时运行，最多 2 个）" in text
        assert beside  # both start as soon as the communities demo is done
    else:
        assert "可并行" not in text and not beside
    # A step's report comes just before its end mark, whatever ran beside it.
    start, end = text.index("[步骤 employment] 开始"), text.index("[步骤 employment] 结束")
    assert "就业与收入演示数据已生成" in text[start:end]
    assert "服务设施、活动与表彰演示数据已生成" in text
    assert "首次扫描" in text
    # The demo accounts, added to the closing lines by a step run in another process.
    assert text.rstrip().splitlines()[-1].startswith("  市（州）/省级干部  province")
    assert EmploymentRecord.objects.exists()


def _register(monkeypatch, key, build):
    monkeypatch.setattr(demo, "_STEPS", dict(demo._STEPS))
    demo.register(demo.DemoStep(key, build=build, order=25, after=("communities",)))


def _breaks(context):
    with transaction.atomic():
        Region.objects.filter(code="522301").update(name="改过的兴义市")
        raise RuntimeError("测试故障：写到一半出错")
    yield "不会到这里"


def _dies(context):
    os._exit(3)  # as the kernel's out-of-memory killer would end it
    yield "不会到这里"


@pytest.mark.django_db(transaction=True)
def test_a_failing_step_loses_its_rows_and_the_steps_beside_it_finish(monkeypatch):
    demo.discover()
    _register(monkeypatch, "broken", _breaks)
    err = io.StringIO()
    postgresql = connection.vendor == "postgresql"
    with pytest.raises(CommandError if postgresql else RuntimeError) as failure:
        call_command(
            "load_demo",
            "--households=40",
            "--only=employment,broken",
            "--workers=2",
            stdout=io.StringIO(),
            stderr=err,
        )
    message = str(failure.value)
    if postgresql:
        assert message.startswith("演示步骤 broken 失败，它写入的数据已全部撤销")
        assert "RuntimeError: 测试故障：写到一半出错" in message
        assert "Traceback" in err.getvalue()  # the whole story for whoever runs it
        # Employment ran beside it and kept its rows.
        assert EmploymentRecord.objects.exists()
    else:  # one after another, here: the error itself, as before
        assert "测试故障" in message
    assert Region.objects.get(code="522301").name == "兴义市"  # the broken step's change is gone
    assert Household.objects.count() == 40


@pytest.mark.django_db(transaction=True)
def test_a_step_whose_process_dies_is_named(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("steps run in processes of their own only on PostgreSQL")
    demo.discover()
    _register(monkeypatch, "killed", _dies)
    with pytest.raises(CommandError, match=r"演示步骤 killed 中断.*更少的 --workers"):
        call_command(
            "load_demo",
            "--households=40",
            "--only=services_places,killed",
            "--workers=2",
            stdout=io.StringIO(),
        )
    assert Household.objects.count() == 40
