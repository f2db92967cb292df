"""花名册: the household roster, one row per person.

Layout decision: the household's columns are repeated on every member's row.
Rows can then be sorted and filtered in Excel without losing which household
a person belongs to, and an export re-imports unchanged.  Within one file all
rows of a household must agree on every household column; a row that differs
is an error naming the row it disagrees with.  Rows of a household need not be
adjacent.  Import updates or creates; it never deletes members missing from the
file, and a household ends with exactly one 户主.
"""

from types import SimpleNamespace

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from communities import enums
from communities.models import Building, GridUnit, Household, Person, Region, Settlement
from communities.validators import birth_date_from_id, sex_from_id
from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.engine import (
    apply,
    bulk_in,
    duplicates,
    freeze,
    new_instance,
    run_clean,
    snapshot,
    thaw,
)
from relocation.spreadsheets.kinds import Kind
from relocation.spreadsheets.writes import insert_rows, touch

# Words rosters use for a relationship without saying the sex: the member's
# sex from the ID number picks (male, female).
RELATIONSHIP_BY_SEX = {
    "父母": (enums.Relationship.FATHER, enums.Relationship.MOTHER),
    "子女": (enums.Relationship.SON, enums.Relationship.DAUGHTER),
    "儿女": (enums.Relationship.SON, enums.Relationship.DAUGHTER),
    "孙子女": (enums.Relationship.GRANDSON, enums.Relationship.GRANDDAUGHTER),
}

H = Household._meta.get_field
P = Person._meta.get_field

HOUSEHOLD_COLUMNS = [
    Column(
        "number",
        gettext_lazy("户编号"),
        required=True,
        model_field=H("number"),
        example="522301000101",
        help=gettext_lazy("每户唯一；同一户的各行填相同的户编号和户信息。"),
        width=16,
    ),
    Column(
        "settlement",
        gettext_lazy("安置点编码"),
        "code",
        required=True,
        allow_blank=True,
        example="AZD522301001",
        help=gettext_lazy(
            "须是已登记且在您管辖范围内的安置点；也可填安置点名称（范围内有同名安置点时须填编码）。"
        ),
        width=16,
    ),
    Column(
        "building",
        gettext_lazy("楼栋"),
        example="1栋",
        help=gettext_lazy("该安置点已登记的楼栋名称。"),
    ),
    Column("unit", gettext_lazy("单元"), "int", model_field=H("unit"), example="2", width=8),
    Column("room", gettext_lazy("房号"), model_field=H("room"), example="301", width=8),
    Column(
        "grid",
        gettext_lazy("网格"),
        example="第1网格",
        help=gettext_lazy("该安置点已登记的网格名称。"),
    ),
    Column(
        "origin_county",
        gettext_lazy("迁出县代码"),
        "code",
        example="522328",
        help=gettext_lazy("6位县级行政区划代码。"),
    ),
    Column(
        "origin_township",
        gettext_lazy("迁出乡镇代码"),
        "code",
        example="",
        help=gettext_lazy("9位乡镇代码，须属于迁出县。"),
    ),
    Column(
        "origin_village", gettext_lazy("迁出村"), model_field=H("origin_village"), example="坡头村"
    ),
    Column(
        "relocation_year",
        gettext_lazy("搬迁年度"),
        "int",
        required=True,
        model_field=H("relocation_year"),
        example="2018",
        width=10,
    ),
    Column("batch", gettext_lazy("搬迁批次"), model_field=H("batch"), example="第二批"),
    Column(
        "category",
        gettext_lazy("搬迁户类别"),
        "choice",
        choices=enums.HouseholdCategory,
        model_field=H("category"),
        default=enums.HouseholdCategory.REGISTERED_POOR,
        example="建档立卡脱贫户",
        width=16,
    ),
    Column(
        "moved_in_date",
        gettext_lazy("入住日期"),
        "date",
        model_field=H("moved_in_date"),
        example="2018-12-20",
        width=12,
    ),
    Column(
        "occupancy_state",
        gettext_lazy("入住状态"),
        "choice",
        choices=enums.OccupancyState,
        model_field=H("occupancy_state"),
        default=enums.OccupancyState.MOVED_IN,
        example="已入住",
    ),
    Column(
        "hukou_state",
        gettext_lazy("户籍状态"),
        "choice",
        choices=enums.HukouState,
        model_field=H("hukou_state"),
        default=enums.HukouState.MOVED_IN,
        example="户籍已迁入",
        width=20,
    ),
    Column(
        "housing_area",
        gettext_lazy("住房面积（㎡）"),
        "decimal",
        model_field=H("housing_area"),
        example="80",
    ),
    Column(
        "household_phone",
        gettext_lazy("户联系电话"),
        "phone",
        model_field=H("phone"),
        sensitive="phone",
        example="13800000000",
        width=14,
    ),
]

