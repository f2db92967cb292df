"""Governance and monitoring: monitoring (demo).

For the demo settlements: about 4 % of households as 防返贫 monitoring records
(at least one at every stage of the procedure: waiting for the home visit, the
village review, the township review, the county decision; monitored; a removal
under way; risk eliminated; not included; and one past its 15 days), with risk
types and assistance measures; the seven early-warning rules for each demo
province and the current year (illustrative thresholds, ``source`` says so);
then a first run of the scan.

Deterministic: households are taken in number order and every draw comes from
``random.Random(seed)``; dates are placed relative to today.  Every row the demo
writes gets one '+' history row with ``DEMO_REASON``; ``delete_monitoring_demo``
removes records, alerts and rules of the demo again.  The demo's steps are
written as records of what happened (the cadres of the township and county
named in ``taken_by_name``), not through the level checks of the workflow.
"""

import datetime
import random
import time

from django.db import transaction
from django.utils import timezone

from communities.demo import DEFAULT_SEED, DEMO_REASON, demo_settlements
from communities.demo.generate import (
    delete_with_history,
    write_rows_with_history,
)
from communities.models import Household, Region
from relocation.demo import DemoStep, register

from ..models.monitoring import (
    AssistanceMeasure,
    AssistanceRecord,
    EarlyWarningAlert,
    EarlyWarningRule,
    LeadSource,
    MonitoringCategory,
    MonitoringRecord,
    MonitoringRisk,
    Procedure,
    RecordState,
    RiskType,
    RuleKind,
    Step,
    WorkflowStep,
)
from ..monitoring_scan import RULE_PARAMETERS, scan

RULE_SOURCE = "演示示意值（非正式文件）"
SHARE = 0.04
# The stage of each record, in turn; every stage appears once the demo has 11 records.
STAGES = (
    "monitored",
    "visit",
    "village",
    "township",
    "county",
    "removed",
    "monitored",
    "removing",
    "not_included",
    "overdue",
    "monitored",
)
# How many days ago a record's procedure started, by stage (others: drawn).
STAGE_AGES = {
    "visit": 1,
    "village": 3,
    "township": 10,
    "county": 12,
    "overdue": 21,
    "not_included": 40,
}
# The last step of the identification reached, by stage (others: all five).
STAGE_STEPS = {
    "visit": Step.LEAD,
    "village": Step.VISIT,
    "township": Step.VILLAGE,
    "overdue": Step.VILLAGE,
    "county": Step.TOWNSHIP,
    "not_included": Step.TOWNSHIP,
}
# Days from the start of a procedure to each step (the later ones a day more or not).
STEP_OFFSETS = {Step.LEAD: 0, Step.VISIT: 1, Step.VILLAGE: 3, Step.TOWNSHIP: 9, Step.COUNTY: 12}
LEAD_SOURCES = (LeadSource.APPLICATION, LeadSource.SURVEY, LeadSource.DEPARTMENT)
# Seed 003/004 mixes: most monitored households are 边缘易致贫户, illness the first risk.
CATEGORIES = (
    [MonitoringCategory.EDGE] * 5 + [MonitoringCategory.UNSTABLE] * 3 + [MonitoringCategory.SUDDEN]
)
RISKS = (
    [RiskType.ILLNESS] * 4
    + [RiskType.UNSTABLE_JOB] * 3
    + [RiskType.LABOUR] * 2
    + [RiskType.DISABILITY] * 2
    + [RiskType.SCHOOLING, RiskType.ACCIDENT, RiskType.FLOOD, RiskType.OTHER]
)
MEASURES = {
    RiskType.ILLNESS: AssistanceMeasure.HEALTH,
    RiskType.UNSTABLE_JOB: AssistanceMeasure.EMPLOYMENT,
    RiskType.LABOUR: AssistanceMeasure.PUBLIC_WELFARE,
    RiskType.DISABILITY: AssistanceMeasure.SOCIAL_SECURITY,
    RiskType.SCHOOLING: AssistanceMeasure.COMPULSORY_EDUCATION,
    RiskType.ACCIDENT: AssistanceMeasure.SOCIAL,
    RiskType.FLOOD: AssistanceMeasure.HOUSING,
    RiskType.OTHER: AssistanceMeasure.INDUSTRY,
}
WORKER, TOWNSHIP, COUNTY = "社区工作人员（演示）", "乡镇审核人（演示）", "县级审定人（演示）"
STEP_NAMES = {
    Step.LEAD: WORKER,
    Step.VISIT: WORKER,
    Step.VILLAGE: WORKER,
    Step.TOWNSHIP: TOWNSHIP,
    Step.COUNTY: COUNTY,
}


