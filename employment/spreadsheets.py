"""用工主体, 就业台账 and 家庭收入 files."""

from decimal import Decimal

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import Household, Person, Region, Settlement
from communities.spreadsheets.people import people_in_area, person_columns, person_of
from employment import enums
from employment.models import Employer, EmploymentRecord, HouseholdIncome
from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.engine import bulk_in
from relocation.spreadsheets.kinds import register
from relocation.spreadsheets.kinds.simple import SimpleKind

E = Employer._meta.get_field
R = EmploymentRecord._meta.get_field
I = HouseholdIncome._meta.get_field  # noqa: E741
ZERO = Decimal("0.00")


def counties_visible(ctx):
    """A test for county codes whose county-level records the user may see and import."""
    scope = ctx.scope
    if scope.unrestricted:
        return lambda code: True
    own = set(
        Settlement.objects.filter(pk__in=scope.settlement_ids).values_list("county_id", flat=True)
    )
    prefixes = tuple(p[:6] if len(p) > 6 else p for p in scope.region_prefixes)
    return lambda code: bool(code) and (code in own or code.startswith(prefixes))


class EmployerKind(SimpleKind):
    key = "employer"
    label = gettext_lazy("用工主体")
    model = Employer
    import_permissions = ("employment.import_employer",)
    export_permissions = ("employment.export_employer",)
    key_header = "name"
    scope_header = "county"
    key_label = gettext_lazy("统一社会信用代码或单位名称")
    columns = [
        Column(
            "name",
            gettext_lazy("单位名称"),
            required=True,
            model_field=E("name"),
            example="兴义市阳光帮扶车间",
            width=24,
        ),
        Column(
            "kind",
            gettext_lazy("类型"),
            "choice",
            required=True,
            choices=enums.EmployerKind,
            model_field=E("kind"),
            example="帮扶车间",
        ),
        Column(
            "credit_code",
            gettext_lazy("统一社会信用代码"),
            model_field=E("credit_code"),
            example="",
            help=gettext_lazy("18位，已知时填写；有代码时按代码更新，否则按登记县和单位名称。"),
            width=22,
        ),
        Column("county", gettext_lazy("登记县代码"), "code", required=True, example="522301"),
        Column(
            "settlement", gettext_lazy("服务安置点编码"), "code", example="AZD522301001", width=16
        ),
        Column(
            "location",
            gettext_lazy("相对安置点位置"),
            "choice",
            required=True,
            choices=enums.EmployerLocation,
            model_field=E("location"),
            example="安置点内",
        ),
        Column("address", gettext_lazy("地址"), model_field=E("address"), example=""),
        Column("industry", gettext_lazy("行业"), model_field=E("industry"), example="服装加工"),
        Column(
            "contact_name", gettext_lazy("联系人"), model_field=E("contact_name"), example="陈华"
        ),
        Column(
            "contact_phone",
            gettext_lazy("联系电话"),
            "phone",
            model_field=E("contact_phone"),
            example="0859-3221234",
        ),
        Column("active", gettext_lazy("在营"), "bool", default=True, example="是", width=8),
        Column("notes", gettext_lazy("备注"), model_field=E("notes"), example=""),
    ]
    fields = Employer.EDIT_FIELDS

    def prepare(self, rows, plan, ctx):
        counties = {r.values.get("county") for r in rows} - {None, ""}
        codes = {r.values.get("settlement") for r in rows} - {None, ""}
        return {
            "regions": {r.code: r for r in bulk_in(Region.objects.all(), "code", counties)},
            "settlements": {
                s.code: s for s in bulk_in(Settlement.objects.visible_to(ctx.user), "code", codes)
            },
            "county_ok": counties_visible(ctx),
        }

    def key_of(self, row):
        v = row.values
        if v.get("credit_code"):
            return ("code", v["credit_code"])
        if v.get("county") and v.get("name"):
            return ("name", v["county"], v["name"])
        return None

    def existing(self, keys, state, ctx):
        codes = [k[1] for k in keys if k[0] == "code"]
        named = [k for k in keys if k[0] == "name"]
        employers = Employer.objects.select_related("settlement")
        found = {("code", e.credit_code): e for e in bulk_in(employers, "credit_code", codes)}
        for e in bulk_in(employers.filter(credit_code=""), "name", {k[2] for k in named}):
            found.setdefault(("name", e.county_id, e.name), e)
        return found

    def visible(self, obj, ctx):
        return self._county_ok(ctx)(obj.county_id)

    def _county_ok(self, ctx):
        if not hasattr(ctx, "_county_ok"):
            ctx._county_ok = counties_visible(ctx)
        return ctx._county_ok

    def out_of_scope_message(self, row):
        return _("该单位已由您管辖范围以外的县登记，不能导入或覆盖。")

    def values_of(self, row, state, plan, ctx):
        values = {k: row.values[k] for k in self.fields if k in row.values}
        county = state["regions"].get(row.values["county"])
        if county is None or county.level != 3:
            plan.errors.add(
                row.number,
                self.column("county").header,
                _("“%(code)s”不是有效的县级行政区划代码。") % {"code": row.values["county"]},
            )
            return None
        values["county"] = county
        if "settlement" in row.values:
            code = row.values["settlement"]
            values["settlement"] = state["settlements"].get(code) if code else None
            if code and values["settlement"] is None:
                plan.errors.add(
                    row.number,
                    self.column("settlement").header,
                    self.not_found(_("安置点编码"), code),
                )
                return None
        return values

    def scope_error(self, obj, ctx):
        if not self._county_ok(ctx)(obj.county_id):
            return _("登记县不在您的管辖范围内。")
        return None

    export_select = ("settlement",)
    export_order = ("county_id", "name")

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields if k not in ("county", "settlement")}
        values.update(
            county=obj.county_id, settlement=obj.settlement.code if obj.settlement_id else ""
        )
        return values


