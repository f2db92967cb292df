"""Services and culture: places and events (spreadsheets).

服务设施, 社区活动, 评选表彰, 资金项目, 集体资产 and 集体资产收益 files.  Every row
names its settlement by code (an honour its household by number), which must lie in the user's
area; kinds are the names of the kinds an administrator keeps (the template's
drop-down lists the active ones).  A row whose natural key matches a stored
record updates it; the rest are new.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import Household, Person, Settlement
from relocation.spreadsheets.columns import Column, escape_formula
from relocation.spreadsheets.engine import bulk_in
from relocation.spreadsheets.kinds import register
from relocation.spreadsheets.kinds.simple import SimpleKind

from ..models.places import (
    Activity,
    ActivityKind,
    AssetIncome,
    AssetKind,
    CollectiveAsset,
    Facility,
    FacilityKind,
    FacilityState,
    FundedProject,
    FundingSource,
    Honour,
    HonourKind,
    ProjectState,
    served_error,
)


def field_column(model, name, kind="text", **kwargs):
    """A column filling model field ``name``, headed by the field's own label."""
    field = model._meta.get_field(name)
    return Column(name, field.verbose_name, kind, model_field=field, **kwargs)


class KindChoices:
    """The active kinds of a kind model, read when a file is checked or a template made."""

    def __init__(self, model):
        self.model = model

    @property
    def choices(self):
        return list(self.model.objects.filter(active=True).values_list("pk", "name"))


class KindColumn(Column):
    """A drop-down of data an administrator extends (never cached between files)."""

    def choice_map(self):
        self._choice_map = None
        return super().choice_map()

    def blank_value(self):
        return None

    def format(self, value, reveal=True):
        return escape_formula(str(value)) if value else ""


def kind_column(model, header, example):
    return KindColumn(
        "kind",
        header,
        "choice",
        required=True,
        choices=KindChoices(model),
        example=example,
        help=gettext_lazy("从下拉列表选择；新的种类请管理员先在系统中添加。"),
    )


def settlement_column():
    return Column(
        "settlement",
        gettext_lazy("安置点编码"),
        "code",
        required=True,
        example="AZD522301001",
        width=16,
        help=gettext_lazy("须是您管辖范围内的安置点。"),
    )


class SettlementRecordKind(SimpleKind):
    """Records of a settlement: the settlement by code, inside the user's area."""

    scope_header = "settlement"
    key_header = "settlement"
    kind_model = None
    #: fields of the record a row sets (besides settlement and kind)
    fields = ()

    def record_key(self, obj, code):  # pragma: no cover
        raise NotImplementedError

    def prepare(self, rows, plan, ctx):
        codes = {r.values.get("settlement") for r in rows} - {None, ""}
        settlements = {
            s.code: s for s in bulk_in(Settlement.objects.visible_to(ctx.user), "code", codes)
        }
        return {"settlements": settlements, "kinds": self._kinds(rows)}

    def _kinds(self, rows):
        if self.kind_model is None:
            return {}
        pks = {r.values.get("kind") for r in rows} - {None}
        return {k.pk: k for k in self.kind_model.objects.filter(pk__in=pks)}

    def existing(self, keys, state, ctx):
        by_pk = {s.pk: s.code for s in state["settlements"].values()}
        records = self.model.objects.filter(settlement_id__in=list(by_pk))
        return {self.record_key(obj, by_pk[obj.settlement_id]): obj for obj in records}

    def values_of(self, row, state, plan, ctx):
        v = row.values
        settlement = state["settlements"].get(v["settlement"])
        if settlement is None:
            plan.errors.add(
                row.number,
                self.column("settlement").header,
                self.not_found(_("安置点编码"), v["settlement"]),
            )
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values["settlement"] = settlement
        if self.kind_model is not None:
            values["kind"] = state["kinds"][v["kind"]]
        return values

    def scope_error(self, obj, ctx):
        if not ctx.settlement_visible(obj.settlement_id):
            return _("安置点不在您的管辖范围内。")
        return None

    export_select = ("settlement",)

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields}
        values["settlement"] = obj.settlement.code
        if self.kind_model is not None:
            values["kind"] = obj.kind.name
        return values