PERSON_COLUMNS = [
    Column(
        "name",
        gettext_lazy("姓名"),
        "person_name",
        required=True,
        model_field=P("name"),
        example="王秀英",
        width=10,
    ),
    Column(
        "id_number",
        gettext_lazy("身份证号"),
        "id_number",
        required=True,
        model_field=P("id_number"),
        sensitive="id",
        example="522328198001010028",
        help=gettext_lazy("18位，该列必须设为“文本”格式；出生日期和性别由号码得出。"),
        width=22,
    ),
    Column(
        "relationship",
        gettext_lazy("与户主关系"),
        "choice",
        required=True,
        choices=enums.Relationship,
        model_field=P("relationship"),
        aliases={word: word for word in RELATIONSHIP_BY_SEX},
        example="户主",
        help=gettext_lazy(
            "也可填父母、子女、孙子女，系统按身份证号中的性别换成父亲/母亲、子/女、孙子/孙女。"
        ),
    ),
    Column(
        "ethnicity",
        gettext_lazy("民族"),
        "choice",
        choices=enums.Ethnicity,
        model_field=P("ethnicity"),
        default=enums.Ethnicity.HAN,
        example="布依族",
        width=10,
    ),
    Column(
        "education",
        gettext_lazy("文化程度"),
        "choice",
        choices=enums.Education,
        model_field=P("education"),
        example="初中",
    ),
    Column(
        "health",
        gettext_lazy("健康状况"),
        "choice",
        choices=enums.Health,
        model_field=P("health"),
        default=enums.Health.HEALTHY,
        sensitive="hide",
        example="健康",
    ),
    Column(
        "disability_grade",
        gettext_lazy("残疾等级"),
        "choice",
        choices=enums.DisabilityGrade,
        model_field=P("disability_grade"),
        sensitive="hide",
        example="",
        width=10,
    ),
    Column(
        "labour_ability",
        gettext_lazy("劳动技能"),
        "choice",
        choices=enums.LabourAbility,
        model_field=P("labour_ability"),
        default=enums.LabourAbility.ORDINARY,
        example="普通劳动力",
        width=18,
    ),
    Column(
        "school_stage",
        gettext_lazy("在校阶段"),
        "choice",
        choices=enums.SchoolStage,
        model_field=P("school_stage"),
        example="",
        help=gettext_lazy("全日制在校生填写；不在校留空。"),
    ),
    Column(
        "phone",
        gettext_lazy("联系电话"),
        "phone",
        model_field=P("phone"),
        sensitive="phone",
        example="13800000000",
    ),
    Column(
        "medical_insurance", gettext_lazy("参加医保"), "bool", default=True, example="是", width=10
    ),
    Column(
        "pension_insurance",
        gettext_lazy("参加养老保险"),
        "bool",
        default=False,
        example="否",
        width=12,
    ),
    Column(
        "dibao",
        gettext_lazy("低保"),
        "choice",
        choices=enums.Dibao,
        model_field=P("dibao"),
        example="未享受",
        width=10,
    ),
    Column(
        "extreme_poverty_support",
        gettext_lazy("特困供养"),
        "bool",
        default=False,
        example="否",
        width=10,
    ),
    Column(
        "residence_permit",
        gettext_lazy("持新市民居住证"),
        "bool",
        default=False,
        example="否",
        width=14,
    ),
]

HOUSEHOLD_FIELDS = [
    "settlement",
    "building",
    "unit",
    "room",
    "grid",
    "origin_county",
    "origin_township",
    "origin_village",
    "relocation_year",
    "batch",
    "category",
    "moved_in_date",
    "occupancy_state",
    "hukou_state",
    "housing_area",
    "phone",
]
PERSON_FIELDS = [
    "name",
    "relationship",
    "ethnicity",
    "education",
    "health",
    "disability_grade",
    "labour_ability",
    "school_stage",
    "phone",
    "medical_insurance",
    "pension_insurance",
    "dibao",
    "extreme_poverty_support",
    "residence_permit",
]
HOUSEHOLD_KEYS = [c.key for c in HOUSEHOLD_COLUMNS if c.key != "number"]


