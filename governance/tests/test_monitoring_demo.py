"""The monitoring demo: every stage of the procedure, a first scan, deterministic, removable."""

import io

import pytest
from django.core.management import call_command

from communities.models import Household
from governance import monitoring_workflow as wf
from governance.demo.monitoring import RULE_SOURCE, delete_monitoring_demo
from governance.models import (
    AssistanceRecord,
    EarlyWarningAlert,
    EarlyWarningRule,
    MonitoringRecord,
    MonitoringRisk,
    RecordState,
    RuleKind,
    Step,
    WorkflowStep,
)

MODELS = (
    MonitoringRecord,
    WorkflowStep,
    MonitoringRisk,
    AssistanceRecord,
    EarlyWarningAlert,
    EarlyWarningRule,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(**kw):
    out = io.StringIO()
    call_command("load_demo", households=120, settlements=3, stdout=out, **kw)
    return out.getvalue()


def fingerprint():
    return sorted(
        MonitoringRecord.objects.values_list(
            "household__number", "category", "state", "procedure_started_on", "identified_on"
        )
    ), sorted(EarlyWarningAlert.objects.values_list("household__number", "kind", "person__name"))


@pytest.mark.django_db(transaction=False)
def test_demo_has_every_stage_and_a_first_scan():
    output = load()
    assert "防返贫监测演示数据已生成，并完成首次预警扫描。" in output
    records = list(MonitoringRecord.objects.all())
    assert len(records) >= 11
    states = {r.state for r in records}
    assert states == set(RecordState.values)
    waiting = {wf.next_step(r) for r in records if r.state == RecordState.IDENTIFYING}
    assert waiting == {Step.VISIT, Step.VILLAGE, Step.TOWNSHIP, Step.COUNTY}
    assert any(r.is_overdue() for r in records)
    assert all(r.steps.exists() and r.risks.exists() for r in records)
    # Every village step has a notice of at least 5 days.
    for step in WorkflowStep.objects.filter(step=Step.VILLAGE):
        assert (step.notice_end - step.notice_start).days + 1 >= 5
    assert EarlyWarningRule.objects.filter(source=RULE_SOURCE).count() == len(RuleKind.values)
    assert EarlyWarningAlert.objects.exists()
    # No alert for a household being identified or monitored.
    open_households = set(MonitoringRecord.objects.open().values_list("household_id", flat=True))
    assert not EarlyWarningAlert.objects.filter(household_id__in=open_households).exists()


@pytest.mark.django_db
def test_demo_is_deterministic_and_removable():
    load()
    first = fingerprint()
    load(reset=True)
    assert fingerprint() == first
    delete_monitoring_demo()
    for model in MODELS:
        assert not model.objects.exists(), model
        assert not model.history.exists(), model
    assert Household.objects.exists()  # only the monitoring part went
