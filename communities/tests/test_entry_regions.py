"""load_regions explains the townships it skips (count and reason each) and how to add one."""

import csv
import gzip
import io

import pytest
from django.core.management import call_command

from communities import regions
from communities.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def township_file(tmp_path, monkeypatch):
    path = tmp_path / "townships.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "county_code"])
        writer.writerow(["520201011", "黄土坡街道", "520201"])  # 钟山区: loaded
        writer.writerow(["520271001", "某开发区街道", "520271"])  # functional zone
        writer.writerow(["520271002", "另一开发区街道", "520271"])  # functional zone
        writer.writerow(["522399001", "某农场", "522399"])  # functional zone (99)
        writer.writerow(["520271003", "第三开发区街道", "520271"])  # functional zone
        writer.writerow(["520200001", "市直街道", "520200"])  # 六盘水市 itself: no county
        writer.writerow(["520269001", "撤并镇", "520269"])  # no such county (merged)
        writer.writerow(["140902001", "秀容街道", "140902"])  # another province: not read
    monkeypatch.setattr(regions, "TOWNSHIPS_FILE", path)
    return path


def test_skipped_townships_are_grouped_by_reason(township_file):
    counts = regions.load_regions(provinces=["52"])
    assert counts["townships"] == 1
    assert counts["skipped_townships"] == 6
    by_reason = counts["skipped_by_reason"]
    assert list(by_reason) == ["prefecture_city", "functional_zone", "unknown_county"]
    assert by_reason["prefecture_city"] == [("520200001", "市直街道", "520200")]
    assert [t[0] for t in by_reason["functional_zone"]] == [
        "520271001",
        "520271002",
        "522399001",
        "520271003",
    ]
    assert by_reason["unknown_county"] == [("520269001", "撤并镇", "520269")]
    assert sum(len(v) for v in by_reason.values()) == counts["skipped_townships"]
    assert not Region.objects.filter(code__in=["520200001", "520271001", "520269001"]).exists()


def test_the_command_prints_count_reasons_examples_and_how_to_add(township_file):
    out = io.StringIO()
    call_command("load_regions", "--province", "52", stdout=out)
    text = out.getvalue()
    assert "县级代码不在区划表中而跳过的乡镇 6 个。" in text
    assert "跳过的 6 个乡镇，原因如下：" in text
    assert "乡镇直属地级市，没有县级代码：1 个，如 市直街道（520200001，县级代码 520200）。" in text
    # Four functional-zone townships: three examples, then "等".
    assert (
        "不是行政区划：4 个，如 某开发区街道（520271001，县级代码 520271）、"
        "另一开发区街道（520271002，县级代码 520271）、某农场（522399001，县级代码 522399） 等。"
    ) in text
    assert "第三开发区街道" not in text
    assert "改设的县）：1 个，如 撤并镇（520269001，县级代码 520269）。" in text
    assert "「行政区划」中点“增加”，选所在县（市、区）并填写乡镇名称" in text
    assert "docs/regions.md" in text


def test_nothing_skipped_says_nothing_more(township_file):
    out = io.StringIO()
    call_command("load_regions", "--province", "52", "--no-townships", stdout=out)
    assert "跳过的乡镇 0 个" in out.getvalue()
    assert "原因如下" not in out.getvalue()


def test_the_shipped_file_for_the_whole_country(db):
    """The real list: every skipped township has a reason; the three reasons add up."""
    counts = regions.load_regions(provinces=["44", "46", "62", "13"])
    by_reason = counts["skipped_by_reason"]
    assert sum(len(v) for v in by_reason.values()) == counts["skipped_townships"] > 0
    prefecture_cities = {t[2] for t in by_reason["prefecture_city"]}
    # 东莞 (4419), 中山 (4420), 儋州 (4604): prefecture-level cities without counties.
    assert {"441900", "442000", "460400"} <= prefecture_cities
    assert all(t[2][4:6] >= "70" for t in by_reason["functional_zone"])
