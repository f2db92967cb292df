"""The early-warning rules on a hand-made world (see ``warn_fixture``): each rule's
causes counted by hand, alerts never raised twice for one open cause, causes that
disappear before review, thresholds that change between years, and the alert
lifecycle (新预警 → 已核实 → 纳入监测 / 已排除)."""

import datetime
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from employment.models import EmploymentRecord, HouseholdIncome
from governance import monitoring_workflow as wf
from governance.models import (
    AlertState,
    EarlyWarningAlert,
    EarlyWarningRule,
    LeadSource,
    MonitoringCategory,
    MonitoringRecord,
    RecordState,
    RuleKind,
)
from governance.monitoring_scan import causes, scan, validate_parameters

from .monitoring_fixtures import S, warn_fixture  # noqa: F401


def found(warn, kind, on=S):
    """{(household key, person name or "")} the rule finds."""
    by_pk = {h.pk: key for key, h in warn.hh.items()}
    names = {str(p.pk): name for name, p in warn.people.items()}
    return {(by_pk[hh], names.get(subject, "")) for hh, subject in causes(warn.rules[kind], on)}


def alerts(kind=None, **filters):
    qs = EarlyWarningAlert.objects.filter(**filters)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


@pytest.mark.django_db
class TestRules:
    def test_low_income_under_the_line(self, warn):
        # 8,000.00 exactly on the line is not under it.
        assert found(warn, RuleKind.LOW_INCOME) == {("low", ""), ("other", "")}

    def test_low_income_within_a_margin_above_the_line(self, warn):
        rule = warn.rules[RuleKind.LOW_INCOME]
        rule.parameters = {"margin_percent": 10}  # under 8,800
        rule.save()
        assert found(warn, RuleKind.LOW_INCOME) == {("line", ""), ("low", ""), ("other", "")}

    def test_low_income_without_a_line_finds_nothing(self, warn):
        from employment.models import MonitoringLine

        MonitoringLine.objects.all().delete()
        assert found(warn, RuleKind.LOW_INCOME) == set()

    def test_zero_employment(self, warn):
        assert found(warn, RuleKind.ZERO_EMPLOYMENT) == {
            ("zero", ""),
            ("ended91", ""),
            ("ended90", ""),
        }

    def test_income_drop_over_30_percent(self, warn):
        # drop 33.3 % yes; small_drop 25 % and low 6.7 % no; line has no 2024 income.
        assert found(warn, RuleKind.INCOME_DROP) == {("drop", "")}

    def test_seriously_ill_without_insurance(self, warn):
        assert found(warn, RuleKind.ILL_WITHOUT_INSURANCE) == {("ill", "大病未参保")}

    def test_child_turning_six_on_the_day_counts(self, warn):
        assert found(warn, RuleKind.CHILD_OUT_OF_SCHOOL) == {("child", "六岁今天")}
        tomorrow = S + datetime.timedelta(days=1)
        assert found(warn, RuleKind.CHILD_OUT_OF_SCHOOL, tomorrow) == {
            ("child", "六岁今天"),
            ("child", "明天六岁"),
        }

    def test_allocated_but_not_moved_in(self, warn):
        assert found(warn, RuleKind.NOT_MOVED_IN) == {("notmoved", "")}

    def test_job_ended_more_than_n_days_ago(self, warn):
        # 91 days ago: more than 90; 90 days ago: not more.
        assert found(warn, RuleKind.JOB_ENDED) == {("ended91", "户主ended91")}

    def test_a_new_job_clears_job_ended(self, warn):
        EmploymentRecord.objects.create(
            person=warn.people["户主ended91"],
            kind="flexible",
            place="in_county",
            start_date=S - datetime.timedelta(days=10),
        )
        assert found(warn, RuleKind.JOB_ENDED) == set()


