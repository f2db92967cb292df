"""Employment and income demo data for the demo settlements of ``communities.demo``.

``build_employment_demo()`` (called by ``manage.py load_demo``) gives the demo
prefectures what a county employment office keeps: employers around each
settlement (enterprises, 帮扶车间, cooperatives, collective economic
organisations, one public-welfare post provider per county), an employment
ledger for the labour force, job postings and referrals, training courses with
attendance, household income for the last two complete years, a few
employment-insurance claims and entrepreneurship loans, and illustrative
monitoring lines.

The mixes follow the seed reports.  Seed 001 (六盘水, 2023): 95.64 % of the
labour force employed, 2.73 万 of 5.83 万 employed inside their county, 3,286 on
public-welfare posts, 1,654 self-employed, 382 in workshops and collectives.
Seed 004 (黔西南, 2023): per-capita net income 14,703 元, up 17.68 %; the
national figures put wage income close to 80 % of it.  The demo aims at about
95 % employed, half of them nearby, about 14,000 元 per head and 15 % growth,
with a few zero-employment households, a few households under the monitoring
line and a few jobs ended in the last 30 days, so that every work list has
entries.  The monitoring line itself is reference data a province publishes;
the demo's line is illustrative and says so in ``MonitoringLine.source``.

Determinism: every draw comes from ``random.Random`` seeded from the seed and a
settlement or county code, and people are visited in household-number order,
so the same seed on the same day gives the same figures.  Dates are placed
relative to today (a job "ended last week" stays so).

Like the communities demo, every created row gets one '+' history row whose
change reason is ``DEMO_REASON``; on PostgreSQL the large tables and their
history are written with ``COPY``.  ``delete_employment_demo()`` removes it all
again (``load_demo --reset`` and ``communities.demo.delete_demo_data`` call it first).
"""

import time
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from communities.demo import (
    DEFAULT_SEED,
    DEMO_REASON,
    demo_settlements,
)
from communities.demo.generate import delete_with_history, loading
from communities.models import Household, Person
from relocation.demo import DemoStep, register

from ..models import (
    BusinessLoan,
    Employer,
    EmploymentRecord,
    HouseholdIncome,
    InsuranceClaim,
    JobPosting,
    MonitoringLine,
    Referral,
    TrainingAttendance,
    TrainingCourse,
)
from ..querysets import employment_figures, income_figures
from .generate import _DELETE_ORDER, LINE_SOURCE, LOADED, _Builder


@dataclass
class EmploymentDemoResult:
    created: bool
    counts: dict
    elapsed: float
    timings: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- recognise / delete


def _demo_ids(model):
    """Ids of ``model`` rows the demo created (their '+' history row says so)."""
    return model.history.model._base_manager.filter(
        history_type="+", history_change_reason=DEMO_REASON
    ).values("id")


def employment_demo_exists():
    return Employer.history.filter(history_type="+", history_change_reason=DEMO_REASON).exists()


#: The rows of the tables the builder loads (``LOADED``): key -> (model, the path to
#: their household).
_LOADED_COUNTS = {
    "employment_records": (EmploymentRecord, "person__household"),
    "referrals": (Referral, "person__household"),
    "training_attendances": (TrainingAttendance, "person__household"),
    "household_incomes": (HouseholdIncome, "household"),
    "insurance_claims": (InsuranceClaim, "person__household"),
    "business_loans": (BusinessLoan, "person__household"),
}


def employment_demo_counts(loaded=None):
    """The demo's rows of each kind (``COUNT_LABELS``).

    ``loaded``: the rows per model the builder has just written to the ``LOADED``
    tables (``PendingRows.counts``), taken instead of counting those tables again
    (5 s of the 500,000-household demo, the database's work while the other steps wait
    for a core)."""
    ids = list(demo_settlements().values_list("pk", flat=True))
    counts = {
        "employers": Employer.objects.filter(pk__in=_demo_ids(Employer)).count(),
        "job_postings": JobPosting.objects.filter(pk__in=_demo_ids(JobPosting)).count(),
        "training_courses": TrainingCourse.objects.filter(pk__in=_demo_ids(TrainingCourse)).count(),
        "monitoring_lines": MonitoringLine.objects.filter(pk__in=_demo_ids(MonitoringLine)).count(),
    }
    for key, (model, household) in _LOADED_COUNTS.items():
        counts[key] = (
            loaded[model]
            if loaded is not None
            else model.objects.filter(**{f"{household}__settlement_id__in": ids}).count()
        )
    return counts


