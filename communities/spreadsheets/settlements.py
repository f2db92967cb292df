"""安置点, 楼栋 and 网格 files (one row per settlement / building / grid)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities import enums
from communities.models import Building, GridUnit, Region, Settlement
from communities.ordering import natural_key
from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.engine import bulk_in
from relocation.spreadsheets.kinds.simple import SimpleKind

S = Settlement._meta.get_field
B = Building._meta.get_field
PERMS_IMPORT = ("communities.import_settlement",)
PERMS_EXPORT = ("communities.export_settlement",)


class SettlementKind(SimpleKind):
    key = "settlement"
    label = gettext_lazy("安置点")
    model = Settlement
    import_permissions = PERMS_IMPORT
    export_permissions = PERMS_EXPORT
    key_header = "code"
    scope_header = "county"
    columns = [
        Column(
            "code",
            gettext_lazy("安置点编码"),
            required=True,
            model_field=S("code"),
            example="AZD522301001",
            help=gettext_lazy("每个安置点唯一，用于更新已有安置点。"),
            width=16,
        ),
        Column(
            "name",
            gettext_lazy("安置点名称"),
            required=True,
            model_field=S("name"),
            example="阳光新区",
        ),
        Column(
            "county",
            gettext_lazy("所在县代码"),
            "code",
            required=True,
            example="522301",
            help=gettext_lazy("6位县级行政区划代码。"),
        ),
        Column(
            "township",
            gettext_lazy("所在乡镇代码"),
            "code",
            example="522301001",
            help=gettext_lazy("9位乡镇（街道）代码，须属于所在县。"),
        ),
        Column(
            "community", gettext_lazy("社区居委会"), model_field=S("community"), example="阳光社区"
        ),
        Column(
            "kind",
            gettext_lazy("安置方式"),
            "choice",
            choices=enums.SettlementKind,
            model_field=S("kind"),
            default=enums.SettlementKind.URBAN,
            example="城镇集中安置",
        ),
        Column(
            "year_built",
            gettext_lazy("建成年份"),
            "int",
            model_field=S("year_built"),
            example="2019",
        ),
        Column(
            "land_area_mu",
            gettext_lazy("占地面积（亩）"),
            "decimal",
            model_field=S("land_area_mu"),
            example="401",
        ),
        Column(
            "floor_area_m2",
            gettext_lazy("建筑面积（㎡）"),
            "decimal",
            model_field=S("floor_area_m2"),
            example="480000",
        ),
        Column(
            "housing_units",
            gettext_lazy("安置住房（套）"),
            "int",
            model_field=S("housing_units"),
            example="4842",
        ),
        Column(
            "planned_households",
            gettext_lazy("计划安置户数"),
            "int",
            model_field=S("planned_households"),
            example="4800",
        ),
        Column(
            "planned_people",
            gettext_lazy("计划安置人数"),
            "int",
            model_field=S("planned_people"),
            example="13000",
        ),
        Column(
            "address",
            gettext_lazy("地址"),
            model_field=S("address"),
            example="兴义市洒金街道",
            width=24,
        ),
        Column(
            "latitude", gettext_lazy("纬度"), "decimal", model_field=S("latitude"), example="25.09"
        ),
        Column(
            "longitude",
            gettext_lazy("经度"),
            "decimal",
            model_field=S("longitude"),
            example="104.9",
        ),
    ]
    fields = (
        "name",
        "county",
        "township",
        "community",
        "kind",
        "year_built",
        "land_area_mu",
        "floor_area_m2",
        "housing_units",
        "planned_households",
        "planned_people",
        "address",
        "latitude",
        "longitude",
    )
    key_label = gettext_lazy("安置点编码")

    def prepare(self, rows, plan, ctx):
        codes = {r.values.get(k) for r in rows for k in ("county", "township")} - {None, ""}
        return {"regions": {r.code: r for r in bulk_in(Region.objects.all(), "code", codes)}}

    def key_of(self, row):
        return row.values.get("code") or None

    def existing(self, keys, state, ctx):
        return {s.code: s for s in bulk_in(Settlement.objects.all(), "code", keys)}

    def visible(self, obj, ctx):
        return ctx.settlement_visible(obj.pk)

    def out_of_scope_message(self, row):
        return _("安置点编码“%(code)s”已在您管辖范围以外登记，不能导入或覆盖。") % {
            "code": row.values["code"]
        }

    def values_of(self, row, state, plan, ctx):
        values = {k: row.values[k] for k in self.fields if k in row.values}
        ok = True
        for key, level in (
            ("county", enums.RegionLevel.COUNTY),
            ("township", enums.RegionLevel.TOWNSHIP),
        ):
            if key not in row.values:
                continue
            code = row.values[key]
            if not code:
                values[key] = None
                continue
            region = state["regions"].get(code)
            if region is None or region.level != level:
                plan.errors.add(
                    row.number,
                    self.column(key).header,
                    _("“%(code)s”不是有效的%(what)s。")
                    % {"code": code, "what": self.column(key).header},
                )
                ok = False
            else:
                values[key] = region
        return values if ok else None

    def key_values(self, key):
        return {"code": key}

    def scope_error(self, obj, ctx):
        if not ctx.region_in_scope(obj.county_id, obj.township_id):
            return _("所在县（乡镇）不在您的管辖范围内。")
        return None

    export_order = ("code",)

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields}
        values.update(code=obj.code, county=obj.county_id, township=obj.township_id or "")
        return values


class SettlementChildKind(SimpleKind):
    """Buildings and grids: keyed by (settlement code, name) inside visible settlements."""

    key_header = "name"
    scope_header = "settlement"

    def prepare(self, rows, plan, ctx):
        codes = {r.values["settlement"] for r in rows if r.values.get("settlement")}
        settlements = {
            s.code: s for s in bulk_in(Settlement.objects.visible_to(ctx.user), "code", codes)
        }
        return {"settlements": settlements}

    def key_of(self, row):
        if not row.values.get("settlement") or not row.values.get("name"):
            return None
        return (row.values["settlement"], row.values["name"])

    def existing(self, keys, state, ctx):
        by_id = {s.pk: s for s in state["settlements"].values()}
        found = bulk_in(self.model.objects.all(), "settlement_id", by_id)
        return {(by_id[o.settlement_id].code, o.name): o for o in found}

    def values_of(self, row, state, plan, ctx):
        settlement = state["settlements"].get(row.values["settlement"])
        if settlement is None:
            plan.errors.add(
                row.number,
                self.column("settlement").header,
                self.not_found(_("安置点编码"), row.values["settlement"]),
            )
            return None
        values = {k: row.values[k] for k in self.fields if k in row.values}
        values["settlement"] = settlement
        return values

    def note_key(self, key):
        return "/".join(key)

    export_select = ("settlement",)
    export_order = ("settlement__code", "name")


class BuildingKind(SettlementChildKind):
    key = "building"
    label = gettext_lazy("楼栋")
    model = Building
    import_permissions = PERMS_IMPORT
    export_permissions = PERMS_EXPORT
    columns = [
        Column(
            "settlement",
            gettext_lazy("安置点编码"),
            "code",
            required=True,
            example="AZD522301001",
            width=16,
        ),
        Column(
            "name",
            gettext_lazy("楼栋"),
            required=True,
            model_field=B("name"),
            example="1栋",
            help=gettext_lazy("同一安置点内唯一。"),
        ),
        Column(
            "units", gettext_lazy("单元数"), "int", model_field=B("units"), default=1, example="2"
        ),
        Column("floors", gettext_lazy("层数"), "int", model_field=B("floors"), example="18"),
        Column(
            "housing_units",
            gettext_lazy("住房套数"),
            "int",
            model_field=B("housing_units"),
            example="72",
        ),
        Column("head_name", gettext_lazy("楼栋长"), model_field=B("head_name"), example="张明"),
        Column(
            "head_phone",
            gettext_lazy("楼栋长电话"),
            "phone",
            model_field=B("head_phone"),
            sensitive="phone",
            example="13800000000",
        ),
    ]
    fields = ("settlement", "units", "floors", "housing_units", "head_name", "head_phone")
    key_label = gettext_lazy("安置点编码和楼栋")

    def key_values(self, key):
        return {"name": key[1]}

    def export_values(self, obj):
        values = {k: getattr(obj, k) for k in self.fields}
        values.update(settlement=obj.settlement.code, name=obj.name)
        return values


class GridKind(SettlementChildKind):
    key = "grid"
    label = gettext_lazy("网格")
    model = GridUnit
    import_permissions = PERMS_IMPORT
    export_permissions = PERMS_EXPORT
    columns = [
        Column(
            "settlement",
            gettext_lazy("安置点编码"),
            "code",
            required=True,
            example="AZD522301001",
            width=16,
        ),
        Column(
            "name",
            gettext_lazy("网格名称"),
            required=True,
            model_field=GridUnit._meta.get_field("name"),
            example="第1网格",
        ),
        Column(
            "buildings",
            gettext_lazy("包含楼栋"),
            "names",
            example="1栋、2栋",
            help=gettext_lazy("该安置点已登记的楼栋名称，用顿号分隔；留空表示不指定。"),
            width=30,
        ),
    ]
    fields = ("settlement",)
    key_label = gettext_lazy("安置点编码和网格名称")

    def prepare(self, rows, plan, ctx):
        state = super().prepare(rows, plan, ctx)
        ids = [s.pk for s in state["settlements"].values()]
        buildings = bulk_in(Building.objects.all(), "settlement_id", ids)
        state["buildings"] = {(b.settlement_id, b.name): b for b in buildings}
        return state

    def key_values(self, key):
        return {"name": key[1]}

    def values_of(self, row, state, plan, ctx):
        values = super().values_of(row, state, plan, ctx)
        if values is None or "buildings" not in row.values:
            return values
        settlement = values["settlement"]
        chosen = []
        for name in row.values["buildings"]:
            building = state["buildings"].get((settlement.pk, name))
            if building is None:
                plan.errors.add(
                    row.number,
                    self.column("buildings").header,
                    _("安置点“%(settlement)s”没有名为“%(name)s”的楼栋，请先登记或导入。")
                    % {"settlement": settlement.name, "name": name},
                )
                return None
            chosen.append(building)
        row.buildings = chosen
        return values

    def extra_plan(self, planned, state, plan, ctx):
        """Building lists: compared with what is stored, set only where they differ."""
        existing_ids = [obj.pk for _r, obj, _c in planned if obj.pk]
        through = GridUnit.buildings.through
        current = {}
        for grid_id, building_id in bulk_in(
            through.objects.values_list("gridunit_id", "building_id"), "gridunit_id", existing_ids
        ):
            current.setdefault(grid_id, set()).add(building_id)
        plan.grid_buildings = []
        for row, obj, _changed in planned:
            chosen = getattr(row, "buildings", None)
            if chosen is None or row.number in plan.errors.rows:
                continue
            wanted = {b.pk for b in chosen}
            if wanted != current.get(obj.pk, set()):
                plan.grid_buildings.append((obj, chosen))
                key = f"{row.values['settlement']}/{obj.name}"
                if obj.pk is None or plan.outcome.get(row.number) == "updated":
                    # Already counted; only the digest learns the list.
                    plan.digest_extra(
                        ("buildings", key, sorted((b.name for b in chosen), key=natural_key))
                    )
                else:
                    plan.note(
                        "updated", GridUnit, key, {"buildings": sorted(wanted)}, rows=(row.number,)
                    )
                if plan.outcome.get(row.number) == "unchanged":
                    plan.outcome[row.number] = "updated"

    def extra_writes(self, plan, ctx):
        for grid, chosen in plan.grid_buildings:
            grid.buildings.set(chosen)

    export_prefetch = ("buildings",)

    def export_values(self, obj):
        return {
            "settlement": obj.settlement.code,
            "name": obj.name,
            "buildings": tuple(sorted((b.name for b in obj.buildings.all()), key=natural_key)),
        }
