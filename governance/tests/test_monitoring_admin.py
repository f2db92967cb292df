"""The monitoring admin: scope as an attacker with a limited account sees it, the
step buttons and forms of every level, bad input through the pages, overdue
highlighting, masking, history and the on-demand scan."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from communities.masking import HIDDEN
from governance.models import (
    AlertState,
    EarlyWarningAlert,
    EarlyWarningRule,
    MonitoringRecord,
    RecordState,
    RuleKind,
    Step,
    WorkflowStep,
)
from relocation.accounts.names import display_name

from .monitoring_fixtures import (  # noqa: F401
    D0,
    day,
    gov_fixture,
    open_record,
    refuse_removal,
    walk,
    world,
)


def url(model, action="changelist", *args):
    return reverse(f"admin:governance_{model}_{action}", args=args)


def rows(client, model, **params):
    response = client.get(url(model), params)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.fixture
def records(gov):
    a = open_record(gov)
    b = open_record(gov, household=gov.households["b"], user=gov.b_worker)
    c_user = gov.other_county  # 钟山区 has no community user: the superuser records C's lead
    c = open_record(gov, household=gov.households["c"], user=gov.admin)
    del c_user
    return {"a": a, "b": b, "c": c}


@pytest.fixture
def alerts(gov):
    rule = EarlyWarningRule.objects.create(
        kind=RuleKind.ILL_WITHOUT_INSURANCE, province=gov.regions.guizhou, year=2026
    )
    made = {}
    for key in ("a", "c"):
        head = gov.heads[key]
        made[key] = EarlyWarningAlert.objects.create(
            rule=rule,
            kind=rule.kind,
            household=gov.households[key],
            person=head,
            subject=str(head.pk),
            detail="成员未参加医保",
            raised_on=D0,
        )
    return made


@pytest.mark.django_db
class TestScope:
    def test_lists_show_only_the_users_area(self, client, gov, records, alerts):
        for user, expected in (
            (gov.worker, {"a"}),
            (gov.township, {"a"}),
            (gov.county, {"a", "b"}),
            (gov.other_county, {"c"}),
            (gov.province, {"a", "b", "c"}),
        ):
            client.force_login(user)
            assert rows(client, "monitoringrecord") == {records[k] for k in expected}, user
            assert rows(client, "earlywarningalert") == {
                alerts[k] for k in expected if k in alerts
            }, user

    def test_area_token_of_another_county_lists_nothing(self, client, gov, records):
        client.force_login(gov.other_county)
        assert rows(client, "monitoringrecord", area=gov.regions.xingyi.prefix) == set()
        assert rows(client, "monitoringrecord", area=f"s{gov.a.pk}") == set()

    @pytest.mark.parametrize("action", ["change", "history", "step", "removal"])
    def test_another_countys_record_is_404_by_url(self, client, gov, records, action):
        client.force_login(gov.other_county)
        assert client.get(url("monitoringrecord", action, records["a"].pk)).status_code == 404
        assert client.post(url("monitoringrecord", action, records["a"].pk), {}).status_code == 404
        assert client.get(url("monitoringrecord", action, records["c"].pk)).status_code == 200

    @pytest.mark.parametrize("action", ["change", "history", "review"])
    def test_another_countys_alert_is_404_by_url(self, client, gov, alerts, action):
        client.force_login(gov.worker)
        assert client.get(url("earlywarningalert", action, alerts["c"].pk)).status_code == 404
        response = client.post(
            url("earlywarningalert", "review", alerts["c"].pk), {"action": "verify"}
        )
        assert response.status_code == 404
        alerts["c"].refresh_from_db()
        assert alerts["c"].state == AlertState.NEW

    def test_household_choices_of_the_lead_form_are_in_scope(self, client, gov):
        client.force_login(gov.worker)
        response = client.post(
            url("monitoringrecord", "add"),
            {
                "household": gov.households["c"].pk,
                "category": "edge",
                "lead_source": "survey",
                "taken_on": D0.isoformat(),
            },
        )
        assert response.status_code == 200
        assert "household" in response.context["adminform"].form.errors
        assert not MonitoringRecord.objects.exists()


@pytest.mark.django_db
class TestLeadForm:
    def test_risk_types_are_a_list_in_columns(self, client, gov):
        """Each of the 17 风险类型 on one line: Django's admin gave the bare list
        160-pixel labels, which broke 「0201 因自然灾害（洪涝）」 over two lines."""
        client.force_login(gov.worker)
        page = client.get(url("monitoringrecord", "add")).content.decode()
        assert '<div id="id_risk_codes" class="radiolist choice-grid">' in page

    def test_worker_records_a_lead(self, client, gov):
        client.force_login(gov.worker)
        response = client.post(
            url("monitoringrecord", "add"),
            {
                "household": gov.households["a"].pk,
                "category": "unstable",
                "lead_source": "application",
                "taken_on": D0.isoformat(),
                "document_number": "SQ-9",
                "risk_codes": ["01", "0201"],
            },
        )
        assert response.status_code == 302
        record = MonitoringRecord.objects.get()
        assert (record.state, record.due_on) == (RecordState.IDENTIFYING, day(15))
        assert sorted(record.risks.values_list("code", flat=True)) == ["01", "0201"]
        lead = record.steps.get()
        assert (lead.taken_by, lead.document_number) == (gov.worker, "SQ-9")

    def test_lead_in_the_future_is_refused(self, client, gov):
        client.force_login(gov.worker)
        tomorrow = datetime.date.today() + datetime.timedelta(days=1)
        response = client.post(
            url("monitoringrecord", "add"),
            {
                "household": gov.households["a"].pk,
                "category": "edge",
                "lead_source": "survey",
                "taken_on": tomorrow.isoformat(),
            },
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["taken_on"] == ["办理日期不能晚于今天。"]
        assert not MonitoringRecord.objects.exists()

    def test_county_official_cannot_add(self, client, gov):
        client.force_login(gov.county)
        assert client.get(url("monitoringrecord", "add")).status_code == 403


def post_step(client, record, step, **data):
    payload = {"step": int(step), "outcome": "yes", "document_number": "DOC", **data}
    return client.post(url("monitoringrecord", "step", record.pk), payload)


@pytest.mark.django_db
class TestStepPages:
    def test_the_whole_identification_through_the_pages(self, client, gov, records):
        record = records["a"]
        client.force_login(gov.worker)
        page = client.get(url("monitoringrecord", "change", record.pk)).content.decode()
        assert "办理：入户核实（签署授权书）" in page
        assert post_step(client, record, Step.VISIT, taken_on=day(1)).status_code == 302
        response = post_step(
            client,
            record,
            Step.VILLAGE,
            taken_on=day(2),
            notice_start=day(2).isoformat(),
            notice_end=day(6).isoformat(),
        )
        assert response.status_code == 302
        page = client.get(url("monitoringrecord", "change", record.pk)).content.decode()
        assert "待办：乡镇审核（须由相应层级办理）" in page
        client.force_login(gov.township)
        assert post_step(client, record, Step.TOWNSHIP, taken_on=day(7)).status_code == 302
        client.force_login(gov.county)
        page = client.get(url("monitoringrecord", "change", record.pk)).content.decode()
        assert "办理：县级审定" in page
        assert post_step(client, record, Step.COUNTY, taken_on=day(9)).status_code == 302
        record.refresh_from_db()
        assert (record.state, record.identified_on) == (RecordState.MONITORED, day(9))
        assert list(record.steps.values_list("taken_by__username", flat=True)) == [
            "worker",
            "worker",
            "worker",
            "township",
            "county",
        ]

    def test_short_notice_shows_the_message_and_saves_nothing(self, client, gov, records):
        record = walk(gov, records["a"], upto=Step.VISIT)
        client.force_login(gov.worker)
        response = post_step(
            client,
            record,
            Step.VILLAGE,
            taken_on=day(2),
            notice_start=day(2).isoformat(),
            notice_end=day(4).isoformat(),
        )
        assert response.status_code == 200
        assert "公示期不得少于5天（首尾两天都计入）。" in response.content.decode()
        assert record.steps.count() == 2

    def test_skipped_step_shows_the_message_and_saves_nothing(self, client, gov, records):
        client.force_login(gov.township)
        response = post_step(client, records["a"], Step.TOWNSHIP, taken_on=day(8))
        assert response.status_code == 200
        assert "请先办理“入户核实（签署授权书）”环节，不能跳过。" in response.content.decode()
        assert records["a"].steps.count() == 1

    @pytest.mark.parametrize("user", ["worker", "county", "prefecture", "other_township"])
    def test_township_review_by_wrong_level_through_the_page(self, client, gov, records, user):
        record = walk(gov, records["a"], upto=Step.VILLAGE)
        client.force_login(getattr(gov, user))
        response = post_step(client, record, Step.TOWNSHIP, taken_on=day(8))
        if user == "other_township":
            assert response.status_code == 404  # not even in their area
        else:
            assert response.status_code == 200
            assert "须由乡镇（街道）一级的用户办理" in response.content.decode()
        assert not WorkflowStep.objects.filter(step=Step.TOWNSHIP).exists()

    @pytest.mark.parametrize("user", ["worker", "township", "prefecture"])
    def test_county_decision_by_wrong_level_through_the_page(self, client, gov, records, user):
        record = walk(gov, records["a"], upto=Step.TOWNSHIP)
        client.force_login(getattr(gov, user))
        page = client.get(url("monitoringrecord", "step", record.pk)).content.decode()
        assert "“县级审定”不由您这一级办理。" in page
        response = post_step(client, record, Step.COUNTY, taken_on=day(10))
        assert "须由县（市、区）一级的用户办理" in response.content.decode()
        record.refresh_from_db()
        assert record.state == RecordState.IDENTIFYING

    def test_removal_button_and_page(self, client, gov, records):
        record = walk(gov, records["a"])
        client.force_login(gov.county)
        page = client.get(url("monitoringrecord", "change", record.pk)).content.decode()
        assert "启动风险消除" not in page  # not the lead's level
        client.force_login(gov.worker)
        page = client.get(url("monitoringrecord", "change", record.pk)).content.decode()
        assert "启动风险消除" in page
        response = client.post(
            url("monitoringrecord", "removal", record.pk), {"taken_on": day(30).isoformat()}
        )
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.state == RecordState.REMOVING


@pytest.mark.django_db
class TestWorkLists:
    def test_overdue_is_highlighted_and_listed(self, client, gov, records):
        client.force_login(gov.county)
        response = client.get(url("monitoringrecord"))
        assert response.content.decode().count('class="monitoring-overdue"') == 2  # a and b
        assert rows(client, "monitoringrecord", overdue="1") == {records["a"], records["b"]}
        assert rows(client, "monitoringrecord", overdue=day(15).isoformat()) == set()
        assert rows(client, "monitoringrecord", overdue=day(16).isoformat()) == {
            records["a"],
            records["b"],
        }

    def test_waiting_for_township_review(self, client, gov, records):
        walk(gov, records["a"], upto=Step.VILLAGE)
        client.force_login(gov.county)
        assert rows(client, "monitoringrecord", waiting=int(Step.TOWNSHIP)) == {records["a"]}
        assert rows(client, "monitoringrecord", waiting=int(Step.VISIT)) == {records["b"]}

    def test_waiting_step_column_follows_the_workflow_without_a_query_per_row(
        self, client, gov, records
    ):
        """待办环节 of each row is workflow.next_step, read with the rows: a removal's latest
        round counts, not an earlier round's later steps."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from governance import monitoring_workflow as wf

        a = refuse_removal(gov, walk(gov, records["a"]))  # 监测中 again
        wf.start_removal(a, user=gov.worker, taken_on=day(60))  # round 2: its lead only
        a.refresh_from_db()
        assert a.state == RecordState.REMOVING and wf.next_step(a) == Step.VISIT
        client.force_login(gov.admin)
        client.get(url("monitoringrecord"))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url("monitoringrecord"))
        body = response.content.decode()
        shown = dict(
            re.findall(
                r'/monitoringrecord/(\d+)/change/.*?<td class="field-waiting_step">(.*?)</td>',
                body,
                re.S,
            )
        )
        expected = {
            str(r.pk): (wf.next_step(r).label if wf.next_step(r) else "—")
            for r in MonitoringRecord.objects.all()
        }
        assert shown == expected and len(shown) == 3
        # The steps are read inside the list's own query, not by a query of their own per row.
        assert not [
            q
            for q in ctx.captured_queries
            if q["sql"].startswith('SELECT "governance_workflowstep"')
        ]
        assert rows(client, "monitoringrecord", waiting=int(Step.VISIT)) == set(records.values())

    def test_bad_filter_values_list_nothing(self, client, gov, records):
        client.force_login(gov.county)
        assert rows(client, "monitoringrecord", overdue="yesterday") == set()
        assert rows(client, "monitoringrecord", monitored_on="x") == set()
        assert rows(client, "monitoringrecord", risk_group="0' or 1=1") == set()


