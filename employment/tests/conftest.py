"""The communities ``world`` plus a hand-made employment situation.

Households and what the work lists must find in them (``today`` is the
reference date; people are 45/43/12 unless said otherwise):

* ``a`` (阳光新区, 兴义市): 户主A works in the 阳光帮扶车间 since 2024 (wage,
  in the county) → employed household; 配偶A has no job.
* ``b`` (栗坪安置点, 兴义市): 户主B's wage job in the province ended yesterday;
  配偶B only farms → 零就业家庭; 户主B is "ended in the last 30 days".
* ``d`` (阳光新区): 户主D (50) only farms, 配偶D (48) nothing → 零就业家庭.
* ``e`` (阳光新区): 老人E (70) and a child → no labour at all.
* ``c`` (德坞新区, 钟山区, another prefecture): 户主C works outside the
  province; 配偶C's job ended ten days ago.

Income of last year (line of 贵州 that year: 8,000 元/人): a 10,000/person,
b 5,000 (under), d 8,000 (on the line: not under), c 4,000 (under).
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from communities import enums as cenums
from communities.tests.conftest import world  # noqa: F401
from communities.tests.factories import HouseholdFactory, PersonFactory
from employment import enums
from employment.models import (
    Employer,
    EmploymentRecord,
    HouseholdIncome,
    JobPosting,
    MonitoringLine,
    Referral,
    TrainingAttendance,
    TrainingCourse,
)


def _rename(person, name):
    person.name = name
    person.save()
    return person


@pytest.fixture
def jobs(world):  # noqa: F811
    today = timezone.localdate()
    year = today.year - 1
    rt = world.regions
    ha, hb, hc = world.households["a"], world.households["b"], world.households["c"]
    spouse = {
        key: _rename(hh.members.get(relationship=cenums.Relationship.SPOUSE), f"配偶{key.upper()}")
        for key, hh in world.households.items()
    }
    hd = HouseholdFactory(number="522301000004", settlement=world.a, phone="13600000004")
    head_d = PersonFactory(household=hd, name="户主D", head=True, sex="M", age=50)
    spouse_d = PersonFactory(
        household=hd, name="配偶D", relationship=cenums.Relationship.SPOUSE, sex="F", age=48
    )
    he = HouseholdFactory(number="522301000005", settlement=world.a)
    PersonFactory(household=he, name="老人E", head=True, sex="F", age=70)
    PersonFactory(
        household=he,
        name="孙子E",
        relationship=cenums.Relationship.OTHER,
        sex="M",
        age=10,
        labour_ability=cenums.LabourAbility.NONE,
        school_stage=cenums.SchoolStage.PRIMARY,
    )

    workshop = Employer.objects.create(
        name="阳光帮扶车间",
        kind=enums.EmployerKind.WORKSHOP,
        county=rt.xingyi,
        settlement=world.a,
        location=enums.EmployerLocation.IN_SETTLEMENT,
        contact_name="车间联系人",
        contact_phone="13512345678",
    )
    factory = Employer.objects.create(
        name="德坞制衣厂",
        kind=enums.EmployerKind.ENTERPRISE,
        county=rt.zhongshan,
        location=enums.EmployerLocation.NEARBY,
        contact_phone="13587654321",
    )
    head_a, head_b, head_c = world.heads["a"], world.heads["b"], world.heads["c"]
    job_a = EmploymentRecord.objects.create(
        person=head_a,
        kind=enums.EmploymentKind.WAGE,
        employer=workshop,
        place=enums.WorkPlace.IN_COUNTY,
        monthly_income=Decimal("3200"),
        start_date=datetime.date(2024, 3, 1),
        found_via=enums.FoundVia.WORKSHOP,
    )
    job_b = EmploymentRecord.objects.create(
        person=head_b,
        kind=enums.EmploymentKind.WAGE,
        employer_name="贵阳某物流公司",
        place=enums.WorkPlace.IN_PROVINCE,
        monthly_income=Decimal("4500"),
        start_date=datetime.date(2023, 5, 1),
        end_date=today - datetime.timedelta(days=1),
    )
    EmploymentRecord.objects.create(
        person=spouse["b"],
        kind=enums.EmploymentKind.FARMING,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=datetime.date(2020, 1, 1),
    )
    EmploymentRecord.objects.create(
        person=head_d,
        kind=enums.EmploymentKind.FARMING,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=datetime.date(2021, 1, 1),
    )
    job_c = EmploymentRecord.objects.create(
        person=head_c,
        kind=enums.EmploymentKind.WAGE,
        employer=factory,
        place=enums.WorkPlace.OUT_OF_PROVINCE,
        work_location="广东省东莞市",
        monthly_income=Decimal("5200"),
        start_date=datetime.date(2022, 2, 1),
    )
    EmploymentRecord.objects.create(
        person=spouse["c"],
        kind=enums.EmploymentKind.WAGE,
        employer=factory,
        place=enums.WorkPlace.IN_COUNTY,
        start_date=datetime.date(2022, 2, 1),
        end_date=today - datetime.timedelta(days=10),
    )

    MonitoringLine.objects.create(province=rt.guizhou, year=year, amount=Decimal("8000"))
    MonitoringLine.objects.create(province=rt.guizhou, year=year - 1, amount=Decimal("7600"))
    incomes = {}
    for key, hh, wage, size in (
        ("a", ha, "30000", 3),
        ("b", hb, "15000", 3),
        ("d", hd, "16000", 2),
        ("c", hc, "12000", 3),
    ):
        incomes[key] = HouseholdIncome.objects.create(
            household=hh, year=year, wage_income=Decimal(wage), household_size=size
        )

    posting_a = JobPosting.objects.create(
        employer=workshop, title="缝纫工", place=enums.WorkPlace.IN_COUNTY, openings=5
    )
    posting_c = JobPosting.objects.create(
        employer=factory, title="裁剪工", place=enums.WorkPlace.IN_COUNTY
    )
    referral_a = Referral.objects.create(person=spouse["a"], posting=posting_a)
    referral_c = Referral.objects.create(person=spouse["c"], posting=posting_a)
    course_a = TrainingCourse.objects.create(
        name="家政服务培训",
        kind=enums.TrainingKind.SKILL,
        county=rt.xingyi,
        settlement=world.a,
        start_date=today - datetime.timedelta(days=40),
        end_date=today - datetime.timedelta(days=30),
    )
    course_c = TrainingCourse.objects.create(
        name="电工培训",
        kind=enums.TrainingKind.SKILL,
        county=rt.zhongshan,
        start_date=today - datetime.timedelta(days=40),
        end_date=today - datetime.timedelta(days=30),
    )
    attendance_a = TrainingAttendance.objects.create(course=course_a, person=spouse["a"])
    attendance_c = TrainingAttendance.objects.create(course=course_a, person=spouse["c"])
    return SimpleNamespace(
        today=today,
        year=year,
        households={"a": ha, "b": hb, "c": hc, "d": hd, "e": he},
        heads={**world.heads, "d": head_d},
        spouses={**spouse, "d": spouse_d},
        workshop=workshop,
        factory=factory,
        job_a=job_a,
        job_b=job_b,
        job_c=job_c,
        incomes=incomes,
        posting_a=posting_a,
        posting_c=posting_c,
        referral_a=referral_a,
        referral_c=referral_c,
        course_a=course_a,
        course_c=course_c,
        attendance_a=attendance_a,
        attendance_c=attendance_c,
    )


def _value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)


def form_post_data(response, extra_rows=None):
    """POST data that re-submits an admin change page as rendered, plus new inline rows.

    ``extra_rows`` maps an inline prefix (e.g. ``"jobs"``) to a list of dicts of
    field values for new rows; existing rows are submitted unchanged unless the
    caller edits the returned dict.
    """
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = _value(form[name].value())
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        prefix = formset.prefix
        initial = formset.initial_form_count()
        for index, row in enumerate(formset.forms[:initial]):
            for name in row.fields:
                value = _value(row[name].value())
                if value is not None:
                    data[f"{prefix}-{index}-{name}"] = value
        rows = (extra_rows or {}).get(prefix, [])
        for offset, values in enumerate(rows):
            for name, value in values.items():
                data[f"{prefix}-{initial + offset}-{name}"] = str(value)
        data[f"{prefix}-TOTAL_FORMS"] = str(initial + len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = str(initial)
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    return data
