"""The early-warning scan: each rule kind is code, each rule (thresholds) is data.

``scan(on_date)`` applies the active rules of ``on_date``'s year, province by
province.  Each rule runs as **one set-based query** over the province's
households or people (no loop over households in Python) and yields causes
``(household, subject)`` — ``subject`` is a person's id for rules about one
member, "" for rules about the household.  Then, per rule:

* a cause with no open alert (新预警 or 已核实) of the same kind raises one,
  unless the household already has an open monitoring record (识别中, 监测中,
  风险消除办理中); alerts are matched by *kind*, not by rule row, so a new
  year's rule (new thresholds) never raises a cause a second time;
* an open alert whose cause is gone: a **新预警** nobody has reviewed is closed
  as 预警原因已消失 (``cause_gone_on`` = the scan date), so reviewers only see
  live causes; an **已核实** alert stays with the reviewer (a person has
  confirmed it, and only they decide 纳入监测 or 已排除) but shows the date its
  cause disappeared; should the cause come back, that date is cleared.

Income rules judge the last complete income year (the scan's year − 1) against
the monitoring line of that year (``employment.MonitoringLine``), as the income
figures of the dashboards do; without a line for that year the rule finds nothing.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities import enums as cenums
from communities.models import Household, Person
from employment.enums import EMPLOYED_KINDS
from employment.models import EmploymentRecord, HouseholdIncome, MonitoringLine

from .models.monitoring import (
    AlertState,
    EarlyWarningAlert,
    EarlyWarningRule,
    MonitoringRecord,
    RuleKind,
)

# name: (label, type, default, minimum, maximum)
RULE_PARAMETERS = {
    RuleKind.LOW_INCOME: {
        "margin_percent": (_("监测线上浮比例（%）"), Decimal, Decimal("0"), 0, 100),
    },
    RuleKind.ZERO_EMPLOYMENT: {},
    RuleKind.INCOME_DROP: {
        "drop_percent": (_("同比下降超过（%）"), Decimal, Decimal("30"), 1, 100),
    },
    RuleKind.ILL_WITHOUT_INSURANCE: {},
    RuleKind.CHILD_OUT_OF_SCHOOL: {
        "min_age": (_("最小年龄（周岁）"), int, 6, 3, 18),
        "max_age": (_("最大年龄（周岁）"), int, 15, 3, 18),
    },
    RuleKind.NOT_MOVED_IN: {},
    RuleKind.JOB_ENDED: {
        "days": (_("务工结束后天数"), int, 90, 1, 3650),
    },
}


def validate_parameters(kind, parameters):
    """Chinese messages for wrong or unknown parameters of a rule kind (empty if fine)."""
    if not isinstance(parameters, dict):
        return [_("参数须为“名称: 数值”的对象。")]
    spec = RULE_PARAMETERS.get(kind, {})
    errors = []
    for name in parameters:
        if name not in spec:
            known = "、".join(spec) or "—"
            errors.append(
                _("未知参数“%(name)s”；此类规则的参数为：%(known)s。")
                % {"name": name, "known": known}
            )
    for name, (label, kind_type, _default, low, high) in spec.items():
        if name not in parameters:
            continue
        try:
            value = kind_type(str(parameters[name]))
        except (ValueError, ArithmeticError):
            errors.append(_("参数“%(label)s”须为数字。") % {"label": label})
            continue
        if not (low <= value <= high):
            errors.append(
                _("参数“%(label)s”应在%(low)s至%(high)s之间。")
                % {"label": label, "low": low, "high": high}
            )
    if not errors and kind == RuleKind.CHILD_OUT_OF_SCHOOL:
        values = parameter_values(kind, parameters)
        if values["min_age"] > values["max_age"]:
            errors.append(_("最小年龄不能大于最大年龄。"))
    return errors


def parameter_values(kind, parameters):
    spec = RULE_PARAMETERS.get(kind, {})
    return {
        name: kind_type(str(parameters.get(name, default)))
        for name, (_label, kind_type, default, _low, _high) in spec.items()
    }


# --- the rule kinds ----------------------------------------------------------------------
# Each returns {(household_id, subject): (person_id or None, detail)} for the
# households in ``households`` (a Household QuerySet of one province).


def _money(value):
    return f"{Decimal(value):,.2f}"


def _low_income(rule, households, on_date, params):
    year = on_date.year - 1
    line = MonitoringLine.objects.filter(province=rule.province, year=year).first()
    if line is None:
        return {}
    threshold = line.amount * (1 + params["margin_percent"] / 100)
    rows = HouseholdIncome.objects.filter(
        household__in=households, year=year, per_capita_net__lt=threshold
    ).values_list("household_id", "per_capita_net")
    return {
        (household, ""): (
            None,
            _("%(year)d年人均纯收入%(income)s元，监测线%(line)s元")
            % {
                "year": year,
                "income": _money(income),
                "line": _money(line.amount),
            },
        )
        for household, income in rows
    }


def _income_drop(rule, households, on_date, params):
    year = on_date.year - 1
    previous = HouseholdIncome.objects.filter(
        household=OuterRef("household"), year=year - 1
    ).values("per_capita_net")[:1]
    factor = 1 - params["drop_percent"] / 100
    rows = (
        HouseholdIncome.objects.filter(household__in=households, year=year)
        .annotate(previous=Subquery(previous))
        .filter(previous__gt=0, per_capita_net__lt=factor * F("previous"))
        .values_list("household_id", "per_capita_net", "previous")
    )
    return {
        (household, ""): (
            None,
            _("人均纯收入%(prev_year)d年%(prev)s元，%(year)d年%(income)s元")
            % {
                "prev_year": year - 1,
                "prev": _money(prev),
                "year": year,
                "income": _money(income),
            },
        )
        for household, income, prev in rows
    }


def _covering_job(on_date, prefix="jobs__"):
    """Q over a person's jobs: an employed kind covering ``on_date``."""
    return Q(**{f"{prefix}kind__in": EMPLOYED_KINDS, f"{prefix}start_date__lte": on_date}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on_date})
    )


