"""Spreadsheet layouts of the employment app, and of the work lists, with Chinese headers.

Like ``communities.resources``: the admin hands over a queryset that is already
scoped (and, for the work lists, filtered), and ID numbers and phones are
masked unless the exporting user may see them.
"""

from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields

from communities.enums import Relationship
from communities.masking import age_on
from communities.models import Household, Person
from communities.resources import MaskingResource
from communities.validators import mask_phone, mask_resident_id

from . import enums
from .models import Employer, EmploymentRecord, HouseholdIncome


def list_date(queryset):
    """The reference date a work-list filter put on the rows (see admin_filters), else today."""
    expression = queryset.query.annotations.get("employment_on")
    return getattr(expression, "value", None) or timezone.localdate()


def _member_count(people):
    """Subquery: how many of ``people`` belong to the outer household."""
    counted = (
        people.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


class PersonLinkedResource(MaskingResource):
    """Columns that identify the person a record belongs to."""

    household = fields.Field(attribute="person__household__number", column_name=_("户编号"))
    settlement = fields.Field(
        attribute="person__household__settlement__name", column_name=_("安置点")
    )
    person_name = fields.Field(attribute="person__name", column_name=_("姓名"))
    id_number = fields.Field(column_name=_("身份证号"))

    def dehydrate_id_number(self, obj):
        return self._sensitive(obj.person.id_number, mask_resident_id)


class EmploymentRecordResource(PersonLinkedResource):
    kind = fields.Field(column_name=_("就业类型"))
    employer = fields.Field(column_name=_("用工主体"))
    position = fields.Field(attribute="position", column_name=_("岗位/工种"))
    place = fields.Field(column_name=_("就业地点"))
    work_location = fields.Field(attribute="work_location", column_name=_("务工地"))
    monthly_income = fields.Field(attribute="monthly_income", column_name=_("月收入（元）"))
    start_date = fields.Field(attribute="start_date", column_name=_("开始日期"))
    end_date = fields.Field(attribute="end_date", column_name=_("结束日期"))
    found_via = fields.Field(column_name=_("就业渠道"))

    class Meta:
        model = EmploymentRecord
        name = _("就业台账")
        fields = (
            "household",
            "settlement",
            "person_name",
            "id_number",
            "kind",
            "employer",
            "position",
            "place",
            "work_location",
            "monthly_income",
            "start_date",
            "end_date",
            "found_via",
        )

    def dehydrate_kind(self, obj):
        return self._choice(obj, "kind")

    def dehydrate_place(self, obj):
        return self._choice(obj, "place")

    def dehydrate_found_via(self, obj):
        return self._choice(obj, "found_via")

    def dehydrate_employer(self, obj):
        return obj.employer_label

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("person__household__settlement", "employer")


class EmployerResource(MaskingResource):
    name = fields.Field(attribute="name", column_name=_("单位名称"))
    kind = fields.Field(column_name=_("类型"))
    credit_code = fields.Field(attribute="credit_code", column_name=_("统一社会信用代码"))
    county = fields.Field(attribute="county__name", column_name=_("登记县（市、区）"))
    settlement = fields.Field(attribute="settlement__name", column_name=_("服务安置点"))
    location = fields.Field(column_name=_("相对安置点位置"))
    address = fields.Field(attribute="address", column_name=_("地址"))
    industry = fields.Field(attribute="industry", column_name=_("行业"))
    contact_name = fields.Field(attribute="contact_name", column_name=_("联系人"))
    contact_phone = fields.Field(column_name=_("联系电话"))
    active = fields.Field(column_name=_("在营"))

    class Meta:
        model = Employer
        name = _("用工主体")
        fields = tuple(f for f in Employer.EDIT_FIELDS if f != "notes")

    def dehydrate_kind(self, obj):
        return self._choice(obj, "kind")

    def dehydrate_location(self, obj):
        return self._choice(obj, "location")

    def dehydrate_contact_phone(self, obj):
        return self._sensitive(obj.contact_phone, mask_phone)

    def dehydrate_active(self, obj):
        return _("是") if obj.active else _("否")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("county", "settlement")


class HouseholdIncomeResource(MaskingResource):
    household = fields.Field(attribute="household__number", column_name=_("户编号"))
    settlement = fields.Field(attribute="household__settlement__name", column_name=_("安置点"))
    year = fields.Field(attribute="year", column_name=_("年度"))
    wage_income = fields.Field(attribute="wage_income", column_name=_("工资性收入"))
    business_income = fields.Field(attribute="business_income", column_name=_("生产经营性收入"))
    transfer_income = fields.Field(attribute="transfer_income", column_name=_("转移性收入"))
    property_income = fields.Field(attribute="property_income", column_name=_("财产性收入"))
    costs = fields.Field(attribute="costs", column_name=_("生产经营费用支出"))
    net_income = fields.Field(attribute="net_income", column_name=_("家庭纯收入"))
    household_size = fields.Field(attribute="household_size", column_name=_("年末家庭人口"))
    per_capita_net = fields.Field(attribute="per_capita_net", column_name=_("人均纯收入"))

    class Meta:
        model = HouseholdIncome
        name = _("家庭收入")
        fields = (
            "household",
            "settlement",
            "year",
            "wage_income",
            "business_income",
            "transfer_income",
            "property_income",
            "costs",
            "net_income",
            "household_size",
            "per_capita_net",
        )

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("household__settlement")


# --- work lists ------------------------------------------------------------------


class PersonEmploymentResource(MaskingResource):
    """家庭成员 with their job on the list's date: the people work lists as a spreadsheet."""

    household = fields.Field(attribute="household__number", column_name=_("户编号"))
    settlement = fields.Field(attribute="household__settlement__name", column_name=_("安置点"))
    name = fields.Field(attribute="name", column_name=_("姓名"))
    id_number = fields.Field(column_name=_("身份证号"))
    sex = fields.Field(column_name=_("性别"))
    age = fields.Field(column_name=_("年龄"))
    labour_ability = fields.Field(column_name=_("劳动技能"))
    phone = fields.Field(column_name=_("联系电话"))
    on_date = fields.Field(column_name=_("统计日期"))
    job_kind = fields.Field(column_name=_("就业类型"))
    job_employer = fields.Field(column_name=_("就业单位"))
    job_place = fields.Field(column_name=_("就业地点"))
    job_income = fields.Field(column_name=_("月收入（元）"))
    last_end = fields.Field(column_name=_("最近离岗日期"))

    class Meta:
        model = Person
        name = _("家庭成员就业情况")
        fields = (
            "household",
            "settlement",
            "name",
            "id_number",
            "sex",
            "age",
            "labour_ability",
            "phone",
            "on_date",
            "job_kind",
            "job_employer",
            "job_place",
            "job_income",
            "last_end",
        )

    def filter_export(self, queryset, **kwargs):
        self.on = list_date(queryset)
        jobs = EmploymentRecord.objects.select_related("employer").order_by("-start_date", "-id")
        return queryset.select_related("household__settlement").prefetch_related(
            Prefetch("jobs", queryset=jobs, to_attr="export_jobs")
        )

    def _current_job(self, obj):
        """The job on the list's date: an employed kind first, else farming."""
        current = [job for job in obj.export_jobs if job.is_current(self.on)]
        for job in current:
            if job.kind in enums.EMPLOYED_KINDS:
                return job
        return current[0] if current else None

    def dehydrate_id_number(self, obj):
        return self._sensitive(obj.id_number, mask_resident_id)

    def dehydrate_phone(self, obj):
        return self._sensitive(obj.phone, mask_phone)

    def dehydrate_sex(self, obj):
        return self._choice(obj, "sex")

    def dehydrate_age(self, obj):
        return age_on(obj.birth_date, self.on, self.reveal_sensitive)

    def dehydrate_labour_ability(self, obj):
        return self._choice(obj, "labour_ability")

    def dehydrate_on_date(self, obj):
        return self.on

    def dehydrate_job_kind(self, obj):
        job = self._current_job(obj)
        return job.get_kind_display() if job else _("无")

    def dehydrate_job_employer(self, obj):
        job = self._current_job(obj)
        return job.employer_label if job else ""

    def dehydrate_job_place(self, obj):
        job = self._current_job(obj)
        return job.get_place_display() if job else ""

    def dehydrate_job_income(self, obj):
        job = self._current_job(obj)
        return job.monthly_income if job and job.monthly_income is not None else ""

    def dehydrate_last_end(self, obj):
        ended = [
            job.end_date
            for job in obj.export_jobs
            if job.end_date and job.end_date < self.on and job.kind in enums.EMPLOYED_KINDS
        ]
        return max(ended) if ended else ""


class HouseholdEmploymentResource(MaskingResource):
    """搬迁户 with labour, employment and income: the household work lists as a spreadsheet."""

    number = fields.Field(attribute="number", column_name=_("户编号"))
    settlement = fields.Field(attribute="settlement__name", column_name=_("安置点"))
    building = fields.Field(attribute="building__name", column_name=_("楼栋"))
    unit = fields.Field(attribute="unit", column_name=_("单元"))
    room = fields.Field(attribute="room", column_name=_("房号"))
    head = fields.Field(attribute="export_head", column_name=_("户主"))
    phone = fields.Field(column_name=_("联系电话"))
    on_date = fields.Field(column_name=_("统计日期"))
    labour = fields.Field(column_name=_("劳动力人数"))
    employed = fields.Field(column_name=_("已就业人数"))
    income_year = fields.Field(column_name=_("收入年度"))
    household_size = fields.Field(column_name=_("年末家庭人口"))
    net_income = fields.Field(column_name=_("家庭纯收入"))
    per_capita_net = fields.Field(column_name=_("人均纯收入"))

    class Meta:
        model = Household
        name = _("搬迁户就业与收入")
        fields = (
            "number",
            "settlement",
            "building",
            "unit",
            "room",
            "head",
            "phone",
            "on_date",
            "labour",
            "employed",
            "income_year",
            "household_size",
            "net_income",
            "per_capita_net",
        )

    def filter_export(self, queryset, **kwargs):
        self.on = list_date(queryset)
        year = queryset.query.annotations.get("income_year")
        self.year = getattr(year, "value", None)
        head = Person.objects.filter(
            household=OuterRef("pk"), relationship=Relationship.HEAD
        ).values("name")[:1]
        incomes = HouseholdIncome.objects.order_by("-year")
        if self.year:
            incomes = incomes.filter(year=self.year)
        return (
            queryset.select_related("settlement", "building")
            .annotate(
                export_head=Subquery(head),
                export_labour=_member_count(Person.objects.labour_force(self.on)),
                export_employed=_member_count(Person.objects.employed(self.on)),
            )
            .prefetch_related(Prefetch("incomes", queryset=incomes, to_attr="export_incomes"))
        )

    def _income(self, obj):
        return obj.export_incomes[0] if obj.export_incomes else None

    def dehydrate_phone(self, obj):
        return self._sensitive(obj.phone, mask_phone)

    def dehydrate_on_date(self, obj):
        return self.on

    def dehydrate_labour(self, obj):
        return obj.export_labour

    def dehydrate_employed(self, obj):
        return obj.export_employed

    def dehydrate_income_year(self, obj):
        income = self._income(obj)
        return income.year if income else ""

    def dehydrate_household_size(self, obj):
        income = self._income(obj)
        return income.household_size if income else ""

    def dehydrate_net_income(self, obj):
        income = self._income(obj)
        return income.net_income if income else ""

    def dehydrate_per_capita_net(self, obj):
        income = self._income(obj)
        return income.per_capita_net if income else ""