class FacilityKindSheet(SettlementRecordKind):
    key = "facility"
    label = gettext_lazy("服务设施")
    model = Facility
    kind_model = FacilityKind
    import_permissions = ("services.import_facility",)
    export_permissions = ("services.export_facility",)
    key_label = gettext_lazy("安置点编码和设施名称")
    notes = (
        gettext_lazy("按“安置点编码 + 设施名称”更新已有设施，其余新建。"),
        gettext_lazy(
            "“同时服务的安置点”填本县其他安置点的编码，多个用顿号或逗号分隔；"
            "填写后以文件为准，留空则不再服务其他安置点。"
        ),
    )
    columns = [
        settlement_column(),
        kind_column(FacilityKind, gettext_lazy("设施种类"), "卫生室/医疗机构"),
        field_column(Facility, "name", required=True, example="阳光社区卫生室", width=22),
        Column("also_serves", gettext_lazy("同时服务的安置点"), "names", example="", width=22),
        field_column(Facility, "capacity", "int", example="20"),
        field_column(Facility, "teachers", "int", default=0, example="0"),
        field_column(Facility, "medical_staff", "int", default=0, example="3"),
        field_column(Facility, "opened_on", "date", example="2021-06-01", width=12),
        field_column(
            Facility,
            "state",
            "choice",
            choices=FacilityState,
            default=FacilityState.IN_USE,
            example="在用",
        ),
        field_column(Facility, "notes"),
    ]
    fields = ("kind", "capacity", "teachers", "medical_staff", "opened_on", "state", "notes")

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("name"):
            return (v["settlement"], v["name"])
        return None

    def record_key(self, obj, code):
        return (code, obj.name)

    def prepare(self, rows, plan, ctx):
        state = super().prepare(rows, plan, ctx)
        served = {c for r in rows for c in r.values.get("also_serves") or ()}
        state["served"] = {
            s.code: s for s in bulk_in(Settlement.objects.visible_to(ctx.user), "code", served)
        }
        state["m2m"] = {}
        return state

    def values_of(self, row, state, plan, ctx):
        values = super().values_of(row, state, plan, ctx)
        if values is None:
            return None
        if "also_serves" not in row.values:
            return values
        header = self.column("also_serves").header
        served = []
        for code in row.values["also_serves"]:
            found = state["served"].get(code)
            if found is None:
                plan.errors.add(row.number, header, self.not_found(_("安置点编码"), code))
                return None
            served.append(found)
        message = served_error(values["settlement"], served)
        if message:
            plan.errors.add(row.number, header, message)
            return None
        state["m2m"][row.number] = [s for s in served if s.pk != values["settlement"].pk]
        return values

    def key_values(self, key):
        return {"name": key[1]}

    export_select = ("settlement", "kind")
    export_prefetch = ("also_serves",)
    export_order = ("settlement__code", "name", "id")

    def export_values(self, obj):
        values = super().export_values(obj)
        values.update(name=obj.name, also_serves=tuple(s.code for s in obj.also_serves.all()))
        return values

    def extra_plan(self, planned, state, plan, ctx):
        """Served settlements that change mark a row updated even when no field did."""
        self_m2m = state["m2m"]
        existing = {obj.pk for row, obj, _changed in planned if obj.pk and row.number in self_m2m}
        stored = {}
        through = Facility.also_serves.through.objects.filter(facility_id__in=existing)
        for facility_id, settlement_id in through.values_list("facility_id", "settlement_id"):
            stored.setdefault(facility_id, set()).add(settlement_id)
        links = []
        for row, obj, _changed in planned:
            if row.number not in self_m2m or plan.outcome.get(row.number) is None:
                continue
            wanted = {s.pk for s in self_m2m[row.number]}
            if obj.pk is None or stored.get(obj.pk, set()) != wanted:
                links.append((obj, wanted))
                if plan.outcome[row.number] == "unchanged":
                    plan.outcome[row.number] = "updated"
        plan.facility_links = links

    def extra_writes(self, plan, ctx):
        # One set() per facility whose served settlements change: the history
        # of the link table records it like a change in the admin.
        for obj, wanted in getattr(plan, "facility_links", ()):
            obj._history_user = ctx.user
            obj._change_reason = ctx.reason
            obj.also_serves.set(sorted(wanted))


