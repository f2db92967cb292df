"""django-import-export resources in the importer's own layouts.

``kind_resource("roster")`` is a ``ModelResource`` whose columns are the file
kind's columns (same Chinese headers, same cell formats, masking and formula
escaping), so that an export from an admin list - for the current filter or
for selected rows - re-imports through the import page unchanged.
"""

from django.utils.translation import gettext as _
from import_export import fields

from communities.resources import MaskingResource

from .cells import cell_row
from .kinds import get_kind


class KindResource(MaskingResource):
    kind_key = ""

    @property
    def kind(self):
        return get_kind(self.kind_key)

    def export_resource(self, instance, selected_fields=None, **kwargs):
        values = self.kind.export_values(instance)
        wanted = {f.column_name for f in self.get_export_fields(selected_fields)}
        return cell_row(
            column.format(values.get(column.key), self.reveal_sensitive)
            for column in self.kind.columns
            if str(column.header) in {str(w) for w in wanted}
        )

    def filter_export(self, queryset, **kwargs):
        # The admin's (scoped, filtered) rows, with what export_values reads.
        return self.kind.export_joins(queryset)


def kind_resource(key):
    """A ``KindResource`` subclass for the file kind ``key``."""
    kind = get_kind(key)
    attrs = {column.key: fields.Field(column_name=column.header) for column in kind.columns}
    meta = type("Meta", (), {"model": kind.model, "fields": tuple(attrs), "import_id_fields": ()})
    attrs.update(kind_key=key, Meta=meta, __module__=__name__)
    resource = type(f"{key.title()}SheetResource", (KindResource,), attrs)
    # The admin's export form names a resource by this; use the file kind's name.
    resource.get_display_name = classmethod(
        lambda cls: _("%(label)s（导入模板格式，可再导入）") % {"label": kind.title}
    )
    return resource
