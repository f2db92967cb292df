"""The read audit in the admin: read-only, scoped to the administrator's area."""

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from .admin_lookups import ScopedChangeList
from .admin_scope import CappedCountPaginator
from .audit import AUDITED_FIELDS
from .read_audit import ReadAuditEntry


def audited_models():
    return [
        model
        for model in apps.get_models()
        if any(f.name in AUDITED_FIELDS for f in model._meta.concrete_fields)
        and not model._meta.model_name.startswith("historical")
    ]


class RecordTypeFilter(admin.SimpleListFilter):
    """The kinds of record that hold audited fields (not every model of the site)."""

    title = _("记录类型")
    parameter_name = "record_type"

    def lookups(self, request, model_admin):
        types = ContentType.objects.get_for_models(*audited_models()).values()
        return [(str(ct.pk), ct.model_class()._meta.verbose_name) for ct in types]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit() and len(value) < 10:
            return queryset.filter(content_type_id=int(value))
        return queryset


@admin.register(ReadAuditEntry)
class ReadAuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "at",
        "username",
        "channel",
        "export_format",
        "record_type",
        "object_label",
        "object_id",
        "field_display",
        "path",
    )
    list_filter = ("channel", "export_format", RecordTypeFilter)
    search_fields = ("=username", "object_label", "=object_id")
    search_help_text = _("输入用户名、记录名称（如姓名）或记录编号")
    list_select_related = ("content_type",)
    date_hierarchy = "at"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return CappedCountPaginator(queryset, per_page, orphans, allow_empty_first_page)

    def get_changelist(self, request, **kwargs):
        # Like every scoped list: only the page's own filters, and usable numbers
        # (anything else answers an empty list with a Chinese message, never a 400/500).
        return ScopedChangeList

    @admin.display(description=_("记录类型"))
    def record_type(self, obj):
        model = obj.content_type.model_class()
        return model._meta.verbose_name if model is not None else obj.content_type.model

    @admin.display(description=_("字段"), ordering="field")
    def field_display(self, obj):
        return obj.field_label

    # Nobody edits or deletes the audit, not even a superuser.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