class ActivitySheet(SettlementRecordKind):
    key = "activity"
    label = gettext_lazy("社区活动")
    model = Activity
    kind_model = ActivityKind
    import_permissions = ("services.import_activity",)
    export_permissions = ("services.export_activity",)
    key_label = gettext_lazy("安置点编码、活动种类、活动日期和活动名称")
    notes = (
        gettext_lazy("按“安置点编码 + 活动种类 + 活动日期 + 活动名称”更新已有活动，其余新建。"),
    )
    columns = [
        settlement_column(),
        kind_column(ActivityKind, gettext_lazy("活动种类"), "感恩教育"),
        field_column(
            Activity, "title", required=True, example="“感党恩、听党话、跟党走”宣讲", width=24
        ),
        field_column(Activity, "held_on", "date", required=True, example="2026-05-04", width=12),
        field_column(Activity, "organiser", example="社区居委会"),
        field_column(Activity, "participants", "int", required=True, example="120"),
        field_column(Activity, "notes"),
    ]
    fields = ("organiser", "participants", "notes")

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("kind") and v.get("held_on") and v.get("title"):
            return (v["settlement"], v["kind"], v["held_on"], v["title"])
        return None

    def record_key(self, obj, code):
        return (code, obj.kind_id, obj.held_on, obj.title)

    def key_values(self, key):
        return {"held_on": key[2], "title": key[3]}

    def note_key(self, key):
        return (key[0], key[1], key[2].isoformat(), key[3])

    export_select = ("settlement", "kind")
    export_order = ("settlement__code", "held_on", "id")

    def export_values(self, obj):
        values = super().export_values(obj)
        values.update(held_on=obj.held_on, title=obj.title)
        return values


class FundedProjectSheet(SettlementRecordKind):
    key = "fundedproject"
    label = gettext_lazy("资金项目")
    model = FundedProject
    import_permissions = ("services.import_fundedproject",)
    export_permissions = ("services.export_fundedproject",)
    key_label = gettext_lazy("安置点编码、项目名称、资金来源和资金年度")
    notes = (
        gettext_lazy("按“安置点编码 + 项目名称 + 资金来源 + 资金年度”更新已有项目，其余新建。"),
    )
    columns = [
        settlement_column(),
        field_column(
            FundedProject, "purpose", required=True, example="安置点扶贫车间建设", width=24
        ),
        field_column(FundedProject, "amount", "decimal", required=True, example="120.5"),
        field_column(
            FundedProject,
            "source",
            "choice",
            required=True,
            choices=FundingSource,
            example="中央衔接资金",
        ),
        field_column(FundedProject, "year", "int", required=True, example="2026"),
        field_column(
            FundedProject, "allocated_on", "date", required=True, example="2026-03-15", width=12
        ),
        field_column(
            FundedProject,
            "state",
            "choice",
            choices=ProjectState,
            default=ProjectState.PLANNED,
            example="实施中",
        ),
        field_column(FundedProject, "notes"),
    ]
    fields = ("amount", "allocated_on", "state", "notes")

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("purpose") and v.get("source") and v.get("year"):
            return (v["settlement"], v["purpose"], v["source"], v["year"])
        return None

    def record_key(self, obj, code):
        return (code, obj.purpose, obj.source, obj.year)

    def key_values(self, key):
        return {"purpose": key[1], "source": key[2], "year": key[3]}

    export_order = ("settlement__code", "year", "id")

    def export_values(self, obj):
        values = super().export_values(obj)
        values.update(purpose=obj.purpose, source=obj.source, year=obj.year)
        return values


