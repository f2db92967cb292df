"""The employment demo: realistic mixes, every work list filled, valid, deterministic, removable."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from communities.demo import DEMO_REASON, build_demo, delete_demo_data
from communities.models import Household, Person, Settlement, shift_years
from employment import enums
from employment.demo import (
    COUNT_LABELS,
    LINE_SOURCE,
    build_employment_demo,
    delete_employment_demo,
    demo_figures,
    employment_demo_counts,
)
from employment.models import (
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
from employment.querysets import employment_figures, income_figures

HOUSEHOLDS = 300
SEED = 5
MODELS = (
    Employer,
    EmploymentRecord,
    JobPosting,
    Referral,
    TrainingCourse,
    TrainingAttendance,
    HouseholdIncome,
    InsuranceClaim,
    BusinessLoan,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("load_demo", "--households", str(HOUSEHOLDS), "--seed", str(SEED), stdout=out)
    return out.getvalue()


def _snapshot():
    """Everything a user would see of the ledger and incomes, keyed by natural keys."""
    jobs = sorted(
        EmploymentRecord.objects.values_list(
            "person__id_number",
            "kind",
            "place",
            "employer__name",
            "employer_name",
            "monthly_income",
            "start_date",
            "end_date",
            "found_via",
        ),
        key=str,
    )
    incomes = sorted(
        HouseholdIncome.objects.values_list("household__number", "year", "net_income", "costs")
    )
    return jobs, incomes


def test_command_creates_and_reports(demo, today):
    assert "就业与收入演示数据已生成" in demo
    assert "就业率" in demo and "人均纯收入" in demo and "低于监测线（演示示意值）" in demo
    counts = employment_demo_counts()
    for key, value in counts.items():
        assert value > 0, key
    # The counts printed are the rows the builder wrote (``PendingRows.counts``): the
    # tables counted again give the same.
    assert "，".join(f"{label} {counts[key]:,}" for key, label in COUNT_LABELS) in demo
    assert counts["household_incomes"] == 2 * HOUSEHOLDS
    # A second run keeps everything and says so.
    out = io.StringIO()
    call_command("load_demo", "--households", str(HOUSEHOLDS), "--seed", str(SEED), stdout=out)
    assert "已存在就业与收入演示数据" in out.getvalue()
    assert employment_demo_counts() == counts


def test_employment_mix(demo, today):
    row = employment_figures(Person.objects.employment_summary(today))
    employed = row["employed"]
    assert row["labour_force"] > 500
    assert Decimal("0.93") <= row["employment_rate"] <= Decimal("0.97")
    assert 0.40 <= row["employed_nearby"] / employed <= 0.60
    assert 0.03 <= row["public_welfare_posts"] / employed <= 0.10
    assert 0.01 <= row["self_employed"] / employed <= 0.06
    assert 0 < row["workshop_employed"] / employed <= 0.04
    assert 0.15 <= row["employed_outside_province"] / employed <= 0.45
    assert row["farming"] > 0
    # Households: almost all with labour have someone at work, a few have nobody.
    assert row["one_per_household_rate"] > Decimal("0.97")
    assert row["zero_employment_households"] >= 1
    # Farming alone never makes a person employed.
    farmers_only = (
        Person.objects.labour_force(today)
        .filter(jobs__kind=enums.EmploymentKind.FARMING, jobs__end_date__isnull=True)
        .exclude(pk__in=Person.objects.employed(today).values("pk"))
    )
    assert farmers_only.exists()


def test_income_levels(demo, today):
    year = today.year - 1
    f = income_figures(HouseholdIncome.objects.income_summary(year))
    assert Decimal("11900") <= f["per_capita_net_income"] <= Decimal("16100")
    assert Decimal("0.10") <= f["per_capita_income_growth"] <= Decimal("0.20")
    assert Decimal("0.70") <= f["income_share_wage"] <= Decimal("0.85")
    assert f["income_share_transfer"] > 0 and f["income_share_property"] > 0
    assert set(HouseholdIncome.objects.values_list("year", flat=True)) == {year - 1, year}
    # Stored totals agree with the model's own arithmetic.
    for income in HouseholdIncome.objects.select_related("household")[:200]:
        net, per_capita = income.net_income, income.per_capita_net
        income.set_derived_fields()
        assert (income.net_income, income.per_capita_net) == (net, per_capita)
        assert income.household_size == income.household.members.count()


def test_every_work_list_has_entries(demo, today):
    year = today.year - 1
    zero = Household.objects.zero_employment(today)
    assert zero.exists()
    assert zero.count() < Household.objects.with_labour(today).count() * 0.03
    below = Household.objects.below_monitoring_line(year)
    assert below.exists()
    assert below.count() < HOUSEHOLDS * 0.06
    assert Person.objects.unemployed_labour(today).exists()
    recent = EmploymentRecord.objects.filter(
        end_date__gte=today - datetime.timedelta(days=30), end_date__lt=today
    ).exclude(person__in=Person.objects.employed(today))
    assert recent.exists()
    # The demo worker's first settlement has an entry on each list.
    first = Settlement.objects.filter(county_id="522301").order_by("code").first()
    assert zero.filter(settlement=first).exists()
    assert below.filter(settlement=first).exists()
    assert recent.filter(person__household__settlement=first).exists()


def test_monitoring_lines_are_marked_illustrative(demo, today):
    year = today.year - 1
    lines = MonitoringLine.objects.filter(province_id="520000").order_by("year")
    assert [line.year for line in lines] == [year - 1, year]
    for line in lines:
        assert line.source == LINE_SOURCE and "示意" in line.source
        assert line.history.get().history_change_reason == DEMO_REASON
        line.full_clean()


def test_records_are_valid(demo, today):
    for model in MODELS:
        for obj in model.objects.all()[:400]:
            obj.full_clean()
    # Nobody worked before 16 or starts a job in the future.
    for start, born in EmploymentRecord.objects.values_list("start_date", "person__birth_date"):
        assert shift_years(born, 16) <= start <= today
    # Public-welfare posts are in the county and come from the county's provider.
    posts = EmploymentRecord.objects.filter(kind=enums.EmploymentKind.PUBLIC_WELFARE)
    assert set(posts.values_list("place", flat=True)) == {enums.WorkPlace.IN_COUNTY}
    assert set(posts.values_list("employer__kind", flat=True)) == {
        enums.EmployerKind.PUBLIC_WELFARE
    }
    # Nobody holds two exclusive jobs at once.
    for person_id in EmploymentRecord.objects.values_list("person_id", flat=True).distinct()[:500]:
        jobs = list(
            EmploymentRecord.objects.filter(
                person_id=person_id, kind__in=enums.EXCLUSIVE_KINDS
            ).order_by("start_date")
        )
        for earlier, later in zip(jobs, jobs[1:], strict=False):
            assert earlier.end_date is not None and earlier.end_date < later.start_date
    # Hired referrals point at the job they produced.
    hired = Referral.objects.filter(outcome=enums.ReferralOutcome.HIRED).select_related(
        "employment", "posting"
    )
    assert hired.exists()
    for referral in hired:
        assert referral.employment.person_id == referral.person_id
        assert referral.employment.employer_id == referral.posting.employer_id
        assert referral.referred_on <= referral.employment.start_date
    assert Referral.objects.exclude(outcome=enums.ReferralOutcome.HIRED).exists()
    assert TrainingAttendance.objects.filter(completed=True).exists()
    assert TrainingAttendance.objects.exclude(certificate="").exists()


def test_employers_around_each_settlement(demo):
    codes = set(Employer.objects.exclude(credit_code="").values_list("credit_code", flat=True))
    assert len(codes) == Employer.objects.exclude(credit_code="").count() > 10
    for settlement in Settlement.objects.all():
        kinds = set(settlement.employers.values_list("kind", flat=True))
        assert {enums.EmployerKind.WORKSHOP, enums.EmployerKind.COLLECTIVE} <= kinds
    counties = set(Settlement.objects.values_list("county_id", flat=True))
    providers = Employer.objects.filter(kind=enums.EmployerKind.PUBLIC_WELFARE)
    assert sorted(providers.values_list("county_id", flat=True)) == sorted(counties)
    assert Employer.objects.filter(location=enums.EmployerLocation.OUT_OF_PROVINCE).exists()


def test_history_rows(demo):
    for model in MODELS + (MonitoringLine,):
        history = model.history.filter(history_type="+", history_change_reason=DEMO_REASON)
        assert history.count() == model.objects.count(), model
        assert set(history.values_list("id", flat=True)) == set(
            model.objects.values_list("pk", flat=True)
        )


def test_same_seed_same_figures(demo, today):
    figures = demo_figures(today)
    snapshot = _snapshot()
    build_demo(seed=SEED, households=HOUSEHOLDS, reset=True)
    assert EmploymentRecord.objects.count() == 0
    result = build_employment_demo(seed=SEED, today=today)
    assert result.created
    assert demo_figures(today) == figures
    assert _snapshot() == snapshot
    # Another seed gives other data.
    delete_employment_demo()
    build_employment_demo(seed=SEED + 1, today=today)
    assert _snapshot() != snapshot


def test_reset_removes_it_all_and_keeps_other_data(demo, today):
    own_line = MonitoringLine.objects.create(province_id="520000", year=2020, amount=5000)
    own = Employer.objects.create(
        name="自建企业", kind=enums.EmployerKind.ENTERPRISE, county_id="522301", location="nearby"
    )
    delete_demo_data()
    for model in MODELS:
        assert not model.objects.exclude(pk=own.pk).exists(), model
        leftovers = model.history.filter(history_change_reason=DEMO_REASON)
        assert not leftovers.exists(), model
    assert list(MonitoringLine.objects.all()) == [own_line]
    assert Employer.objects.get() == own
    assert not Person.objects.exists()


def test_existing_line_is_kept(db, today):
    build_demo(seed=SEED, households=60)
    year = today.year - 1
    official = MonitoringLine.objects.create(
        province_id="520000", year=year, amount=Decimal("9100"), source="省文件"
    )
    build_employment_demo(seed=SEED, today=today)
    official.refresh_from_db()
    assert official.amount == Decimal("9100") and official.source == "省文件"
    assert MonitoringLine.objects.filter(year=year - 1, source=LINE_SOURCE).exists()
    delete_employment_demo()
    assert MonitoringLine.objects.get() == official
    # Small demos still fill every list in the primary settlement.
    build_employment_demo(seed=SEED, today=today)
    assert Household.objects.zero_employment(today).exists()
    assert Person.objects.unemployed_labour(today).exists()
    counts = (
        Household.objects.filter(incomes__year=year).aggregate(n=Count("pk"))["n"],
        Household.objects.count(),
    )
    assert counts[0] == counts[1] == 60
