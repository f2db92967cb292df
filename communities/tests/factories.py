"""factory_boy factories for the communities app.

``PersonFactory`` builds valid, unique resident ID numbers (GB 11643) from the
person's birth date and sex, so that the values ``Person.save()`` derives from
the ID agree with what the test asked for::

    PersonFactory(age=35, sex="F")
    PersonFactory(birth_date=date(1990, 2, 28))
    household_with_members(ages=[45, 43, 12])
"""

import datetime
import itertools

import factory
from django.utils import timezone

from communities import enums, models
from communities.models import shift_years
from communities.validators import check_digit

# Each (prefix, birth date, sex) has 500 order codes; a process-wide counter
# walks through them so that IDs made in one test never collide.
_order_codes = itertools.count()


def make_id_number(birth_date, sex="M", prefix="520201", seq=None):
    """An 18-digit resident ID number with a correct check digit.

    ``seq`` (0–499) picks the order code; the order code's last digit is odd
    for men and even for women, as GB 11643 requires.
    """
    if seq is None:
        seq = next(_order_codes) % 500
    if not 0 <= seq < 500:
        raise ValueError("seq must be in 0..499")
    if sex not in ("M", "F"):
        raise ValueError("sex must be 'M' or 'F'")
    order = seq * 2 + (1 if sex == "M" else 0)
    first17 = f"{prefix}{birth_date:%Y%m%d}{order:03d}"
    if len(first17) != 17:
        raise ValueError("prefix must be a 6-digit division code")
    return first17 + check_digit(first17)


def birth_date_for_age(age, on_date=None, days_since_birthday=1):
    """A birth date giving exactly ``age`` whole years on ``on_date`` (today)."""
    on_date = on_date or timezone.localdate()
    return shift_years(on_date, -age) - datetime.timedelta(days=days_since_birthday)


class RegionFactory(factory.django.DjangoModelFactory):
    """A county (区县) with a made-up code under Guizhou's 52 prefix."""

    class Meta:
        model = models.Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: str(529901 + n % 99))
    name = factory.Sequence(lambda n: f"测试县{n}")
    level = enums.RegionLevel.COUNTY


class SettlementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Settlement

    code = factory.Sequence(lambda n: f"AZD{n:05d}")
    name = factory.Sequence(lambda n: f"幸福{n}号安置点")
    county = factory.SubFactory(RegionFactory)
    community = factory.LazyAttribute(lambda o: f"{o.name}社区居委会")
    kind = enums.SettlementKind.URBAN
    year_built = 2019


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Building

    settlement = factory.SubFactory(SettlementFactory)
    name = factory.Sequence(lambda n: f"{n + 1}栋")
    units = 2
    floors = 11


class GridUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.GridUnit

    settlement = factory.SubFactory(SettlementFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}网格")


class GridWorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.GridWorker

    grid = factory.SubFactory(GridUnitFactory)
    name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"138{n % 10**8:08d}")


class TenHouseholdGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TenHouseholdGroup

    grid = factory.SubFactory(GridUnitFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}联户")


class HouseholdFactory(factory.django.DjangoModelFactory):
    """A household living in a settlement (已入住); no members, see household_with_members."""

    class Meta:
        model = models.Household

    number = factory.Sequence(lambda n: f"HH{n:08d}")
    settlement = factory.SubFactory(SettlementFactory)
    relocation_year = factory.Sequence(lambda n: 2016 + n % 5)
    category = enums.HouseholdCategory.REGISTERED_POOR
    occupancy_state = enums.OccupancyState.MOVED_IN
    hukou_state = enums.HukouState.MOVED_IN


class PersonFactory(factory.django.DjangoModelFactory):
    """A household member with a valid, unique ID number.

    Give ``birth_date`` or ``age`` (whole years today); without either the
    person is a working-age adult (20–55). ``sex`` is ``"M"`` or ``"F"``;
    ``id_prefix`` the 6-digit division code the ID starts with.
    """

    class Meta:
        model = models.Person

    class Params:
        age = None
        id_prefix = "520201"
        id_seq = None
        head = factory.Trait(relationship=enums.Relationship.HEAD)

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Maybe(
        factory.LazyAttribute(lambda o: o.sex == "M"),
        yes_declaration=factory.Faker("name_male", locale="zh_CN"),
        no_declaration=factory.Faker("name_female", locale="zh_CN"),
    )
    sex = factory.Sequence(lambda n: "M" if n % 2 else "F")
    birth_date = factory.LazyAttributeSequence(
        lambda o, n: birth_date_for_age(
            o.age if o.age is not None else 20 + n % 36, days_since_birthday=1 + n % 300
        )
    )
    id_number = factory.LazyAttribute(
        lambda o: make_id_number(o.birth_date, o.sex, prefix=o.id_prefix, seq=o.id_seq)
    )
    relationship = enums.Relationship.OTHER
    ethnicity = enums.Ethnicity.HAN
    health = enums.Health.HEALTHY
    labour_ability = enums.LabourAbility.ORDINARY


_MEMBER_ROLES = (
    (enums.Relationship.HEAD, "M"),
    (enums.Relationship.SPOUSE, "F"),
    (enums.Relationship.SON, "M"),
    (enums.Relationship.DAUGHTER, "F"),
)


def household_with_members(size=None, ages=None, members=(), **household_kwargs):
    """A household with a head and members; returns the household.

    ``ages`` lists the members' ages, head first (default 45, 43, 18, 15, 12 …
    for ``size`` members, 3 if neither is given). The head is a man, the
    second member his wife, the others alternately sons and daughters.
    ``members`` may instead give one dict of PersonFactory arguments per
    member; the first one is the head unless it says otherwise.
    """
    household = HouseholdFactory(**household_kwargs)
    if not members:
        if ages is None:
            defaults = [45, 43, 18, 15, 12, 10, 8, 6]
            ages = defaults[: size or 3] + [5] * max(0, (size or 3) - len(defaults))
        members = [{"age": age} for age in ages]
    for index, spec in enumerate(members):
        relationship, sex = _MEMBER_ROLES[index if index < 2 else 2 + index % 2]
        PersonFactory(
            household=household,
            **{"relationship": relationship, "sex": sex, **spec},
        )
    return household


#: Periods around today, by name, for the "covering today" filters of the record lists
#: (``periods_around``), and the names each filter value lists.
COVERING = {
    "yes": {"ends today", "open", "starts today"},
    "no": {"ended yesterday", "starts tomorrow"},
}


def periods_around(today):
    """``{name: (start, end)}``: records that end yesterday or today, stay open, start
    today or tomorrow (``COVERING`` says which cover today)."""
    day = datetime.timedelta(days=1)
    return {
        "ended yesterday": (today - 9 * day, today - day),
        "ends today": (today - 9 * day, today),
        "open": (today - 9 * day, None),
        "starts today": (today, None),
        "starts tomorrow": (today + day, None),
    }


def three_settlements(region_tree):
    """Three settlements in two counties of ``region_tree`` (兴义市's 黄草 and 兴泰, 钟山区's
    黄土坡): the random worlds that check a figure against its rule."""
    rt = region_tree
    return [
        SettlementFactory(county=rt.xingyi, township=rt.huangcao),
        SettlementFactory(county=rt.xingyi, township=rt.xingtai),
        SettlementFactory(county=rt.zhongshan, township=rt.huangtupo),
    ]