class HonourSheet(SimpleKind):
    key = "honour"
    label = gettext_lazy("评选表彰")
    model = Honour
    import_permissions = ("services.import_honour",)
    export_permissions = ("services.export_honour",)
    key_header = "household"
    scope_header = "household"
    key_label = gettext_lazy("户编号、身份证号、表彰种类和表彰年度")
    notes = (
        gettext_lazy("按“户编号 + 身份证号 + 表彰种类 + 表彰年度”更新已有表彰，其余新建。"),
        gettext_lazy("表彰家庭时“身份证号”留空；表彰个人时填该户成员的身份证号。"),
    )
    columns = [
        Column(
            "household",
            gettext_lazy("户编号"),
            "code",
            required=True,
            example="522301000101",
            width=16,
            help=gettext_lazy("须是您管辖范围内已登记的搬迁户。"),
        ),
        Column(
            "id_number",
            gettext_lazy("身份证号"),
            "id_number",
            sensitive="id",
            example="",
            width=22,
            help=gettext_lazy("表彰个人时填写；该列必须设为“文本”格式。"),
        ),
        kind_column(HonourKind, gettext_lazy("表彰种类"), "文明家庭"),
        field_column(Honour, "awarded_on", "date", required=True, example="2026-01-20", width=12),
        field_column(Honour, "awarded_by", example="街道办事处"),
        field_column(Honour, "notes"),
    ]
    fields = ("awarded_on", "awarded_by", "notes")

    def prepare(self, rows, plan, ctx):
        numbers = {r.values.get("household") for r in rows} - {None, ""}
        households = {
            h.number: h for h in bulk_in(Household.objects.visible_to(ctx.user), "number", numbers)
        }
        people = {
            p.id_number: p
            for p in Person.objects.filter(household__in=list(households.values())).only(
                "id_number", "household_id", "name"
            )
        }
        pks = {r.values.get("kind") for r in rows} - {None}
        return {
            "households": households,
            "people": people,
            "kinds": {k.pk: k for k in HonourKind.objects.filter(pk__in=pks)},
        }

    def key_of(self, row):
        v = row.values
        if v.get("household") and v.get("kind") and v.get("awarded_on"):
            return (v["household"], v.get("id_number") or "", v["kind"], v["awarded_on"].year)
        return None

    def existing(self, keys, state, ctx):
        by_pk = {h.pk: h.number for h in state["households"].values()}
        records = Honour.objects.filter(household_id__in=list(by_pk)).select_related("person")
        return {
            (
                by_pk[h.household_id],
                h.person.id_number if h.person_id else "",
                h.kind_id,
                h.awarded_on.year,
            ): h
            for h in records
        }

    def values_of(self, row, state, plan, ctx):
        v = row.values
        household = state["households"].get(v["household"])
        if household is None:
            plan.errors.add(
                row.number,
                self.column("household").header,
                self.not_found(_("户编号"), v["household"]),
            )
            return None
        person = None
        if v.get("id_number"):
            person = state["people"].get(v["id_number"])
            if person is None or person.household_id != household.pk:
                plan.errors.add(
                    row.number,
                    self.column("id_number").header,
                    _("该身份证号不是此户的成员。"),
                )
                return None
        values = {k: v[k] for k in self.fields if k in v}
        values.update(household=household, person=person, kind=state["kinds"][v["kind"]])
        return values

    def scope_error(self, obj, ctx):
        if not ctx.settlement_visible(obj.household.settlement_id):
            return _("搬迁户不在您的管辖范围内。")
        return None

    def note_key(self, key):
        return (key[0], key[1][:6] + "…" if key[1] else "", key[2], key[3])

    export_select = ("household", "person", "kind")
    export_order = ("household__number", "awarded_on", "id")

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields}
        values.update(
            household=obj.household.number,
            id_number=obj.person.id_number if obj.person_id else "",
            kind=obj.kind.name,
        )
        return values


class CollectiveAssetSheet(SettlementRecordKind):
    key = "collective_asset"
    label = gettext_lazy("集体资产")
    model = CollectiveAsset
    import_permissions = ("services.import_collectiveasset",)
    export_permissions = ("services.export_collectiveasset",)
    key_label = gettext_lazy("安置点编码和资产名称")
    notes = (
        gettext_lazy("按“安置点编码 + 资产名称”更新已有资产，其余新建。"),
        gettext_lazy(
            "资产价值以万元为单位（不超过10亿元）；形成日期不能晚于今天。"
            "各年度的收益和分配请在“集体资产收益”中导入。"
        ),
    )
    columns = [
        settlement_column(),
        field_column(CollectiveAsset, "name", required=True, example="阳光社区商铺门面", width=22),
        field_column(
            CollectiveAsset,
            "kind",
            "choice",
            required=True,
            choices=AssetKind,
            example="商铺门面",
        ),
        field_column(CollectiveAsset, "area_m2", "decimal", example="1200"),
        field_column(CollectiveAsset, "value", "decimal", example="360"),
        field_column(CollectiveAsset, "acquired_on", "date", example="2020-06-01", width=12),
        field_column(CollectiveAsset, "notes"),
    ]
    fields = ("kind", "area_m2", "value", "acquired_on", "notes")

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("name"):
            return (v["settlement"], v["name"])
        return None

    def record_key(self, obj, code):
        return (code, obj.name)

    def key_values(self, key):
        return {"name": key[1]}

    export_order = ("settlement__code", "name", "id")

    def export_values(self, obj):
        values = super().export_values(obj)
        values["name"] = obj.name
        return values


