"""Services and culture: protection (spreadsheets).

待遇记录 and 临时救助 (people matched by ID number) and 权益落实情况 (the
rights checklist per household, matched by household number), with the same
checks as the roster: drop-downs for choices, a dry run with errors naming the
row and the column, all or nothing, and the user's area only.  A person or a
household outside the area gets the same message as one that does not exist.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.masking import may_view_sensitive
from communities.models import Household
from communities.spreadsheets.people import people_in_area, person_columns, person_of
from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.engine import bulk_in
from relocation.spreadsheets.kinds import register
from relocation.spreadsheets.kinds.simple import SimpleKind

from ..models.protection import (
    HEALTH_KINDS,
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsItem,
    RightState,
    TemporaryAssistance,
    household_province,
    sync_person_fields,
)

B = BenefitRecord._meta.get_field
H = HouseholdRight._meta.get_field
T = TemporaryAssistance._meta.get_field


class BenefitRecordKind(SimpleKind):
    key = "benefit_records"
    label = gettext_lazy("待遇记录")
    model = BenefitRecord
    import_permissions = ("services.import_benefitrecord",)
    export_permissions = ("services.export_benefitrecord",)
    key_header = "start_date"
    scope_header = "id_number"
    key_label = gettext_lazy("身份证号、待遇类型和开始日期")
    field_columns = {"person": "id_number"}
    notes = (
        gettext_lazy("按“身份证号 + 待遇类型 + 开始日期”更新已有记录，其余新建。"),
        gettext_lazy(
            "停止享受时填写“停止日期”（当天仍计入）；同一人同一待遇的时段不能重叠。"
            "导入后，人员的“参加医保”“参加养老保险”“低保”“特困供养”按今天的记录更新。"
        ),
        gettext_lazy("两项残疾人补贴涉及健康信息，只有可以查看健康信息的用户才能导入和导出。"),
    )
    columns = [
        *person_columns(),
        Column(
            "kind",
            gettext_lazy("待遇类型"),
            "choice",
            required=True,
            choices=BenefitKind,
            model_field=B("kind"),
            example="城市低保",
            width=18,
        ),
        Column(
            "start_date",
            gettext_lazy("开始日期"),
            "date",
            required=True,
            model_field=B("start_date"),
            example="2024-03-01",
            width=12,
        ),
        Column(
            "end_date",
            gettext_lazy("停止日期"),
            "date",
            model_field=B("end_date"),
            example="",
            width=12,
        ),
        Column(
            "monthly_amount",
            gettext_lazy("月发放金额（元）"),
            "decimal",
            model_field=B("monthly_amount"),
            example="650",
        ),
        Column("notes", gettext_lazy("备注"), model_field=B("notes"), example=""),
    ]
    fields = ("end_date", "monthly_amount", "notes")

    def audited_reads(self, obj):
        return obj.health_reads()

    def prepare(self, rows, plan, ctx):
        people = people_in_area(rows, ctx)
        records = {}
        for r in bulk_in(BenefitRecord.objects.all(), "person_id", [p.pk for p in people.values()]):
            records.setdefault(r.person_id, []).append(r)
        return {
            "people": people,
            "records": records,
            "reveal": may_view_sensitive(ctx.user),
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
        if v["kind"] in HEALTH_KINDS and not state["reveal"]:
            plan.errors.add(
                row.number,
                self.column("kind").header,
                _("残疾人补贴涉及健康信息，您没有查看健康信息的权限，不能导入。"),
            )
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values["person"] = person
        return values

    def key_values(self, key):
        return {"kind": key[1], "start_date": key[2]}

    def after_plan(self, planned, state, plan, ctx):
        """Overlapping periods, judged on the stored records and the file together."""
        by_person = {pk: list(records) for pk, records in state["records"].items()}
        for _row, obj, changed in planned:
            if changed is None:
                by_person.setdefault(obj.person_id, []).append(obj)
        for _row, obj, _changed in planned:
            others = [o for o in by_person.get(obj.person_id, ()) if o is not obj]
            obj.overlapping = lambda others=None, _obj=obj, _others=others: (
                BenefitRecord.overlapping(_obj, others=_others)
            )

    def extra_plan(self, planned, state, plan, ctx):
        plan.benefit_person_ids = {obj.person_id for _row, obj, _changed in planned}

    def extra_writes(self, plan, ctx):
        # The bulk writes skip save(): put the people's fields in step here.
        sync_person_fields(plan.benefit_person_ids)

    def note_key(self, key):
        return (key[0], key[1], key[2].isoformat())

    export_select = ("person",)
    export_order = ("person__id_number", "kind", "start_date", "id")

    def export_queryset(self, user):
        return self.export_joins(BenefitRecord.objects.readable_by(user)).order_by(
            *self.export_order
        )

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields}
        values.update(
            id_number=obj.person.id_number,
            name=obj.person.name,
            kind=obj.kind,
            start_date=obj.start_date,
        )
        return values


class TemporaryAssistanceKind(SimpleKind):
    """临时救助: one row per payment, matched by ID number, date and amount.

    A payment has no other natural key: two payments to one person on one day
    of the same amount are one payment entered twice (the admin refuses the
    second as well).  Re-importing a file therefore changes nothing, and a
    corrected 救助事由 updates the payment.  A different amount is a different
    payment: correcting an amount means deleting the wrong one in the admin.
    """

    key = "temporary_assistance"
    label = gettext_lazy("临时救助")
    model = TemporaryAssistance
    import_permissions = ("services.import_temporaryassistance",)
    export_permissions = ("services.export_temporaryassistance",)
    key_header = "granted_on"
    scope_header = "id_number"
    key_label = gettext_lazy("身份证号、救助日期和救助金额")
    field_columns = {"person": "id_number"}
    notes = (
        gettext_lazy(
            "每笔救助一行；按“身份证号 + 救助日期 + 救助金额”识别，已有的救助只更新救助事由。"
        ),
        gettext_lazy(
            "救助金额以元为单位，须大于0且不超过10万元；救助日期不能晚于今天。"
            "同一人同一天同样金额的救助只能登记一次。"
        ),
    )
    columns = [
        *person_columns(),
        Column(
            "granted_on",
            gettext_lazy("救助日期"),
            "date",
            required=True,
            model_field=T("granted_on"),
            example="2025-09-15",
            width=12,
        ),
        Column(
            "amount",
            gettext_lazy("救助金额（元）"),
            "decimal",
            required=True,
            model_field=T("amount"),
            example="2000",
        ),
        Column("reason", gettext_lazy("救助事由"), model_field=T("reason"), example="突发疾病"),
    ]
    fields = ("reason",)

    def prepare(self, rows, plan, ctx):
        people = people_in_area(rows, ctx)
        ids = [p.pk for p in people.values()]
        return {
            "people": people,
            "payments": bulk_in(TemporaryAssistance.objects.all(), "person_id", ids),
        }

    def key_of(self, row):
        v = row.values
        if v.get("id_number") and v.get("granted_on") and v.get("amount") is not None:
            return (v["id_number"], v["granted_on"], v["amount"])
        return None

    def existing(self, keys, state, ctx):
        by_pk = {p.pk: p.id_number for p in state["people"].values()}
        found = {}
        # Oldest first: when a double entry is already stored, the first one is matched.
        for payment in sorted(state["payments"], key=lambda p: p.pk, reverse=True):
            found[(by_pk[payment.person_id], payment.granted_on, payment.amount)] = payment
        return found

    def values_of(self, row, state, plan, ctx):
        v = row.values
        person = person_of(self, row, state["people"], plan)
        if person is None:
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values["person"] = person
        return values

    def key_values(self, key):
        return {"granted_on": key[1], "amount": key[2]}

    def before_clean(self, obj, state):
        # existing() matched every stored payment of these people and the file's
        # repeats are reported by key: no query per row.
        obj.same_payment = lambda: False

    def note_key(self, key):
        return (key[0], key[1].isoformat(), str(key[2]))

    export_select = ("person",)
    export_order = ("person__household__number", "person_id", "granted_on", "id")

    def export_values(self, obj):
        return {
            "id_number": obj.person.id_number,
            "name": obj.person.name,
            "granted_on": obj.granted_on,
            "amount": obj.amount,
            "reason": obj.reason,
        }


class HouseholdRightKind(SimpleKind):
    key = "household_rights"
    label = gettext_lazy("权益落实情况")
    model = HouseholdRight
    import_permissions = ("services.import_householdright",)
    export_permissions = ("services.export_householdright",)
    key_header = "item"
    scope_header = "number"
    key_label = gettext_lazy("户编号、权益类别和权益事项")
    field_columns = {"household": "number"}
    notes = (
        gettext_lazy("每户每个权益事项一行；按“户编号 + 权益类别 + 权益事项”更新已有记录。"),
        gettext_lazy(
            "“权益类别”“权益事项”须与该户所在省份的权益清单一致（见「权益类别」页面）；"
            "清单中没有记录的事项按“待落实”统计。"
        ),
    )
    columns = [
        Column("number", gettext_lazy("户编号"), required=True, example="522301000101", width=16),
        Column("category", gettext_lazy("权益类别"), required=True, example="迁出地权益", width=16),
        Column("item", gettext_lazy("权益事项"), required=True, example="承包地", width=18),
        Column(
            "state",
            gettext_lazy("落实情况"),
            "choice",
            required=True,
            choices=RightState,
            model_field=H("state"),
            example="已落实",
        ),
        Column(
            "recorded_on",
            gettext_lazy("核实日期"),
            "date",
            required=True,
            model_field=H("recorded_on"),
            example="2025-06-30",
            width=12,
        ),
        Column("notes", gettext_lazy("说明"), model_field=H("notes"), example=""),
    ]
    fields = ("state", "recorded_on", "notes")

    def prepare(self, rows, plan, ctx):
        numbers = {r.values.get("number") for r in rows} - {None, ""}
        households = bulk_in(Household.objects.select_related("settlement"), "number", numbers)
        visible = {h.number: h for h in households if ctx.settlement_visible(h.settlement_id)}
        provinces = {household_province(h) for h in visible.values()} - {None}
        items = {
            (i.category.province_id, i.category.name, i.name): i
            for i in RightsItem.objects.filter(category__province_id__in=provinces).select_related(
                "category"
            )
        }
        by_household = {h.pk: h for h in visible.values()}
        found = {}
        for right in bulk_in(HouseholdRight.objects.all(), "household_id", list(by_household)):
            found[(right.household_id, right.item_id)] = right
        return {"households": visible, "items": items, "rights": found}

    def key_of(self, row):
        v = row.values
        if v.get("number") and v.get("category") and v.get("item"):
            return (v["number"], v["category"], v["item"])
        return None

    def _item(self, key, state):
        household = state["households"].get(key[0])
        if household is None:
            return None, None
        return household, state["items"].get((household_province(household), key[1], key[2]))

    def existing(self, keys, state, ctx):
        found = {}
        for key in keys:
            household, item = self._item(key, state)
            if item is not None:
                right = state["rights"].get((household.pk, item.pk))
                if right is not None:
                    found[key] = right
        return found

    def values_of(self, row, state, plan, ctx):
        key = self.key_of(row)
        household, item = self._item(key, state)
        if household is None:
            plan.errors.add(
                row.number,
                self.column("number").header,
                _("户编号“%(number)s”不存在或不在您的管辖范围内。") % {"number": key[0]},
            )
            return None
        if item is None:
            plan.errors.add(
                row.number,
                self.column("item").header,
                _("本户所在省份的权益清单中没有“%(category)s·%(item)s”。")
                % {"category": key[1], "item": key[2]},
            )
            return None
        values = {k: row.values[k] for k in self.fields if k in row.values}
        values.update(household=household, item=item)
        return values

    def note_key(self, key):
        return key

    export_select = ("household", "item__category")
    export_order = ("household__number", "item__category__order", "item__order", "id")

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields}
        values.update(
            number=obj.household.number,
            category=obj.item.category.name,
            item=obj.item.name,
        )
        return values


register(BenefitRecordKind, TemporaryAssistanceKind, HouseholdRightKind)
