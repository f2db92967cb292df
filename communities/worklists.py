"""Rows of the 工作清单 page (``communities.plugins.work_lists``), built one way for every app.

A row names a list an official acts on, counts it in the user's scope and links to
the list: the count is taken over the list page's own queryset (its ModelAdmin's
``get_queryset``: the same scope, the same rows), narrowed by the same rule as the
list filter the link sets, so the number and the list agree.
"""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from relocation.dashboards.live import stored_basis, stored_count

from .models import Settlement
from .scope import get_scope


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