class AssetIncomeSheet(SimpleKind):
    """One row per asset and year: the asset by settlement code and name, already registered."""

    key = "asset_income"
    label = gettext_lazy("集体资产收益")
    model = AssetIncome
    # The yearly income is part of the asset (a table on the asset's page).
    import_permissions = ("services.import_collectiveasset",)
    export_permissions = ("services.export_collectiveasset",)
    key_header = "year"
    scope_header = "settlement"
    key_label = gettext_lazy("安置点编码、资产名称和年度")
    field_columns = {"asset": "asset"}
    notes = (
        gettext_lazy("每项资产每年一行；按“安置点编码 + 资产名称 + 年度”更新已有记录，其余新建。"),
        gettext_lazy(
            "资产须已登记（先导入“集体资产”或在系统中添加）。金额以万元为单位；"
            "“其中分配给搬迁户”不能大于当年收益，年度不能晚于今年。"
        ),
    )
    columns = [
        settlement_column(),
        Column(
            "asset",
            gettext_lazy("资产名称"),
            required=True,
            example="阳光社区商铺门面",
            width=22,
            help=gettext_lazy("须是该安置点已登记的集体资产。"),
        ),
        field_column(AssetIncome, "year", "int", required=True, example="2025"),
        field_column(AssetIncome, "income", "decimal", required=True, example="36"),
        field_column(AssetIncome, "distributed", "decimal", default=0, example="18"),
        field_column(AssetIncome, "sharing", example="按户分红", width=20),
    ]
    fields = ("income", "distributed", "sharing")

    def prepare(self, rows, plan, ctx):
        codes = {r.values.get("settlement") for r in rows} - {None, ""}
        settlements = {
            s.code: s for s in bulk_in(Settlement.objects.visible_to(ctx.user), "code", codes)
        }
        code_of = {s.pk: s.code for s in settlements.values()}
        assets = {}
        for asset in bulk_in(CollectiveAsset.objects.all(), "settlement_id", list(code_of)):
            assets[(code_of[asset.settlement_id], asset.name)] = asset
        incomes = bulk_in(AssetIncome.objects.all(), "asset_id", [a.pk for a in assets.values()])
        return {"settlements": settlements, "assets": assets, "incomes": incomes}

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("asset") and v.get("year"):
            return (v["settlement"], v["asset"], v["year"])
        return None

    def existing(self, keys, state, ctx):
        by_pk = {asset.pk: key for key, asset in state["assets"].items()}
        return {(*by_pk[i.asset_id], i.year): i for i in state["incomes"]}

    def values_of(self, row, state, plan, ctx):
        v = row.values
        if v["settlement"] not in state["settlements"]:
            plan.errors.add(
                row.number,
                self.column("settlement").header,
                self.not_found(_("安置点编码"), v["settlement"]),
            )
            return None
        asset = state["assets"].get((v["settlement"], v["asset"]))
        if asset is None:
            plan.errors.add(
                row.number,
                self.column("asset").header,
                _("该安置点没有名为“%(name)s”的集体资产，请先导入“集体资产”或在系统中添加。")
                % {"name": v["asset"]},
            )
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values["asset"] = asset
        return values

    def key_values(self, key):
        return {"year": key[2]}

    def scope_error(self, obj, ctx):
        if not ctx.settlement_visible(obj.asset.settlement_id):
            return _("安置点不在您的管辖范围内。")
        return None

    export_select = ("asset__settlement",)
    export_order = ("asset__settlement__code", "asset__name", "year", "id")

    def export_values(self, obj):
        return {
            "settlement": obj.asset.settlement.code,
            "asset": obj.asset.name,
            "year": obj.year,
            "income": obj.income,
            "distributed": obj.distributed,
            "sharing": obj.sharing,
        }


register(
    FacilityKindSheet,
    ActivitySheet,
    HonourSheet,
    FundedProjectSheet,
    CollectiveAssetSheet,
    AssetIncomeSheet,
)