def _zero_employment(rule, households, on_date, params):
    # The labour force joined once to its jobs and grouped by household (as
    # employment_summary does): a hash join, not a correlated EXISTS per household.
    rows = (
        Person.objects.labour_force(on_date)
        .filter(household__in=households)
        .values("household_id")
        .annotate(employed=Count("jobs", filter=_covering_job(on_date)))
        .filter(employed=0)
        .values_list("household_id", flat=True)
        .order_by()
    )
    return {(pk, ""): (None, _("有劳动力，统计日无人就业")) for pk in rows}


def _people(households):
    return Person.objects.filter(household__in=households)


def _ill_uninsured(rule, households, on_date, params):
    rows = (
        _people(households)
        .filter(health__in=(cenums.Health.SERIOUS, cenums.Health.DISABLED), medical_insurance=False)
        .values_list("household_id", "pk")
    )
    return {(hh, str(pk)): (pk, _("成员未参加医保")) for hh, pk in rows}


def _out_of_school(rule, households, on_date, params):
    rows = (
        _people(households)
        .aged_between(params["min_age"], params["max_age"], on_date)
        .filter(school_stage="")
        .values_list("household_id", "pk")
    )
    return {(hh, str(pk)): (pk, _("义务教育阶段适龄儿童未在校")) for hh, pk in rows}


def _not_moved_in(rule, households, on_date, params):
    rows = households.filter(occupancy_state=cenums.OccupancyState.NOT_MOVED_IN).values_list(
        "pk", flat=True
    )
    return {(pk, ""): (None, _("已分配安置房，尚未入住")) for pk in rows}


