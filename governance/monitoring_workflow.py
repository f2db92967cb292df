"""The 防返贫 identification and removal procedure, one step at a time.

Steps (``Step``): lead → home visit with the household's signed authorisation →
village (community) democratic review and public notice (at least 5 days, first
and last day counted) → township review → county decision.  Removal of risk
follows the same five steps.  Each call below checks, before anything is saved:

* the step is the next one of the running procedure (none skipped or repeated);
* its date is not in the future and not before the previous step; the notice
  starts on or after the review and lasts at least 5 days; the township reviews
  after the notice has ended;
* the user is of the step's **level** (``user_levels``): the level is where the
  user's area scope (``communities.scope``, their AreaScope rows) meets the
  record's settlement — a single settlement is the community level, the
  settlement's township the township level, its county the county level, a
  prefecture or province above.  The lead is taken at community or township
  level, the visit and the village review at community level, the township
  review at township level (at county level when the settlement has no township
  recorded), the county decision at county level.  Superusers (system
  administrators) may take every step;
* documents are recorded by number (see ``governance.models.monitoring``): the
  visit, the village review, the township review and the county decision need one.

A refusal (``approved=False``) at a review ends the procedure: an identification
ends as 未纳入, a removal returns the household to 监测中 (风险未消除); a new
removal may start later (``round`` counts the attempts).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Settlement
from communities.scope import get_scope
from relocation.accounts.names import display_name

from .models.monitoring import (
    NOTICE_MIN_DAYS,
    AlertState,
    EarlyWarningAlert,
    LeadSource,
    MonitoringRecord,
    MonitoringRisk,
    Procedure,
    RecordState,
    Step,
    WorkflowStep,
    due_date,
)

COMMUNITY, TOWNSHIP, COUNTY, HIGHER = "community", "township", "county", "higher"
LEVEL_LABELS = {
    COMMUNITY: _("村（社区）"),
    TOWNSHIP: _("乡镇（街道）"),
    COUNTY: _("县（市、区）"),
    HIGHER: _("市（州）或省"),
}
STEP_LEVELS = {
    Step.LEAD: (COMMUNITY, TOWNSHIP),
    Step.VISIT: (COMMUNITY,),
    Step.VILLAGE: (COMMUNITY,),
    Step.TOWNSHIP: (TOWNSHIP,),
    Step.COUNTY: (COUNTY,),
}
NEEDS_DOCUMENT = (Step.VISIT, Step.VILLAGE, Step.TOWNSHIP, Step.COUNTY)
DOCUMENT_LABELS = {
    Step.VISIT: _("授权书编号"),
    Step.VILLAGE: _("公示编号"),
    Step.TOWNSHIP: _("乡镇审核意见编号"),
    Step.COUNTY: _("县级审定文件编号"),
}


def user_levels(user, settlement):
    """The levels at which ``user``'s area scope covers ``settlement`` (a set)."""
    scope = get_scope(user)
    if scope.unrestricted:
        return {COMMUNITY, TOWNSHIP, COUNTY, HIGHER}
    if settlement is None:
        return set()
    levels = set()
    if settlement.pk in scope.settlement_ids:
        levels.add(COMMUNITY)
    for prefix in scope.region_prefixes:
        if len(prefix) > 6:
            if prefix == settlement.township_id:
                levels.add(TOWNSHIP)
        elif settlement.county_id and settlement.county_id.startswith(prefix):
            levels.add(COUNTY if len(prefix) == 6 else HIGHER)
    return levels


def step_levels(step, settlement):
    if step == Step.TOWNSHIP and settlement is not None and not settlement.township_id:
        return (COUNTY,)
    return STEP_LEVELS[step]


def may_take(user, step, settlement):
    return bool(user_levels(user, settlement) & set(step_levels(step, settlement)))


def _check_level(user, step, settlement):
    if not may_take(user, step, settlement):
        levels = "、".join(str(LEVEL_LABELS[level]) for level in step_levels(step, settlement))
        raise ValidationError(
            _("“%(step)s”须由%(levels)s一级的用户办理，您的管辖范围不是这一级。")
            % {"step": Step(step).label, "levels": levels}
        )


def _check_date(taken_on, previous=None):
    if taken_on is None:
        raise ValidationError({"taken_on": _("请填写办理日期。")})
    if taken_on > timezone.localdate():
        raise ValidationError({"taken_on": _("办理日期不能晚于今天。")})
    if previous is not None and taken_on < previous.taken_on:
        raise ValidationError(
            {
                "taken_on": _("办理日期不能早于上一环节“%(step)s”的日期（%(date)s）。")
                % {"step": previous.get_step_display(), "date": previous.taken_on}
            }
        )


