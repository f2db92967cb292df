"""Programme views in the admin: a view with its themes, a theme with its indicators."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import ProgrammeItem, ProgrammeTheme, ProgrammeView
from .programmes import indicator_choices


class ProgrammeThemeInline(admin.TabularInline):
    model = ProgrammeTheme
    fields = ("name", "description", "order")
    extra = 0
    show_change_link = True


@admin.register(ProgrammeView)
class ProgrammeViewAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "order", "active", "theme_count")
    list_editable = ("order", "active")
    search_fields = ("name", "key")
    inlines = (ProgrammeThemeInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_themes=Count("themes"))

    @admin.display(description=_("主题数"), ordering="n_themes")
    def theme_count(self, obj):
        return obj.n_themes


class ProgrammeItemInline(admin.TabularInline):
    model = ProgrammeItem
    fields = ("indicator", "order")
    extra = 1

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "indicator":
            # A drop-down of the registry (and the catalogue's announced keys); the
            # model's validator still refuses any other value with a Chinese message.
            kwargs["widget"] = forms.Select(choices=[("", "---------"), *indicator_choices()])
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(ProgrammeTheme)
class ProgrammeThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "view", "order")
    list_filter = ("view",)
    list_select_related = ("view",)
    search_fields = ("name", "view__name")
    fields = ("view", "name", "description", "order")
    inlines = (ProgrammeItemInline,)