def delete_employment_demo():
    """Delete the employment demo data and its history rows; returns rows deleted.

    Person- and household-level rows of demo people go whatever their origin
    (the people are about to go too); employers, postings, courses and
    monitoring lines go when the demo created them and nothing outside the demo
    still refers to them.  Big tables are deleted with plain DELETE statements.
    """
    ids = list(demo_settlements().values_list("pk", flat=True))
    people = Person._base_manager.filter(household__settlement_id__in=ids).values("pk")
    households = Household._base_manager.filter(settlement_id__in=ids).values("pk")
    on_people = {"person_id__in": people}
    deleted = 0
    with transaction.atomic():
        steps = [
            (Referral, Referral._base_manager.filter(**on_people)),
            (TrainingAttendance, TrainingAttendance._base_manager.filter(**on_people)),
            (InsuranceClaim, InsuranceClaim._base_manager.filter(**on_people)),
            (BusinessLoan, BusinessLoan._base_manager.filter(**on_people)),
            (EmploymentRecord, EmploymentRecord._base_manager.filter(**on_people)),
            (HouseholdIncome, HouseholdIncome._base_manager.filter(household_id__in=households)),
        ]
        for model, qs in steps:
            deleted += _delete_with_history(model, qs)
        postings = JobPosting._base_manager.filter(pk__in=_demo_ids(JobPosting)).exclude(
            Exists(Referral._base_manager.filter(posting=OuterRef("pk")))
        )
        deleted += _delete_with_history(JobPosting, postings)
        courses = TrainingCourse._base_manager.filter(pk__in=_demo_ids(TrainingCourse)).exclude(
            Exists(TrainingAttendance._base_manager.filter(course=OuterRef("pk")))
        )
        deleted += _delete_with_history(TrainingCourse, courses)
        employers = (
            Employer._base_manager.filter(pk__in=_demo_ids(Employer))
            .exclude(Exists(EmploymentRecord._base_manager.filter(employer=OuterRef("pk"))))
            .exclude(Exists(JobPosting._base_manager.filter(employer=OuterRef("pk"))))
        )
        deleted += _delete_with_history(Employer, employers)
        lines = MonitoringLine._base_manager.filter(
            pk__in=_demo_ids(MonitoringLine), source=LINE_SOURCE
        )
        deleted += _delete_with_history(MonitoringLine, lines)
    return deleted


def _delete_with_history(model, qs):
    """Delete ``qs``, its history rows and (through the ORM) rows of other models on it."""
    if model in _SMALL_MODELS:  # selected through their history rows: fix the ids first
        qs = model._base_manager.filter(pk__in=list(qs.values_list("pk", flat=True)))
    pks = qs.values("pk")
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        other = rel.related_model
        if other._meta.app_label == "employment" and other in _DELETE_ORDER:
            continue  # deleted in its own step
        if rel.on_delete is models.DO_NOTHING:
            continue
        linked = other._base_manager.filter(**{f"{rel.field.name}__in": pks})
        if rel.on_delete is models.SET_NULL:
            linked.update(**{rel.field.name: None})
        else:
            linked.delete()
    if model is EmploymentRecord:  # referrals of people outside the demo keep their rows
        Referral._base_manager.filter(employment__in=pks).update(employment=None)
    return delete_with_history(model, qs)


_SMALL_MODELS = (JobPosting, TrainingCourse, Employer, MonitoringLine)


# --------------------------------------------------------------------------- build