class RosterKind(Kind):
    key = "roster"
    label = gettext_lazy("搬迁户花名册")
    model = Person
    columns = HOUSEHOLD_COLUMNS + PERSON_COLUMNS
    # Counties' rosters keep 性别 and 出生日期 beside the ID number.  Both come from
    # the number; a row where they disagree with it most often holds someone else's
    # number (a couple's numbers swapped), which the check digit cannot catch.
    check_columns = (
        Column("sex_check", gettext_lazy("性别"), "choice", choices=enums.Sex),
        Column("birth_check", gettext_lazy("出生日期"), "date"),
    )
    # A county's roster names the settlement; a name is read as well as a code.
    # It names the county and township people moved from as well (晴隆县, 鸡场镇).
    header_aliases = {
        **dict.fromkeys(
            ("安置点", "安置点名称", "安置区", "安置区名称", "安置小区", "集中安置点"), "安置点编码"
        ),
        **dict.fromkeys(("迁出县", "迁出县（市、区）", "迁出县名称", "迁出县区"), "迁出县代码"),
        **dict.fromkeys(
            ("迁出乡镇", "迁出乡（镇）", "迁出乡镇名称", "迁出乡镇（街道）"), "迁出乡镇代码"
        ),
    }
    import_permissions = ("communities.import_household", "communities.import_person")
    export_permissions = ("communities.export_household", "communities.export_person")
    field_columns = {"phone": "phone"}
    # A row with 户编号 blank belongs to the household above, as when its cells were
    # merged down the household's rows and then unmerged (``engine._fill_down``).
    fill_down = tuple(column.key for column in HOUSEHOLD_COLUMNS)
    filled_note = ngettext_lazy(
        "%(count)s 行未填户编号（%(rows)s），已计入其上方最近一个填了户编号的行所在的户，"
        "这些行空白的户信息也取自那一行（合并单元格取消合并后常见）。请核对；"
        "如不对，请在文件中补填户编号后重新上传。",
        "%(count)s 行未填户编号（%(rows)s），已计入其上方最近一个填了户编号的行所在的户，"
        "这些行空白的户信息也取自那一行（合并单元格取消合并后常见）。请核对；"
        "如不对，请在文件中补填户编号后重新上传。",
        "count",
    )
    notes = (
        gettext_lazy(
            "每行一名家庭成员；户信息（户编号至户联系电话各列）在该户每一行重复填写，同一户各行必须一致。"
        ),
        gettext_lazy(
            "按身份证号更新已有人员、按户编号更新已有搬迁户，其余新建；文件中没有的成员不会被删除。"
        ),
        gettext_lazy("每户必须有且只有一名“户主”。"),
    )

    @property
    def examples(self):
        head = {c.key: c.example for c in self.columns}
        spouse = dict(
            head,
            name="李国强",
            id_number="522328197803150036",
            relationship="配偶",
            phone="",
            labour_ability="技能劳动力",
        )
        return [head, spouse]

    # --- plan ---------------------------------------------------------------------
    def plan(self, rows, plan, ctx):
        headers = self.headers()
        present = plan.present
        resolve_relationships(rows)
        # Household fields must agree within a household.
        groups = {}
        for row in rows:
            number = row.values.get("number")
            if number:
                groups.setdefault(number, []).append(row)
        keys = [key for key in HOUSEHOLD_KEYS if key in present]
        for members in groups.values():
            first = members[0]
            first_values = list(map(first.values.get, keys))
            for row in members[1:]:
                if list(map(row.values.get, keys)) == first_values:
                    continue
                for key in keys:
                    if (
                        key not in row.bad
                        and key not in first.bad
                        and row.values[key] != first.values[key]
                    ):
                        plan.errors.add(
                            row.number,
                            self.column(key).header,
                            _("同一户的各行此列应一致：%(row)s为“%(value)s”。")
                            % {
                                "row": plan.row_text(first.number),
                                "value": self.column(key).format(first.values[key]),
                            },
                        )
                        row.bad.add(key)
        duplicates(
            rows,
            lambda r: r.values.get("id_number") or None,
            plan,
            self.column("id_number").header,
            _("身份证号"),
        )

        # Bulk lookups: settlements, buildings, grids, regions, households, people.
        written = {r.values["settlement"] for r in rows if r.values.get("settlement")}
        settlements = {
            s.code: s for s in bulk_in(Settlement.objects.visible_to(ctx.user), "code", written)
        }
        # Counties' own rosters name the settlement (兴民新城) rather than give our code.
        same_name = {}
        for s in Settlement.objects.visible_to(ctx.user).filter(
            name__in=written - settlements.keys()
        ):
            same_name.setdefault(s.name, []).append(s)
        settlements.update((name, found[0]) for name, found in same_name.items() if len(found) == 1)
        ambiguous = {
            name: sorted(s.code for s in found)
            for name, found in same_name.items()
            if len(found) > 1
        }
        settlement_ids = [s.pk for s in settlements.values()]
        buildings = {
            (b.settlement_id, b.name): b
            for b in bulk_in(Building.objects.all(), "settlement_id", settlement_ids)
        }
        grids = {
            (g.settlement_id, g.name): g
            for g in bulk_in(GridUnit.objects.all(), "settlement_id", settlement_ids)
        }
        region_codes = {r.values.get(k) for r in rows for k in ("origin_county", "origin_township")}
        regions = {
            r.code: r for r in bulk_in(Region.objects.all(), "code", region_codes - {None, ""})
        }
        # Counties' rosters name the county and township people moved from (晴隆县).
        region_names = {}
        for region in Region.objects.filter(
            name__in=region_codes - regions.keys() - {None, ""},
            level__in=(enums.RegionLevel.COUNTY, enums.RegionLevel.TOWNSHIP),
        ):
            region_names.setdefault((region.level, region.name), []).append(region)
        # What a household's cells are looked up in (``_household_values``).
        lookups = SimpleNamespace(
            settlements=settlements,
            ambiguous=ambiguous,
            buildings=buildings,
            grids=grids,
            regions=regions,
            region_names=region_names,
        )
        # Timestamps are never compared or written here: not loaded (450,000
        # datetimes parsed for nothing on a 100,000-row re-import).
        households = {
            h.number: h
            for h in bulk_in(Household.objects.defer("created_at", "updated_at"), "number", groups)
        }
        people = {
            p.id_number: p
            for p in bulk_in(
                Person.objects.defer("created_at", "updated_at"),
                "id_number",
                {r.values["id_number"] for r in rows if r.values.get("id_number")},
            )
        }
        # The settlement of every household those people are in now (for scope).
        settlement_of = {h.pk: h.settlement_id for h in households.values()}
        elsewhere = {p.household_id for p in people.values()} - settlement_of.keys()
        settlement_of.update(
            (pk, settlement_id)
            for pk, settlement_id in bulk_in(
                Household.objects.values_list("id", "settlement_id"), "id", elsewhere
            )
        )
        # Heads now in the households of the file (for the one-head rule).
        heads_now = {}
        head_ids = []
        for head in bulk_in(
            Person.objects.filter(relationship=enums.Relationship.HEAD).only(
                "id", "household_id", "id_number"
            ),
            "household_id",
            [h.pk for h in households.values()],
        ):
            head_ids.append(head.pk)
            heads_now.setdefault(head.household_id, set()).add(head.id_number)
        # What this plan read, so that a commit can tell whether it still holds.
        plan.relies_on(
            Household, [*settlement_of], settlements=[*settlement_ids, *settlement_of.values()]
        )
        plan.relies_on(Person, [p.pk for p in people.values()] + head_ids)
        plan.relies_on(Settlement, settlement_ids)
        ctx.progress(65, _("正在核对每户和每人"))

        # Households.
        resolved = {}  # number -> Household (new or existing), or None when in error
        for number, members in groups.items():
            first = members[0]
            existing = households.get(number)
            if existing is not None and not ctx.settlement_visible(existing.settlement_id):
                for row in members:
                    plan.errors.add(
                        row.number,
                        self.column("number").header,
                        _("户编号“%(number)s”已在您管辖范围以外登记，不能导入或覆盖。")
                        % {"number": number},
                    )
                resolved[number] = None
                continue
            values = self._household_values(first, lookups, plan, ctx)
            if values is None:
                resolved[number] = None
                continue
            if existing is None:
                household = new_instance(Household, {"number": number, **values})
                changed = None
            else:
                household = existing
                changed = apply(household, values, HOUSEHOLD_FIELDS)
            if (changed is None or changed) and not run_clean(household, first, plan, headers):
                resolved[number] = None
                continue
            household._import_changed = changed
            household._import_row = first
            resolved[number] = household

        self._check_against_id_numbers(rows, present, plan)

        # People.
        person_keys = [key for key in PERSON_FIELDS if key in present]
        new_people, changed_people, stepping_down = [], [], []
        moving = {}  # pk of a registered person the file puts in another household -> row
        final_heads = {}  # household number -> [row numbers of heads from the file]
        in_file = set()
        for row in rows:
            id_number = row.values.get("id_number")
            number = row.values.get("number")
            if not id_number or "id_number" in row.bad or not number:
                continue
            in_file.add(id_number)
            if row.values.get("relationship") == enums.Relationship.HEAD:
                final_heads.setdefault(number, []).append(row.number)
            household = resolved.get(number)
            person = people.get(id_number)
            if person is not None and not ctx.settlement_visible(
                settlement_of[person.household_id]
            ):
                plan.errors.add(
                    row.number,
                    self.column("id_number").header,
                    _(
                        "该身份证号已在您管辖范围以外登记，不能导入或覆盖。如确属本辖区人员，请联系上级管理员办理迁移。"
                    ),
                )
                continue
            if household is None or row.bad:
                continue
            # A row without a bad cell has a value for every column of the file.
            values = {key: row.values[key] for key in person_keys}
            if person is None:
                # Instances are built at write time: a check of 100,000 new
                # people then constructs none of them.
                if needs_clean(values):
                    person = Person(id_number=id_number, household=household, **values)
                    if not run_clean(person, row, plan, headers):
                        continue
                new_people.append((id_number, number, values))
                plan.outcome[row.number] = "new"
                plan.note("new", Person, id_number, values, rows=(row.number,))
                continue
            was_head = person.relationship == enums.Relationship.HEAD
            changed = apply(person, values, PERSON_FIELDS)
            if person.household_id != household.pk or household.pk is None:
                person.household = household
                changed.append("household")
            if changed:
                if needs_clean(person.__dict__) and not run_clean(person, row, plan, headers):
                    continue
                changed_people.append((person, changed, number))
                if "household" in changed:
                    moving[person.pk] = row
                if was_head and person.relationship != enums.Relationship.HEAD:
                    stepping_down.append(person)
                noted = snapshot(person, [name for name in changed if name != "household"])
                if "household" in changed:
                    noted["household"] = number
                plan.note("updated", Person, id_number, noted, rows=(row.number,))
            plan.outcome[row.number] = "updated" if changed else "unchanged"

        # One head per household, counting members who are not in the file.
        head_header = self.column("relationship").header
        for number, members in groups.items():
            household = resolved.get(number)
            if household is None:
                continue
            heads = list(final_heads.get(number, []))
            kept_head = any(
                id_number not in in_file for id_number in heads_now.get(household.pk, ())
            )
            if kept_head and heads:
                for row_number in heads:
                    plan.errors.add(
                        row_number,
                        head_header,
                        _(
                            "该户在系统中已有一名不在本文件中的户主；请在文件中一并列出原户主并修改其关系。"
                        ),
                    )
            elif len(heads) > 1:
                for row_number in heads:
                    others = plan.rows_text([n for n in heads if n != row_number])
                    plan.errors.add(
                        row_number,
                        head_header,
                        _("每户只能有一名户主：%(rows)s也填了户主。") % {"rows": others},
                    )
            elif (
                not heads
                and not kept_head
                and not any(r.bad & {"relationship", "id_number"} for r in members)
            ):
                plan.errors.add(
                    members[0].number,
                    head_header,
                    _("户编号“%(number)s”没有户主：每户必须有一名“户主”。") % {"number": number},
                )

        self._heads_left_behind(moving, resolved, plan)
        plan.moved_people = len(moving)

        # Households: outcome of their first row when only the household changed.
        new_households, changed_households = [], []
        for number, household in resolved.items():
            if household is None:
                continue
            row = household._import_row
            if household.pk is None:
                new_households.append(household)
                plan.note(
                    "new",
                    Household,
                    number,
                    snapshot(household, HOUSEHOLD_FIELDS),
                    rows=[r.number for r in groups[number]],
                )
                if plan.outcome.get(row.number) == "unchanged":
                    plan.outcome[row.number] = "updated"
            elif household._import_changed:
                changed_households.append(household)
                plan.note(
                    "updated",
                    Household,
                    number,
                    snapshot(household, household._import_changed),
                    rows=[r.number for r in groups[number]],
                )
                if plan.outcome.get(row.number) == "unchanged":
                    plan.outcome[row.number] = "updated"

        existing = {
            number: household.pk
            for number, household in resolved.items()
            if household is not None and household.pk is not None
        }

        def write(ctx):
            write_roster(
                [household_row(h) for h in new_households],
                existing,
                [(h, h._import_changed) for h in changed_households],
                new_people,
                changed_people,
                stepping_down,
                ctx,
            )

        def kept():
            """The writes as plain data, for ``write_kept`` at commit."""
            return {
                "households": [freeze(household_row(h)) for h in new_households],
                "existing": existing,
                "changed_households": [
                    (h.pk, freeze(attribute_values(h, h._import_changed)))
                    for h in changed_households
                ],
                "people": new_people,
                "changed_people": [
                    (
                        p.pk,
                        freeze(attribute_values(p, changed)),
                        number if "household" in changed else None,
                    )
                    for p, changed, number in changed_people
                ],
                "stepping_down": [p.pk for p in stepping_down],
            }

        plan.writes.append(write)
        plan.kept = kept

    def write_kept(self, data, ctx):
        """Write a checked plan kept since the check (``kept`` above).

        Only the records the plan changes are loaded again, by id: the commit
        has verified that none of them changed since the check, so applying
        the kept values gives the instances the check planned.
        """
        households = Household.objects.defer("created_at", "updated_at").in_bulk(
            [pk for pk, _v in data["changed_households"]]
        )
        changed_households = []
        for pk, values in data["changed_households"]:
            household = households[pk]
            changed_households.append((household, set_attributes(household, thaw(values))))
        people = Person.objects.defer("created_at", "updated_at").in_bulk(
            [pk for pk, _v, _n in data["changed_people"]]
        )
        changed_people = []
        for pk, values, number in data["changed_people"]:
            person = people[pk]
            changed = set_attributes(person, thaw(values))
            if number is not None:  # moved into another household of the file
                changed.append("household")
            changed_people.append((person, changed, number))
        write_roster(
            [thaw(row) for row in data["households"]],
            data["existing"],
            changed_households,
            [tuple(item) for item in data["people"]],
            changed_people,
            [people[pk] for pk in data["stepping_down"]],
            ctx,
        )

    def _check_against_id_numbers(self, rows, present, plan):
        """性别 and 出生日期, where the file has them, must be those of the ID number;
        the row is an error otherwise (nothing of it is written)."""
        if not present & {"sex_check", "birth_check"}:
            return
        for row in rows:
            id_number = row.values.get("id_number")
            if not id_number or "id_number" in row.bad or len(id_number) != 18:
                continue
            sex = row.values.get("sex_check")
            if sex and "sex_check" not in row.bad and sex != sex_from_id(id_number):
                plan.errors.add(
                    row.number,
                    self.column("sex_check").header,
                    _(
                        "性别“%(sex)s”与身份证号不符（身份证号第17位表示%(by_id)s）。"
                        "请核对身份证号是否填错，例如是否与家人的号码互换。"
                    )
                    % {
                        "sex": enums.Sex(sex).label,
                        "by_id": enums.Sex(sex_from_id(id_number)).label,
                    },
                )
                row.bad.add("sex_check")
            born = row.values.get("birth_check")
            by_id = birth_date_from_id(id_number) if born else None
            # A month without its day (1980.05) reads as the 1st: compared by month.
            if born and born.day == 1 and (born.year, born.month) == (by_id.year, by_id.month):
                born = by_id
            if born and "birth_check" not in row.bad and born != by_id:
                plan.errors.add(
                    row.number,
                    self.column("birth_check").header,
                    _(
                        "出生日期 %(born)s 与身份证号中的出生日期不符。"
                        "请核对身份证号是否填错，例如是否与家人的号码互换。"
                    )
                    % {"born": born.isoformat()},
                )
                row.bad.add("birth_check")

    @staticmethod
    def _region_by_name(region_names, level, name, settlement, county):
        """The county (or, within ``county``, the township) called ``name``; of counties
        of that name, the one in the settlement's province; None when not one alone."""
        found = region_names.get((level, name), [])
        if level == enums.RegionLevel.TOWNSHIP:
            found = [r for r in found if county is not None and r.parent_id == county.code]
        elif len(found) > 1 and settlement is not None:
            found = [r for r in found if r.code[:2] == settlement.county_id[:2]]
        return found[0] if len(found) == 1 else None

    def _heads_left_behind(self, moving, resolved, plan):
        """A 户主 the file moves into another household must not leave the household
        they head without one: the one-head rule above covers only the households
        the file lists.  (A household every member leaves may stay empty.)"""
        if not moving:
            return
        listed = {h.pk for h in resolved.values() if h is not None and h.pk is not None}
        for head, count in Person.objects.filter(pk__in=moving).heads_left_alone():
            if head.household_id in listed:
                continue
            plan.errors.add(
                moving[head.pk].number,
                self.column("number").header,
                _(
                    "%(name)s是户编号“%(old)s”的户主，迁入本户后原户还有 %(n)d 名成员却没有户主。"
                    "请在文件中一并列出户编号“%(old)s”的成员并指定新户主，或先在系统中为原户更换户主。"
                )
                % {"name": head.name, "old": head.household.number, "n": count},
            )

    def _household_values(self, row, lookups, plan, ctx):
        v = row.values
        values = {}
        ok = True
        header = self.column

        def fail(key, message):
            nonlocal ok
            plan.errors.add(row.number, header(key).header, message)
            row.bad.add(key)
            ok = False

        settlement = lookups.settlements.get(v.get("settlement"))
        if "settlement" in v and "settlement" not in row.bad:
            if not v["settlement"] and ctx.scope.unrestricted:
                values["settlement"] = None  # 未入住 households without a settlement yet
            elif not v["settlement"]:
                fail("settlement", _("必填，不能为空。"))
            elif v["settlement"] in lookups.ambiguous:
                fail(
                    "settlement",
                    _(
                        "您的管辖范围内有多个名为“%(name)s”的安置点（编码 %(codes)s），请填写安置点编码。"
                    )
                    % {
                        "name": v["settlement"],
                        "codes": "、".join(lookups.ambiguous[v["settlement"]]),
                    },
                )
            elif settlement is None:
                fail("settlement", self.not_found(_("安置点"), v["settlement"]))
            else:
                values["settlement"] = settlement
        for key, lookup in (("building", lookups.buildings), ("grid", lookups.grids)):
            if key in v and key not in row.bad:
                if not v[key]:
                    values[key] = None
                elif settlement is not None:
                    found = lookup.get((settlement.pk, v[key]))
                    if found is None:
                        fail(
                            key,
                            _(
                                "安置点“%(settlement)s”没有名为“%(name)s”的%(what)s，请先登记或导入。"
                            )
                            % {
                                "settlement": settlement.name,
                                "name": v[key],
                                "what": header(key).header,
                            },
                        )
                    else:
                        values[key] = found
        for key, level in (
            ("origin_county", enums.RegionLevel.COUNTY),
            ("origin_township", enums.RegionLevel.TOWNSHIP),
        ):
            if key in v and key not in row.bad:
                if not v[key]:
                    values[key] = None
                else:
                    region = lookups.regions.get(v[key]) or self._region_by_name(
                        lookups.region_names, level, v[key], settlement, values.get("origin_county")
                    )
                    if (region is None or region.level != level) and v[key].isdigit():
                        fail(
                            key,
                            _("“%(code)s”不是有效的%(what)s。")
                            % {"code": v[key], "what": header(key).header},
                        )
                    elif region is None and level == enums.RegionLevel.TOWNSHIP:
                        fail(
                            key,
                            _("迁出县中没有名为“%(name)s”的乡镇（街道）；请核对，或填写乡镇代码。")
                            % {"name": v[key]},
                        )
                    elif region is None:
                        fail(
                            key,
                            _(
                                "没有名为“%(name)s”的县级区划，或有多个同名的县；请填写县级区划代码。"
                            )
                            % {"name": v[key]},
                        )
                    else:
                        values[key] = region
        for key in (
            "unit",
            "room",
            "origin_village",
            "relocation_year",
            "batch",
            "category",
            "moved_in_date",
            "occupancy_state",
            "hukou_state",
            "housing_area",
        ):
            if key in v:
                values[key] = v[key]
        if "household_phone" in v:
            values["phone"] = v["household_phone"]
        if row.bad & set(HOUSEHOLD_KEYS) or "number" in row.bad:
            return None
        return values if ok else None

    # --- export -------------------------------------------------------------------
    export_select = ("household__settlement", "household__building", "household__grid")
    export_order = ("household__number", "id")

    def export_values(self, person):
        h = person.household
        values = {
            "number": h.number,
            "settlement": h.settlement.code if h.settlement_id else "",
            "building": h.building.name if h.building_id else "",
            "grid": h.grid.name if h.grid_id else "",
            "origin_county": h.origin_county_id or "",
            "origin_township": h.origin_township_id or "",
            "household_phone": h.phone,
        }
        for key in (
            "unit",
            "room",
            "origin_village",
            "relocation_year",
            "batch",
            "category",
            "moved_in_date",
            "occupancy_state",
            "hukou_state",
            "housing_area",
        ):
            values[key] = getattr(h, key)
        values["id_number"] = person.id_number
        for key in PERSON_FIELDS:
            values[key] = getattr(person, key)
        return values