def _job_ended(rule, households, on_date, params):
    # Jobs of an employed kind grouped by person: the last one ended before the
    # cut-off and none is open-ended (a current or a future job has no end yet,
    # or ends after the cut-off and so is later than the last end).
    cutoff = on_date - datetime.timedelta(days=params["days"])
    rows = (
        EmploymentRecord.objects.filter(
            kind__in=EMPLOYED_KINDS,
            person__in=Person.objects.labour_force(on_date).filter(household__in=households),
        )
        .values("person_id", "person__household_id")
        .annotate(last_end=Max("end_date"), open=Count("pk", filter=Q(end_date__isnull=True)))
        .filter(open=0, last_end__lt=cutoff)
        .values_list("person__household_id", "person_id", "last_end")
        .order_by()
    )
    return {
        (hh, str(pk)): (pk, _("务工于%(date)s结束，至今未再就业") % {"date": last_end})
        for hh, pk, last_end in rows
    }


RULES = {
    RuleKind.LOW_INCOME: _low_income,
    RuleKind.ZERO_EMPLOYMENT: _zero_employment,
    RuleKind.INCOME_DROP: _income_drop,
    RuleKind.ILL_WITHOUT_INSURANCE: _ill_uninsured,
    RuleKind.CHILD_OUT_OF_SCHOOL: _out_of_school,
    RuleKind.NOT_MOVED_IN: _not_moved_in,
    RuleKind.JOB_ENDED: _job_ended,
}


def causes(rule, on_date, households=None):
    """The causes ``rule`` finds on ``on_date`` among its province's households."""
    province = Household.objects.filter(settlement__county__code__startswith=rule.province_id[:2])
    if households is not None:
        province = province.filter(pk__in=households)
    params = parameter_values(rule.kind, rule.parameters)
    return RULES[rule.kind](rule, province, on_date, params)


@transaction.atomic
def apply_rule(rule, on_date):
    """Raise, keep and close the alerts of one rule; returns counts."""
    found = causes(rule, on_date)
    open_alerts = {
        (alert.household_id, alert.subject): alert
        for alert in EarlyWarningAlert.objects.open()
        .filter(
            kind=rule.kind, household__settlement__county__code__startswith=rule.province_id[:2]
        )
        .only("pk", "household_id", "subject", "state", "cause_gone_on")
    }
    monitored = (
        set(
            MonitoringRecord.objects.open()
            .filter(household_id__in={hh for hh, _subject in found})
            .values_list("household_id", flat=True)
        )
        if found
        else set()
    )
    new = [
        EarlyWarningAlert(
            rule=rule,
            kind=rule.kind,
            household_id=hh,
            subject=subject,
            person_id=person,
            detail=str(detail)[:200],
            raised_on=on_date,
        )
        for (hh, subject), (person, detail) in found.items()
        if (hh, subject) not in open_alerts and hh not in monitored
    ]
    EarlyWarningAlert.objects.bulk_create(new, batch_size=2000, history_reason="预警扫描")
    gone_new, gone_verified, back = [], [], []
    for key, alert in open_alerts.items():
        if key in found:
            if alert.cause_gone_on is not None:
                back.append(alert.pk)
        elif alert.state == AlertState.NEW:
            gone_new.append(alert.pk)
        elif alert.cause_gone_on is None:
            gone_verified.append(alert.pk)
    alerts = EarlyWarningAlert.objects
    if gone_new:
        alerts.filter(pk__in=gone_new).update(state=AlertState.CLEARED, cause_gone_on=on_date)
    if gone_verified:
        alerts.filter(pk__in=gone_verified).update(cause_gone_on=on_date)
    if back:
        alerts.filter(pk__in=back).update(cause_gone_on=None)
    return {
        "found": len(found),
        "raised": len(new),
        "cleared": len(gone_new),
        "cause_gone": len(gone_verified),
    }


def scan(on_date=None, provinces=None):
    """Apply every active rule of ``on_date``'s year; {rule id: counts}."""
    on_date = on_date or timezone.localdate()
    rules = EarlyWarningRule.objects.for_year(on_date.year).select_related("province")
    if provinces:
        rules = rules.filter(province_id__in=provinces)
    return {rule.pk: apply_rule(rule, on_date) for rule in rules.order_by("province_id", "kind")}
