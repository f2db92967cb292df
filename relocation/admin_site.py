"""The admin site: the 工作台 and the side menu list the work first.

Django lists the apps and their models by name, which in Chinese is the order of
the characters' code points: 公共服务 came before 安置社区, and a community worker
found 搬迁户 and 家庭成员 below fifteen lists of public services.  Here an app
declares its menu on its ``AppConfig``::

    admin_menu = ("household", "person", ...)  # model names, the daily work first

The apps that declare one come first, in ``INSTALLED_APPS`` order (the core, then
the satellites), each with its models in the declared order (a model it leaves out
follows by name); the other apps (users, the job queue …) follow by name, as
Django lists them.  The site reads the declarations and imports no app.
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


def _menu(app_label):
    """The ``admin_menu`` of the app ``app_label`` (None when it declares none)."""
    try:
        return getattr(apps.get_app_config(app_label), "admin_menu", None)
    except LookupError:
        return None


def _installed_position(app_label):
    labels = [config.label for config in apps.get_app_configs()]
    return labels.index(app_label) if app_label in labels else len(labels)


def menu_order(app_list):
    """``app_list`` (the admin's list of apps, each with its ``models``) in menu order."""

    def app_key(app):
        menu = _menu(app["app_label"])
        if menu is None:
            return (1, 0, str(app["name"]).lower())
        return (0, _installed_position(app["app_label"]), "")

    ordered = sorted(app_list, key=app_key)
    for app in ordered:
        menu = _menu(app["app_label"]) or ()
        place = {name: index for index, name in enumerate(menu)}
        app["models"].sort(
            key=lambda model: (
                place.get(model["object_name"].lower(), len(place)),
                str(model["name"]),
            )
        )
    return ordered


class RelocationAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        return menu_order(list(self._build_app_dict(request, app_label).values()))


class RelocationAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``RelocationAdminSite`` as ``admin.site``."""

    default_site = "relocation.admin_site.RelocationAdminSite"