@pytest.mark.django_db
class TestAlerts:
    def test_health_alert_is_masked_without_the_permission(self, client, gov, alerts):
        client.force_login(gov.county)  # no sensitive-data permission
        page = client.get(url("earlywarningalert")).content.decode()
        assert gov.heads["a"].name not in page
        assert f'<td class="field-detail_shown">{HIDDEN}</td>' in page
        assert str(HIDDEN) in page
        page = client.get(url("earlywarningalert", "change", alerts["a"].pk)).content.decode()
        assert gov.heads["a"].name not in page
        client.force_login(gov.worker)
        page = client.get(url("earlywarningalert")).content.decode()
        assert gov.heads["a"].name in page
        assert '<td class="field-detail_shown">成员未参加医保</td>' in page

    def test_review_through_the_page(self, client, gov, alerts):
        alert = alerts["a"]
        client.force_login(gov.worker)
        page = client.get(url("earlywarningalert", "change", alert.pk)).content.decode()
        assert "处理预警" in page
        response = client.post(url("earlywarningalert", "review", alert.pk), {"action": "exclude"})
        assert "排除预警时请填写理由。" in response.content.decode()
        alert.refresh_from_db()
        assert alert.state == AlertState.NEW
        client.post(url("earlywarningalert", "review", alert.pk), {"action": "verify"})
        response = client.post(url("earlywarningalert", "review", alert.pk), {"action": "monitor"})
        assert "纳入监测时请选择监测对象类别。" in response.content.decode()
        response = client.post(
            url("earlywarningalert", "review", alert.pk),
            {"action": "monitor", "category": "sudden", "risk_codes": ["01"]},
        )
        record = MonitoringRecord.objects.get()
        assert response.url == url("monitoringrecord", "change", record.pk)
        assert (record.alert, record.lead_source) == (alert, "alert")

    def test_county_user_cannot_review(self, client, gov, alerts):
        client.force_login(gov.county)
        page = client.get(url("earlywarningalert", "change", alerts["a"].pk)).content.decode()
        assert "alert-review-button" not in page
        response = client.post(
            url("earlywarningalert", "review", alerts["a"].pk), {"action": "verify"}
        )
        assert response.status_code == 403
        alerts["a"].refresh_from_db()
        assert alerts["a"].state == AlertState.NEW

    def export(self, client, query=""):
        response = client.post(
            url("earlywarningalert", "export") + query, {"format": "0", "resource": "0"}
        )
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    def test_export_is_the_users_area_masked_as_the_page(self, client, gov, alerts):
        """A county official exports 兴义市's alerts only (not 钟山区's C), with the member,
        detail and exclusion reason of a health alert hidden, as on the page; a worker who
        may see personal data gets them in full; another kind of alert is never hidden."""
        rule = EarlyWarningRule.objects.create(
            kind=RuleKind.NOT_MOVED_IN, province=gov.regions.guizhou, year=2026
        )
        moved = EarlyWarningAlert.objects.create(
            rule=rule,
            kind=rule.kind,
            household=gov.households["a"],
            detail="已分配安置房，尚未入住",
            raised_on=D0,
        )
        EarlyWarningAlert.objects.filter(pk=alerts["a"].pk).update(
            state=AlertState.EXCLUDED,
            reason="该成员已康复出院",
            reviewed_by=gov.worker,
            reviewed_on=D0,
        )
        client.force_login(gov.county)
        header, *lines = self.export(client)
        assert header == [
            "户编号",
            "安置点",
            "预警类型",
            "涉及成员",
            "预警内容",
            "状态",
            "预警日期",
            "已等待天数",
            "原因消失日期",
            "处理人",
            "处理日期",
            "排除理由",
        ]
        by_kind = {line[2]: line for line in lines}
        assert len(lines) == 2
        assert set(by_kind) == {"大病或残疾成员未参加医保", "已分房未入住"}
        health = by_kind["大病或残疾成员未参加医保"]
        number = gov.households["a"].number
        assert health[0] == number and health[1] == gov.households["a"].settlement.name
        assert (health[3], health[4], health[11]) == ("（已隐藏）",) * 3
        assert health[5] == "已排除" and health[7] == ""  # closed: no waiting days
        assert gov.heads["a"].name not in "".join(",".join(line) for line in lines)
        assert "康复" not in "".join(",".join(line) for line in lines)
        other = by_kind["已分房未入住"]
        assert (other[3], other[4], other[5]) == ("", "已分配安置房，尚未入住", "新预警")
        assert other[7] == str(moved.age_days())
        assert gov.households["c"].number not in {line[0] for line in lines}
        # The page hides the reason too.
        page = client.get(url("earlywarningalert", "change", alerts["a"].pk)).content.decode()
        assert "康复" not in page and str(HIDDEN) in page
        # The worker of settlement A may see personal data: everything in full.
        client.force_login(gov.worker)
        _header, *lines = self.export(client)
        health = next(line for line in lines if line[2] == "大病或残疾成员未参加医保")
        assert (health[3], health[4], health[11]) == (
            gov.heads["a"].name,
            "成员未参加医保",
            "该成员已康复出院",
        )
        assert health[9] == display_name(gov.worker)
        page = client.get(url("earlywarningalert", "change", alerts["a"].pk)).content.decode()
        assert "该成员已康复出院" in page

    def test_history_hides_a_health_alerts_reason_and_member(self, client, gov, alerts):
        """排除 writes the reason into the alert's history: a health alert's reason (and a
        changed member) stays hidden there from users who may not see personal data."""
        from governance import monitoring_workflow as workflow

        alert = alerts["a"]
        workflow.exclude_alert(alert, user=gov.worker, reason="该成员已康复出院")
        history = url("earlywarningalert", "history", alert.pk)
        client.force_login(gov.county)
        page = client.get(history).content.decode()
        assert "已排除" in page  # the change itself is listed, by its label
        assert "excluded" not in page
        assert "康复" not in page and str(HIDDEN) in page
        client.force_login(gov.worker)
        assert "该成员已康复出院" in client.get(history).content.decode()

    def test_a_health_alert_shown_in_clear_is_in_the_read_audit(self, client, gov, alerts):
        """A health alert's member and detail tell the member's health: shown in clear on the
        list, the alert's page, the review page, its history or in an export, the member's
        health is recorded in the read audit, as the person's own page would record it.
        Masked (a county official), nothing is recorded; another kind of alert tells nothing."""
        from communities.read_audit import ReadAuditEntry
        from governance import monitoring_workflow as workflow

        alert, head = alerts["a"], gov.heads["a"]
        rule = EarlyWarningRule.objects.create(
            kind=RuleKind.NOT_MOVED_IN, province=gov.regions.guizhou, year=2026
        )
        EarlyWarningAlert.objects.create(
            rule=rule, kind=rule.kind, household=gov.households["a"], person=head,
            subject=str(head.pk), detail="已分配安置房，尚未入住", raised_on=D0,
        )  # fmt: skip
        workflow.exclude_alert(alert, user=gov.worker, reason="该成员已康复出院")
        pages = {
            "list": url("earlywarningalert"),
            "change": url("earlywarningalert", "change", alert.pk),
            "review": url("earlywarningalert", "review", alert.pk),
            "history": url("earlywarningalert", "history", alert.pk),
        }
        client.force_login(gov.county)
        for name, address in pages.items():
            assert client.get(address).status_code == (403 if name == "review" else 200)
        self.export(client)
        assert not ReadAuditEntry.objects.exists()

        def recorded():
            return {
                (e.content_type.model, e.object_id, e.field, e.channel, e.path, e.export_format)
                for e in ReadAuditEntry.objects.select_related("content_type")
            }

        client.force_login(gov.worker)
        for name, address in pages.items():
            ReadAuditEntry.objects.all()._raw_delete("default")
            assert client.get(address).status_code == 200
            channel = "list" if name == "list" else "page"
            assert recorded() == {("person", str(head.pk), "health", channel, address, "")}, name
        ReadAuditEntry.objects.all()._raw_delete("default")
        assert len(self.export(client)) == 3
        export = url("earlywarningalert", "export")
        assert recorded() == {("person", str(head.pk), "health", "export", export, "csv")}
        row = ReadAuditEntry.objects.get()
        assert (row.username, row.settlement_id) == ("worker", gov.a.pk)

    def test_a_ticked_alert_of_another_area_is_refused(self, client, gov, alerts):
        """导出 of ticked rows with 钟山区's alert id posted beside 兴义市's: refused as a whole
        (the form again, no file); 兴义市's alone is exported."""
        client.force_login(gov.county)
        export = url("earlywarningalert", "export")
        response = client.post(
            export,
            {"format": "0", "resource": "0", "export_items": [alerts["a"].pk, alerts["c"].pk]},
        )
        assert "attachment" not in response.get("Content-Disposition", "")
        assert gov.households["c"].number not in response.content.decode()
        response = client.post(
            export, {"format": "0", "resource": "0", "export_items": [alerts["a"].pk]}
        )
        assert "attachment" in response["Content-Disposition"]
        lines = response.content.decode("utf-8-sig").splitlines()[1:]
        assert [line.split(",")[0] for line in lines] == [gov.households["a"].number]

    def test_export_needs_the_export_permission(self, client, gov, alerts):
        codename = "export_earlywarningalert"
        assert gov.county.has_perm(f"governance.{codename}")  # every role may export
        for group in gov.county.groups.all():
            group.permissions.remove(Permission.objects.get(codename=codename))
        client.force_login(gov.county)
        response = client.post(url("earlywarningalert", "export"), {"format": "0", "resource": "0"})
        assert response.status_code == 403

    def test_the_work_lists_open_alerts_export_their_filtered_rows(self, client, gov, alerts):
        """工作清单's 待处理预警 links its export, filtered as its list: an alert excluded
        before the day is not in it."""
        client.force_login(gov.county)
        page = client.get(reverse("worklists")).content.decode()
        found = re.search(
            r'href="(/admin/governance/earlywarningalert/export/\?open_on=[^"]+)"', page
        )
        assert found, "no export link for 待处理预警"
        link = found.group(1).replace("&amp;", "&")
        assert client.get(link).status_code == 200
        query = link[link.index("?") :]
        assert [line[0] for line in self.export(client, query)[1:]] == [gov.households["a"].number]
        EarlyWarningAlert.objects.filter(pk=alerts["a"].pk).update(
            state=AlertState.EXCLUDED, reviewed_on=D0, reason="误报"
        )
        # The list the work list links to shows the same rows (today's date was ignored);
        # a value that is no date lists nothing.
        assert rows(client, "earlywarningalert", open_on=query.split("=")[1]) == set()
        assert rows(client, "earlywarningalert", open_on="x") == set()
        assert self.export(client, query)[1:] == []


