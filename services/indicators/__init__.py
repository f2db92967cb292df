"""Services and culture indicators: places and protection (one module each, discovered through this package)."""

from django.utils.translation import gettext_lazy as _

from relocation.dashboards.registry import registry

# The sections first: both modules below add indicators to them.
registry.section("services", _("服务保障"), theme=_("有保障"), order=40)
registry.section("culture", _("文化"), theme=_("融得进"), order=50)

from . import places, protection  # noqa: E402, F401
