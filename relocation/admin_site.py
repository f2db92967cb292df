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


def menu_order(app_list):
    """``app_list`` (the admin's list of apps, each with its ``models``) in menu order."""
    menus = {
        config.label: (position, config.admin_menu)
        for position, config in enumerate(apps.get_app_configs())
        if hasattr(config, "admin_menu")
    }

    def app_key(app):
        position, _menu = menus.get(app["app_label"], (None, None))
        return (1, 0, str(app["name"]).lower()) if position is None else (0, position, "")

    ordered = sorted(app_list, key=app_key)
    for app in ordered:
        menu = menus.get(app["app_label"], (None, ()))[1]
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
