"""The 防返贫监测 indicators on a hand-made world, counted by hand.

Reference date D = 2026-06-30, period 2026-01-01..D.  Settlements: s1 (兴义市,
黄草街道), s2 (兴义市), s3 (钟山区, another prefecture).

Records (one household each):

====  ==  =========  ==========  ==========  ==========  =================  ==============
rec   at  category   identified  removed     state       risks              note
====  ==  =========  ==========  ==========  ==========  =================  ==============
r1    s1  edge       2026-03-01  —           monitored   01, 0201, 0202     02 counted once
r2    s1  unstable   2026-06-30  —           monitored   0203               identified on D
r3    s1  sudden     2026-07-01  —           monitored   01                 after D: not yet
r4    s1  edge       2025-05-01  2026-06-30  removed     07                 removed on D: not
                                                                            monitored; eliminated
r5    s1  edge       2025-01-01  2025-12-31  removed     01                 eliminated before
r6    s1  edge       —           —           identifying (lead 2026-06-14)  overdue (16 days)
r7    s1  edge       —           —           identifying (lead 2026-06-15)  15 days: not overdue
r8    s2  sudden     2026-01-10  —           removing (lead 2026-06-01)     monitored and overdue
r9    s3  edge       2026-02-01  —           monitored   01
====  ==  =========  ==========  ==========  ==========  =================  ==============

Alerts at s1: a1 新预警 (低收入, 06-01) open; a2 已核实 (零就业) open; a3 已排除 on D:
closed; a4 已排除 on 07-02 (未入住): open on D; a5 原因消失 06-15: closed; a6 新预警
raised 07-01: not yet; a7 纳入监测 06-20: closed.  s3: a8 新预警 (低收入) open.
"""

import datetime
from types import SimpleNamespace

import pytest

from communities.models import Settlement
from communities.tests.factories import HouseholdFactory, SettlementFactory
from governance.indicators.monitoring import monitoring, monitoring_flows
from governance.models import (
    AlertState,
    EarlyWarningAlert,
    EarlyWarningRule,
    MonitoringRecord,
    MonitoringRisk,
    RecordState,
    RuleKind,
)
from relocation.dashboards import links
from relocation.dashboards.engine import add_sums, evaluate
from relocation.dashboards.registry import DOWN, NEUTRAL, UP, Window, registry

D = datetime.date(2026, 6, 30)
WINDOW = Window(start=datetime.date(2026, 1, 1), reference_date=D, income_year=2025)


def d(text):
    return datetime.date.fromisoformat(text) if text else None


