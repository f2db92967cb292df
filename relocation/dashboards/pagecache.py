"""A dashboard page's body, rendered once for everyone who would see the same one.

The pages read stored figures, but turning them into HTML (seventy cards, a table of
two dozen child areas × sixty linked columns, the charts' data) is most of a page's
time, and fifty officials looking at their counties ask for the same bodies again and
again between two refreshes.  So the body (everything under the breadcrumbs) is kept,
compressed, in the ``dashboards`` cache under a key made of everything it is drawn
from:

* the area (its kind, region code or settlement) and the user's **scope** (the same
  region shows different sums to an official of the whole county and to a worker of
  one settlement in it);
* the language, the day, and the page's choices as the page resolves them (period
  kind and code, sort and direction, ranked column, programme view);
* every stored period up to today with **the time it was computed**: a refresh stores
  new figures with a new time, so the next view renders afresh; the programme views'
  layouts; the time of the latest correction noticed in a closed period
  (``stale.notice``).

Not in the key: the user's permissions (the body has none of them: its links lead to
lists that apply the user's own scope and permissions) and the header with the user's
name and the sign-out form (rendered for every request).  Names of areas and the rights
checklist's items can be edited without a refresh; the body follows them after at most
``DASHBOARD_PAGE_CACHE`` seconds (0 turns the cache off).  With several web processes
each keeps its own copies unless ``DASHBOARD_CACHE_URL`` names a shared cache.
"""

import hashlib
import zlib

from django.conf import settings
from django.core.cache import caches
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

ALIAS = "dashboards"


def timeout():
    return getattr(settings, "DASHBOARD_PAGE_CACHE", 60)


def key(area, scope, choices, today, periods, views, stale_since):
    """The cache key of a body: a digest of everything it is drawn from (see above)."""
    parts = [
        get_language() or "",
        area.kind,
        area.region.code if area.region is not None else "",
        str(area.settlement.pk) if area.settlement is not None else "",
        repr((scope.unrestricted, scope.region_prefixes, scope.settlement_ids)),
        repr(choices),
        today.isoformat(),
        repr([(p.pk, p.kind, p.start, p.reference_date, p.computed_at) for p in periods]),
        repr(views),
        repr(stale_since),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"dashboard-body:{digest}"


def get(cache_key):
    """The kept body (safe HTML) or None."""
    if not timeout():
        return None
    packed = caches[ALIAS].get(cache_key)
    if packed is None:
        return None
    return mark_safe(zlib.decompress(packed).decode())


def put(cache_key, body):
    """Keep ``body`` (rendered HTML) compressed; returns it, marked safe."""
    seconds = timeout()
    if seconds:
        caches[ALIAS].set(cache_key, zlib.compress(body.encode(), 1), seconds)
    return mark_safe(body)


def clear():
    caches[ALIAS].clear()
