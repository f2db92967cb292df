from django.utils.text import capfirst
from django.utils.translation import gettext as _

from communities.roles import SENSITIVE_PERMISSION


class Kind:
    """One kind of file: its columns, who may import/export it, and its plan."""

    key = ""
    label = ""
    model = None
    columns = ()
    import_permissions = ()
    export_permissions = ()
    #: Lines for the 说明 sheet after the generic ones.
    notes = ()
    #: Example rows for the template: {column key: cell value}.
    examples = ()
    #: Model field name -> column key, where they differ (for clean() errors).
    field_columns = {}
    #: Columns a county's file may have that only check a row (性别 against the ID
    #: number): parsed when present, never stored, exported or put in the template.
    check_columns = ()
    #: Other names a county's file gives this kind's headers: {name: our header}.
    header_aliases = {}
    #: Column keys whose blank cells, on a row whose first of them is blank, take the
    #: cells of the row above (``engine._fill_down``): none unless a kind says so.
    fill_down = ()
    #: What the preview says of those rows: a lazy ``ngettext`` on "count", with
    #: %(count)s and %(rows)s (「第 3、4 行」).
    filled_note = ""

    @property
    def title(self):
        """The label where it heads a page, a cell or a sheet: capitalised in English,
        where the models' names are lower case ("settlement")."""
        return capfirst(self.label)

    def header_mapping(self):
        """{header as a file may write it: column} (``columns.headers_for_matching``)."""
        from ..columns import headers_for_matching

        return headers_for_matching((*self.columns, *self.check_columns), self.header_aliases)

    def may_import(self, user):
        return user.is_active and user.is_staff and user.has_perms(self.import_permissions)

    def may_export(self, user):
        return user.is_active and user.is_staff and user.has_perms(self.export_permissions)

    def reveal(self, user):
        return user.has_perm(SENSITIVE_PERMISSION)

    def column(self, key):
        for column in (*self.columns, *self.check_columns):
            if column.key == key:
                return column
        raise KeyError(key)

    def headers(self):
        """Model field name (or column key) -> header, for attaching clean() errors."""
        mapping = {c.key: c.header for c in (*self.columns, *self.check_columns)}
        for field_name, key in self.field_columns.items():
            mapping[field_name] = self.column(key).header
        return mapping

    def plan(self, rows, plan, ctx):  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def write_kept(self, data, ctx):  # pragma: no cover - only kinds that set ``plan.kept``
        """Write a plan kept since the check from ``plan.kept()``'s plain data.

        A kind whose ``plan`` sets ``plan.kept`` (the roster) is committed on
        PostgreSQL by this instead of a second ``plan`` when nothing the plan
        relied on (``Plan.relies_on``) changed since the check began.
        """
        raise NotImplementedError

    #: ordering of exports (natural key order)
    export_order = ()
    #: select_related / prefetch_related that ``export_values`` needs
    export_select = ()
    export_prefetch = ()

    def export_queryset(self, user):
        """Everything the user may see, in natural-key order."""
        return self.export_joins(self.model.objects.visible_to(user)).order_by(*self.export_order)

    def export_joins(self, queryset):
        """``queryset`` (already scoped, e.g. an admin list) joined for ``export_values``."""
        if self.export_select:
            queryset = queryset.select_related(*self.export_select)
        if self.export_prefetch:
            queryset = queryset.prefetch_related(*self.export_prefetch)
        return queryset

    def export_values(self, obj):  # pragma: no cover
        raise NotImplementedError

    def file_stem(self):
        return str(self.label)

    def not_found(self, what, value):
        return _("%(what)s“%(value)s”不存在或不在您的管辖范围内。") % {"what": what, "value": value}