def _demo_ids(model):
    return model.history.model._base_manager.filter(
        history_type="+", history_change_reason=DEMO_REASON
    ).values("id")


def monitoring_demo_exists():
    return MonitoringRecord.history.filter(
        history_type="+", history_change_reason=DEMO_REASON
    ).exists()


def monitoring_demo_counts():
    ids = list(demo_settlements().values_list("pk", flat=True))
    records = MonitoringRecord.objects.filter(household__settlement_id__in=ids)
    return {
        "records": records.count(),
        "monitored": records.filter(
            state__in=(RecordState.MONITORED, RecordState.REMOVING)
        ).count(),
        "steps": WorkflowStep.objects.filter(record__in=records).count(),
        "rules": EarlyWarningRule.objects.filter(source=RULE_SOURCE).count(),
        "alerts": EarlyWarningAlert.objects.filter(household__settlement_id__in=ids).count(),
    }


def _steps(record, procedure, start, upto, rng, round_=1):
    """Steps LEAD..upto of one procedure of ``record`` (its id) starting on ``start``, as
    rows (dicts of attnames)."""
    made = []
    for step in Step:
        if step > upto:
            break
        on = start + datetime.timedelta(
            days=STEP_OFFSETS[step] + (rng.randint(0, 1) if step > 2 else 0)
        )
        village = step == Step.VILLAGE
        made.append(
            {
                "record_id": record,
                "procedure": procedure,
                "round": round_,
                "step": int(step),
                "taken_on": on,
                "taken_by_name": STEP_NAMES[step],
                "document_number": "" if step == Step.LEAD else f"演示-{record}-{int(step)}",
                "notice_start": on if village else None,
                "notice_end": on + datetime.timedelta(days=4) if village else None,
            }
        )
    return made


def _shift(day, **kw):
    return day - datetime.timedelta(**kw)


