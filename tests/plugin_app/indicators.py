"""One dashboard figure: the number of household heads."""

from django.db.models import Count

from communities.enums import Relationship
from communities.models import Person
from relocation.dashboards.registry import Indicator, registry

registry.section("plugin", "插件板块", theme="插件", order=900)


@registry.source("plugin", components=("plugin_heads",))
def heads(settlements, window):
    rows = (
        Person.objects.filter(household__settlement__in=settlements, relationship=Relationship.HEAD)
        .values("household__settlement_id")
        .annotate(n=Count("pk"))
    )
    return {row["household__settlement_id"]: {"plugin_heads": row["n"]} for row in rows}


registry.register(
    Indicator("plugin_heads", "插件：户主人数", section="plugin", unit="人", total="plugin_heads")
)
