from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from communities.worklists import worklists_view
from relocation import content_security

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboards:home", permanent=False)),
    path("dashboard/", include("relocation.dashboards.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("relocation.accounts.urls")),
    path("admin/imports/", include("relocation.spreadsheets.urls")),
    path("admin/worklists/", admin.site.admin_view(worklists_view), name="worklists"),
    # Where the 工作清单 was until 2026-12 (bookmarks, links in old exports and mail).
    path(
        "admin/employment/employmentrecord/worklists/",
        RedirectView.as_view(pattern_name="worklists", query_string=True, permanent=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("relocation.api.urls")),
    path(content_security.REPORT_PATH.strip("/") + "/", content_security.report, name="csp_report"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