def current_procedure(record):
    """(procedure, round) of the procedure under way, or None."""
    if record.state == RecordState.IDENTIFYING:
        return Procedure.IDENTIFY, 1
    if record.state == RecordState.REMOVING:
        rounds = record.steps.filter(procedure=Procedure.REMOVE).order_by("-round")
        return Procedure.REMOVE, rounds.values_list("round", flat=True).first() or 1
    return None


def last_step(record):
    running = current_procedure(record)
    if running is None:
        return None
    procedure, round_ = running
    return record.steps.filter(procedure=procedure, round=round_).order_by("-step").first()


def last_step_number():
    """``last_step(record).step`` of the outer record in SQL, for a record in a procedure
    (``IN_PROCEDURE``): its latest procedure's latest round, a removal sorting after the
    identification ("remove" > "identify").  Lists annotate it instead of asking per row."""
    return Subquery(
        WorkflowStep.objects.filter(record=OuterRef("pk"))
        .order_by("-procedure", "-round", "-step")
        .values("step")[:1]
    )


def step_after(last):
    """The step that follows step number ``last`` of a procedure, or None after the county's."""
    return Step(last + 1) if last < Step.COUNTY else None


def next_step(record):
    """The step to take next (a ``Step``), or None when no procedure is under way."""
    last = last_step(record)
    return None if last is None else step_after(last.step)


def check_lead(household, user, taken_on):
    """Raise ValidationError unless ``user`` may record a lead for ``household`` on the date."""
    settlement = Settlement.objects.filter(pk=household.settlement_id).first()
    _check_level(user, Step.LEAD, settlement)
    _check_date(taken_on)
    if MonitoringRecord.objects.open().filter(household=household).exists():
        raise ValidationError({"household": _("该户已有未结束的监测记录，不能重复纳入识别。")})


@transaction.atomic
def start_identification(
    household,
    *,
    user,
    category,
    lead_source,
    taken_on,
    risks=(),
    document_number="",
    notes="",
    alert=None,
):
    """Open a record with its lead step; returns the record."""
    check_lead(household, user, taken_on)
    record = MonitoringRecord(
        household=household,
        category=category,
        lead_source=lead_source,
        alert=alert,
        procedure_started_on=taken_on,
        due_on=due_date(taken_on),
        notes=notes,
    )
    record.full_clean(exclude=["alert"])
    record.save()
    for code in risks:
        MonitoringRisk.objects.create(record=record, code=code)
    WorkflowStep.objects.create(
        record=record,
        procedure=Procedure.IDENTIFY,
        step=Step.LEAD,
        taken_on=taken_on,
        taken_by=user,
        taken_by_name=display_name(user),
        document_number=document_number,
        notes=str(LeadSource(lead_source).label),
    )
    return record


@transaction.atomic
def start_removal(record, *, user, taken_on, document_number="", notes=""):
    """Open a removal procedure (its lead step) for a household under monitoring."""
    record = MonitoringRecord.objects.select_for_update().get(pk=record.pk)
    if record.state != RecordState.MONITORED:
        raise ValidationError(_("只有“监测中”的对象才能启动风险消除程序。"))
    settlement = record.household.settlement
    _check_level(user, Step.LEAD, settlement)
    previous = record.steps.order_by("-taken_on", "-pk").first()
    _check_date(taken_on, previous)
    rounds = record.steps.filter(procedure=Procedure.REMOVE).values_list("round", flat=True)
    round_ = max(rounds, default=0) + 1
    record.state = RecordState.REMOVING
    record.procedure_started_on = taken_on
    record.due_on = due_date(taken_on)
    record.save()
    WorkflowStep.objects.create(
        record=record,
        procedure=Procedure.REMOVE,
        round=round_,
        step=Step.LEAD,
        taken_on=taken_on,
        taken_by=user,
        taken_by_name=display_name(user),
        document_number=document_number,
        notes=notes,
    )
    return record


