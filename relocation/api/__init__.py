"""The read-only JSON API for other systems (provincial and national monitoring).

Django REST framework serves it; drf-spectacular writes its OpenAPI document.
Each app declares its endpoints in ``<app>/api.py`` with ``register(...)``
(discovered at start-up like ``admin.py``); this package supplies what every
endpoint shares: token authentication for system accounts bound to an area
(``ApiToken``), the scope and masking of the admin, the read audit, keyset
pagination and the rate limit.  See ``docs/api.md``.
"""

_endpoints = []


def register(prefix, viewset, basename=None):
    """Serve ``viewset`` under ``/api/v1/<prefix>/`` (call from ``<app>/api.py``)."""
    _endpoints.append((prefix, viewset, basename or prefix))


def endpoints():
    return list(_endpoints)
