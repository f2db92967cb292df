"""A roster import in a real browser: upload, preview (with an error, then fixed), confirm."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from communities.models import Person
from communities.roles import Role
from communities.tests.factories import make_id_number
from relocation.spreadsheets.kinds import get_kind
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)


def roster_csv(world, *, bad=False):
    import datetime

    headers = [str(c.header) for c in get_kind("roster").columns]
    rows = []
    for n, (name, relationship, sex) in enumerate(
        (("龙国富", "户主", "M"), ("韦秀芬", "配偶", "F"), ("龙小军", "子", "M"))
    ):
        row = dict.fromkeys(headers, "")
        row.update(
            {
                "户编号": "522301009901",
                "安置点编码": world.a.code,
                "楼栋": "1栋",
                "网格": "第1网格",
                "搬迁年度": "2019",
                "搬迁户类别": "建档立卡脱贫户",
                "入住状态": "已入住",
                "户籍状态": "户籍已迁入",
                "姓名": name,
                "与户主关系": relationship,
                "民族": "布依族",
                "身份证号": make_id_number(
                    datetime.date(1978 + n * 14, 5, 1), sex, prefix="522301", seq=300 + n
                ),
                "劳动技能": "普通劳动力",
                "参加医保": "是",
            }
        )
        rows.append(row)
    if bad:
        rows[2]["身份证号"] = "5.22301E+17"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("gb18030")  # as Chinese Excel saves "CSV (逗号分隔)"


def test_administrator_imports_a_roster(page, live_server, world, make_user, tmp_path):
    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi], username="manager")
    login(page, live_server, manager)
    page.get_by_role("link", name="表格导入导出").click()
    expect(page.get_by_role("heading", name="上传文件导入")).to_be_visible()

    # A file with an Excel-mangled ID number: preview shows the error, nothing to confirm.
    bad = tmp_path / "花名册-有错.csv"
    bad.write_bytes(roster_csv(world, bad=True))
    page.get_by_label("文件类型").select_option("roster")
    page.get_by_label("文件", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#job-state")).to_have_text("有错误，未导入")
    expect(page.locator(".imports-errors")).to_contain_text("科学计数法")
    expect(page.locator("#confirm-import")).to_have_count(0)
    with page.expect_download() as download:
        page.locator("#download-errors").click()
    assert download.value.suggested_filename.endswith("错误清单.xlsx")
    shot(page, "import-preview-errors")

    # The fixed file: preview with counts, then confirm.
    good = tmp_path / "花名册.csv"
    good.write_bytes(roster_csv(world))
    page.get_by_role("link", name="上传其他文件").click()
    page.get_by_label("文件", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#job-state")).to_have_text("检查通过，待确认")
    expect(page.locator("#count-new")).to_have_text("3")
    expect(page.locator("#count-error")).to_have_text("0")
    shot(page, "import-preview")
    assert not Person.objects.filter(household__number="522301009901").exists()
    page.locator("#confirm-import").click()
    expect(page.locator("#job-state")).to_have_text("已导入")
    expect(page.locator(".messagelist")).to_contain_text("新增 3 行")
    shot(page, "import-done")
    names = set(
        Person.objects.filter(household__number="522301009901").values_list("name", flat=True)
    )
    assert names == {"龙国富", "韦秀芬", "龙小军"}
    page.get_by_role("link", name="表格导入导出").first.click()
    expect(page.locator(".imports-jobs")).to_contain_text(re.compile("花名册.csv"))


def test_administrator_imports_an_old_xls_roster(page, live_server, world, make_user):
    """The county's own .xls, as Excel 97–2003 saves it (an instructions sheet, a title,
    its own column names, merged household cells): previewed and imported as it is."""
    from relocation.spreadsheets.tests.test_xls import ROSTER_XLS

    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi], username="manager")
    login(page, live_server, manager)
    page.get_by_role("link", name="表格导入导出").click()
    expect(page.locator(".help").first).to_contain_text("旧版 .xls")
    page.get_by_label("文件类型").select_option("roster")
    page.get_by_label("文件", exact=True).set_input_files(
        {"name": "兴义市花名册.xls", "mimeType": "application/vnd.ms-excel", "buffer": ROSTER_XLS}
    )
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#job-state")).to_have_text("检查通过，待确认")
    expect(page.locator("#count-new")).to_have_text("4")
    expect(page.locator("#count-error")).to_have_text("0")
    shot(page, "import-preview-xls")
    page.locator("#confirm-import").click()
    expect(page.locator("#job-state")).to_have_text("已导入")
    members = Person.objects.filter(household__number="X001").values_list("name", flat=True)
    assert sorted(members) == ["王秀英", "韦国强", "韦小龙"]
