"""Links from a figure to the admin list of the rows behind it.

A figure belongs to an *area*: one settlement, a region at any level, or the
user's whole scope.  Each list takes the area as ``?area=<token>``
(``communities.admin_scope.AreaListFilter``): ``s<pk>`` for a settlement, the
region's code prefix for a region, nothing for the whole scope.  The admin
lists apply the user's scope themselves, so a link can never show rows outside
it; these helpers only build the filtered URL.
"""

from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation


def settlement_area(settlement_id):
    return f"s{settlement_id}"


def region_area(region):
    return region.prefix


def changelist(model, area=None, **params):
    """``changelist("communities.household", "s3", state="x")`` → URL of that list."""
    url = _changelist_url(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), model)
    query = _encoded(tuple(params.items())) if params else ""
    if area:
        area = urlencode({"area": area})
        query = f"{area}&{query}" if query else area
    return f"{url}?{query}" if query else url


def _encoded(items):
    try:
        return _query(items)
    except TypeError:  # an unhashable value
        return urlencode(items)


@lru_cache(maxsize=1024)
def _query(items):
    """The encoded query string of ``items``, once per distinct set: a region's table
    links every child area with the same parameters (only the area differs)."""
    return urlencode(items)


def households(area, **params):
    return changelist("communities.household", area, **params)


def persons(area, **params):
    return changelist("communities.person", area, **params)


@lru_cache(maxsize=256)
def _changelist_url(urlconf, script_prefix, model):
    """The list's path, reversed once per URL configuration and prefix (the key).

    A region's dashboard links every cell of its child-area table: reversing
    each of those ~1,500 links cost about a third of the county page's time.
    """
    app_label, model_name = model.split(".")
    return reverse(f"admin:{app_label}_{model_name}_changelist", urlconf=urlconf)


_BY_LABEL = {}


def choice_by_label(choices):
    """``{label in the active language: value}`` of ``choices`` (``(value, label)`` pairs).

    A breakdown's link finds its item's value from the label shown; made once
    per language for each ``choices`` (a module constant: a dashboard links
    every item of every breakdown, and every lazy label looks its translation up).
    """
    key = (id(choices), translation.get_language())
    made = _BY_LABEL.get(key)
    if made is None or made[0] is not choices:
        made = _BY_LABEL[key] = (choices, {str(label): value for value, label in choices})
    return made[1]