_HOUSEHOLD_ATTNAMES = [f.attname for f in Household._meta.concrete_fields if not f.primary_key]


def household_row(household):
    """A new household's columns, for ``insert_rows``."""
    state = household.__dict__
    return {name: state.get(name) for name in _HOUSEHOLD_ATTNAMES}


def attribute_values(obj, names):
    """{attname: value} of the fields ``names`` (``household`` is set at write time)."""
    get = obj._meta.get_field
    return {
        get(name).attname: getattr(obj, get(name).attname) for name in names if name != "household"
    }


def set_attributes(obj, values):
    """Set attnames on ``obj``; the field names changed (for ``bulk_update``)."""
    names = []
    for field in obj._meta.concrete_fields:
        if field.attname in values:
            setattr(obj, field.attname, values[field.attname])
            names.append(field.name)
    return names


def write_roster(
    household_rows, existing, changed_households, new_people, changed_people, stepping_down, ctx
):
    """The roster's writes, from a plan made now or kept since the check.

    ``household_rows``: new households' columns; ``existing``: {household
    number: id} of the file's registered households; ``changed_*``:
    (instance, changed field names[, household number]); ``new_people``:
    (ID number, household number, values).
    """
    kwargs = ctx.write_kwargs()
    insert_rows(Household, household_rows, ctx)
    pk_of = dict(existing)
    pk_of.update((row["number"], row["id"]) for row in household_rows)
    if changed_households:
        fields = sorted({f for _h, changed in changed_households for f in changed})
        households = [h for h, _c in changed_households]
        touch(households)
        Household.objects.bulk_update(
            households, [*fields, "updated_at"], batch_size=1000, **kwargs
        )
    # Made as they are streamed, while the server writes the ones before.
    person_rows = (
        person_row(id_number, pk_of[number], values) for id_number, number, values in new_people
    )
    for person, changed, number in changed_people:
        if "household" in changed:  # moved, possibly into a household new here
            person.household_id = pk_of[number]
    if stepping_down:
        # First, so that the one-head-per-household index never sees two heads.
        Person.objects.bulk_update(stepping_down, ["relationship"], **kwargs)
    insert_rows(Person, person_rows, ctx, count=len(new_people))
    if changed_people:
        fields = sorted({f for _p, changed, _n in changed_people for f in changed})
        people = [p for p, _c, _n in changed_people]
        touch(people)
        Person.objects.bulk_update(people, [*fields, "updated_at"], batch_size=1000, **kwargs)