class EmploymentKind(SimpleKind):
    key = "employment"
    label = gettext_lazy("就业台账")
    model = EmploymentRecord
    import_permissions = ("employment.import_employmentrecord",)
    export_permissions = ("employment.export_employmentrecord",)
    key_header = "start_date"
    scope_header = "id_number"
    key_label = gettext_lazy("身份证号、就业类型和开始日期")
    notes = (
        gettext_lazy("按“身份证号 + 就业类型 + 开始日期”更新已有记录，其余新建。"),
        gettext_lazy(
            "“用工主体”填已登记单位的统一社会信用代码或单位名称；未登记的外出务工单位填在“单位名称（未登记）”。"
        ),
    )
    columns = [
        *person_columns(),
        Column(
            "kind",
            gettext_lazy("就业类型"),
            "choice",
            required=True,
            choices=enums.EmploymentKind,
            model_field=R("kind"),
            example="务工",
        ),
        Column("employer", gettext_lazy("用工主体"), example="兴义市阳光帮扶车间", width=24),
        Column(
            "employer_name",
            gettext_lazy("单位名称（未登记）"),
            model_field=R("employer_name"),
            example="",
            width=20,
        ),
        Column("position", gettext_lazy("岗位/工种"), model_field=R("position"), example="缝纫工"),
        Column(
            "place",
            gettext_lazy("就业地点"),
            "choice",
            required=True,
            choices=enums.WorkPlace,
            model_field=R("place"),
            example="县内",
        ),
        Column("work_location", gettext_lazy("务工地"), model_field=R("work_location"), example=""),
        Column(
            "monthly_income",
            gettext_lazy("月收入（元）"),
            "decimal",
            model_field=R("monthly_income"),
            example="2800",
        ),
        Column(
            "start_date",
            gettext_lazy("开始日期"),
            "date",
            required=True,
            model_field=R("start_date"),
            example="2024-03-01",
            width=12,
        ),
        Column(
            "end_date",
            gettext_lazy("结束日期"),
            "date",
            model_field=R("end_date"),
            example="",
            width=12,
        ),
        Column(
            "found_via",
            gettext_lazy("就业渠道"),
            "choice",
            choices=enums.FoundVia,
            model_field=R("found_via"),
            default=enums.FoundVia.SELF,
            example="帮扶车间吸纳",
        ),
        Column("notes", gettext_lazy("备注"), model_field=R("notes"), example=""),
    ]
    fields = (
        "employer",
        "employer_name",
        "position",
        "place",
        "work_location",
        "monthly_income",
        "end_date",
        "found_via",
        "notes",
    )

    def prepare(self, rows, plan, ctx):
        people = people_in_area(rows, ctx)
        visible = list(people.values())
        names = {r.values.get("employer") for r in rows} - {None, ""}
        employers = bulk_in(Employer.objects.visible_to(ctx.user), "credit_code", names)
        employers += bulk_in(Employer.objects.visible_to(ctx.user), "name", names)
        by_label = {}
        for e in employers:
            for label in {e.credit_code, e.name} - {""}:
                by_label.setdefault(label, {})[e.pk] = e
        settlement_county = dict(
            Settlement.objects.filter(
                pk__in={p.household.settlement_id for p in visible}
            ).values_list("pk", "county_id")
        )
        records = {}
        for r in bulk_in(
            EmploymentRecord.objects.select_related("employer"),
            "person_id",
            [p.pk for p in visible],
        ):
            records.setdefault(r.person_id, []).append(r)
        return {
            "people": people,
            "employers": by_label,
            "county_of": settlement_county,
            "records": records,
        }

    def key_of(self, row):
        v = row.values
        if v.get("id_number") and v.get("kind") and v.get("start_date"):
            return (v["id_number"], v["kind"], v["start_date"])
        return None

    def existing(self, keys, state, ctx):
        found = {}
        for person in state["people"].values():
            for record in state["records"].get(person.pk, ()):
                found[(person.id_number, record.kind, record.start_date)] = record
        return found

    def values_of(self, row, state, plan, ctx):
        v = row.values
        person = person_of(self, row, state["people"], plan)
        if person is None:
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values["person"] = person
        if "employer" in v:
            label = v["employer"]
            values["employer"] = None
            if label:
                matches = list(state["employers"].get(label, {}).values())
                if len(matches) > 1:
                    county = state["county_of"].get(person.household.settlement_id)
                    matches = [e for e in matches if e.county_id == county]
                if len(matches) != 1:
                    plan.errors.add(
                        row.number,
                        self.column("employer").header,
                        _(
                            "用工主体“%(name)s”未登记或不唯一；请填统一社会信用代码，或先导入用工主体。"
                        )
                        % {"name": label},
                    )
                    return None
                values["employer"] = matches[0]
        return values

    def key_values(self, key):
        return {"kind": key[1], "start_date": key[2]}

    def after_plan(self, planned, state, plan, ctx):
        """Overlapping exclusive jobs, judged on the stored records and the file together."""
        by_person = {pk: list(records) for pk, records in state["records"].items()}
        for _row, obj, changed in planned:
            if changed is None:
                by_person.setdefault(obj.person_id, []).append(obj)
        for _row, obj, _changed in planned:
            others = [o for o in by_person.get(obj.person_id, ()) if o is not obj]
            # clean() asks the model's own rule; it gets the records in hand
            # instead of querying them row by row.
            obj.overlapping_exclusive = lambda others=None, _obj=obj, _others=others: (
                EmploymentRecord.overlapping_exclusive(_obj, others=_others)
            )

    def note_key(self, key):
        return (key[0], key[1], key[2].isoformat())

    export_select = ("person", "employer")
    export_order = ("person__id_number", "start_date", "id")

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields if k != "employer"}
        values.update(
            id_number=obj.person.id_number,
            name=obj.person.name,
            kind=obj.kind,
            start_date=obj.start_date,
            employer=(obj.employer.credit_code or obj.employer.name) if obj.employer_id else "",
        )
        return values


