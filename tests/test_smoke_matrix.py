"""Smoke matrix: every page and every export answers for every role.

Built from the URL configuration and the registries, not from a hand list:
every named URL is either requested here (its arguments filled from the demo's
regions and settlements, the import-kind registry, the admin site registry and
each admin's export resources and formats) or listed in ``NOT_HERE`` with the
test module that covers it, so a page added later joins the matrix or fails
``test_every_url_is_in_the_matrix``.

The world is the demo itself (``load_demo``, 30 households on three settlements)
with its six logins, plus a user with settlements only, one with a township
only and one with several regions.  Every response is compared with what the
role must get (200, or the 403/404 of its permissions and area), and every
.xlsx is opened with openpyxl.
"""

import importlib
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from openpyxl import load_workbook

from communities.models import AreaScope, Region, Settlement
from communities.roles import Role, role_of
from communities.scope import get_scope
from relocation.dashboards.areas import home_target
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.spreadsheets import services
from relocation.spreadsheets.kinds import kinds
from relocation.spreadsheets.models import ExportFile, ExportJob, ImportJob

pytestmark = pytest.mark.django_db
seed_programme_views = importlib.import_module(
    "relocation.dashboards.migrations.0003_seed_programme_views"
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The file formats of /admin/imports/export/<kind>.<fmt> (relocation.spreadsheets.views.export).
SHEET_FORMATS = ("xlsx", "csv")

#: Named URLs this matrix does not request, and where they are covered instead.
NOT_HERE = {
    "admin:login": "the sign-in page (a signed-in user is sent on)",
    "admin:logout": "POST only",
    "admin:password_change": "communities/tests/test_admin_users.py",
    "admin:password_change_done": "communities/tests/test_admin_users.py",
    "admin:view_on_site": "no model has get_absolute_url",
    "admin:autocomplete": "communities/tests/test_admin_scope.py (autocomplete is scoped)",
    "spreadsheets:upload": "POST only: relocation/spreadsheets/tests",
    "spreadsheets:confirm": "POST only: relocation/spreadsheets/tests",
    "spreadsheets:cancel": "POST only: relocation/spreadsheets/tests",
    "spreadsheets:sheets": "POST only: relocation/spreadsheets/tests/test_workbook_sheets.py",
    "set_language": "POST only (language menu)",
    "csp_report": "POST only, no sign-in: tests/test_content_security.py",
    "accounts:otp_enrol": "only for roles that require a code: relocation/accounts/tests/test_second_factor.py",
    "accounts:otp_verify": "only for roles that require a code: relocation/accounts/tests/test_second_factor.py",
    "admin:governance_monitoringrecord_step": "governance/tests/test_monitoring_admin.py (every level)",
    "admin:governance_monitoringrecord_removal": "governance/tests/test_monitoring_admin.py",
    "admin:governance_earlywarningalert_review": "governance/tests/test_monitoring_admin.py",
    "admin:governance_earlywarningrule_scan": "POST only: governance/tests/test_monitoring_admin.py",
}
#: Per-object admin views: communities/tests/test_admin_smoke.py walks them for every role.
ADMIN_OBJECT_VIEWS = (
    "add",
    "change",
    "delete",
    "history",
    "history_detail",
    "autocomplete",
    "password_change",
    "simple_history",
)


# --- the world -------------------------------------------------------------------------


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(fast_passwords, make_user):
    """The demo (30 households, 3 settlements) and the logins of the matrix, by name."""
    call_command("load_demo", households=30, settlements=3, stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.all()}
    # Every demo login is in the matrix, and the demo has every role.
    assert set(users) <= set(ROLE_USERS)
    assert {role_of(u) for u in users.values() if not u.is_superuser} == set(Role)
    settlements = list(Settlement.objects.select_related("county", "township").order_by("code"))
    assert len(settlements) == 3
    worker_places = [
        a.settlement
        for a in AreaScope.objects.filter(user=users["worker"], settlement__isnull=False)
        .select_related("settlement__county", "settlement__township")
        .order_by("settlement__code")
    ]
    outside = [s for s in settlements if s not in worker_places]
    township = settlements[0].township
    users["settlements_only"] = make_user(
        Role.COUNTY_OFFICIAL, settlements=[outside[0], worker_places[0]]
    )
    users["township_only"] = make_user(Role.COUNTY_OFFICIAL, regions=[township])
    users["several_regions"] = make_user(
        Role.PREFECTURE_OFFICIAL,
        regions=[outside[0].county, worker_places[0].township, Region.objects.get(code="520100")],
    )
    # An import job of the county administrator, checked and refused (so it has an error list).
    bad = "安置点编码,安置点名称\nNOT-A-CODE,\n".encode()
    job = services.job_create(
        user=users["manager"],
        kind_key="settlement",
        upload=SimpleUploadedFile("坏文件.csv", bad, content_type="text/csv"),
    )
    assert job.errors
    # A finished export job of the county administrator (made by the job worker).
    export = ExportJob.objects.create(
        user=users["manager"],
        source="kind",
        target="roster",
        name="搬迁户花名册",
        file_name="搬迁户花名册-20261206-0930.csv",
        file_format="csv",
        state="done",
        finished_at=timezone.now(),
    )
    ExportFile.objects.create(
        job=export, content="户编号\n".encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    return users, settlements


ROLE_USERS = (
    "admin",  # superuser
    "manager",  # county administrator
    "worker",  # community worker, two settlements
    "county",
    "prefecture",
    "province",
    "settlements_only",
    "township_only",
    "several_regions",
)


def _regions(settlements):
    """Every level: the regions holding the demo's settlements and an empty one beside them."""
    codes = set()
    for s in settlements:
        county = s.county
        codes |= {county.code, county.parent.code, county.parent.parent.code}
        if s.township_id:
            codes.add(s.township_id)
    regions = list(Region.objects.filter(code__in=codes))
    for level in (1, 2, 3):
        parent = min((r for r in regions if r.level == level), key=lambda r: r.code)
        empty = Region.objects.filter(parent=parent).exclude(code__in=codes).order_by("code")
        regions.append(empty.first())
    return sorted({r.code: r for r in regions}.values(), key=lambda r: r.code)


# --- the URL configuration -------------------------------------------------------------


def named_urls(patterns=None, namespace=""):
    """(namespaced name, URLPattern) for every named URL of the site."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from named_urls(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry


def _has_args(pattern):
    return pattern.pattern.regex.groups > 0


def _admin_model_url(name):
    """(model admin, view) for admin:<app>_<model>_<view>, else None."""
    if not name.startswith("admin:"):
        return None
    for model, model_admin in admin.site._registry.items():
        stem = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(stem):
            return model_admin, name[len(stem) :]
    return None


def test_every_url_is_in_the_matrix():
    """A named URL must be requested by the matrix or say where it is covered."""
    uncovered = []
    for name, pattern in named_urls():
        if name in NOT_HERE or name in MATRIX_URLS:
            continue
        found = _admin_model_url(name)
        if found and found[1] in ("changelist", "export"):
            continue
        if found and found[1] in ADMIN_OBJECT_VIEWS:
            continue
        if name.startswith("api:"):
            continue  # the token API: relocation/api/tests walks every endpoint for every role
        if name.startswith("admin:") and not _has_args(pattern):
            continue  # argument-free admin pages (index, work lists …): requested by the matrix
        uncovered.append(name)
    assert uncovered == []


# --- what each role must get -----------------------------------------------------------


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def _open_xlsx(response, where):
    assert response["Content-Type"] == XLSX, where
    book = load_workbook(io.BytesIO(response.content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (where, cell.coordinate, cell.value)
    return book


def _check(client, url, expected, where, method="get", data=None):
    response = getattr(client, method)(url, data or {})
    assert response.status_code == expected, (where, url, response.status_code)
    return response


def dashboard_pages(user, regions, settlements):
    """(url, expected status) for every dashboard the site has, as this user must see it."""
    scope = get_scope(user)
    home = reverse("dashboards:home")
    pages = [(home, 302 if home_target(user) else (403 if scope.empty else 200))]
    for region in regions:
        url = reverse("dashboards:region", args=[region.code])
        pages.append((url, 200 if scope.covers_region(region) else 404))
    visible = set(Settlement.objects.visible_to(user).values_list("pk", flat=True))
    for settlement in settlements:
        url = reverse("dashboards:settlement", args=[settlement.pk])
        pages.append((url, 200 if settlement.pk in visible else 404))
    return pages


def check_dashboards(client, user, regions, settlements):
    today = timezone.localdate()
    seed_programme_views.seed(apps, None)  # the shipped views (a flushed database lost them)
    print_css = finders.find("dashboards/dashboard.css")
    assert print_css and "@media print" in Path(print_css).read_text(encoding="utf-8")
    checked = 0
    for url, expected in dashboard_pages(user, regions, settlements):
        for kind in PeriodKind.values:
            current = period_containing(kind, today)
            # The running period; for months also a stored past one.
            specs = (current, current.previous()) if kind == PeriodKind.MONTH else (current,)
            for spec in specs:
                query = {"kind": kind, "period": spec.code}
                where = (user.username, url, kind, spec.code)
                # page (and its print layout: the print control and the print stylesheet)
                page = _check(client, url, expected, where, data=query)
                if expected == 302:
                    assert page.url.startswith(home_target(user))
                    page = _check(client, home_target(user), 200, where, data=query)
                if page.status_code == 200:
                    body = page.content.decode()
                    if "dash-export" in body:
                        assert "dash-print" in body and "dashboards/dashboard.css" in body, where
                    if "chart_data" in page.context:  # rendered now, not a kept body
                        json.dumps(page.context["chart_data"])  # plain data, no lazy strings
                # .xlsx
                target = home_target(user) if expected == 302 else url
                status = 200 if expected == 302 else expected
                xlsx = _check(client, target, status, where, data={**query, "format": "xlsx"})
                if status == 200:
                    book = _open_xlsx(xlsx, where)
                    assert book.active["A1"].value, where
                checked += 1
            # A programme view of the running month: its page and its .xlsx.
            query = {"kind": kind, "period": current.code, "view": "liuxin"}
            if kind == PeriodKind.MONTH and expected != 302:
                page = _check(client, url, expected, (*where, "liuxin"), data=query)
                if expected == 200:
                    assert 'data-view="liuxin"' in page.content.decode(), where
                xlsx = _check(client, url, expected, where, data={**query, "format": "xlsx"})
                if expected == 200:
                    assert _open_xlsx(xlsx, where).active["A1"].value, where
    return checked


def check_imports(client, user):
    """The import pages: index, every kind's template and export, the job pages."""
    catalogue = kinds()
    may_any = any(k.may_import(user) or k.may_export(user) for k in catalogue)
    _check(client, reverse("spreadsheets:index"), 200 if may_any else 403, user.username)
    for kind in catalogue:
        where = (user.username, kind.key)
        allowed = kind.may_import(user) or kind.may_export(user)
        response = _check(
            client,
            reverse("spreadsheets:template", args=[kind.key]),
            200 if allowed else 403,
            where,
        )
        if allowed:
            _open_xlsx(response, where)
        for fmt in SHEET_FORMATS:
            url = reverse("spreadsheets:export", args=[kind.key, fmt])
            response = _check(client, url, 200 if kind.may_export(user) else 403, (*where, fmt))
            if response.status_code == 200 and fmt == "xlsx":
                _open_xlsx(response, (*where, fmt))
            elif response.status_code == 200:
                response.content.decode("utf-8-sig")
    # Export jobs are their user's alone, a superuser's included.
    _check(client, reverse("spreadsheets:exports"), 200, user.username)
    for job in ExportJob.objects.all():
        expected = 200 if job.user_id == user.pk else 404
        for name in ("spreadsheets:export_job", "spreadsheets:export_progress"):
            _check(client, reverse(name, args=[job.pk]), expected, (user.username, name))
        url = reverse("spreadsheets:export_download", args=[job.pk])
        response = _check(client, url, expected, (user.username, "export_download"))
        if expected == 200:
            assert response.content.decode("utf-8-sig") == "户编号\n"
    for job in ImportJob.objects.all():
        expected = 200 if (job.user_id == user.pk or user.is_superuser) else 404
        for name in ("spreadsheets:job", "spreadsheets:progress", "spreadsheets:errors"):
            response = _check(client, reverse(name, args=[job.pk]), expected, (user.username, name))
            if name == "spreadsheets:errors" and expected == 200:
                _open_xlsx(response, name)
            if name == "spreadsheets:progress" and expected == 200:
                assert response.json()["state"] == job.state


def check_admin_lists(client, user, every_format):
    """Every admin list, and every export layout of it (in every format, or in .xlsx)."""
    request = _request(user)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        may_view = model_admin.has_view_or_change_permission(request)
        _check(client, reverse(f"{base}_changelist"), 200 if may_view else 403, base)
        if not hasattr(model_admin, "get_export_resource_classes"):
            continue
        formats = model_admin.get_export_formats()
        resources = model_admin.get_export_resource_classes(request)
        assert formats and resources, base
        may_export = model_admin.has_export_permission(request)
        for r_index, resource in enumerate(resources):
            for f_index, file_format in enumerate(formats):
                if not every_format and file_format().get_extension() != "xlsx":
                    continue
                where = (user.username, base, resource.__name__, file_format.__name__)
                response = _check(
                    client,
                    reverse(f"{base}_export"),
                    200 if may_export else 403,
                    where,
                    method="post",
                    data={"format": str(f_index), "resource": str(r_index)},
                )
                if not may_export:
                    continue
                assert "attachment" in response.get("Content-Disposition", ""), where
                if file_format().get_extension() == "xlsx":
                    _open_xlsx(response, where)
                checked += 1
    return checked


def check_other_admin_pages(client, user):
    """Argument-free admin pages (index, work lists …) and each app's index."""
    request = _request(user)
    for name, pattern in named_urls():
        if not name.startswith("admin:") or name in NOT_HERE or _admin_model_url(name):
            continue
        if _has_args(pattern):
            continue
        _check(client, reverse(name), 200, (user.username, name))
    may = user.has_perm("communities.view_person") or user.has_perm("communities.view_household")
    response = _check(
        client, reverse("worklists"), 200 if may else 403, (user.username, "工作清单")
    )
    if may:
        check_work_lists(client, user, response.context["rows"])
    for app_label in {m._meta.app_label for m in admin.site._registry}:
        expected = 200 if admin.site.get_app_list(request, app_label) else 404
        url = reverse("admin:app_list", args=[app_label])
        _check(client, url, expected, (user.username, app_label))


def check_household_number_suggestions(client, user, settlements):
    """The add form's 户编号 suggestion: for settlements in the area, with the add permission."""
    url = reverse("admin:communities_household_suggest_number")
    visible = set(Settlement.objects.visible_to(user).values_list("pk", flat=True))
    may_add = user.has_perm("communities.add_household")
    for settlement in settlements:
        expected = 200 if may_add and settlement.pk in visible else 404
        response = client.get(url, {"settlement": settlement.pk})
        assert response.status_code == expected, (user.username, settlement.code)
        if expected == 200:
            assert json.loads(response.content)["number"].startswith(settlement.county_id)


def check_work_lists(client, user, rows):
    """Each work list the page offers: its filtered list, and its export in every layout."""
    assert rows, user.username
    for row in rows:
        if row["url"]:
            _check(client, row["url"], 200, (user.username, row["key"]))
        if not row["export_url"]:
            continue
        _check(client, row["export_url"], 200, (user.username, row["key"], "form"))
        path = row["export_url"].split("?")[0]
        match = resolve(path)
        model_admin = next(
            a for m, a in admin.site._registry.items() if path.startswith(_admin_root(m))
        )
        formats = model_admin.get_export_formats()
        xlsx = next(i for i, f in enumerate(formats) if f().get_extension() == "xlsx")
        for r_index, resource in enumerate(model_admin.get_export_resource_classes(_request(user))):
            where = (user.username, row["key"], resource.__name__, match.url_name)
            response = _check(
                client,
                row["export_url"],
                200,
                where,
                method="post",
                data={"format": str(xlsx), "resource": str(r_index)},
            )
            _open_xlsx(response, where)


def _admin_root(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


#: URL names with arguments the matrix fills (see the check_* functions).
MATRIX_URLS = {
    "dashboards:home",
    "dashboards:region",
    "dashboards:settlement",
    "spreadsheets:index",
    "spreadsheets:template",
    "spreadsheets:export",
    "spreadsheets:job",
    "spreadsheets:progress",
    "spreadsheets:errors",
    "spreadsheets:exports",
    "spreadsheets:export_job",
    "spreadsheets:export_progress",
    "spreadsheets:export_download",
    "admin:app_list",
    "admin:communities_household_suggest_number",
    "worklists",
}


#: Roles whose exports are tried in every format (full values, masked values, everything);
#: the others in .xlsx, the format that needs real values.
EVERY_FORMAT = ("admin", "county")


@pytest.mark.parametrize("username", ROLE_USERS)
def test_every_page_and_export_for_every_role(client, demo, username):
    users, settlements = demo
    user = users[username]
    client.force_login(user)
    regions = _regions(settlements)
    assert {r.level for r in regions} == {1, 2, 3, 4}
    assert check_dashboards(client, user, regions, settlements) == (
        (1 + len(regions) + len(settlements)) * (len(PeriodKind.values) + 1)
    )
    check_imports(client, user)
    every_format = username in EVERY_FORMAT
    assert check_admin_lists(client, user, every_format) > 0
    check_other_admin_pages(client, user)
    check_household_number_suggestions(client, user, settlements)
