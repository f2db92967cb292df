"""Dashboard pages and exports read from the read replica (``REPLICA_DATABASE_URL``).

Which requests: ``ReplicaReadsMiddleware`` marks the views listed by
``reads_from_replica`` (every dashboard page and its .xlsx, the import pages'
exports, the admin lists' export) for the length of the request; nothing else
ever reads from the replica, and nothing at all does when no replica is
configured.

Inside such a request ``ReplicaRouter`` sends a read to the replica unless

- the model is one whose freshness is a matter of security or of the sign-in
  (sessions, users, groups and permissions, the area scopes, the lockout
  counters, second-factor devices, the job queue): always the primary, so that
  a withdrawn right or a new session holds at once, whatever the replica's lag
  (and the dashboards' refresh bookkeeping, ``PRIMARY_MODELS``);
- the request has written anything (read your own writes: from then on every
  read goes to the primary);
- the read happens inside a transaction block the view opened on the primary
  (``transaction.atomic()`` beyond the request's own ``ATOMIC_REQUESTS`` block,
  e.g. the dashboards' inline refresh): it belongs to a write transaction.

Every write goes to the primary, always (``select_for_update`` too: Django
routes it as a write).  The replica is never migrated.
"""

from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

#: Apps whose reads never go to the replica (sign-in, sessions, rights, second factor, job queue).
PRIMARY_APPS = frozenset(
    {
        "accounts",
        "admin",
        "auth",
        "axes",
        "contenttypes",
        "django_otp",
        "django_tasks_database",
        "otp_totp",
        "sessions",
    }
)
#: Models of other apps read from the primary only: the area scope decides what a user
#: sees; the dashboards' refresh bookkeeping decides whether a page refreshes the running
#: figures (read from a lagging replica, every page would try to, on the primary).
PRIMARY_MODELS = frozenset({"communities.areascope", "dashboards.livestate"})


def reads_from_replica(match):
    """Whether the view of this ``ResolverMatch`` is a dashboard page or an export."""
    if match.namespace == "dashboards":
        return True
    if match.view_name == "spreadsheets:export":
        return True
    return match.namespace == "admin" and (match.url_name or "").endswith("_export")


@dataclass
class _ReplicaReads:
    #: Transaction blocks open on the primary when the view starts (test, ATOMIC_REQUESTS).
    depth: int
    wrote: bool = False


_current = ContextVar("replica_reads", default=None)


def replica_configured():
    return REPLICA in connections.settings


def _uses_replica(model):
    state = _current.get()
    if state is None or state.wrote:
        return False
    opts = model._meta
    if opts.app_label in PRIMARY_APPS or opts.label_lower in PRIMARY_MODELS:
        return False
    return len(connections[DEFAULT_DB_ALIAS].atomic_blocks) <= state.depth


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if _uses_replica(model) else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        state = _current.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: an object read from one may refer to the other.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None


class ReplicaReadsMiddleware:
    """Marks the request as one that reads from the replica while its view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(None)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not replica_configured() or not reads_from_replica(request.resolver_match):
            return None
        depth = len(connections[DEFAULT_DB_ALIAS].atomic_blocks)
        # The handler opens the request's own transaction after this (ATOMIC_REQUESTS):
        # reads inside it alone still go to the replica.
        atomic = settings.DATABASES[DEFAULT_DB_ALIAS].get("ATOMIC_REQUESTS", False)
        if atomic and DEFAULT_DB_ALIAS not in getattr(view_func, "_non_atomic_requests", ()):
            depth += 1
        _current.set(_ReplicaReads(depth=depth))
        return None