@pytest.mark.django_db
class TestScan:
    def test_first_scan_raises_one_alert_per_cause(self, warn):
        result = scan(S)
        raised = {pk: counts["raised"] for pk, counts in result.items()}
        expected = {
            RuleKind.LOW_INCOME: 2,
            RuleKind.ZERO_EMPLOYMENT: 3,
            RuleKind.INCOME_DROP: 1,
            RuleKind.ILL_WITHOUT_INSURANCE: 1,
            RuleKind.CHILD_OUT_OF_SCHOOL: 1,
            RuleKind.NOT_MOVED_IN: 1,
            RuleKind.JOB_ENDED: 1,
        }
        assert raised == {warn.rules[kind].pk: n for kind, n in expected.items()}
        assert EarlyWarningAlert.objects.count() == 10
        low = alerts(RuleKind.LOW_INCOME, household=warn.hh["low"]).get()
        assert low.detail == "2025年人均纯收入7,000.00元，监测线8,000.00元"
        assert (low.state, low.raised_on, low.subject) == (AlertState.NEW, S, "")
        child = alerts(RuleKind.CHILD_OUT_OF_SCHOOL).get()
        assert child.person == warn.people["六岁今天"]
        assert low.history.count() == 1

    def test_second_scan_raises_nothing_twice(self, warn):
        scan(S)
        result = scan(S)
        assert sum(r["raised"] for r in result.values()) == 0
        assert EarlyWarningAlert.objects.count() == 10
        # A day later only the new causes: 明天六岁 turns 6, ended90's job ended 91 days ago.
        scan(S + datetime.timedelta(days=1))
        new = alerts(raised_on=S + datetime.timedelta(days=1))
        assert {(a.kind, a.household_id) for a in new} == {
            (RuleKind.CHILD_OUT_OF_SCHOOL, warn.hh["child"].pk),
            (RuleKind.JOB_ENDED, warn.hh["ended90"].pk),
        }

    def test_verified_alert_is_not_raised_again(self, warn):
        scan(S)
        alert = alerts(RuleKind.NOT_MOVED_IN).get()
        wf.verify_alert(alert, user=warn.worker, on_date=S)
        scan(S)
        assert alerts(RuleKind.NOT_MOVED_IN).count() == 1

    def test_excluded_alert_is_raised_again_by_a_later_scan(self, warn):
        # 已排除 closes the alert; the cause still being there is a new alert.
        scan(S)
        alert = alerts(RuleKind.NOT_MOVED_IN).get()
        wf.exclude_alert(alert, user=warn.worker, reason="已于6月入住，系统未更新", on_date=S)
        scan(S + datetime.timedelta(days=1))
        assert alerts(RuleKind.NOT_MOVED_IN).count() == 2
        assert alerts(RuleKind.NOT_MOVED_IN, state=AlertState.NEW).count() == 1

    def test_cause_gone_before_review_closes_a_new_alert(self, warn):
        scan(S)
        HouseholdIncome.objects.filter(household=warn.hh["low"], year=2025).update(
            per_capita_net=9000
        )
        result = scan(S + datetime.timedelta(days=7))
        assert result[warn.rules[RuleKind.LOW_INCOME].pk]["cleared"] == 1
        alert = alerts(RuleKind.LOW_INCOME, household=warn.hh["low"]).get()
        assert (alert.state, alert.cause_gone_on) == (
            AlertState.CLEARED,
            S + datetime.timedelta(days=7),
        )
        # other's alert is untouched
        assert alerts(RuleKind.LOW_INCOME, household=warn.hh["other"]).get().state == "new"

    def test_cause_gone_after_verification_is_marked_not_closed(self, warn):
        scan(S)
        alert = alerts(RuleKind.LOW_INCOME, household=warn.hh["low"]).get()
        wf.verify_alert(alert, user=warn.worker, on_date=S)
        income = HouseholdIncome.objects.get(household=warn.hh["low"], year=2025)
        income.wage_income = 9000
        income.save()
        scan(S + datetime.timedelta(days=3))
        alert.refresh_from_db()
        assert (alert.state, alert.cause_gone_on) == (
            AlertState.VERIFIED,
            S + datetime.timedelta(days=3),
        )
        income.wage_income = 7000
        income.save()
        scan(S + datetime.timedelta(days=4))
        alert.refresh_from_db()
        assert (alert.state, alert.cause_gone_on) == (AlertState.VERIFIED, None)
        assert alerts(RuleKind.LOW_INCOME, household=warn.hh["low"]).count() == 1

    def test_threshold_changing_between_years(self, warn):
        rt = warn.regions
        later = EarlyWarningRule.objects.create(
            kind=RuleKind.JOB_ENDED, province=rt.guizhou, year=2027, parameters={"days": 30}
        )
        scan(S)  # 2026: days 90 → ended91 only
        assert {a.household_id for a in alerts(RuleKind.JOB_ENDED)} == {warn.hh["ended91"].pk}
        result = scan(datetime.date(2027, 1, 5))  # 2027: days 30 → ended90 too
        assert result[later.pk]["raised"] == 1  # ended90 only: ended91 is still open
        rows = alerts(RuleKind.JOB_ENDED).order_by("pk")
        assert [(a.household_id, a.rule_id) for a in rows] == [
            (warn.hh["ended91"].pk, warn.rules[RuleKind.JOB_ENDED].pk),
            (warn.hh["ended90"].pk, later.pk),
        ]

    def test_inactive_rule_and_other_year_do_nothing(self, warn):
        EarlyWarningRule.objects.update(active=False)
        assert scan(S) == {}
        EarlyWarningRule.objects.update(active=True)
        assert scan(datetime.date(2025, 6, 30)) == {}
        assert not EarlyWarningAlert.objects.exists()

    def test_household_already_monitored_gets_no_new_alert(self, warn):
        wf.start_identification(
            warn.hh["notmoved"],
            user=warn.worker,
            category=MonitoringCategory.EDGE,
            lead_source=LeadSource.SURVEY,
            taken_on=S,
        )
        scan(S)
        assert not alerts(RuleKind.NOT_MOVED_IN).exists()

    def test_management_command(self, warn):
        out = StringIO()
        call_command("scan_early_warnings", "--date", S.isoformat(), stdout=out)
        assert "命中 10，新预警 10" in out.getvalue()
        assert EarlyWarningAlert.objects.count() == 10

    def test_management_command_enqueues(self, warn, settings):
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
        }
        out = StringIO()
        call_command("scan_early_warnings", "--date", S.isoformat(), "--enqueue", stdout=out)
        assert "已交给后台任务执行" in out.getvalue()
        assert EarlyWarningAlert.objects.count() == 10


