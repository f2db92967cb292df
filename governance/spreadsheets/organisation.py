"""Governance and monitoring: organisation (spreadsheets).

党组织, 党员, 帮扶干部, 结对帮扶, 走访记录 and 利益诉求 files: templates with
drop-downs, a dry run that names row and column of every error, an
all-or-nothing commit, the user's area only, and exports that re-import
unchanged.
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import GridWorker, Household, Settlement
from communities.spreadsheets.people import people_in_area, person_of
from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.engine import bulk_in
from relocation.spreadsheets.kinds import register
from relocation.spreadsheets.kinds.simple import SimpleKind

from ..models.organisation import (
    PARTY_ORG_RANK,
    PETITION_FLOW,
    Cadre,
    FollowUpState,
    MemberOrigin,
    Pairing,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    Petition,
    PetitionCategory,
    PetitionChannel,
    PetitionState,
    PetitionTransition,
    Satisfaction,
    Visit,
    VisitWay,
)

G = PartyOrganisation._meta.get_field
M = PartyMember._meta.get_field
C = Cadre._meta.get_field
P = Pairing._meta.get_field
V = Visit._meta.get_field
Q_ = Petition._meta.get_field


def _settlement_column(header=None, example="AZD522301001"):
    return Column(
        "settlement",
        header or gettext_lazy("安置点编码"),
        "code",
        required=True,
        example=example,
        width=16,
    )


class GovernanceKind(SimpleKind):
    """Shared by the kinds below: settlements and households by code and number."""

    scope_header = "settlement"

    def settlements(self, rows, ctx, key="settlement"):
        codes = {r.values.get(key) for r in rows} - {None, ""}
        return {s.code: s for s in bulk_in(Settlement.objects.visible_to(ctx.user), "code", codes)}

    def households(self, rows, key="number"):
        numbers = {r.values.get(key) for r in rows} - {None, ""}
        return {h.number: h for h in bulk_in(Household.objects.all(), "number", numbers)}

    def settlement_of(self, row, state, plan, key="settlement"):
        code = row.values.get(key)
        settlement = state["settlements"].get(code)
        if settlement is None:
            plan.errors.add(
                row.number, self.column(key).header, self.not_found(_("安置点编码"), code)
            )
        return settlement

    def household_of(self, row, state, plan, ctx, key="number"):
        household = state["households"].get(row.values.get(key))
        if household is None or not ctx.settlement_visible(household.settlement_id):
            plan.errors.add(
                row.number,
                self.column(key).header,
                self.not_found(_("户编号"), row.values.get(key)),
            )
            return None
        return household

    def visible(self, obj, ctx):
        return ctx.settlement_visible(self.settlement_id_of(obj))

    def after_insert(self, plan, write):
        """Run ``write(ctx)`` after the new rows have their ids (inside the same commit)."""
        plan.governance_after_insert = [*getattr(plan, "governance_after_insert", ()), write]

    def extra_writes(self, plan, ctx):
        for write in getattr(plan, "governance_after_insert", ()):
            write(ctx)

    def settlement_id_of(self, obj):
        return obj.settlement_id

    def scope_error(self, obj, ctx):
        if not ctx.settlement_visible(self.settlement_id_of(obj)):
            return _("不在您的管辖范围内。")
        return None


# --- party organisations ----------------------------------------------------------------


class PartyOrganisationSheet(GovernanceKind):
    key = "party_org"
    label = gettext_lazy("党组织")
    model = PartyOrganisation
    import_permissions = ("governance.import_partyorganisation",)
    export_permissions = ("governance.export_partyorganisation",)
    key_header = "name"
    key_label = gettext_lazy("安置点编码和党组织名称")
    notes = (
        gettext_lazy("按“安置点编码 + 党组织名称”更新已有记录，其余新建。"),
        gettext_lazy(
            "“上级党组织”填名称：先在本安置点找，找不到再在同一县的其他安置点找；"
            "上级可以写在同一文件的其他行。上级的层级必须高于本组织。"
        ),
    )
    columns = [
        _settlement_column(),
        Column(
            "name",
            gettext_lazy("党组织名称"),
            required=True,
            model_field=G("name"),
            example="幸福社区第一党支部",
            width=24,
        ),
        Column(
            "kind",
            gettext_lazy("层级"),
            "choice",
            required=True,
            choices=PartyOrgKind,
            model_field=G("kind"),
            example="党支部",
        ),
        Column("parent", gettext_lazy("上级党组织"), example="幸福社区党总支", width=24),
        Column("secretary", gettext_lazy("书记"), model_field=G("secretary"), example="王明"),
        Column(
            "founded_on", gettext_lazy("成立日期"), "date", model_field=G("founded_on"), example=""
        ),
        Column("notes", gettext_lazy("备注"), model_field=G("notes"), example=""),
    ]
    fields = ("kind", "parent", "secretary", "founded_on", "notes")

    def prepare(self, rows, plan, ctx):
        settlements = self.settlements(rows, ctx)
        counties = {s.county_id for s in settlements.values()}
        orgs = PartyOrganisation.objects.visible_to(ctx.user).filter(
            settlement__county_id__in=counties
        )
        return {
            "settlements": settlements,
            "orgs": list(orgs.select_related("settlement")),
            "in_file": {
                (r.values.get("settlement"), r.values.get("name")): r.values.get("kind")
                for r in rows
            },
        }

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("name"):
            return (v["settlement"], v["name"])
        return None

    def existing(self, keys, state, ctx):
        wanted = set(keys)
        found = {}
        for org in PartyOrganisation.objects.filter(name__in={k[1] for k in keys}).select_related(
            "settlement", "parent"
        ):
            key = (org.settlement.code, org.name)
            if key in wanted:
                found[key] = org
        return found

    def values_of(self, row, state, plan, ctx):
        v = row.values
        settlement = self.settlement_of(row, state, plan)
        if settlement is None:
            return None
        values = {k: v[k] for k in self.fields if k in v and k != "parent"}
        values["settlement"] = settlement
        if "parent" in v:
            name = v["parent"]
            values["parent"] = None
            if name:
                same = [
                    o for o in state["orgs"] if o.name == name and o.settlement_id == settlement.pk
                ]
                county = [
                    o
                    for o in state["orgs"]
                    if o.name == name and o.settlement.county_id == settlement.county_id
                ]
                if (v["settlement"], name) in state["in_file"]:
                    parent_kind = state["in_file"][(v["settlement"], name)]
                    state.setdefault("pending", {})[row.number] = (v["settlement"], name)
                    values.pop("parent")
                elif same or len(county) == 1:
                    parent = (same or county)[0]
                    values["parent"] = parent
                    parent_kind = parent.kind
                else:
                    plan.errors.add(
                        row.number,
                        self.column("parent").header,
                        _("上级党组织“%(name)s”不存在、不唯一或不在您的管辖范围内。")
                        % {"name": name},
                    )
                    return None
                if parent_kind and PARTY_ORG_RANK[parent_kind] >= PARTY_ORG_RANK[v["kind"]]:
                    plan.errors.add(
                        row.number,
                        self.column("parent").header,
                        _("上级党组织的层级必须高于%(kind)s。")
                        % {"kind": PartyOrgKind(v["kind"]).label},
                    )
                    return None
        return values

    def key_values(self, key):
        return {"name": key[1]}

    def extra_plan(self, planned, state, plan, ctx):
        # Parents named in the same file get their id once every row is written.
        wanted = state.get("pending", {})
        pending = [(obj, wanted[row.number]) for row, obj, _c in planned if row.number in wanted]
        by_key = {(obj.settlement.code, obj.name): obj for _row, obj, _changed in planned}

        def link_parents(ctx):
            linked = []
            for obj, parent_key in pending:
                parent = by_key[parent_key]
                if obj.parent_id != parent.pk:
                    obj.parent = parent
                    linked.append(obj)
            if linked:
                PartyOrganisation.objects.bulk_update(linked, ["parent"], **ctx.write_kwargs())

        self.after_insert(plan, link_parents)

    export_select = ("settlement", "parent")
    export_order = ("settlement__code", "kind", "name")

    def export_values(self, obj):
        return {
            "settlement": obj.settlement.code,
            "name": obj.name,
            "kind": obj.kind,
            "parent": obj.parent.name if obj.parent_id else "",
            "secretary": obj.secretary,
            "founded_on": obj.founded_on,
            "notes": obj.notes,
        }


class PartyMemberSheet(GovernanceKind):
    key = "party_member"
    label = gettext_lazy("党员")
    model = PartyMember
    import_permissions = ("governance.import_partymember",)
    export_permissions = ("governance.export_partymember",)
    key_header = "name"
    key_label = gettext_lazy("身份证号，或党组织和姓名")
    notes = (
        gettext_lazy(
            "搬迁人员填身份证号（按身份证号更新）；不是搬迁人员的留空身份证号，按“党组织 + 姓名”更新。"
        ),
    )
    columns = [
        _settlement_column(gettext_lazy("党组织所在安置点编码")),
        Column(
            "organisation",
            gettext_lazy("所在党组织"),
            required=True,
            example="幸福社区第一党支部",
            width=24,
        ),
        Column(
            "id_number",
            gettext_lazy("身份证号"),
            "id_number",
            sensitive="id",
            example="",
            width=22,
            help=gettext_lazy("搬迁人员必填，须已在花名册登记；该列必须设为“文本”格式。"),
        ),
        Column("name", gettext_lazy("姓名"), "person_name", required=True, example="王明"),
        Column(
            "joined_on",
            gettext_lazy("入党日期"),
            "date",
            model_field=M("joined_on"),
            example="2015-07-01",
        ),
        Column(
            "origin",
            gettext_lazy("来源"),
            "choice",
            required=True,
            choices=MemberOrigin,
            model_field=M("origin"),
            example="随搬迁转入",
        ),
        Column("active", gettext_lazy("在册"), "bool", default=True, example="是", width=8),
        Column("notes", gettext_lazy("备注"), model_field=M("notes"), example=""),
    ]
    fields = ("organisation", "person", "name", "joined_on", "origin", "active", "notes")

    def prepare(self, rows, plan, ctx):
        settlements = self.settlements(rows, ctx)
        orgs = {
            (o.settlement.code, o.name): o
            for o in PartyOrganisation.objects.filter(
                settlement__in=list(settlements.values())
            ).select_related("settlement")
        }
        return {"settlements": settlements, "orgs": orgs, "people": people_in_area(rows, ctx)}

    def key_of(self, row):
        v = row.values
        if v.get("id_number"):
            return ("id", v["id_number"])
        if v.get("settlement") and v.get("organisation") and v.get("name"):
            return ("name", v["settlement"], v["organisation"], v["name"])
        return None

    def existing(self, keys, state, ctx):
        found = {}
        people = [state["people"][k[1]] for k in keys if k[0] == "id" and k[1] in state["people"]]
        members = PartyMember.objects.select_related("organisation__settlement", "person")
        for m in bulk_in(members, "person_id", [p.pk for p in people]):
            found[("id", m.person.id_number)] = m
        named = {k[3] for k in keys if k[0] == "name"}
        for m in bulk_in(members.filter(person__isnull=True), "name", named):
            found[("name", m.organisation.settlement.code, m.organisation.name, m.name)] = m
        return found

    def settlement_id_of(self, obj):
        return obj.organisation.settlement_id

    def values_of(self, row, state, plan, ctx):
        v = row.values
        if self.settlement_of(row, state, plan) is None:
            return None
        org = state["orgs"].get((v["settlement"], v["organisation"]))
        if org is None:
            plan.errors.add(
                row.number,
                self.column("organisation").header,
                self.not_found(_("党组织"), v["organisation"]),
            )
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values["organisation"] = org
        values["person"] = None
        if v.get("id_number"):
            person = person_of(self, row, state["people"], plan)
            if person is None:
                return None
            values["person"] = person
        return values

    field_columns = {"person": "id_number", "organisation": "organisation"}
    export_select = ("organisation__settlement", "person")
    export_order = ("organisation__settlement__code", "organisation__name", "name")

    def export_values(self, obj):
        return {
            "settlement": obj.organisation.settlement.code,
            "organisation": obj.organisation.name,
            "id_number": obj.person.id_number if obj.person_id else "",
            "name": obj.name,
            "joined_on": obj.joined_on,
            "origin": obj.origin,
            "active": obj.active,
            "notes": obj.notes,
        }


# --- cadres and pairings ------------------------------------------------------------------


class CadreSheet(GovernanceKind):
    key = "cadre"
    label = gettext_lazy("帮扶干部")
    model = Cadre
    import_permissions = ("governance.import_cadre",)
    export_permissions = ("governance.export_cadre",)
    key_header = "name"
    key_label = gettext_lazy("安置点编码、工作单位和姓名")
    notes = (gettext_lazy("按“安置点编码 + 工作单位 + 姓名”更新已有记录，其余新建。"),)
    columns = [
        _settlement_column(gettext_lazy("帮扶安置点编码")),
        Column("name", gettext_lazy("姓名"), "person_name", required=True, example="李华"),
        Column(
            "unit",
            gettext_lazy("工作单位"),
            required=True,
            model_field=C("unit"),
            example="县住建局",
        ),
        Column("position", gettext_lazy("职务"), model_field=C("position"), example="科员"),
        Column(
            "phone",
            gettext_lazy("联系电话"),
            "phone",
            model_field=C("phone"),
            example="13800001234",
        ),
        Column("active", gettext_lazy("在岗"), "bool", default=True, example="是", width=8),
        Column("notes", gettext_lazy("备注"), model_field=C("notes"), example=""),
    ]
    fields = ("position", "phone", "active", "notes")

    def prepare(self, rows, plan, ctx):
        return {"settlements": self.settlements(rows, ctx)}

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("unit") and v.get("name"):
            return (v["settlement"], v["unit"], v["name"])
        return None

    def existing(self, keys, state, ctx):
        wanted = set(keys)
        cadres = Cadre.objects.select_related("settlement")
        return {
            key: c
            for c in bulk_in(cadres, "name", {k[2] for k in keys})
            if (key := (c.settlement.code, c.unit, c.name)) in wanted
        }

    def values_of(self, row, state, plan, ctx):
        settlement = self.settlement_of(row, state, plan)
        if settlement is None:
            return None
        values = {k: row.values[k] for k in self.fields if k in row.values}
        values["settlement"] = settlement
        return values

    def key_values(self, key):
        return {"unit": key[1], "name": key[2]}

    export_select = ("settlement",)
    export_order = ("settlement__code", "unit", "name")

    def export_values(self, obj):
        return {
            "settlement": obj.settlement.code,
            "name": obj.name,
            "unit": obj.unit,
            "position": obj.position,
            "phone": obj.phone,
            "active": obj.active,
            "notes": obj.notes,
        }


def cadres_by_name(settlements):
    """{(settlement code, name): [cadres]} of the given settlements."""
    found = {}
    for c in Cadre.objects.filter(settlement__in=settlements).select_related("settlement"):
        found.setdefault((c.settlement.code, c.name), []).append(c)
    return found


def pick_cadre(row, cadres, code, name, unit, plan, header):
    matches = [c for c in cadres.get((code, name), ()) if not unit or c.unit == unit]
    if len(matches) != 1:
        plan.errors.add(
            row.number,
            header,
            _("帮扶干部“%(name)s”未在该安置点登记或同名不唯一；请先导入帮扶干部，或填写工作单位。")
            % {"name": name},
        )
        return None
    return matches[0]


class PairingSheet(GovernanceKind):
    key = "pairing"
    label = gettext_lazy("结对帮扶")
    model = Pairing
    import_permissions = ("governance.import_cadre",)
    export_permissions = ("governance.export_cadre",)
    key_header = "start_date"
    scope_header = "number"
    key_label = gettext_lazy("户编号、干部姓名和结对日期")
    notes = (
        gettext_lazy("按“户编号 + 干部姓名 + 结对日期”更新已有记录（如填写结束日期），其余新建。"),
        gettext_lazy("干部须已在该户所在安置点登记为帮扶干部；同名时填写工作单位。"),
    )
    columns = [
        Column("number", gettext_lazy("户编号"), required=True, example="522301000101", width=16),
        Column("cadre", gettext_lazy("帮扶干部"), "person_name", required=True, example="李华"),
        Column("unit", gettext_lazy("工作单位"), example="县住建局"),
        Column(
            "start_date",
            gettext_lazy("结对日期"),
            "date",
            required=True,
            model_field=P("start_date"),
            example="2024-03-01",
            width=12,
        ),
        Column(
            "end_date",
            gettext_lazy("结束日期"),
            "date",
            model_field=P("end_date"),
            example="",
            width=12,
        ),
        Column("notes", gettext_lazy("备注"), model_field=P("notes"), example=""),
    ]
    fields = ("end_date", "notes")
    field_columns = {"household": "number", "cadre": "cadre"}

    def prepare(self, rows, plan, ctx):
        households = self.households(rows)
        settlements = {h.settlement_id for h in households.values()}
        return {
            "households": households,
            "cadres": cadres_by_name(settlements),
            "codes": dict(Settlement.objects.filter(pk__in=settlements).values_list("pk", "code")),
        }

    def key_of(self, row):
        v = row.values
        if v.get("number") and v.get("cadre") and v.get("start_date"):
            return (v["number"], v["cadre"], v["start_date"])
        return None

    def existing(self, keys, state, ctx):
        by_id = {h.pk: h for h in state["households"].values()}
        found = {}
        for p in bulk_in(Pairing.objects.select_related("cadre"), "household_id", by_id):
            p.household = by_id[p.household_id]
            found[(p.household.number, p.cadre.name, p.start_date)] = p
        return found

    def settlement_id_of(self, obj):
        return obj.household.settlement_id

    def out_of_scope_message(self, row):
        return self.not_found(_("户编号"), row.values["number"])

    def values_of(self, row, state, plan, ctx):
        v = row.values
        household = self.household_of(row, state, plan, ctx)
        if household is None:
            return None
        cadre = pick_cadre(
            row,
            state["cadres"],
            state["codes"][household.settlement_id],
            v["cadre"],
            v.get("unit"),
            plan,
            self.column("cadre").header,
        )
        if cadre is None:
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values.update(household=household, cadre=cadre)
        return values

    def key_values(self, key):
        return {"start_date": key[2]}

    def note_key(self, key):
        return (key[0], key[1], key[2].isoformat())

    export_select = ("household", "cadre")
    export_order = ("household__number", "start_date", "id")

    def export_values(self, obj):
        return {
            "number": obj.household.number,
            "cadre": obj.cadre.name,
            "unit": obj.cadre.unit,
            "start_date": obj.start_date,
            "end_date": obj.end_date,
            "notes": obj.notes,
        }


# --- visits ---------------------------------------------------------------------------------


class VisitSheet(GovernanceKind):
    key = "visit"
    label = gettext_lazy("走访记录")
    model = Visit
    import_permissions = ("governance.import_visit",)
    export_permissions = ("governance.export_visit",)
    key_header = "visited_on"
    scope_header = "number"
    key_label = gettext_lazy("户编号、走访日期和走访人")
    notes = (
        gettext_lazy("“帮扶干部”和“网格员”填一个：须已在该户所在安置点登记。"),
        gettext_lazy("按“户编号 + 走访日期 + 走访人”更新已有记录，其余新建。"),
    )
    columns = [
        Column("number", gettext_lazy("户编号"), required=True, example="522301000101", width=16),
        Column(
            "visited_on",
            gettext_lazy("走访日期"),
            "date",
            required=True,
            model_field=V("visited_on"),
            example="2025-05-10",
            width=12,
        ),
        Column(
            "way",
            gettext_lazy("走访方式"),
            "choice",
            required=True,
            choices=VisitWay,
            model_field=V("way"),
            example="入户",
        ),
        Column("cadre", gettext_lazy("帮扶干部"), "person_name", example="李华"),
        Column("grid_worker", gettext_lazy("网格员"), "person_name", example=""),
        Column(
            "findings", gettext_lazy("走访情况"), model_field=V("findings"), example="家中情况正常"
        ),
        Column("needs", gettext_lazy("提出的诉求"), model_field=V("needs"), example="想找工作"),
        Column("follow_up", gettext_lazy("跟进措施"), model_field=V("follow_up"), example=""),
        Column(
            "follow_up_state",
            gettext_lazy("跟进状态"),
            "choice",
            choices=FollowUpState,
            model_field=V("follow_up_state"),
            default=FollowUpState.NONE,
            example="待跟进",
        ),
    ]
    fields = ("way", "findings", "needs", "follow_up", "follow_up_state")
    field_columns = {"household": "number"}

    def prepare(self, rows, plan, ctx):
        households = self.households(rows)
        settlements = {h.settlement_id for h in households.values()}
        workers = {}
        for w in GridWorker.objects.filter(grid__settlement_id__in=settlements).select_related(
            "grid"
        ):
            workers.setdefault((w.grid.settlement_id, w.name), []).append(w)
        cadres = {}
        for c in Cadre.objects.filter(settlement_id__in=settlements):
            cadres.setdefault((c.settlement_id, c.name), []).append(c)
        return {"households": households, "workers": workers, "cadres": cadres}

    def key_of(self, row):
        v = row.values
        visitor = v.get("cadre") or v.get("grid_worker")
        if v.get("number") and v.get("visited_on") and visitor:
            return (v["number"], v["visited_on"], visitor)
        return None

    def existing(self, keys, state, ctx):
        by_id = {h.pk: h for h in state["households"].values()}
        found = {}
        visits = Visit.objects.select_related("cadre", "grid_worker")
        for visit in bulk_in(visits, "household_id", by_id):
            visit.household = by_id[visit.household_id]
            who = visit.cadre.name if visit.cadre_id else visit.grid_worker.name
            found[(visit.household.number, visit.visited_on, who)] = visit
        return found

    def settlement_id_of(self, obj):
        return obj.household.settlement_id

    def out_of_scope_message(self, row):
        return self.not_found(_("户编号"), row.values["number"])

    def values_of(self, row, state, plan, ctx):
        v = row.values
        household = self.household_of(row, state, plan, ctx)
        if household is None:
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values.update(household=household, cadre=None, grid_worker=None)
        if bool(v.get("cadre")) == bool(v.get("grid_worker")):
            plan.errors.add(
                row.number, self.column("cadre").header, _("“帮扶干部”和“网格员”须填写且只填一个。")
            )
            return None
        key, pool = ("cadre", "cadres") if v.get("cadre") else ("grid_worker", "workers")
        matches = state[pool].get((household.settlement_id, v[key]), [])
        if len(matches) != 1:
            plan.errors.add(
                row.number,
                self.column(key).header,
                _("“%(name)s”未在该户所在安置点登记，或同名不唯一。") % {"name": v[key]},
            )
            return None
        values[key] = matches[0]
        return values

    def key_values(self, key):
        return {"visited_on": key[1]}

    def note_key(self, key):
        return (key[0], key[1].isoformat(), key[2])

    export_select = ("household", "cadre", "grid_worker")
    export_order = ("household__number", "visited_on", "id")

    def export_values(self, obj):
        return {
            "number": obj.household.number,
            "visited_on": obj.visited_on,
            "way": obj.way,
            "cadre": obj.cadre.name if obj.cadre_id else "",
            "grid_worker": obj.grid_worker.name if obj.grid_worker_id else "",
            "findings": obj.findings,
            "needs": obj.needs,
            "follow_up": obj.follow_up,
            "follow_up_state": obj.follow_up_state,
        }


# --- petitions ------------------------------------------------------------------------------


def path_to(state):
    """The states from 受理 to ``state`` in order (受理 included)."""
    for path in (
        [PetitionState.ACCEPTED],
        [PetitionState.ACCEPTED, PetitionState.REJECTED],
        [PetitionState.ACCEPTED, PetitionState.IN_PROGRESS],
        [PetitionState.ACCEPTED, PetitionState.IN_PROGRESS, PetitionState.RESOLVED],
        [
            PetitionState.ACCEPTED,
            PetitionState.IN_PROGRESS,
            PetitionState.RESOLVED,
            PetitionState.FOLLOWED_UP,
        ],
    ):
        if path[-1] == state:
            return path
    return []


class PetitionSheet(GovernanceKind):
    key = "petition"
    label = gettext_lazy("利益诉求")
    model = Petition
    import_permissions = ("governance.import_petition",)
    export_permissions = ("governance.export_petition",)
    key_header = "number"
    key_label = gettext_lazy("安置点编码和登记编号")
    notes = (
        gettext_lazy(
            "按“安置点编码 + 登记编号”更新已有记录，其余新建；办结期限由类别的办理时限计算。"
        ),
        gettext_lazy(
            "状态只能按 受理 → 办理中 → 已办结 → 已回访（或 受理 → 不予受理）向前推进；"
            "已办结须填办理结果和办结日期，已回访须再填回访日期和满意度，不予受理须填理由。"
        ),
    )
    columns = [
        _settlement_column(),
        Column(
            "number",
            gettext_lazy("登记编号"),
            required=True,
            model_field=Q_("number"),
            example="20250510-0001",
            width=16,
        ),
        Column("household", gettext_lazy("户编号"), example="522301000101", width=16),
        Column("group", gettext_lazy("群体诉求"), model_field=Q_("group"), example=""),
        Column(
            "phone",
            gettext_lazy("联系电话"),
            "phone",
            model_field=Q_("phone"),
            example="13800001234",
        ),
        Column("category", gettext_lazy("类别"), required=True, example="物业管理"),
        Column(
            "channel",
            gettext_lazy("来源渠道"),
            "choice",
            required=True,
            choices=PetitionChannel,
            model_field=Q_("channel"),
            example="窗口",
        ),
        Column(
            "received_on",
            gettext_lazy("受理日期"),
            "date",
            required=True,
            model_field=Q_("received_on"),
            example="2025-05-10",
            width=12,
        ),
        Column(
            "summary",
            gettext_lazy("诉求内容"),
            required=True,
            model_field=Q_("summary"),
            example="电梯故障",
        ),
        Column(
            "handler", gettext_lazy("承办人/单位"), model_field=Q_("handler"), example="物业公司"
        ),
        Column(
            "state",
            gettext_lazy("状态"),
            "choice",
            choices=PetitionState,
            default=PetitionState.ACCEPTED,
            example="已办结",
        ),
        Column("resolution", gettext_lazy("办理结果"), example="已维修"),
        Column("closed_on", gettext_lazy("办结日期"), "date", example="2025-05-12", width=12),
        Column("followed_up_on", gettext_lazy("回访日期"), "date", example="", width=12),
        Column("satisfaction", gettext_lazy("满意度"), "choice", choices=Satisfaction, example=""),
        Column("reject_reason", gettext_lazy("不予受理理由"), example=""),
        Column("due_on", gettext_lazy("办结期限"), "date", export_only=True),
    ]
    fields = (
        "household",
        "group",
        "phone",
        "category",
        "channel",
        "received_on",
        "summary",
        "handler",
        "state",
        "resolution",
        "closed_on",
        "followed_up_on",
        "satisfaction",
        "reject_reason",
        "due_on",
        "handling_days",
    )

    def prepare(self, rows, plan, ctx):
        return {
            "settlements": self.settlements(rows, ctx),
            "households": self.households(rows, key="household"),
            "categories": {c.name: c for c in PetitionCategory.objects.all()},
        }

    def key_of(self, row):
        v = row.values
        if v.get("settlement") and v.get("number"):
            return (v["settlement"], v["number"])
        return None

    def _existing(self, keys):
        wanted = set(keys)
        petitions = Petition.objects.select_related("settlement", "category")
        return {
            key: p
            for p in bulk_in(petitions, "number", {k[1] for k in keys})
            if (key := (p.settlement.code, p.number)) in wanted
        }

    def _error(self, plan, row, key, message):
        plan.errors.add(row.number, self.column(key).header, message)

    def values_of(self, row, state, plan, ctx):
        v = row.values
        settlement = self.settlement_of(row, state, plan)
        if settlement is None:
            return None
        values = {k: v[k] for k in self.fields if k in v}
        values["settlement"] = settlement
        values["household"] = None
        if v.get("household"):
            household = state["households"].get(v["household"])
            if household is None or household.settlement_id != settlement.pk:
                self._error(
                    plan, row, "household", _("户编号“%(n)s”不在该安置点。") % {"n": v["household"]}
                )
                return None
            values["household"] = household
        category = state["categories"].get(v["category"])
        if category is None:
            self._error(plan, row, "category", self.not_found(_("诉求类别"), v["category"]))
            return None
        values["category"] = category
        values["due_on"] = v["received_on"] + datetime.timedelta(days=category.due_days)
        to_state = v.get("state") or PetitionState.ACCEPTED
        if not self._state_fields_ok(row, v, to_state, plan):
            return None
        for name in ("resolution", "closed_on", "followed_up_on", "satisfaction", "reject_reason"):
            values[name] = v.get(name) or (
                "" if name in ("resolution", "satisfaction", "reject_reason") else None
            )
        if to_state == PetitionState.REJECTED:
            values["closed_on"] = values["closed_on"] or v["received_on"]
        values["handling_days"] = (
            (values["closed_on"] - v["received_on"]).days
            if to_state in (PetitionState.RESOLVED, PetitionState.FOLLOWED_UP)
            else None
        )
        values["state"] = to_state
        return values

    def _state_fields_ok(self, row, v, to_state, plan):
        today = timezone.localdate()
        resolved = to_state in (PetitionState.RESOLVED, PetitionState.FOLLOWED_UP)
        checks = [
            (
                resolved and not (v.get("resolution") or "").strip(),
                "resolution",
                _("已办结的诉求须填写办理结果。"),
            ),
            (resolved and not v.get("closed_on"), "closed_on", _("已办结的诉求须填写办结日期。")),
            (
                to_state == PetitionState.FOLLOWED_UP and not v.get("satisfaction"),
                "satisfaction",
                _("已回访的诉求须填写满意度。"),
            ),
            (
                to_state == PetitionState.FOLLOWED_UP and not v.get("followed_up_on"),
                "followed_up_on",
                _("已回访的诉求须填写回访日期。"),
            ),
            (
                to_state == PetitionState.REJECTED and not (v.get("reject_reason") or "").strip(),
                "reject_reason",
                _("不予受理须填写理由。"),
            ),
            (
                bool(v.get("closed_on")) and v["closed_on"] < v["received_on"],
                "closed_on",
                _("办结日期不能早于受理日期。"),
            ),
            (
                bool(v.get("closed_on")) and v["closed_on"] > today,
                "closed_on",
                _("办结日期不能晚于今天。"),
            ),
            (
                bool(v.get("followed_up_on"))
                and bool(v.get("closed_on"))
                and v["followed_up_on"] < v["closed_on"],
                "followed_up_on",
                _("回访日期不能早于办结日期。"),
            ),
            (
                bool(v.get("followed_up_on")) and v["followed_up_on"] > today,
                "followed_up_on",
                _("回访日期不能晚于今天。"),
            ),
        ]
        ok = True
        for failed, key, message in checks:
            if failed:
                self._error(plan, row, key, message)
                ok = False
        return ok

    def key_values(self, key):
        return {"number": key[1]}

    def existing(self, keys, state, ctx):
        found = self._existing(keys)
        state["stored_state"] = {p.pk: p.state for p in found.values()}
        return found

    def after_plan(self, planned, state, plan, ctx):
        """A stored petition only moves forward; the steps it takes are logged on commit."""
        keep = []
        steps = state["steps"] = {}
        for row, obj, changed in planned:
            old = state["stored_state"].get(obj.pk, "") if obj.pk else ""
            new_path = path_to(obj.state)
            if obj.pk and old not in new_path:
                self._error(
                    plan,
                    row,
                    "state",
                    _("状态不能由“%(old)s”改为“%(new)s”：只能按办理顺序向前推进。")
                    % {"old": PetitionState(old).label, "new": PetitionState(obj.state).label},
                )
                continue
            start = new_path.index(old) + 1 if old else 0
            steps[row.number] = new_path[start:]
            keep.append((row, obj, changed))
        planned[:] = keep

    def extra_plan(self, planned, state, plan, ctx):
        written = ("new", "updated")
        steps = [
            (obj, state["steps"][row.number])
            for row, obj, _changed in planned
            if plan.outcome.get(row.number) in written and state["steps"].get(row.number)
        ]

        def log(ctx):
            user = ctx.user if getattr(ctx.user, "is_authenticated", False) else None
            dates = {
                PetitionState.ACCEPTED: "received_on",
                PetitionState.IN_PROGRESS: "received_on",
                PetitionState.RESOLVED: "closed_on",
                PetitionState.FOLLOWED_UP: "followed_up_on",
                PetitionState.REJECTED: "closed_on",
            }
            rows = []
            for obj, path in steps:
                previous = ""
                if path[0] != PetitionState.ACCEPTED:
                    previous = next(s for s, nxt in PETITION_FLOW.items() if path[0] in nxt)
                for to_state in path:
                    rows.append(
                        PetitionTransition(
                            petition_id=obj.pk,
                            from_state=previous,
                            to_state=to_state,
                            on_date=getattr(obj, dates[to_state]),
                            by=user,
                            note=_("导入"),
                        )
                    )
                    previous = to_state
            PetitionTransition.objects.bulk_create(rows)

        self.after_insert(plan, log)

    export_select = ("settlement", "household", "category")
    export_order = ("settlement__code", "received_on", "number")

    def export_values(self, obj):
        return {
            "settlement": obj.settlement.code,
            "number": obj.number,
            "household": obj.household.number if obj.household_id else "",
            "group": obj.group,
            "phone": obj.phone,
            "category": obj.category.name,
            "channel": obj.channel,
            "received_on": obj.received_on,
            "summary": obj.summary,
            "handler": obj.handler,
            "state": obj.state,
            "resolution": obj.resolution,
            "closed_on": obj.closed_on,
            "followed_up_on": obj.followed_up_on,
            "satisfaction": obj.satisfaction,
            "reject_reason": obj.reject_reason,
            "due_on": obj.due_on,
        }


register(
    PartyOrganisationSheet, PartyMemberSheet, CadreSheet, PairingSheet, VisitSheet, PetitionSheet
)
