"""Dashboard pages: the user's area, any region inside it, any settlement in it.

Thin views: the area (and its scope check) comes from ``areas``, the figures
from ``dashboard.build``; ``?format=xlsx`` returns the same view as a workbook.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from communities.scope import get_scope

from . import areas, export, live, pagecache, programmes, stale
from .dashboard import build, normal_choices, selected_period, selected_spec, stored_periods
from .periods import PeriodKind


@require_GET
@login_required
def home(request):
    target = areas.home_target(request.user)
    if target:
        query = request.GET.urlencode()
        return redirect(f"{target}?{query}" if query else target)
    if get_scope(request.user).empty:
        context = {**_site_context(request), "title": _("数据看板")}
        return render(request, "dashboards/no_scope.html", context, status=403)
    return _page(request, areas.root_area(request.user))


@require_GET
@login_required
def region(request, code):
    return _page(request, areas.region_area(request.user, code))


@require_GET
@login_required
def settlement(request, pk):
    return _page(request, areas.settlement_area(request.user, pk))


def _page(request, area):
    kind = request.GET.get("kind") or PeriodKind.MONTH
    code = request.GET.get("period", "")
    today = timezone.localdate()
    kind, spec = selected_spec(kind, code, today)
    sort, descending, rank = normal_choices(
        request.GET.get("sort", ""), request.GET.get("dir") == "desc", request.GET.get("rank", "")
    )
    # Past periods too: the refresh is what notices corrections dated inside them.
    live.ensure_fresh()
    all_periods = stored_periods(today)
    views = programmes.active_views()
    view = programmes.selected_view(views, request.GET.get("view"))
    xlsx = request.GET.get("format") == "xlsx"
    context = {**_site_context(request), "title": area.name, "area": area}
    if not xlsx:
        period = selected_period(all_periods, kind, spec)
        stale_since = None if spec.is_current(today) else stale.notice(period, area.figure_q)
        choices = (kind, spec.code, sort, descending, rank, view.key if view else "")
        scope = get_scope(request.user)
        cache_key = pagecache.key(area, scope, choices, today, all_periods, views, stale_since)
        context["body"] = pagecache.get(cache_key)
        if context["body"] is not None:
            return render(request, "dashboards/dashboard.html", context)
    dash = build(
        area,
        request.user,
        kind=kind,
        period_code=spec.code,
        sort=sort,
        descending=descending,
        today=today,
        rank=rank,
        all_periods=all_periods,
    )
    if view is not None:
        programmes.apply(dash, view)
    if xlsx:
        return export.xlsx_response(dash, request.user)
    base = {"kind": dash.kind, "period": dash.spec.code}
    if view is not None:
        base["view"] = view.key
    context.update(
        {
            "dash": dash,
            "kinds": PeriodKind.choices,
            "programme_views": views,
            "programme_view": view,
            "query": urlencode(base),
            "sort_links": _sort_links(base, dash),
            "base_params": base,
            "export_url": "?" + urlencode({**base, "sort": dash.sort, "format": "xlsx"}),
            "chart_data": dash.chart_data() if dash.period else {},
            "stale_since": stale_since,
        }
    )
    body = render_to_string("dashboards/body.html", context, request)
    context["body"] = pagecache.put(cache_key, body)
    return render(request, "dashboards/dashboard.html", context)


def _site_context(request):
    """What the admin's base template needs, without its app list (two queries)."""
    return {
        "site_title": admin.site.site_title,
        "site_header": admin.site.site_header,
        "site_url": admin.site.site_url,
        "has_permission": True,
        "is_nav_sidebar_enabled": False,
        "available_apps": [],
        "is_popup": False,
    }


def _sort_links(base, dash):
    """[(key, column or None, URL sorting by it, sorted now)]; a second click reverses."""
    links = []
    for key, column in [("name", None), *((i.key, i) for i in dash.columns)]:
        current = dash.sort == key or (key == "name" and not dash.sort)
        descending = (not dash.descending) if current else key != "name"
        url = "?" + urlencode({**base, "sort": key, "dir": "desc" if descending else "asc"})
        links.append((key, column, url, current))
    return links
