"""Governance and monitoring indicators: organisation and monitoring (one module each, discovered through this package)."""

from django.utils.translation import gettext_lazy as _

from relocation.dashboards.registry import registry

# The sections first: both modules below add indicators to them.
registry.section("governance", _("社区治理"), theme=_("管得好"), order=60)
registry.section("monitoring", _("防返贫监测"), theme=_("防返贫"), order=70)

from . import monitoring, organisation  # noqa: E402, F401
