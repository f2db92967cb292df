"""A section of the person page: a list filter and an export layout."""

from django.contrib import admin
from import_export import fields

from communities.enums import Relationship
from communities.models import Person
from communities.plugins import person_page
from communities.resources import MaskingResource


class HeadsOnlyFilter(admin.SimpleListFilter):
    title = "插件：只看户主"
    parameter_name = "plugin_head"

    def lookups(self, request, model_admin):
        return [("1", "户主")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(relationship=Relationship.HEAD)
        return queryset


class PersonNamesResource(MaskingResource):
    name = fields.Field(attribute="name", column_name="姓名")

    class Meta:
        model = Person
        fields = ("name",)
        name = "插件：姓名表"


person_page.add(
    "plugin_app", list_filters=(HeadsOnlyFilter,), export_resources=(PersonNamesResource,)
)