class IncomeKind(SimpleKind):
    key = "income"
    label = gettext_lazy("家庭收入")
    model = HouseholdIncome
    import_permissions = ("employment.import_householdincome",)
    export_permissions = ("employment.export_householdincome",)
    key_header = "year"
    scope_header = "number"
    key_label = gettext_lazy("户编号和年度")
    notes = (
        gettext_lazy(
            "每户每年一行；按“户编号 + 年度”更新已有记录。纯收入和人均纯收入由系统计算，导入时忽略。"
        ),
        gettext_lazy("“年末家庭人口”留空时取该户当前家庭成员人数。"),
    )
    columns = [
        Column("number", gettext_lazy("户编号"), required=True, example="522301000101", width=16),
        Column(
            "year",
            gettext_lazy("年度"),
            "int",
            required=True,
            model_field=I("year"),
            example="2024",
            width=8,
        ),
        Column(
            "wage_income",
            gettext_lazy("工资性收入"),
            "decimal",
            model_field=I("wage_income"),
            default=ZERO,
            example="36000",
        ),
        Column(
            "business_income",
            gettext_lazy("生产经营性收入"),
            "decimal",
            model_field=I("business_income"),
            default=ZERO,
            example="5000",
        ),
        Column(
            "transfer_income",
            gettext_lazy("转移性收入"),
            "decimal",
            model_field=I("transfer_income"),
            default=ZERO,
            example="4200",
        ),
        Column(
            "property_income",
            gettext_lazy("财产性收入"),
            "decimal",
            model_field=I("property_income"),
            default=ZERO,
            example="600",
        ),
        Column(
            "costs",
            gettext_lazy("生产经营费用支出"),
            "decimal",
            model_field=I("costs"),
            default=ZERO,
            example="2000",
        ),
        Column(
            "household_size",
            gettext_lazy("年末家庭人口"),
            "int",
            model_field=I("household_size"),
            example="4",
        ),
        Column("net_income", gettext_lazy("家庭纯收入"), "decimal", export_only=True),
        Column("per_capita_net", gettext_lazy("人均纯收入"), "decimal", export_only=True),
        Column("notes", gettext_lazy("备注"), model_field=I("notes"), example=""),
    ]
    fields = (
        "wage_income",
        "business_income",
        "transfer_income",
        "property_income",
        "costs",
        "household_size",
        "notes",
    )

    def prepare(self, rows, plan, ctx):
        numbers = {r.values.get("number") for r in rows} - {None, ""}
        households = {h.number: h for h in bulk_in(Household.objects.all(), "number", numbers)}
        ids = [h.pk for h in households.values()]
        sizes = {}
        for chunk in bulk_in(
            Person.objects.values("household_id")
            .annotate(n=Count("id"))
            .values_list("household_id", "n"),
            "household_id",
            ids,
        ):
            sizes[chunk[0]] = chunk[1]
        return {"households": households, "sizes": sizes}

    def key_of(self, row):
        v = row.values
        if v.get("number") and v.get("year"):
            return (v["number"], v["year"])
        return None

    def existing(self, keys, state, ctx):
        by_id = {h.pk: h for h in state["households"].values()}
        years = {k[1] for k in keys}
        found = bulk_in(HouseholdIncome.objects.filter(year__in=years), "household_id", by_id)
        for income in found:
            income.household = by_id[income.household_id]
        return {(by_id[i.household_id].number, i.year): i for i in found}

    def visible(self, obj, ctx):
        return ctx.settlement_visible(obj.household.settlement_id)

    def out_of_scope_message(self, row):
        return _("户编号“%(number)s”不存在或不在您的管辖范围内。") % {
            "number": row.values["number"]
        }

    def values_of(self, row, state, plan, ctx):
        household = state["households"].get(row.values["number"])
        if household is None or not ctx.settlement_visible(household.settlement_id):
            plan.errors.add(
                row.number, self.column("number").header, self.out_of_scope_message(row)
            )
            return None
        values = {k: row.values[k] for k in self.fields if k in row.values}
        values["household"] = household
        if values.get("household_size") is None:
            values["household_size"] = state["sizes"].get(household.pk)
            if not values["household_size"]:
                plan.errors.add(
                    row.number,
                    self.column("household_size").header,
                    _("该户没有登记家庭成员，请填写年末家庭人口。"),
                )
                return None
        return values

    def key_values(self, key):
        return {"year": key[1]}

    export_select = ("household",)
    export_order = ("household__number", "year")

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields}
        values.update(
            number=obj.household.number,
            year=obj.year,
            net_income=obj.net_income,
            per_capita_net=obj.per_capita_net,
        )
        return values


register(EmployerKind, EmploymentKind, IncomeKind)
