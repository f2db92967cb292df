"""The file kinds an administrator can import and export, in menu order.

Each app declares its kinds in ``<app>/spreadsheets.py`` (a module or a
package) by calling ``register(...)``; the machinery imports those
modules once, the way ``django.contrib.admin`` discovers ``admin.py``, and
knows no kind by name.  The menu order is the order of ``INSTALLED_APPS``,
then the order of registration inside an app.
"""

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

from .base import Kind  # noqa: F401

_KINDS = {}
_discovered = False


def register(*kind_classes):
    """Add ``Kind`` subclasses to the import page, in this order."""
    for kind_class in kind_classes:
        kind = kind_class()
        if not kind.key:
            raise ImproperlyConfigured(f"{kind_class.__qualname__} has no key")
        known = _KINDS.get(kind.key)
        if known is not None and type(known).__qualname__ != kind_class.__qualname__:
            raise ImproperlyConfigured(f"file kind {kind.key!r} declared twice")
        _KINDS[kind.key] = kind


def discover():
    """Import every installed app's ``spreadsheets`` module (at start-up)."""
    global _discovered
    _discovered = True
    autodiscover_modules("spreadsheets")


def get_kind(key):
    if not _discovered:
        discover()
    return _KINDS.get(key)


def kinds():
    if not _discovered:
        discover()
    return list(_KINDS.values())
