"""集体资产 and 集体资产收益 files: keys, bad rows, scope, history and round trips.

``places_world``: S1 and S2 in 兴义市, S3 in 钟山区; the importing user is an
administrator of 兴义市.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from communities.roles import Role
from communities.tests.dates import today, tomorrow
from relocation.spreadsheets.kinds import get_kind
from relocation.spreadsheets.tests.helpers import csv_bytes, import_file, upload
from relocation.spreadsheets.workbooks import export_csv, export_xlsx, template_workbook
from services.models import AssetIncome, CollectiveAsset

from .places_world import places_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def headers(kind):
    return [str(c.header) for c in get_kind(kind).columns if not c.export_only]


def errors_of(job):
    return {(e[0], e[1]): e[2] for e in job.errors}


def assets():
    return sorted(
        CollectiveAsset.objects.values_list(
            "settlement__code", "name", "kind", "area_m2", "value", "acquired_on", "notes"
        )
    )


def incomes():
    return sorted(
        AssetIncome.objects.values_list("asset__name", "year", "income", "distributed", "sharing")
    )


@pytest.fixture
def county_admin(places_world, make_user):
    return make_user(Role.ADMINISTRATOR, regions=[places_world.rt.xingyi])


@pytest.fixture
def stored(places_world):
    """A shop of S1 with one year of income, and a workshop of S3 (another county)."""
    w = places_world
    shop = CollectiveAsset.objects.create(
        settlement=w.s1, name="一号商铺", kind="shop", value=Decimal("300")
    )
    AssetIncome.objects.create(asset=shop, year=2024, income=Decimal("30"), distributed=10)
    other = CollectiveAsset.objects.create(settlement=w.s3, name="三号厂房", kind="workshop")
    AssetIncome.objects.create(asset=other, year=2024, income=Decimal("80"))
    return shop, other


def asset_row(settlement, name, kind="商铺门面", **extra):
    return {"安置点编码": settlement.code, "资产名称": name, "资产类型": kind, **extra}


def income_row(settlement, asset, year, income, distributed="", sharing=""):
    return {
        "安置点编码": settlement.code,
        "资产名称": asset,
        "年度": str(year),
        "收益（万元）": income,
        "其中分配给搬迁户（万元）": distributed,
        "分配方式": sharing,
    }


def test_assets_import_update_history_and_round_trip(places_world, county_admin, stored):
    w = places_world
    rows = [
        asset_row(w.s1, "一号商铺", **{"面积（平方米）": "450", "资产价值（万元）": "320"}),
        asset_row(
            w.s2,
            "二号大棚",
            "大棚/基地",
            形成日期="2021-03-01",
            **{"资产价值（万元）": "85.5", "备注": "蔬菜"},
        ),
    ]
    job = import_file(
        county_admin, "collective_asset", csv_bytes(headers("collective_asset"), rows)
    )
    assert (job.state, job.new_rows, job.updated_rows) == ("committed", 1, 1), job.errors
    assert assets() == [
        (w.s1.code, "一号商铺", "shop", Decimal("450.0"), Decimal("320.00"), None, ""),
        (
            w.s2.code,
            "二号大棚",
            "greenhouse",
            None,
            Decimal("85.50"),
            datetime.date(2021, 3, 1),
            "蔬菜",
        ),
        (w.s3.code, "三号厂房", "workshop", None, None, None, ""),
    ]
    shop = CollectiveAsset.objects.get(name="一号商铺")
    latest = shop.history.first()
    assert (latest.history_type, latest.history_user) == ("~", county_admin)
    assert latest.history_change_reason.startswith("导入：")
    # The export is the county's only, and re-imports unchanged.
    body = export_csv(get_kind("collective_asset"), county_admin).decode("utf-8-sig")
    assert "二号大棚" in body and "三号厂房" not in body
    again = upload(
        county_admin,
        "collective_asset",
        export_xlsx(get_kind("collective_asset"), county_admin),
        "x.xlsx",
    )
    assert again.errors == []
    assert (again.new_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 2)


def test_bad_asset_rows_name_row_and_column_and_save_nothing(places_world, county_admin, stored):
    w = places_world
    before = assets()
    rows = [
        asset_row(w.s1, "新商铺"),  # 2: fine
        asset_row(w.s3, "三号厂房", "厂房/车间"),  # 3: another county
        asset_row(w.s1, "未来资产", 形成日期=tomorrow().isoformat()),  # 4: formed tomorrow
        asset_row(w.s1, "负值", **{"资产价值（万元）": "-5"}),  # 5
        asset_row(w.s1, "元当万元", **{"资产价值（万元）": "3600000"}),  # 6: 360万元 typed in 元
        asset_row(w.s1, "游泳池", "游泳池"),  # 7: not a kind
        asset_row(w.s2, "重复"),  # 8 and 9: the same asset twice
        asset_row(w.s2, "重复", "停车场"),
        asset_row(w.s1, ""),  # 10: no name
    ]
    job = upload(county_admin, "collective_asset", csv_bytes(headers("collective_asset"), rows))
    errors = errors_of(job)
    assert errors[(3, "安置点编码")] == f"安置点编码“{w.s3.code}”不存在或不在您的管辖范围内。"
    assert errors[(4, "形成日期")] == "形成日期不能晚于今天。"
    assert errors[(5, "资产价值（万元）")] == "金额不能为负数。"
    assert errors[(6, "资产价值（万元）")] == "资产价值不能超过10亿元，请核对金额（单位：万元）。"
    assert "“游泳池”不是可选值" in errors[(7, "资产类型")]
    assert errors[(8, "安置点编码")] == "安置点编码和资产名称与第9行重复。"
    assert errors[(9, "安置点编码")] == "安置点编码和资产名称与第8行重复。"
    assert errors[(10, "资产名称")] == "必填，不能为空。"
    assert not any(number == 2 for number, _h, _m in job.errors)
    assert job.state == "invalid" and job.error_rows == 8
    assert assets() == before


def test_incomes_import_update_and_round_trip(places_world, county_admin, stored):
    w = places_world
    CollectiveAsset.objects.create(settlement=w.s2, name="二号厂房", kind="workshop")
    rows = [
        income_row(w.s1, "一号商铺", 2024, "30", "12", "按户分红"),  # the stored year, changed
        income_row(w.s1, "一号商铺", 2025, "32.5", "32.5", "按户分红"),  # all shared out
        income_row(w.s2, "二号厂房", today().year, "8"),  # this year so far, nothing shared yet
    ]
    job = import_file(county_admin, "asset_income", csv_bytes(headers("asset_income"), rows))
    assert (job.state, job.new_rows, job.updated_rows) == ("committed", 2, 1), job.errors
    assert incomes() == [
        ("一号商铺", 2024, Decimal("30.00"), Decimal("12.00"), "按户分红"),
        ("一号商铺", 2025, Decimal("32.50"), Decimal("32.50"), "按户分红"),
        ("三号厂房", 2024, Decimal("80.00"), Decimal("0.00"), ""),
        ("二号厂房", today().year, Decimal("8.00"), Decimal("0.00"), ""),
    ]
    changed = AssetIncome.objects.get(asset__name="一号商铺", year=2024)
    assert changed.history.count() == 2
    assert changed.history.first().history_user == county_admin
    body = export_csv(get_kind("asset_income"), county_admin).decode("utf-8-sig")
    assert "二号厂房" in body and "三号厂房" not in body
    for content, name in (
        (export_xlsx(get_kind("asset_income"), county_admin), "x.xlsx"),
        (body.encode("utf-8-sig"), "x.csv"),
    ):
        again = upload(county_admin, "asset_income", content, name)
        assert again.errors == []
        assert (again.new_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 3)


def test_bad_income_rows_name_row_and_column_and_save_nothing(places_world, county_admin, stored):
    w = places_world
    before = incomes()
    rows = [
        income_row(w.s1, "一号商铺", 2025, "40", "20"),  # 2: fine
        income_row(w.s1, "一号商铺", 2023, "40", "45"),  # 3: shares more than the income
        income_row(w.s1, "一号商铺", 2022, "-1"),  # 4: negative
        income_row(w.s1, "一号商铺", 2021, "360000"),  # 5: 36万元 typed in 元
        income_row(w.s1, "一号商铺", str(today().year + 1), "10"),  # 6: a year still to come
        income_row(w.s1, "一号商铺", 1999, "10"),  # 7: before 2000
        income_row(w.s1, "没有的资产", 2025, "10"),  # 8: not registered
        income_row(w.s3, "三号厂房", 2024, "99"),  # 9: another county
        income_row(w.s1, "一号商铺", 2020, "10"),  # 10 and 11: the same year twice
        income_row(w.s1, "一号商铺", 2020, "12"),
        income_row(w.s2, "一号商铺", 2025, "10"),  # 12: the name belongs to S1, not S2
    ]
    job = upload(county_admin, "asset_income", csv_bytes(headers("asset_income"), rows))
    errors = errors_of(job)
    assert errors[(3, "其中分配给搬迁户（万元）")] == "分配给搬迁户的金额不能大于当年收益。"
    assert errors[(4, "收益（万元）")] == "金额不能为负数。"
    assert errors[(5, "收益（万元）")] == "年收益不能超过1亿元，请核对金额（单位：万元）。"
    assert errors[(6, "年度")] == "年度不能晚于今年。"
    assert errors[(7, "年度")] == "年度不能早于2000年。"
    assert errors[(8, "资产名称")] == (
        "该安置点没有名为“没有的资产”的集体资产，请先导入“集体资产”或在系统中添加。"
    )
    assert errors[(9, "安置点编码")] == f"安置点编码“{w.s3.code}”不存在或不在您的管辖范围内。"
    assert errors[(10, "年度")] == "安置点编码、资产名称和年度与第11行重复。"
    assert errors[(11, "年度")] == "安置点编码、资产名称和年度与第10行重复。"
    assert "没有名为“一号商铺”" in errors[(12, "资产名称")]
    assert not any(number == 2 for number, _h, _m in job.errors)
    assert job.state == "invalid" and job.error_rows == 10
    assert incomes() == before


def test_the_same_rules_hold_in_the_admin(places_world):
    """What the import refuses, the asset's page refuses (the rules are the models')."""
    w = places_world
    asset = CollectiveAsset(settlement=w.s1, name="x", kind="shop", acquired_on=today())
    asset.full_clean()
    asset.acquired_on = today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        asset.full_clean()
    assert caught.value.message_dict == {"acquired_on": ["形成日期不能晚于今天。"]}
    asset.save()
    income = AssetIncome(asset=asset, year=today().year + 1, income=5, distributed=6)
    with pytest.raises(ValidationError) as caught:
        income.full_clean()
    assert caught.value.message_dict == {
        "year": ["年度不能晚于今年。"],
        "distributed": ["分配给搬迁户的金额不能大于当年收益。"],
    }


def test_templates_offer_the_asset_kinds_and_import_nothing(places_world, county_admin):
    for key in ("collective_asset", "asset_income"):
        content = template_workbook(get_kind(key))
        book = load_workbook(io.BytesIO(content))
        cells = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        if key == "collective_asset":
            assert {"商铺门面", "厂房/车间", "大棚/基地", "停车场"} <= set(cells)
            sheet = book[str(get_kind(key).label)]
            assert any("选项" in v.formula1 for v in sheet.data_validations.dataValidation)
        job = upload(county_admin, key, content, "模板.xlsx")
        assert job.errors == [] and job.changes.get("examples") == 1, key
    assert not CollectiveAsset.objects.exists() and not AssetIncome.objects.exists()


def test_officials_export_but_do_not_import(places_world, make_user, stored):
    official = make_user(Role.COUNTY_OFFICIAL, regions=[places_world.rt.xingyi])
    for key in ("collective_asset", "asset_income"):
        kind = get_kind(key)
        assert kind.may_export(official) and not kind.may_import(official)
    body = export_csv(get_kind("asset_income"), official).decode("utf-8-sig")
    assert "一号商铺" in body and "三号厂房" not in body