@pytest.mark.django_db
class TestAlertLifecycle:
    def test_verify_then_monitor_starts_identification(self, warn):
        scan(S)
        alert = alerts(RuleKind.LOW_INCOME, household=warn.hh["low"]).get()
        wf.verify_alert(alert, user=warn.worker, on_date=S)
        record = wf.monitor_alert(
            alert, user=warn.worker, category=MonitoringCategory.EDGE, risks=("07",), on_date=S
        )
        alert.refresh_from_db()
        assert alert.state == AlertState.MONITORED
        assert (record.lead_source, record.alert, record.state) == (
            LeadSource.ALERT,
            alert,
            RecordState.IDENTIFYING,
        )
        assert wf.next_step(record) == 2
        # The cause is still there, but the household is in the procedure now.
        scan(S + datetime.timedelta(days=1))
        assert alerts(RuleKind.LOW_INCOME, household=warn.hh["low"]).count() == 1

    def test_monitor_needs_verification(self, warn):
        scan(S)
        alert = alerts(RuleKind.NOT_MOVED_IN).get()
        with pytest.raises(ValidationError) as error:
            wf.monitor_alert(alert, user=warn.worker, category=MonitoringCategory.EDGE)
        assert "预警须先核实，才能纳入监测" in str(error.value)
        assert not MonitoringRecord.objects.exists()
        alert.refresh_from_db()
        assert alert.state == AlertState.NEW

    def test_exclude_needs_a_reason(self, warn):
        scan(S)
        alert = alerts(RuleKind.NOT_MOVED_IN).get()
        with pytest.raises(ValidationError) as error:
            wf.exclude_alert(alert, user=warn.worker, reason="  ")
        assert error.value.message_dict["reason"] == ["排除预警时请填写理由。"]
        alert.refresh_from_db()
        assert alert.state == AlertState.NEW

    @pytest.mark.parametrize("user", ["county", "other_county"])
    def test_wrong_level_cannot_review(self, warn, user):
        scan(S)
        alert = alerts(RuleKind.NOT_MOVED_IN).get()
        with pytest.raises(ValidationError) as error:
            wf.verify_alert(alert, user=getattr(warn, user))
        assert "预警须由村（社区）或乡镇（街道）一级的用户核实和处理" in str(error.value)
        alert.refresh_from_db()
        assert (alert.state, alert.history.count()) == (AlertState.NEW, 1)

    def test_township_user_may_review(self, warn):
        scan(S)
        alert = alerts(RuleKind.NOT_MOVED_IN).get()
        wf.verify_alert(alert, user=warn.township)
        alert.refresh_from_db()
        assert (alert.state, alert.reviewed_by) == (AlertState.VERIFIED, warn.township)


class TestParameters:
    def test_unknown_and_out_of_range_parameters(self):
        assert validate_parameters(RuleKind.JOB_ENDED, {"days": 90}) == []
        assert [str(m) for m in validate_parameters(RuleKind.JOB_ENDED, {"dayz": 9})] == [
            "未知参数“dayz”；此类规则的参数为：days。"
        ]
        assert [str(m) for m in validate_parameters(RuleKind.JOB_ENDED, {"days": 0})] == [
            "参数“务工结束后天数”应在1至3650之间。"
        ]
        assert [
            str(m) for m in validate_parameters(RuleKind.INCOME_DROP, {"drop_percent": "x"})
        ] == ["参数“同比下降超过（%）”须为数字。"]
        assert [
            str(m)
            for m in validate_parameters(RuleKind.CHILD_OUT_OF_SCHOOL, {"min_age": 9, "max_age": 7})
        ] == ["最小年龄不能大于最大年龄。"]

    @pytest.mark.django_db
    def test_rule_clean_names_the_field(self, region_tree):
        rule = EarlyWarningRule(
            kind=RuleKind.JOB_ENDED, province=region_tree.guizhou, year=2026, parameters={"d": 1}
        )
        with pytest.raises(ValidationError) as error:
            rule.full_clean()
        assert "parameters" in error.value.message_dict
        assert not EarlyWarningRule.objects.exists()