def resolve_relationships(rows):
    """父母/子女/孙子女 become 父亲/母亲 … by the sex in the row's ID number.

    A row whose ID number is in error keeps the word and is marked bad (its ID
    number error is already reported and the row is not written).
    """
    for row in rows:
        pair = RELATIONSHIP_BY_SEX.get(row.values.get("relationship"))
        if pair is None:
            continue
        id_number = row.values.get("id_number")
        if not id_number or "id_number" in row.bad:
            row.bad.add("relationship")
            continue
        row.values["relationship"] = pair[sex_from_id(id_number) == "F"].value


def needs_clean(values):
    """Whether ``Person.clean()`` can object: it checks only the disability pair.

    (It also derives birth date and sex, which ``bulk_create`` does anyway; the
    ID number itself was validated cell by cell.)  Skipping the call where it
    cannot fail saves re-validating 100,000 ID numbers.
    """
    return (
        values.get("health") == enums.Health.DISABLED or values.get("disability_grade") is not None
    )


_PERSON_DEFAULTS = {
    f.attname: f.get_default() for f in Person._meta.concrete_fields if not f.primary_key
}


def person_row(id_number, household_id, values):
    """A new person's columns: defaults, the file's values, and what the ID number gives.

    Birth date and sex are derived from the ID number (validated cell by cell)
    as ``Person.set_derived_fields`` would.
    """
    row = dict(_PERSON_DEFAULTS)
    row.update(values)
    row.update(
        id_number=id_number,
        household_id=household_id,
        birth_date=birth_date_from_id(id_number),
        sex=sex_from_id(id_number),
    )
    return row
