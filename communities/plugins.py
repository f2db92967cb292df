"""How satellite apps (employment, services, governance) add to the core.

The core never imports a satellite.  A satellite adds instead:

* **page sections** — inlines, list filters and export layouts of the household
  and person admin pages: ``household_page.add("employment", inlines=…)`` in the
  satellite's ``admin.py`` (discovered by ``django.contrib.admin``).  The
  pages' ``inlines``, ``list_filter`` and ``resource_classes`` are the core's
  own followed by every registered section, in registration order.  An inline
  that needs the saved record says ``on_add_page = False`` and is left off the
  add page (``ScopedHistoryAdmin.get_inlines``);
* **work lists** — rows of the 工作清单 page (the lists an official acts on):
  ``work_lists.add("governance_monitoring", rows, order=…)`` in the satellite's
  ``admin.py``, where ``rows(request, on_date)`` yields the rows
  ``communities.worklists.work_row`` builds (counted over the linked list's own
  admin queryset, so in the user's scope); ``options=`` adds choices to the
  page's form (``WorkListOption``: employment's 收入年度), passed to ``rows``;
* **QuerySet methods** on core models — ``add_queryset_methods(Person, Mixin)``
  from the satellite's ``AppConfig.ready()``, so that its rules (the labour
  force, zero-employment households …) are written once, in the satellite,
  and called as ``Person.objects.labour_force(day)`` everywhere.
"""

from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

#: page attribute -> the keyword of ``Page.add`` that extends it
_ATTRIBUTES = {
    "inlines": "inlines",
    "list_filter": "list_filters",
    "resource_classes": "export_resources",
}


class Page:
    """A core admin page that apps add sections to."""

    def __init__(self, name):
        self.name = name
        self._sections = {}

    def add(self, key, *, inlines=(), list_filters=(), export_resources=()):
        """Add (or replace) the section ``key``: what one app shows on this page."""
        self._sections[key] = {
            "inlines": tuple(inlines),
            "list_filters": tuple(list_filters),
            "export_resources": tuple(export_resources),
        }

    def remove(self, key):
        self._sections.pop(key, None)

    def section_keys(self):
        return list(self._sections)

    def extend(self, attribute, own, last=()):
        """A ModelAdmin class attribute: ``own`` items, the sections' items, then ``last``."""
        if attribute not in _ATTRIBUTES:
            raise ImproperlyConfigured(f"{self.name}: sections cannot extend {attribute!r}")
        return _Extended(self, _ATTRIBUTES[attribute], tuple(own), tuple(last))

    def items(self, kind):
        return tuple(item for section in self._sections.values() for item in section[kind])


class _Extended:
    """Read at every access, so sections registered after the ModelAdmin class count."""

    def __init__(self, page, kind, own, last):
        self.page, self.kind, self.own, self.last = page, kind, own, last

    def __get__(self, instance, owner=None):
        return self.own + self.page.items(self.kind) + self.last


household_page = Page("household")
person_page = Page("person")


class WorkListOption(NamedTuple):
    """A choice the 工作清单 page offers for one app's lists: a drop-down in its form
    (left out when there is nothing to choose), and a note under the table."""

    name: str  # the query parameter, and the keyword the app's ``rows`` receives
    label: str
    choices: tuple  # (value, label) pairs
    value: object  # the value chosen (or defaulted); None when there is none
    note: str = ""  # e.g. why a list has no count


class WorkLists:
    """The 工作清单 page's lists, which apps add: ``add(key, rows, order, options)``; the
    page (``communities.worklists.worklists_view``) shows every provider's rows by
    ``order`` (then key)."""

    def __init__(self):
        self._providers = {}

    def add(self, key, rows, order=100, options=None):
        """Add (or replace) ``rows(request, on_date, **chosen)``: an iterable of row dicts
        (None skipped).  ``options(request, today)``: the ``WorkListOption``s the page
        offers for these lists; ``rows`` receives each one's value by its name."""
        self._providers[key] = (order, rows, options)

    def remove(self, key):
        self._providers.pop(key, None)

    def keys(self):
        return [key for key, _ in sorted(self._providers.items(), key=lambda i: (i[1][0], i[0]))]

    def page(self, request, on_date, today):
        """The page's rows and options: ``(rows, options)``, provider by provider."""
        rows, options = [], []
        for key in self.keys():
            _order, provider_rows, provider_options = self._providers[key]
            own = list(provider_options(request, today)) if provider_options else []
            for option in own:
                if option.name in {"on", *(o.name for o in options)}:
                    raise ImproperlyConfigured(
                        f"work list option {option.name!r} of {key!r} is the page's or another app's"
                    )
                options.append(option)
            chosen = {option.name: option.value for option in own}
            rows.extend(row for row in provider_rows(request, on_date, **chosen) if row)
        return rows, options


work_lists = WorkLists()


def add_queryset_methods(model, mixin):
    """Give ``model``'s QuerySet and default manager the methods defined in ``mixin``."""
    queryset_class = model._default_manager._queryset_class
    manager_class = type(model._default_manager)
    for name, member in vars(mixin).items():
        if name.startswith("__") or not callable(member):
            continue
        existing = getattr(queryset_class, name, None)
        if existing is not None and existing is not member:
            raise ImproperlyConfigured(
                f"{model.__name__} QuerySet already has a {name!r} that {mixin.__name__} would hide"
            )
        setattr(queryset_class, name, member)
        if not name.startswith("_"):
            setattr(manager_class, name, _manager_method(name))


def _manager_method(name):
    def method(self, *args, **kwargs):
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    method.__name__ = name
    return method
