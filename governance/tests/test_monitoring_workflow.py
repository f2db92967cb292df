"""The identification and removal procedure: each step, its order, dates and gov.

Every refusal is checked for its Chinese message and for nothing saved.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError

from governance import monitoring_workflow as wf
from governance.models import (
    MonitoringRecord,
    Procedure,
    RecordState,
    Step,
    WorkflowStep,
)

from .monitoring_fixtures import (  # noqa: F401
    D0,
    day,
    gov_fixture,
    open_record,
    refuse_removal,
    walk,
    world,
)


def messages(error):
    return " ".join(str(m) for m in error.messages)


def snapshot(record):
    record.refresh_from_db()
    return (record.state, record.steps.count(), record.due_on)


@pytest.mark.django_db
class TestIdentification:
    def test_lead_opens_record_due_in_15_days(self, gov):
        record = open_record(gov)
        assert record.state == RecordState.IDENTIFYING
        assert record.due_on == datetime.date(2026, 3, 17)
        lead = record.steps.get()
        assert (lead.step, lead.taken_by, lead.procedure) == (
            Step.LEAD,
            gov.worker,
            Procedure.IDENTIFY,
        )
        assert list(record.risks.values_list("code", flat=True)) == ["01"]
        assert record.history.count() == 1

    def test_lead_by_township_user_allowed(self, gov):
        record = open_record(gov, user=gov.township)
        assert record.steps.get().taken_by == gov.township

    def test_visit_step(self, gov):
        record = open_record(gov)
        step = wf.take_step(
            record, Step.VISIT, user=gov.worker, taken_on=day(1), document_number="SQ-001"
        )
        assert (step.step, step.document_number, step.taken_by_name) == (
            Step.VISIT,
            "SQ-001",
            "worker",
        )
        assert wf.next_step(record) == Step.VILLAGE

    def test_step_keeps_the_name_as_chinese_write_it(self, gov):
        gov.worker.first_name, gov.worker.last_name = "秀梅", "杨"
        gov.worker.save()
        record = open_record(gov)
        step = wf.take_step(
            record, Step.VISIT, user=gov.worker, taken_on=day(1), document_number="SQ-001"
        )
        assert step.taken_by_name == "杨秀梅"

    def test_village_step_with_five_day_notice(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VISIT)
        step = wf.take_step(
            record,
            Step.VILLAGE,
            user=gov.worker,
            taken_on=day(2),
            document_number="GS-1",
            notice_start=day(2),
            notice_end=day(6),  # 2..6 inclusive: exactly 5 days
        )
        assert (step.notice_start, step.notice_end) == (day(2), day(6))
        assert wf.next_step(record) == Step.TOWNSHIP

    def test_township_step(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VILLAGE)
        wf.take_step(
            record, Step.TOWNSHIP, user=gov.township, taken_on=day(7), document_number="XZ-1"
        )
        assert wf.next_step(record) == Step.COUNTY
        assert record.state == RecordState.IDENTIFYING

    def test_county_decision_brings_record_into_monitoring(self, gov):
        record = walk(gov, open_record(gov), upto=Step.TOWNSHIP)
        wf.take_step(record, Step.COUNTY, user=gov.county, taken_on=day(10), document_number="XF-1")
        record.refresh_from_db()
        assert (record.state, record.identified_on) == (RecordState.MONITORED, day(10))
        assert wf.next_step(record) is None
        assert not record.is_overdue(day(30))

    def test_refusal_ends_identification(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VILLAGE)
        wf.take_step(
            record,
            Step.TOWNSHIP,
            user=gov.township,
            taken_on=day(8),
            document_number="XZ-2",
            approved=False,
            notes="收入核实后高于监测线",
        )
        record.refresh_from_db()
        assert record.state == RecordState.NOT_INCLUDED
        # A new lead may now be recorded for the household.
        assert open_record(gov, on=day(9)).state == RecordState.IDENTIFYING

    def test_overdue_after_15_days(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VILLAGE)
        assert not record.is_overdue(day(15))
        assert record.is_overdue(day(16))
        assert list(MonitoringRecord.objects.overdue(day(16))) == [record]
        assert list(MonitoringRecord.objects.overdue(day(15))) == []


@pytest.mark.django_db
class TestRemoval:
    def test_removal_follows_the_same_path(self, gov):
        record = walk(gov, open_record(gov))
        wf.start_removal(record, user=gov.worker, taken_on=day(40), document_number="")
        record.refresh_from_db()
        assert (record.state, record.due_on) == (RecordState.REMOVING, day(55))
        assert wf.next_step(record) == Step.VISIT
        walk(gov, record, procedure_day=40)
        record.refresh_from_db()
        assert (record.state, record.risk_eliminated, record.removed_on) == (
            RecordState.REMOVED,
            True,
            day(50),
        )
        assert record.steps.filter(procedure=Procedure.REMOVE).count() == 5

    def test_refused_removal_keeps_monitoring_and_may_start_again(self, gov):
        record = refuse_removal(gov, walk(gov, open_record(gov)))
        record.refresh_from_db()
        assert (record.state, record.risk_eliminated) == (RecordState.MONITORED, False)
        wf.start_removal(record, user=gov.worker, taken_on=day(60))
        assert record.steps.filter(procedure=Procedure.REMOVE, round=2).count() == 1

    def test_removal_needs_a_monitored_record(self, gov):
        record = open_record(gov)
        before = snapshot(record)
        with pytest.raises(ValidationError) as error:
            wf.start_removal(record, user=gov.worker, taken_on=day(3))
        assert "只有“监测中”的对象才能启动风险消除程序" in messages(error.value)
        assert snapshot(record) == before


@pytest.mark.django_db
class TestBadInput:
    def test_skipping_a_step_is_refused(self, gov):
        record = open_record(gov)
        before = snapshot(record)
        with pytest.raises(ValidationError) as error:
            wf.take_step(
                record, Step.TOWNSHIP, user=gov.township, taken_on=day(8), document_number="X"
            )
        assert error.value.message_dict["step"] == [
            "请先办理“入户核实（签署授权书）”环节，不能跳过。"
        ]
        assert snapshot(record) == before

    def test_repeating_a_step_is_refused(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VISIT)
        before = snapshot(record)
        with pytest.raises(ValidationError) as error:
            wf.take_step(record, Step.VISIT, user=gov.worker, taken_on=day(2), document_number="X")
        assert "已办理，不能重复办理" in messages(error.value)
        assert snapshot(record) == before

    def test_notice_shorter_than_five_days_is_refused(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VISIT)
        before = snapshot(record)
        with pytest.raises(ValidationError) as error:
            wf.take_step(
                record,
                Step.VILLAGE,
                user=gov.worker,
                taken_on=day(2),
                document_number="GS",
                notice_start=day(2),
                notice_end=day(5),  # 4 days
            )
        assert error.value.message_dict["notice_end"] == ["公示期不得少于5天（首尾两天都计入）。"]
        assert snapshot(record) == before

    def test_township_review_before_notice_ends_is_refused(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VILLAGE)  # notice ends day 6
        before = snapshot(record)
        with pytest.raises(ValidationError) as error:
            wf.take_step(
                record, Step.TOWNSHIP, user=gov.township, taken_on=day(6), document_number="X"
            )
        assert "公示期满" in messages(error.value)
        assert snapshot(record) == before

    def test_missing_document_number_is_refused(self, gov):
        record = open_record(gov)
        with pytest.raises(ValidationError) as error:
            wf.take_step(record, Step.VISIT, user=gov.worker, taken_on=day(1))
        assert error.value.message_dict["document_number"] == ["请填写授权书编号。"]
        assert record.steps.count() == 1

    def test_date_before_previous_step_or_in_future_is_refused(self, gov):
        record = open_record(gov, on=day(5))
        with pytest.raises(ValidationError) as error:
            wf.take_step(record, Step.VISIT, user=gov.worker, taken_on=day(4), document_number="X")
        assert "不能早于上一环节“线索”的日期" in messages(error.value)
        future = datetime.date.today() + datetime.timedelta(days=1)
        with pytest.raises(ValidationError) as error:
            wf.take_step(record, Step.VISIT, user=gov.worker, taken_on=future, document_number="X")
        assert error.value.message_dict["taken_on"] == ["办理日期不能晚于今天。"]
        assert record.steps.count() == 1

    def test_refusal_without_reason_is_refused(self, gov):
        record = walk(gov, open_record(gov), upto=Step.VILLAGE)
        with pytest.raises(ValidationError) as error:
            wf.take_step(
                record,
                Step.TOWNSHIP,
                user=gov.township,
                taken_on=day(8),
                document_number="X",
                approved=False,
            )
        assert error.value.message_dict["notes"] == ["不通过时请填写意见。"]
        assert snapshot(record)[0] == RecordState.IDENTIFYING

    def test_second_open_record_for_household_is_refused(self, gov):
        open_record(gov)
        with pytest.raises(ValidationError) as error:
            open_record(gov, on=day(1))
        assert "该户已有未结束的监测记录" in messages(error.value)
        assert MonitoringRecord.objects.count() == 1


LEVEL_MESSAGE = "须由{}一级的用户办理，您的管辖范围不是这一级"


@pytest.mark.django_db
class TestWrongLevel:
    @pytest.mark.parametrize(
        "user", ["county", "prefecture", "other_county", "other_township", "b_worker"]
    )
    def test_lead_by_wrong_level(self, gov, user):
        with pytest.raises(ValidationError) as error:
            open_record(gov, user=getattr(gov, user))
        assert "“线索”" + LEVEL_MESSAGE.format("村（社区）、乡镇（街道）") in messages(error.value)
        assert not MonitoringRecord.objects.exists()

    @pytest.mark.parametrize("step", [Step.VISIT, Step.VILLAGE])
    @pytest.mark.parametrize("user", ["township", "county", "prefecture", "b_worker"])
    def test_visit_and_village_by_wrong_level(self, gov, step, user):
        record = walk(gov, open_record(gov), upto=Step(step - 1))
        before = snapshot(record)
        extra = {"notice_start": day(2), "notice_end": day(6)} if step == Step.VILLAGE else {}
        with pytest.raises(ValidationError) as error:
            wf.take_step(
                record,
                step,
                user=getattr(gov, user),
                taken_on=day(2),
                document_number="X",
                **extra,
            )
        assert LEVEL_MESSAGE.format("村（社区）") in messages(error.value)
        assert snapshot(record) == before

    @pytest.mark.parametrize("user", ["worker", "county", "prefecture", "other_township"])
    def test_township_review_by_wrong_level(self, gov, user):
        record = walk(gov, open_record(gov), upto=Step.VILLAGE)
        before = snapshot(record)
        with pytest.raises(ValidationError) as error:
            wf.take_step(
                record,
                Step.TOWNSHIP,
                user=getattr(gov, user),
                taken_on=day(8),
                document_number="X",
            )
        assert "“乡镇审核”" + LEVEL_MESSAGE.format("乡镇（街道）") in messages(error.value)
        assert snapshot(record) == before

    @pytest.mark.parametrize(
        "user", ["worker", "township", "prefecture", "other_county", "province"]
    )
    def test_county_decision_by_wrong_level(self, gov, user):
        record = walk(gov, open_record(gov), upto=Step.TOWNSHIP)
        before = snapshot(record)
        with pytest.raises(ValidationError) as error:
            wf.take_step(
                record,
                Step.COUNTY,
                user=getattr(gov, user),
                taken_on=day(10),
                document_number="X",
            )
        assert "“县级审定”" + LEVEL_MESSAGE.format("县（市、区）") in messages(error.value)
        assert snapshot(record) == before
        assert not WorkflowStep.objects.filter(step=Step.COUNTY).exists()

    def test_settlement_without_township_is_reviewed_by_the_county(self, gov):
        record = open_record(gov, household=gov.households["b"], user=gov.b_worker)
        for step, on in ((Step.VISIT, 1),):
            wf.take_step(record, step, user=gov.b_worker, taken_on=day(on), document_number="X")
        wf.take_step(
            record,
            Step.VILLAGE,
            user=gov.b_worker,
            taken_on=day(2),
            document_number="X",
            notice_start=day(2),
            notice_end=day(6),
        )
        with pytest.raises(ValidationError):
            wf.take_step(
                record, Step.TOWNSHIP, user=gov.township, taken_on=day(8), document_number="X"
            )
        wf.take_step(record, Step.TOWNSHIP, user=gov.county, taken_on=day(8), document_number="X")
        assert wf.next_step(record) == Step.COUNTY

    def test_user_levels(self, gov):
        a = gov.a
        assert wf.user_levels(gov.worker, a) == {wf.COMMUNITY}
        assert wf.user_levels(gov.township, a) == {wf.TOWNSHIP}
        assert wf.user_levels(gov.other_township, a) == set()
        assert wf.user_levels(gov.county, a) == {wf.COUNTY}
        assert wf.user_levels(gov.prefecture, a) == {wf.HIGHER}
        assert wf.user_levels(gov.other_county, a) == set()