@pytest.mark.django_db
class TestScanButton:
    def test_superuser_runs_the_scan(self, client, gov, settings):
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
        }
        EarlyWarningRule.objects.create(
            kind=RuleKind.NOT_MOVED_IN,
            province=gov.regions.guizhou,
            year=datetime.date.today().year,
        )
        client.force_login(gov.admin)
        response = client.post(url("earlywarningrule", "scan"))
        assert response.status_code == 302
        # The orphan household has no settlement: nobody's to warn about.
        assert EarlyWarningAlert.objects.count() == 0
        hh = gov.households["b"]
        hh.occupancy_state = "not_moved_in"
        hh.save()
        client.post(url("earlywarningrule", "scan"))
        assert list(EarlyWarningAlert.objects.values_list("household", flat=True)) == [hh.pk]

    def test_county_user_may_not_run_it(self, client, gov):
        client.force_login(gov.county)
        assert client.post(url("earlywarningrule", "scan")).status_code == 403

    def test_rule_with_bad_parameters_names_the_field(self, client, gov):
        client.force_login(gov.admin)
        response = client.post(
            url("earlywarningrule", "add"),
            {
                "province": gov.regions.guizhou.pk,
                "year": 2026,
                "kind": RuleKind.JOB_ENDED,
                "parameters": '{"days": -3}',
                "active": "on",
            },
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["parameters"]
        assert errors == ["参数“务工结束后天数”应在1至3650之间。"]
        assert not EarlyWarningRule.objects.exists()


@pytest.mark.django_db
def test_the_work_list_page_lists_overdue_records_and_open_alerts_in_scope(
    client, gov, records, alerts
):
    """兴义市's official: A and B past their 15 days on day 16 (not on day 14), A's alert
    open; 钟山区's official: C and C's alert.  Each count is the linked list's rows.  (The
    counts of today read the stored figures: ``test_..._reads_todays_stored_figures``.)"""
    worklists = reverse("worklists")

    def work_rows(user, on):
        client.force_login(user)
        response = client.get(worklists, {"on": on.isoformat()})
        found = {row["key"]: row for row in response.context["rows"]}
        for key in ("monitoring_overdue", "alerts_open"):
            listed = client.get(found[key]["url"])
            assert listed.context["cl"].result_count == found[key]["count"], key
        return response.context["on_date"], found

    on_date, found = work_rows(gov.county, day(16))
    assert on_date >= day(15)  # a month's end for an account that may not see birth dates
    assert (found["monitoring_overdue"]["count"], found["alerts_open"]["count"]) == (2, 1)
    assert found["monitoring_overdue"]["url"].endswith(f"?overdue={on_date.isoformat()}")
    _on, found = work_rows(gov.other_county, day(16))
    assert (found["monitoring_overdue"]["count"], found["alerts_open"]["count"]) == (1, 1)
    _on, found = work_rows(gov.admin, day(14))
    assert found["monitoring_overdue"]["count"] == 0
    assert found["alerts_open"]["count"] == 2
    # Excluded on day 20: open on day 16 still, not on day 45 (a date, as the dashboards count).
    alerts["a"].state, alerts["a"].reviewed_on = AlertState.EXCLUDED, day(20)
    alerts["a"].save()
    _on, found = work_rows(gov.admin, day(16))
    assert found["alerts_open"]["count"] == 2
    _on, found = work_rows(gov.admin, day(45))
    assert found["alerts_open"]["count"] == 1
    assert found["alerts_open"]["url"].endswith(f"?open_on={day(45).isoformat()}")


@pytest.mark.django_db
def test_the_work_list_page_reads_todays_stored_monitoring_figures(
    client, gov, records, alerts, settings
):
    """On today's date the two counts are the dashboards' stored 逾期未办结 and 待处理预警
    figures (equal to the lists' rows), read without counting the records."""
    from django.db.models import F
    from django.utils import timezone

    from relocation.dashboards.engine import refresh_live
    from relocation.dashboards.models import Period, SettlementFigure

    settings.DASHBOARD_CHANGE_LOOKBACK = 0
    refresh_live(full=True)
    worklists = reverse("worklists")
    client.force_login(gov.admin)

    def counts():
        rows = client.get(worklists).context["rows"]
        return {row["key"]: row["count"] for row in rows}

    found = counts()
    assert (found["monitoring_overdue"], found["alerts_open"]) == (3, 2)
    for key in ("monitoring_overdue", "alerts_open"):
        row = next(r for r in client.get(worklists).context["rows"] if r["key"] == key)
        assert client.get(row["url"]).context["cl"].result_count == row["count"]
    period = Period.objects.get(kind="year", start=datetime.date(timezone.localdate().year, 1, 1))
    settlement = gov.households["a"].settlement
    for key in ("overdue_identifications", "open_alerts"):
        SettlementFigure.objects.filter(period=period, settlement=settlement, key=key).update(
            value=F("value") + 100
        )
    found = counts()
    assert (found["monitoring_overdue"], found["alerts_open"]) == (103, 102)


def test_the_monitoring_list_exports_in_scope_in_the_import_layout(client, gov):
    """工作清单's 超期未办结的监测对象 → 导出, and the list's 导出: the user's area only, in
    the import template's columns."""
    mine = open_record(gov)
    walk(gov, mine)
    theirs = open_record(gov, household=gov.households["c"], user=gov.admin)
    assert MonitoringRecord.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    client.force_login(gov.county)
    response = client.post(url("monitoringrecord", "export"), {"format": "0", "resource": "0"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("户编号,监测对象类别,识别纳入日期")
    assert [line.split(",")[0] for line in lines[1:]] == [gov.households["a"].number]
    # The 工作清单 row links its export, filtered as its list.
    page = client.get(reverse("worklists")).content.decode()
    assert '· <a href="/admin/governance/monitoringrecord/export/?overdue=' in page
