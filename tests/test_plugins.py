"""A new app plugs in without touching communities/ or the machinery.

``tests.plugin_app`` declares a person-page section (``admin.py``), an indicator
(``indicators.py``), an import kind (``spreadsheets.py``) and a demo step
(``demo.py``).  Installing it is all it takes for the four to appear.
"""

import io
import re
import sys

import pytest
from django.core.management import call_command
from django.test import override_settings

from communities import enums
from communities.models import GridUnit
from communities.plugins import household_page, person_page
from communities.tests.factories import GridUnitFactory, HouseholdFactory, PersonFactory
from relocation import demo as demo_registry
from relocation.dashboards import engine
from relocation.dashboards.registry import registry
from relocation.spreadsheets import kinds as kind_registry

pytestmark = pytest.mark.django_db


def _forget_plugin():
    registry.sections.pop("plugin", None)
    registry.sources.pop("plugin", None)
    registry.indicators.pop("plugin_heads", None)
    kind_registry._KINDS.pop("plugin-grids", None)
    demo_registry._STEPS.pop("plugin_app", None)
    person_page.remove("plugin_app")
    for name in [m for m in sys.modules if m.startswith("tests.plugin_app.")]:
        del sys.modules[name]


@pytest.fixture
def plugin_app(settings):
    try:
        with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "tests.plugin_app"]):
            yield sys.modules["tests.plugin_app.demo"]
    finally:
        _forget_plugin()


@pytest.fixture
def xingyi_people(region_tree):
    settlement = GridUnitFactory(
        name="插件网格", settlement__county=region_tree.xingyi, settlement__name="插件新区"
    ).settlement
    for n, (head, member) in enumerate((("甲户主", "甲成员"), ("乙户主", "乙成员"))):
        household = HouseholdFactory(settlement=settlement, number=f"PLUG{n}")
        PersonFactory(household=household, name=head, relationship=enums.Relationship.HEAD)
        PersonFactory(household=household, name=member, relationship=enums.Relationship.SON)
    return settlement


def test_nothing_of_it_without_the_app():
    assert "plugin_heads" not in registry.indicators
    assert kind_registry.get_kind("plugin-grids") is None
    assert "plugin_app" not in [step.key for step in demo_registry.steps()]
    assert "plugin_app" not in person_page.section_keys()
    # What the installed apps register is there, through the same hook (employment first).
    assert person_page.section_keys()[0] == household_page.section_keys()[0] == "employment"
    assert "services_protection" in person_page.section_keys()
    assert "governance_org" in household_page.section_keys()


def test_person_page_section(plugin_app, client, superuser, xingyi_people):
    client.force_login(superuser)
    html = client.get("/admin/communities/person/").content.decode()
    assert "插件：只看户主" in html
    assert "就业情况" in html  # employment's work-list filter, through the same hook
    html = client.get("/admin/communities/person/?plugin_head=1").content.decode()
    assert "甲户主" in html and "乙户主" in html
    assert "甲成员" not in html and "乙成员" not in html
    html = client.get("/admin/communities/person/export/").content.decode()
    assert "插件：姓名表" in html
    # Only the person page: the household page has no such section.
    html = client.get("/admin/communities/household/").content.decode()
    assert "插件：只看户主" not in html


def test_indicator_on_the_dashboard(plugin_app, client, superuser, xingyi_people):
    engine.refresh_live(full=True)
    client.force_login(superuser)
    html = client.get("/dashboard/522301/").content.decode()
    assert "插件：户主人数" in html
    match = re.search(
        r'<tr data-key="total">.*?<td class="num" data-key="plugin_heads">([^<]*)<', html, re.S
    )
    assert match and match.group(1).strip() == "2"


def test_import_kind_on_the_import_page(plugin_app, client, superuser, xingyi_people):
    client.force_login(superuser)
    html = client.get("/admin/imports/").content.decode()
    assert "插件：网格名册" in html
    response = client.get("/admin/imports/export/plugin-grids.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0] == "网格名称"
    assert sorted(lines[1:]) == sorted(GridUnit.objects.values_list("name", flat=True))
    assert "插件网格" in lines


def test_demo_step_runs_in_order_and_is_removed_in_reverse(plugin_app):
    plugin_app.REMOVED.clear()
    out = io.StringIO()
    call_command("load_demo", "--households", "30", "--seed", "5", stdout=out)
    lines = out.getvalue().splitlines()
    mine = lines.index("  插件演示：6 个演示安置点")
    assert any("就业与收入演示数据" in line for line in lines[:mine])  # after employment (20)
    assert any("数据看板" in line for line in lines[mine:])  # before the dashboards (1000)
    assert lines.index("演示账号（仅供演示环境使用，请勿用于生产环境）：") > mine
    call_command("load_demo", "--households", "30", "--seed", "5", "--reset", stdout=io.StringIO())
    # Removed before the communities step removed the settlements it counts.
    assert plugin_app.REMOVED == [6]
