"""The roster template, downloaded from the import page and uploaded unchanged, has no errors."""

import pytest
from playwright.sync_api import expect

from communities.models import Household
from communities.roles import Role
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_template_uploaded_unchanged_skips_its_examples(
    page, live_server, world, make_user, tmp_path
):
    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi], username="manager")
    login(page, live_server, manager)
    page.get_by_role("link", name="表格导入导出").click()
    households = Household.objects.count()

    with page.expect_download() as download:
        page.locator("a[href$='/template/roster/']").click()
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)

    page.get_by_label("文件类型").select_option("roster")
    page.get_by_label("文件", exact=True).set_input_files(str(template))
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#job-state")).to_have_text("检查通过，待确认")
    expect(page.locator("#count-error")).to_have_text("0")
    expect(page.locator("#count-new")).to_have_text("0")
    expect(page.locator("#skipped-examples")).to_contain_text("已跳过模板示例行 2 行")
    expect(page.locator(".imports-errors")).to_have_count(0)
    shot(page, "import-template-unchanged")
    assert Household.objects.count() == households
