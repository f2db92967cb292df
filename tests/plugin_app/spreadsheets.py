"""One import/export kind: grid names, exported within the user's area."""

from communities.models import GridUnit
from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.kinds import Kind, register


class GridNamesKind(Kind):
    key = "plugin-grids"
    label = "插件：网格名册"
    model = GridUnit
    columns = [Column("name", "网格名称", required=True)]
    import_permissions = ("communities.import_settlement",)
    export_permissions = ("communities.export_settlement",)
    export_order = ("name",)

    def export_values(self, obj):
        return {"name": obj.name}


register(GridNamesKind)