def build_employment_demo(seed=DEFAULT_SEED, today=None, stdout=None, workers=1):
    """Create the employment demo for the existing demo settlements (idempotent).

    Nothing happens when the employment demo already exists or there are no
    demo settlements.  ``workers`` processes make the rows (the same rows for any
    number).  Returns an ``EmploymentDemoResult``.
    """
    started = time.monotonic()
    if employment_demo_exists() or not demo_settlements().exists():
        return EmploymentDemoResult(
            created=False, counts=employment_demo_counts(), elapsed=time.monotonic() - started
        )
    with transaction.atomic(), loading(*LOADED):
        builder = _Builder(seed, today or timezone.localdate(), stdout, workers=workers)
        builder.run()
    builder.analyze()
    return EmploymentDemoResult(
        created=True,
        counts=employment_demo_counts(builder.pending.counts),
        elapsed=time.monotonic() - started,
        timings=dict(builder.timings),
    )


# --------------------------------------------------------------------------- report

COUNT_LABELS = (
    ("employers", "用工主体"),
    ("employment_records", "就业台账"),
    ("job_postings", "招聘岗位"),
    ("referrals", "岗位推送"),
    ("training_courses", "培训班"),
    ("training_attendances", "培训记录"),
    ("household_incomes", "家庭收入"),
    ("insurance_claims", "就业险理赔"),
    ("business_loans", "创业担保贷款"),
    ("monitoring_lines", "监测线（示意值）"),
)


def demo_figures(today=None):
    """Headline employment and income indicators of the demo settlements."""
    today = today or timezone.localdate()
    year = today.year - 1
    ids = list(demo_settlements().values_list("pk", flat=True))
    people = Person.objects.filter(household__settlement_id__in=ids)
    figures = employment_figures(people.employment_summary(today))
    incomes = HouseholdIncome.objects.filter(household__settlement_id__in=ids)
    figures.update(income_figures(incomes.income_summary(year)))
    figures.update(date=today, year=year)
    return figures


def _percent(value):
    return "—" if value is None else f"{value * 100:.2f}%"


def employment_report(result):
    """Lines ``load_demo`` prints about the employment demo."""
    if result.created:
        yield "就业与收入演示数据已生成。"
    else:
        yield "已存在就业与收入演示数据（或没有演示安置点），未重复生成。"
    yield "  " + "，".join(f"{label} {result.counts.get(key, 0):,}" for key, label in COUNT_LABELS)
    if not result.counts.get("employment_records"):
        return
    started = time.monotonic()
    f = demo_figures()
    per_capita = f["per_capita_net_income"]
    yield (
        f"  截至 {f['date']:%Y-%m-%d}：劳动力 {f['labour_force']:,} 人，已就业 {f['employed']:,} 人"
        f"（就业率 {_percent(f['employment_rate'])}），其中就近就业 {f['employed_nearby']:,}、"
        f"公益性岗位 {f['public_welfare_posts']:,}、自主创业 {f['self_employed']:,}、"
        f"帮扶车间 {f['workshop_employed']:,}；零就业家庭 {f['zero_employment_households']:,} 户"
    )
    yield (
        f"  {f['year']} 年人均纯收入 {'—' if per_capita is None else f'{per_capita:,.0f}'} 元，"
        f"同比增长 {_percent(f['per_capita_income_growth'])}，工资性收入占 "
        f"{_percent(f['income_share_wage'])}；低于监测线（演示示意值）"
        f"{f['households_below_monitoring_line']:,} 户"
    )
    write = result.timings.get("write")
    detail = f"（其中批量写入 {write:.1f} 秒）" if write is not None else ""
    yield (
        f"  用时：生成 {result.elapsed:.1f} 秒{detail}，统计 {time.monotonic() - started:.1f} 秒"
    )


def demo_step(context):
    """``load_demo``'s step after the communities demo: employment and income."""
    result = build_employment_demo(
        seed=context.seed, stdout=context.stdout, workers=context.workers
    )
    if result.created:
        context.created.add("employment")
    yield from employment_report(result)


register(
    DemoStep(
        "employment",
        build=demo_step,
        remove=delete_employment_demo,
        order=20,
        after=("communities",),
    )
)
