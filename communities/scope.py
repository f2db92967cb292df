"""Area scope: the one place that decides which records a user may see.

A user's scope is the union of their ``AreaScope`` rows: regions at any level
(everything whose settlement lies inside, by division-code prefix) and single
settlements.  Superusers are unrestricted; every other user, whatever their
role, sees only their areas, and a record without a settlement is visible to
no scoped user.  Querysets call ``visible_to(user)``; the admin mixin in
``communities.admin_scope`` applies it to every list, URL, filter, form field,
autocomplete and export.
"""

import contextvars
from dataclasses import dataclass

from django.db.models import Q

# {scope: [settlement id, …]} for the request being answered (VisibleSettlementsMiddleware).
_visible_settlements = contextvars.ContextVar("visible_settlements", default=None)


@dataclass(frozen=True)
class Scope:
    unrestricted: bool
    region_prefixes: tuple = ()
    settlement_ids: tuple = ()

    @property
    def empty(self):
        return not (self.unrestricted or self.region_prefixes or self.settlement_ids)

    def settlement_q(self, prefix=""):
        """Q over a Settlement, reached through ``prefix`` (e.g. ``"household__settlement__"``)."""
        if self.unrestricted:
            return Q()
        q = Q(**{f"{prefix}pk__in": []})
        for code in self.region_prefixes:
            if len(code) > 6:  # a township: settlements recorded under it
                q |= Q(**{f"{prefix}township_id": code})
            else:
                q |= Q(**{f"{prefix}county__code__startswith": code})
        if self.settlement_ids:
            q |= Q(**{f"{prefix}pk__in": self.settlement_ids})
        return q

    def covers_region(self, region):
        """True when ``region`` lies inside one of the scope's regions."""
        if self.unrestricted:
            return True
        return any(region.code.startswith(p) for p in self.region_prefixes)

    def covers_scope(self, other):
        """True when every area of ``other`` lies inside this scope."""
        if self.unrestricted:
            return True
        if other.unrestricted:
            return False
        regions_ok = all(
            any(code.startswith(p) for p in self.region_prefixes) for code in other.region_prefixes
        )
        if not regions_ok:
            return False
        from .models import Settlement

        outside = set(other.settlement_ids) - set(
            Settlement.objects.filter(self.settlement_q()).values_list("pk", flat=True)
        )
        return not outside


def compute_scope(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(unrestricted=False)
    if user.is_superuser:
        return Scope(unrestricted=True)
    from .models import AreaScope

    prefixes, settlements = set(), set()
    for row in AreaScope.objects.filter(user=user).select_related("region"):
        if row.region_id:
            prefixes.add(row.region.prefix)
        else:
            settlements.add(row.settlement_id)
    # A prefix inside another adds nothing; keep the queries short.
    kept = tuple(
        sorted(p for p in prefixes if not any(p != o and p.startswith(o) for o in prefixes))
    )
    return Scope(
        unrestricted=False, region_prefixes=kept, settlement_ids=tuple(sorted(settlements))
    )


def get_scope(user):
    """The user's scope, computed once per user object (i.e. once per request)."""
    if user is None:
        return Scope(unrestricted=False)
    cached = getattr(user, "_area_scope", None)
    if cached is None:
        cached = compute_scope(user)
        user._area_scope = cached
    return cached


class ScopedQuerySetMixin:
    """``visible_to(user)`` for models that hang off a settlement.

    ``scope_path`` is the lookup from the model to its Settlement ("" for the
    Settlement itself).
    """

    scope_path = None

    def visible_to(self, user):
        scope = get_scope(user)
        if scope.unrestricted:
            return self
        if scope.empty:
            return self.none()
        if not self.scope_path:
            return self.filter(scope.settlement_q())
        from .models import Settlement

        # A literal list (a thousand at most for a province) rather than a
        # subquery: PostgreSQL then estimates the rows in scope correctly and
        # starts from the settlement index instead of scanning the whole table.
        known = _visible_settlements.get()
        visible = known.get(scope) if known is not None else None
        if visible is None:
            visible = list(
                Settlement.objects.filter(scope.settlement_q()).values_list("pk", flat=True)
            )
            if known is not None:
                known[scope] = visible
        return self.filter(**{f"{self.scope_path}__in": visible})


class VisibleSettlementsMiddleware:
    """Reads the settlements in a user's scope once per request, not once per queryset.

    ``visible_to`` lists them for every scoped queryset: a household page and its
    save asked 16 times for the same list.  Within a request the list is kept
    (per scope); a settlement saved or deleted in the request clears it
    (``forget_visible_settlements``, on Settlement's signals).  Outside requests
    (the job worker, commands) nothing is kept: a job that writes settlements in
    bulk and then reads by scope sees them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _visible_settlements.set({})
        try:
            return self.get_response(request)
        finally:
            _visible_settlements.reset(token)


def forget_visible_settlements(**kwargs):
    known = _visible_settlements.get()
    if known:
        known.clear()


def area_q(model, token):
    """Q selecting ``model``'s rows inside an area token, or None when the token is malformed.

    A token is a region's code prefix (``52`` a province, ``5223`` a prefecture,
    ``522301`` a county, a township's 9+ digit code) or ``s<pk>`` for one
    settlement.  The rows are reached through the QuerySet's ``scope_path``; the
    user's own scope still applies on top (``ScopedAdminMixin.get_queryset``), so
    an area outside it simply lists nothing.
    """
    path = getattr(model._default_manager.all(), "scope_path", None)
    if path is None or not token:
        return None
    prefix = f"{path}__" if path else ""
    settlement = settlement_of_token(token)
    if settlement is not None:
        return Q(**{f"{prefix}pk": settlement})
    if is_region_token(token):
        return Scope(unrestricted=False, region_prefixes=(token,)).settlement_q(prefix)
    return None


def settlement_of_token(token):
    """The settlement id of an ``s<pk>`` token (a database integer), else None."""
    digits = token[1:]
    if token.startswith("s") and digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits)
    return None


def is_region_token(token):
    return (
        token.isascii() and token.isdigit() and (len(token) in (2, 4, 6) or 9 <= len(token) <= 12)
    )