@pytest.fixture
def ind_world(region_tree):
    rt = region_tree
    s1 = SettlementFactory(name="一号", county=rt.xingyi, township=rt.huangcao)
    s2 = SettlementFactory(name="二号", county=rt.xingyi)
    s3 = SettlementFactory(name="三号", county=rt.zhongshan)
    where = {"s1": s1, "s2": s2, "s3": s3}
    records = {}
    for key, at, category, identified, removed, state, started, risks in (
        ("r1", "s1", "edge", "2026-03-01", None, "monitored", "2026-02-20", ["01", "0201", "0202"]),
        ("r2", "s1", "unstable", "2026-06-30", None, "monitored", "2026-06-20", ["0203"]),
        ("r3", "s1", "sudden", "2026-07-01", None, "monitored", "2026-06-20", ["01"]),
        ("r4", "s1", "edge", "2025-05-01", "2026-06-30", "removed", "2026-06-20", ["07"]),
        ("r5", "s1", "edge", "2025-01-01", "2025-12-31", "removed", "2025-12-20", ["01"]),
        ("r6", "s1", "edge", None, None, "identifying", "2026-06-14", []),
        ("r7", "s1", "edge", None, None, "identifying", "2026-06-15", []),
        ("r8", "s2", "sudden", "2026-01-10", None, "removing", "2026-06-01", ["04"]),
        ("r9", "s3", "edge", "2026-02-01", None, "monitored", "2026-01-20", ["01"]),
    ):
        started = d(started)
        records[key] = MonitoringRecord.objects.create(
            household=HouseholdFactory(settlement=where[at]),
            category=category,
            lead_source="survey",
            state=state,
            procedure_started_on=started,
            due_on=started + datetime.timedelta(days=15),
            identified_on=d(identified),
            removed_on=d(removed),
            risk_eliminated=removed is not None,
        )
        for code in risks:
            MonitoringRisk.objects.create(record=records[key], code=code)
    rules = {
        kind: EarlyWarningRule.objects.create(kind=kind, province=rt.guizhou, year=2026)
        for kind in RuleKind.values
    }
    alerts = {}
    for key, at, kind, state, raised, reviewed, gone in (
        ("a1", "s1", "low_income", "new", "2026-06-01", None, None),
        ("a2", "s1", "zero_employment", "verified", "2026-06-01", "2026-06-05", None),
        ("a3", "s1", "not_moved_in", "excluded", "2026-05-01", "2026-06-30", None),
        ("a4", "s1", "not_moved_in", "excluded", "2026-05-01", "2026-07-02", None),
        ("a5", "s1", "job_ended", "cleared", "2026-05-01", None, "2026-06-15"),
        ("a6", "s1", "income_drop", "new", "2026-07-01", None, None),
        ("a7", "s1", "low_income", "monitored", "2026-06-01", "2026-06-20", None),
        ("a8", "s3", "low_income", "new", "2026-06-01", None, None),
    ):
        alerts[key] = EarlyWarningAlert.objects.create(
            rule=rules[kind],
            kind=kind,
            household=HouseholdFactory(settlement=where[at]),
            state=state,
            raised_on=d(raised),
            reviewed_on=d(reviewed),
            cause_gone_on=d(gone),
        )
    return SimpleNamespace(s1=s1, s2=s2, s3=s3, records=records, alerts=alerts, rt=rt)


def figures(world):
    settlements = Settlement.objects.all()
    result = {s: dict(v) for s, v in monitoring(settlements, WINDOW).items()}
    for s, values in monitoring_flows(settlements, [WINDOW])(WINDOW).items():
        result.setdefault(s, {}).update(values)
    return result


def value(key, sums):
    return registry.indicators[key].evaluate(sums)


@pytest.mark.django_db
def test_per_settlement_components(ind_world, django_assert_num_queries):
    w = ind_world
    with django_assert_num_queries(4):
        stock = monitoring(Settlement.objects.all(), WINDOW)
    assert stock[w.s1.pk] == {
        "monitored_edge": 1,
        "monitored_unstable": 1,
        "monitored_risk_01": 1,
        "monitored_risk_02": 2,  # r1 (0201 and 0202: once) and r2 (0203)
        "open_alerts_low_income": 1,
        "open_alerts_zero_employment": 1,
        "open_alerts_not_moved_in": 1,
        "overdue_identifications": 1,
        "monitored_households": 2,
        "open_alerts": 3,
    }
    assert stock[w.s2.pk] == {
        "monitored_sudden": 1,
        "monitored_risk_04": 1,
        "overdue_identifications": 1,
        "monitored_households": 1,
        "open_alerts": 0,
    }
    assert stock[w.s3.pk]["monitored_households"] == 1
    assert stock[w.s3.pk]["open_alerts_low_income"] == 1
    with django_assert_num_queries(1):
        flows = monitoring_flows(Settlement.objects.all(), [WINDOW])(WINDOW)
    assert flows == {w.s1.pk: {"risk_eliminated": 1}}  # r4 on D; r5 before the period


