"""The 工作清单 page and its rows (``communities.plugins.work_lists``), one way for every app.

A row names a list an official acts on, counts it in the user's scope and links to
the list: the count is taken over the list page's own queryset (its ModelAdmin's
``get_queryset``: the same scope, the same rows), narrowed by the same rule as the
list filter the link sets, so the number and the list agree.

The page is the core's: every app's lists, employment's among them, come from the
providers the apps add, with the choices they offer (``WorkListOption``).
"""

import calendar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from relocation.dashboards.live import stored_basis, stored_count

from .masking import may_view_sensitive
from .models import Settlement
from .plugins import work_lists
from .scope import get_scope


def parse_on_date(raw):
    """``YYYY-MM-DD`` → date; None for anything else."""
    try:
        return parse_date(raw or "")
    except ValueError:  # well-formed but impossible, e.g. 2025-02-30
        return None


def reference_date_for(user, on_date, today=None):
    """The date a list for ``user`` is counted on when they ask for ``on_date``.

    Users who may see birth dates get ``on_date`` itself.  For everyone else it
    is the last day of ``on_date``'s month, or ``today`` when that month has not
    ended yet: the dashboards link only with period ends (month, quarter and
    year ends) or today, so their drill-downs are unchanged, while trying the
    days around a 16th or 61st birthday gives one and the same list.
    """
    today = today or timezone.localdate()
    if may_view_sensitive(user):
        return on_date
    month_end = on_date.replace(day=calendar.monthrange(on_date.year, on_date.month)[1])
    return min(month_end, today)


def announce_reference_date(request, chosen, used):
    """Tell the user, in Chinese, that their list is counted on ``used`` instead of ``chosen``."""
    if used != chosen:
        messages.info(
            request,
            _(
                "出生日期对您只显示年份，清单按期末统计：统计日期 %(chosen)s 已改为 %(used)s"
                "（当月最后一天；该月尚未结束时为今天）。"
            )
            % {"chosen": chosen.isoformat(), "used": used.isoformat()},
        )


def worklists_view(request):
    """工作清单 (``/admin/worklists/``, the URL named ``worklists``): the lists an official
    acts on every week, counted in the user's scope on the date chosen, as the apps add
    them (``communities.plugins.work_lists``), with the choices they offer.  Served
    beside the admin site, not under one list's URL, so that the side menu marks no
    list as the page open."""
    user = request.user
    if not (
        user.has_perm("communities.view_person") or user.has_perm("communities.view_household")
    ):
        raise PermissionDenied
    today = timezone.localdate()
    on_raw = request.GET.get("on")
    on_date = parse_on_date(on_raw) if on_raw else today
    if on_date is None:
        messages.error(
            request,
            _("日期“%(value)s”无效，请按“年-月-日”填写，如 2025-12-31。") % {"value": on_raw},
        )
        on_date = today
    chosen, on_date = on_date, reference_date_for(user, on_date, today)
    announce_reference_date(request, chosen, on_date)
    rows, options = work_lists.page(request, on_date, today)
    context = {
        **admin.site.each_context(request),
        "title": _("工作清单"),
        "rows": rows,
        "options": options,
        "on_date": on_date,
    }
    return TemplateResponse(request, "admin/worklists.html", context)


def changelist_url(model, **params):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?" + urlencode(params)


def export_url(model, **params):
    """The list's export with ``params``; None when the list has no export."""
    opts = model._meta
    try:
        base = reverse(f"admin:{opts.app_label}_{opts.model_name}_export")
    except NoReverseMatch:
        return None
    return base + "?" + urlencode(params)


def may_view(user, model):
    opts = model._meta
    return user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


def list_queryset(request, model):
    """The rows ``model``'s admin list shows ``request``'s user (its scope), unfiltered."""
    return admin.site._registry[model].get_queryset(request)


def row(user, model, key, label, description, count, params):
    """The page's row of a list of ``model`` the user may view: its links are the list
    (and its export, where the user may export) filtered by ``params``; no links
    without ``params`` (nothing to list)."""
    opts = model._meta
    may_export = user.has_perm(f"{opts.app_label}.export_{opts.model_name}")
    return {
        "key": key,
        "label": label,
        "description": description,
        "count": count,
        "url": changelist_url(model, **params) if params is not None else None,
        "export_url": export_url(model, **params) if params is not None and may_export else None,
    }


def _stored_basis(request):
    """``stored_basis`` of the user's settlements, asked once per request (every row
    reading stored figures shares it)."""
    if not hasattr(request, "_work_list_basis"):
        settlements = Settlement.objects.visible_to(request.user)
        request._work_list_basis = (settlements, stored_basis(settlements))
    return request._work_list_basis


def work_row(request, model, key, label, description, rule, params, *, stored=None, on_date=None):
    """A row for a list of ``model`` (None when the user may not view it): its count is
    ``rule(queryset)`` over the list's own queryset, its links the list (and its export,
    where the user may export) filtered by ``params``.

    ``stored``: ``(keys, combine)`` when a dashboard source counts the same rows per
    settlement (``relocation.dashboards.live.figure``/``difference``): on today's
    ``on_date`` the count is read from today's stored figures, the settlements changed
    since counted live (``stored_count``: exact, and fast at a province's scale).
    """
    user = request.user
    if not may_view(user, model):
        return None
    listed = rule(list_queryset(request, model))
    count = None
    if stored is not None and on_date == timezone.localdate():
        settlements, basis = _stored_basis(request)
        if basis is not None:
            keys, combine = stored
            unrestricted = get_scope(user).unrestricted
            count = stored_count(
                listed, settlements, keys, combine, unrestricted=unrestricted, basis=basis
            )
    if count is None:
        count = listed.order_by().count()
    return row(user, model, key, label, description, count, params)
