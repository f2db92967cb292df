"""Governance and monitoring spreadsheets: monitoring (防返贫监测对象 files).

Counties keep their list of monitored households in Excel.  One row per record:
the household, its category, the date the county decided to include it (识别纳入
日期, the record's key with the household number), its risk types by national
code, the assistance measures taken, and - once the risk is gone - the date of
风险消除.  An imported record is one already decided outside the system: it is
created as 监测中 (or 风险已消除 with a removal date) with 线索来源 "表格导入",
without steps; procedures that are still under way are entered on the record's
page, step by step.  Re-importing updates the category, the removal date, the
risk types and the measures (both replaced by the row's list) and the notes.
"""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import Household
from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.engine import bulk_in
from relocation.spreadsheets.kinds import register
from relocation.spreadsheets.kinds.simple import SimpleKind

from ..models.monitoring import (
    AssistanceMeasure,
    AssistanceRecord,
    LeadSource,
    MonitoringCategory,
    MonitoringRecord,
    MonitoringRisk,
    RecordState,
    RiskType,
)

M = MonitoringRecord._meta.get_field
RISK_CODES = {value: value for value in RiskType.values}
MEASURE_NAMES = {str(label): value for value, label in AssistanceMeasure.choices}


class MonitoringRecordKind(SimpleKind):
    key = "monitoring_record"
    label = gettext_lazy("防返贫监测对象")
    model = MonitoringRecord
    import_permissions = ("governance.import_monitoringrecord",)
    export_permissions = ("governance.export_monitoringrecord",)
    key_header = "identified_on"
    scope_header = "number"
    key_label = gettext_lazy("户编号和识别纳入日期")
    notes = (
        gettext_lazy(
            "每条已认定的监测记录一行；按“户编号 + 识别纳入日期”更新已有记录。"
            "正在办理识别程序的农户请在系统中逐环节办理，不在此导入。"
        ),
        gettext_lazy(
            "风险类型填写国家编码（如 01、0201、07），多个用顿号分隔；帮扶措施填写措施名称，多个用顿号分隔。"
        ),
        gettext_lazy("填写风险消除日期即表示已经县级审定风险消除。"),
    )
    columns = [
        Column("number", gettext_lazy("户编号"), required=True, example="522301000101", width=16),
        Column(
            "category",
            gettext_lazy("监测对象类别"),
            "choice",
            required=True,
            choices=MonitoringCategory,
            model_field=M("category"),
            example="边缘易致贫户",
        ),
        Column(
            "identified_on",
            gettext_lazy("识别纳入日期"),
            "date",
            required=True,
            example="2025-03-18",
        ),
        Column(
            "risks",
            gettext_lazy("风险类型编码"),
            "names",
            required=True,
            example="01、07",
            help=gettext_lazy(
                "国家编码：01 因病，0201–0299 因自然灾害，03 因残，04 因缺劳动力，"
                "05 因意外事故，06 因产业项目失败，07 因务工就业不稳，09 因学，99 其他。"
            ),
            width=16,
        ),
        Column(
            "measures", gettext_lazy("帮扶措施"), "names", example="健康帮扶、就业帮扶", width=22
        ),
        Column("removed_on", gettext_lazy("风险消除日期"), "date", example=""),
        Column("state", gettext_lazy("状态"), export_only=True),
        Column("notes", gettext_lazy("备注"), model_field=M("notes"), example=""),
    ]
    fields = ("category", "removed_on", "risk_eliminated", "state", "notes")

    def prepare(self, rows, plan, ctx):
        numbers = {r.values.get("number") for r in rows} - {None, ""}
        households = {h.number: h for h in bulk_in(Household.objects.all(), "number", numbers)}
        return {"households": households, "lists": {}}

    def key_of(self, row):
        v = row.values
        if v.get("number") and v.get("identified_on"):
            return (v["number"], v["identified_on"])
        return None

    def existing(self, keys, state, ctx):
        by_id = {h.pk: h for h in state["households"].values()}
        days = {k[1] for k in keys}
        found = bulk_in(
            MonitoringRecord.objects.filter(identified_on__in=days), "household_id", by_id
        )
        for record in found:
            record.household = by_id[record.household_id]
        records = {(by_id[r.household_id].number, r.identified_on): r for r in found}
        state["removing"] = {k for k, r in records.items() if r.state == RecordState.REMOVING}
        return records

    def visible(self, obj, ctx):
        return ctx.settlement_visible(obj.household.settlement_id)

    def out_of_scope_message(self, row):
        return _("户编号“%(number)s”不存在或不在您的管辖范围内。") % {
            "number": row.values["number"]
        }

    def values_of(self, row, state, plan, ctx):
        v = row.values
        household = state["households"].get(v["number"])
        if household is None or not ctx.settlement_visible(household.settlement_id):
            plan.errors.add(
                row.number, self.column("number").header, self.out_of_scope_message(row)
            )
            return None
        if self.key_of(row) in state.get("removing", ()):
            plan.errors.add(
                row.number,
                self.column("removed_on").header,
                _("该户的风险消除程序正在系统中办理，请在系统中逐环节办理，不能通过表格修改。"),
            )
            return None
        ok = True
        today = datetime.date.today()
        for key in ("identified_on", "removed_on"):
            if v.get(key) and v[key] > today:
                plan.errors.add(row.number, self.column(key).header, _("日期不能晚于今天。"))
                ok = False
        if v.get("removed_on") and v["removed_on"] < v["identified_on"]:
            plan.errors.add(
                row.number,
                self.column("removed_on").header,
                _("风险消除日期不能早于识别纳入日期。"),
            )
            ok = False
        risks = []
        for code in v.get("risks") or ():
            if code.isdigit() and len(code) in (1, 3):  # a spreadsheet dropped the leading 0
                code = code.zfill(len(code) + 1)
            if code not in RISK_CODES:
                plan.errors.add(
                    row.number,
                    self.column("risks").header,
                    _("“%(code)s”不是风险类型的国家编码。") % {"code": code},
                )
                ok = False
            elif code not in risks:
                risks.append(code)
        measures = []
        for name in v.get("measures") or ():
            if name not in MEASURE_NAMES:
                plan.errors.add(
                    row.number,
                    self.column("measures").header,
                    _("“%(name)s”不是帮扶措施的名称。") % {"name": name},
                )
                ok = False
            elif MEASURE_NAMES[name] not in measures:
                measures.append(MEASURE_NAMES[name])
        if not risks and ok:
            plan.errors.add(row.number, self.column("risks").header, _("请至少填写一种风险类型。"))
            ok = False
        if not ok:
            return None
        state["lists"][(v["number"], v["identified_on"])] = (risks, measures)
        removed_on = v.get("removed_on")
        return {
            "household": household,
            "category": v["category"],
            "removed_on": removed_on,
            "risk_eliminated": removed_on is not None,
            "state": RecordState.REMOVED if removed_on else RecordState.MONITORED,
            "notes": v.get("notes") or "",
        }

    def key_values(self, key):
        return {
            "identified_on": key[1],
            "lead_source": LeadSource.IMPORTED,
            "procedure_started_on": key[1],
            "due_on": key[1] + datetime.timedelta(days=15),
        }

    def after_plan(self, planned, state, plan, ctx):
        plan.monitoring_lists = [
            (obj, state["lists"][self.key_of(row)]) for row, obj, _c in planned
        ]
        # A household may have one open record: refuse a second one, in the file or in the database.
        open_rows = {}
        for row, obj, _changed in planned:
            if obj.removed_on is None:
                other = open_rows.setdefault(obj.household.pk, row.number)
                if other != row.number:
                    plan.errors.add(
                        row.number,
                        self.column("number").header,
                        _("该户在%(row)s已有未消除风险的记录。") % {"row": plan.row_text(other)},
                    )
        ids = list(open_rows)
        taken = set(
            MonitoringRecord.objects.open()
            .filter(household_id__in=ids)
            .exclude(pk__in=[obj.pk for _r, obj, _c in planned if obj.pk])
            .values_list("household_id", flat=True)
        )
        for row, obj, _changed in planned:
            if obj.removed_on is None and obj.household.pk in taken:
                plan.errors.add(
                    row.number,
                    self.column("number").header,
                    _("该户已有未结束的监测记录，不能重复导入。"),
                )

    def extra_writes(self, plan, ctx):
        kwargs = ctx.write_kwargs()
        planned = getattr(plan, "monitoring_lists", [])
        records = [obj for obj, _lists in planned if obj.pk]
        MonitoringRisk.objects.filter(record__in=records).delete()
        AssistanceRecord.objects.filter(record__in=records).delete()
        risks, measures = [], []
        for obj, (codes, names) in planned:
            if not obj.pk:
                continue
            risks += [MonitoringRisk(record=obj, code=code) for code in codes]
            measures += [
                AssistanceRecord(record=obj, measure=measure, start_date=obj.identified_on)
                for measure in names
            ]
        MonitoringRisk.objects.bulk_create(risks, **kwargs)
        AssistanceRecord.objects.bulk_create(measures, **kwargs)

    export_select = ("household",)
    export_prefetch = ("risks", "measures")
    export_order = ("household__number", "identified_on", "pk")

    def export_queryset(self, user):
        return super().export_queryset(user).filter(identified_on__isnull=False)

    def export_values(self, obj):
        return {
            "number": obj.household.number,
            "category": obj.category,
            "identified_on": obj.identified_on,
            "risks": tuple(r.code for r in obj.risks.all()),
            "measures": tuple(str(m.get_measure_display()) for m in obj.measures.all()),
            "removed_on": obj.removed_on,
            "state": obj.get_state_display(),
            "notes": obj.notes,
        }


register(MonitoringRecordKind)