@pytest.mark.django_db
def test_indicators_and_roll_up(ind_world):
    w = ind_world
    per = figures(w)
    county = add_sums([per[w.s1.pk], per[w.s2.pk]])  # 兴义市
    province = add_sums(per.values())
    assert value("monitored_households", county) == 3
    assert value("monitored_households", province) == 4
    assert [(str(label), n) for label, n in value("monitored_households_by_kind", county)] == [
        ("脱贫不稳定户", 1),
        ("边缘易致贫户", 1),
        ("突发严重困难户", 1),
    ]
    by_risk = {str(label): n for label, n in value("monitored_households_by_risk", province)}
    assert (
        by_risk["因病"],
        by_risk["因自然灾害"],
        by_risk["因缺劳动力"],
        by_risk["因务工就业不稳"],
    ) == (
        2,
        2,
        1,
        0,
    )
    assert value("risk_eliminated", province) == 1
    assert value("open_alerts", county) == 3
    assert value("open_alerts", province) == 4
    by_rule = {str(label): n for label, n in value("open_alerts_by_rule", province)}
    assert by_rule["人均纯收入低于监测线或在监测线上浮范围内"] == 2
    assert by_rule["务工结束超过规定天数未再就业"] == 0  # a5 closed by the scan on 06-15
    assert value("overdue_identifications", county) == 2
    assert value("overdue_identifications", add_sums([per[w.s3.pk]])) == 0
    assert evaluate([registry.indicators["monitored_households"]], {}) == {
        "monitored_households": 0
    }


def test_directions():
    expected = {
        "monitored_households": NEUTRAL,
        "monitored_households_by_kind": NEUTRAL,
        "monitored_households_by_risk": NEUTRAL,
        "risk_eliminated": UP,
        "open_alerts": DOWN,
        "open_alerts_by_rule": DOWN,
        "overdue_identifications": DOWN,
    }
    assert {k: registry.indicators[k].direction for k in expected} == expected
    assert all(registry.indicators[k].section == "monitoring" for k in expected)


@pytest.mark.django_db
def test_links_show_the_rows_behind_the_figures(ind_world, client, superuser):
    w = ind_world
    client.force_login(superuser)
    area = links.settlement_area(w.s1.pk)

    def rows(url):
        response = client.get(url)
        assert response.status_code == 200
        return {obj.pk for obj in response.context["cl"].result_list}

    r = w.records
    link = registry.indicators["monitored_households_by_kind"].link
    assert rows(link(area, WINDOW)) == {r["r1"].pk, r["r2"].pk}
    assert rows(link(area, WINDOW, "边缘易致贫户")) == {r["r1"].pk}
    assert rows(link(w.rt.xingyi.prefix, WINDOW)) == {r["r1"].pk, r["r2"].pk, r["r8"].pk}
    risk = registry.indicators["monitored_households_by_risk"].link
    assert rows(risk(area, WINDOW, "因自然灾害")) == {r["r1"].pk, r["r2"].pk}
    assert rows(registry.indicators["risk_eliminated"].link(area, WINDOW)) == {r["r4"].pk}
    assert rows(registry.indicators["overdue_identifications"].link(None, WINDOW)) == {
        r["r6"].pk,
        r["r8"].pk,
    }
    a = w.alerts
    alert_link = registry.indicators["open_alerts_by_rule"].link
    assert rows(alert_link(area, WINDOW)) == {a["a1"].pk, a["a2"].pk, a["a4"].pk}
    assert rows(alert_link(None, WINDOW, "人均纯收入低于监测线或在监测线上浮范围内")) == {
        a["a1"].pk,
        a["a8"].pk,
    }


@pytest.mark.django_db
def test_changes_name_the_settlements_touched(ind_world):
    from django.utils import timezone

    from governance.indicators.monitoring import monitoring_changes

    since = timezone.now()
    assert monitoring_changes(since) == set()
    record = ind_world.records["r9"]
    MonitoringRisk.objects.create(record=record, code="99")
    assert monitoring_changes(since) == {ind_world.s3.pk}
    alert = ind_world.alerts["a1"]
    alert.state = AlertState.VERIFIED
    alert.save()
    assert monitoring_changes(since) == {ind_world.s1.pk, ind_world.s3.pk}
    assert record.state == RecordState.MONITORED