@transaction.atomic
def take_step(
    record,
    step,
    *,
    user,
    taken_on,
    document_number="",
    approved=True,
    notice_start=None,
    notice_end=None,
    notes="",
):
    """Take ``step`` of the running procedure; returns the new WorkflowStep.

    Raises ValidationError (Chinese, naming the field) and saves nothing when
    the step is out of order, the dates or the notice are wrong, the document
    number is missing or the user is not of the step's level.
    """
    record = MonitoringRecord.objects.select_for_update().get(pk=record.pk)
    step = Step(step)
    running = current_procedure(record)
    if running is None:
        raise ValidationError(_("该监测对象当前没有正在办理的识别或风险消除程序。"))
    procedure, round_ = running
    previous = last_step(record)
    expected = next_step(record)
    if expected is None or step != expected:
        if step <= previous.step:
            raise ValidationError(
                {"step": _("“%(step)s”环节已办理，不能重复办理。") % {"step": step.label}}
            )
        raise ValidationError(
            {
                "step": _("请先办理“%(expected)s”环节，不能跳过。")
                % {"expected": Step(previous.step + 1).label}
            }
        )
    settlement = record.household.settlement
    _check_level(user, step, settlement)
    _check_date(taken_on, previous)
    if step in NEEDS_DOCUMENT and not document_number.strip():
        raise ValidationError(
            {"document_number": _("请填写%(doc)s。") % {"doc": DOCUMENT_LABELS[step]}}
        )
    if step == Step.VILLAGE:
        _check_notice(taken_on, notice_start, notice_end)
    elif notice_start or notice_end:
        raise ValidationError({"notice_start": _("只有民主评议环节登记公示日期。")})
    if step == Step.TOWNSHIP:
        village = record.steps.get(procedure=procedure, round=round_, step=Step.VILLAGE)
        if taken_on <= village.notice_end:
            raise ValidationError(
                {
                    "taken_on": _("乡镇审核须在公示期满（%(end)s）之后办理。")
                    % {"end": village.notice_end}
                }
            )
    if not approved and step in (Step.LEAD, Step.VISIT):
        raise ValidationError({"approved": _("该环节不作“不通过”处理。")})
    if not approved and not notes.strip():
        raise ValidationError({"notes": _("不通过时请填写意见。")})
    created = WorkflowStep.objects.create(
        record=record,
        procedure=procedure,
        round=round_,
        step=step,
        taken_on=taken_on,
        taken_by=user,
        taken_by_name=display_name(user),
        document_number=document_number.strip(),
        approved=approved,
        notice_start=notice_start if step == Step.VILLAGE else None,
        notice_end=notice_end if step == Step.VILLAGE else None,
        notes=notes,
    )
    _advance(record, procedure, step, approved, taken_on)
    return created


def _check_notice(taken_on, notice_start, notice_end):
    if notice_start is None:
        raise ValidationError({"notice_start": _("请填写公示开始日期。")})
    if notice_end is None:
        raise ValidationError({"notice_end": _("请填写公示结束日期。")})
    if notice_start < taken_on:
        raise ValidationError({"notice_start": _("公示开始日期不能早于民主评议日期。")})
    if (notice_end - notice_start).days + 1 < NOTICE_MIN_DAYS:
        raise ValidationError(
            {
                "notice_end": _("公示期不得少于%(days)d天（首尾两天都计入）。")
                % {"days": NOTICE_MIN_DAYS}
            }
        )


def _advance(record, procedure, step, approved, taken_on):
    if not approved:
        record.state = (
            RecordState.NOT_INCLUDED if procedure == Procedure.IDENTIFY else RecordState.MONITORED
        )
    elif step == Step.COUNTY:
        if procedure == Procedure.IDENTIFY:
            record.state = RecordState.MONITORED
            record.identified_on = taken_on
        else:
            record.state = RecordState.REMOVED
            record.risk_eliminated = True
            record.removed_on = taken_on
    else:
        return
    record.save()


# --- alerts ----------------------------------------------------------------------------

ALERT_LEVELS = STEP_LEVELS[Step.LEAD]


def _check_alert_level(alert, user):
    if not (user_levels(user, alert.household.settlement) & set(ALERT_LEVELS)):
        raise ValidationError(_("预警须由村（社区）或乡镇（街道）一级的用户核实和处理。"))


@transaction.atomic
def verify_alert(alert, *, user, on_date=None):
    alert = EarlyWarningAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.state != AlertState.NEW:
        raise ValidationError(_("只有“新预警”可以核实。"))
    _check_alert_level(alert, user)
    alert.state = AlertState.VERIFIED
    alert.reviewed_by = user
    alert.reviewed_on = on_date or timezone.localdate()
    alert.save()
    return alert


@transaction.atomic
def exclude_alert(alert, *, user, reason, on_date=None):
    alert = EarlyWarningAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.state not in (AlertState.NEW, AlertState.VERIFIED):
        raise ValidationError(_("该预警已处理完毕。"))
    _check_alert_level(alert, user)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("排除预警时请填写理由。")})
    alert.state = AlertState.EXCLUDED
    alert.reason = reason.strip()
    alert.reviewed_by = user
    alert.reviewed_on = on_date or timezone.localdate()
    alert.save()
    return alert


@transaction.atomic
def monitor_alert(alert, *, user, category, risks=(), on_date=None, document_number=""):
    """纳入监测: the verified alert becomes the lead of an identification."""
    alert = EarlyWarningAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.state != AlertState.VERIFIED:
        raise ValidationError(_("预警须先核实，才能纳入监测。"))
    _check_alert_level(alert, user)
    on_date = on_date or timezone.localdate()
    record = start_identification(
        alert.household,
        user=user,
        category=category,
        lead_source=LeadSource.ALERT,
        taken_on=on_date,
        risks=risks,
        document_number=document_number,
        alert=alert,
    )
    alert.state = AlertState.MONITORED
    alert.reviewed_by = user
    alert.reviewed_on = on_date
    alert.save()
    return record
