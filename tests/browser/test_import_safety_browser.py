"""Issue 9 items 5 and 9 in a real browser: a hostile .xlsx refused, a dead worker's job
failed with its reason, and the import page saying whether a job worker runs."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from communities.models import Person
from communities.roles import Role
from relocation.spreadsheets.models import ImportJob
from relocation.spreadsheets.tests import hostile_xlsx
from relocation.spreadsheets.workers import HOST
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_hostile_workbook_and_dead_worker(page, live_server, world, make_user, tmp_path):
    manager = make_user(Role.ADMINISTRATOR, regions=[world.regions.xingyi], username="manager")
    people = Person.objects.count()
    login(page, live_server, manager)
    page.get_by_role("link", name="表格导入导出").click()
    expect(page.locator("#job-worker-status")).to_contain_text("后台任务进程没有运行")
    shot(page, "import-worker-not-running")

    bomb = tmp_path / "花名册.xlsx"
    bomb.write_bytes(hostile_xlsx.far_corner())  # 1.6 KB: cells at A1 and XFD200000
    page.get_by_label("文件类型").select_option("roster")
    page.get_by_label("文件", exact=True).set_input_files(str(bomb))
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#job-state")).to_have_text("有错误，未导入")
    expect(page.locator(".imports-errors")).to_contain_text("XFD 列有内容，超过 96 列")
    shot(page, "import-hostile-xlsx-refused")
    assert Person.objects.count() == people

    # A job whose worker process is gone (its pid has exited): failed, with the reason.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    job = ImportJob.objects.create(
        kind="roster",
        user=manager,
        file_name="大文件.xlsx",
        file_sha256="0" * 64,
        file_size=1,
        file_format="xlsx",
        background=True,
        state="committing",
        progress=80,
        worker_host=HOST,
        worker_pid=child.pid,
    )
    page.goto(f"{live_server.url}/admin/imports/{job.pk}/")
    expect(page.locator("#job-state")).to_have_text("失败，未导入")
    expect(page.locator(".errornote")).to_contain_text("后台任务进程意外终止")
    shot(page, "import-dead-worker-job")