def build_monitoring_demo(seed=DEFAULT_SEED, today=None):
    """Create the monitoring demo (idempotent); returns (created, counts, scan result)."""
    if monitoring_demo_exists() or not demo_settlements().exists():
        return False, monitoring_demo_counts(), {}
    today = today or timezone.localdate()
    rng = random.Random(f"monitoring-{seed}")
    households = list(
        Household.objects.filter(settlement__in=demo_settlements())
        .order_by("number")
        .values_list("pk", flat=True)
    )
    wanted = max(len(STAGES), round(len(households) * SHARE))
    chosen = sorted(rng.sample(households, min(wanted, len(households) // 2)))
    plans = []
    for index, household in enumerate(chosen):
        stage = STAGES[index % len(STAGES)]
        # Drawn for every record, whether its stage fixes the age or not.
        age = STAGE_AGES.get(stage, rng.randint(60, 400))
        plans.append((household, stage, _shift(today, days=age)))
    with transaction.atomic():
        now = timezone.now()
        records = [
            {
                "household_id": household,
                "category": rng.choice(CATEGORIES),
                "lead_source": rng.choice(LEAD_SOURCES),
                "state": _state(stage),
                "procedure_started_on": start,
                "due_on": start + datetime.timedelta(days=15),
            }
            for household, stage, start in plans
        ]
        for record, (_household, stage, start) in zip(records, plans, strict=True):
            if stage in ("monitored", "removed", "removing"):
                record["identified_on"] = start + datetime.timedelta(days=13)
            if stage == "removed":
                record["removed_on"] = _shift(today, days=rng.randint(5, 50))
                record["risk_eliminated"] = True
            if stage in ("removed", "removing"):
                removal_start = (
                    record["removed_on"] - datetime.timedelta(days=13)
                    if stage == "removed"
                    else _shift(today, days=4)
                )
                record["procedure_started_on"] = removal_start
                record["due_on"] = removal_start + datetime.timedelta(days=15)
        write_rows_with_history(MonitoringRecord, records, now)
        steps, risks, measures = [], [], []
        for record, (_household, stage, start) in zip(records, plans, strict=True):
            pk = record["id"]
            upto = STAGE_STEPS.get(stage, Step.COUNTY)
            steps += _steps(pk, Procedure.IDENTIFY, start, upto, rng)
            if stage == "not_included":
                steps[-1]["approved"] = False
                steps[-1]["notes"] = "经核实家庭收入高于监测范围（演示）"
            if stage in ("removed", "removing"):
                removal_upto = Step.COUNTY if stage == "removed" else Step.VISIT
                steps += _steps(
                    pk, Procedure.REMOVE, record["procedure_started_on"], removal_upto, rng
                )
            codes = sorted({rng.choice(RISKS) for _ in range(rng.choice((1, 1, 2)))})
            risks += [{"record_id": pk, "code": code} for code in codes]
            identified = record.get("identified_on")
            if identified:
                measures += [
                    {
                        "record_id": pk,
                        "measure": MEASURES[code],
                        "start_date": min(identified + datetime.timedelta(days=7), today),
                    }
                    for code in codes
                ]
        write_rows_with_history(WorkflowStep, steps, now)
        write_rows_with_history(MonitoringRisk, risks, now)
        write_rows_with_history(AssistanceRecord, measures, now)
        provinces = sorted(
            {code[:2] + "0000" for code in demo_settlements().values_list("county_id", flat=True)}
        )
        rules = [
            EarlyWarningRule(
                kind=kind,
                province_id=province,
                year=today.year,
                parameters={name: str(spec[2]) for name, spec in RULE_PARAMETERS[kind].items()},
                source=RULE_SOURCE,
            )
            for province in provinces
            if Region.objects.filter(code=province).exists()
            for kind in RuleKind.values
            if not EarlyWarningRule.objects.filter(
                kind=kind, province_id=province, year=today.year
            ).exists()
        ]
        EarlyWarningRule.objects.bulk_create(rules, history_reason=DEMO_REASON)
    result = scan(today, provinces=provinces)
    return True, monitoring_demo_counts(), result


def _state(stage):
    return {
        "monitored": RecordState.MONITORED,
        "removed": RecordState.REMOVED,
        "removing": RecordState.REMOVING,
        "not_included": RecordState.NOT_INCLUDED,
    }.get(stage, RecordState.IDENTIFYING)


def delete_monitoring_demo():
    """Delete the monitoring records and alerts of the demo settlements and the demo's rules."""
    ids = list(demo_settlements().values_list("pk", flat=True))
    deleted = 0
    with transaction.atomic():
        records = MonitoringRecord._base_manager.filter(household__settlement_id__in=ids)
        for model in (WorkflowStep, MonitoringRisk, AssistanceRecord):
            deleted += delete_with_history(model, model._base_manager.filter(record__in=records))
        deleted += delete_with_history(MonitoringRecord, records)
        deleted += delete_with_history(
            EarlyWarningAlert,
            EarlyWarningAlert._base_manager.filter(household__settlement_id__in=ids),
        )
        # Rules the demo made, unless alerts outside the demo came from them.
        rules = EarlyWarningRule._base_manager.filter(
            pk__in=_demo_ids(EarlyWarningRule), source=RULE_SOURCE
        ).exclude(alerts__isnull=False)
        deleted += delete_with_history(EarlyWarningRule, rules)
    return deleted


COUNT_LABELS = (
    ("records", "监测对象记录"),
    ("monitored", "监测中"),
    ("steps", "办理环节"),
    ("rules", "预警规则（示意阈值）"),
    ("alerts", "预警"),
)


def demo_step(context):
    started = time.monotonic()
    created, counts, result = build_monitoring_demo(seed=context.seed)
    if created:
        context.created.add("monitoring")
        yield "防返贫监测演示数据已生成，并完成首次预警扫描。"
    else:
        yield "已存在防返贫监测演示数据（或没有演示安置点），未重复生成。"
    yield "  " + "，".join(f"{label} {counts.get(key, 0):,}" for key, label in COUNT_LABELS)
    if result:
        raised = sum(row["raised"] for row in result.values())
        yield f"  首次扫描：规则 {len(result)} 条，新预警 {raised:,} 条"
    if created:
        yield f"  用时 {time.monotonic() - started:.1f} 秒"


register(
    DemoStep(
        "monitoring",
        build=demo_step,
        remove=delete_monitoring_demo,
        order=70,
        after=("communities", "employment"),
    )
)
