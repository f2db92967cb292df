from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    name = "relocation.demo"
    label = "demo"
    verbose_name = _("演示数据")

    def ready(self):
        # Each app declares its demo step in ``<app>/demo.py``.
        from . import discover, steps

        discover()
        steps()  # a step whose ``after`` is missing or late fails here
