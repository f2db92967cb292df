"""Who may write reference data: the region tree and per-province figures.

Regions (43,976 of them, the whole country) and a province's figures such as
its 防返贫监测线 are shared by every county.  Superusers maintain them; an
administrator whose area is a whole province maintains that province's
figures; any other administrator may only add a township missing from the
official list inside a county of their own area (with a generated code, see
``communities.regions.ensure_township``).  Everybody with the view permission
still reads all of it.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .enums import RegionLevel
from .models import Region
from .regions import ensure_township
from .scope import get_scope


def whole_province_codes(user):
    """Codes of the provinces that lie entirely inside ``user``'s area."""
    scope = get_scope(user)
    if scope.unrestricted:
        return None  # every province
    return {f"{prefix}0000" for prefix in scope.region_prefixes if len(prefix) == 2}


def township_counties(user):
    """Counties in which ``user`` may add a generated township."""
    counties = Region.objects.filter(level=RegionLevel.COUNTY)
    scope = get_scope(user)
    if scope.unrestricted:
        return counties
    prefixes = [p for p in scope.region_prefixes if len(p) <= 6]
    if not prefixes:
        return counties.none()
    q = Q()
    for prefix in prefixes:
        q |= Q(code__startswith=prefix)
    return counties.filter(q)


class TownshipAddForm(forms.ModelForm):
    """A township missing from the official list, under a county of the user's area."""

    class Meta:
        model = Region
        fields = ("parent", "name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].required = True
        self.fields["parent"].label = _("所在县（市、区）")
        self.fields["name"].label = _("乡镇（街道）名称")
        self.fields["name"].help_text = _("官方区划表中没有的乡镇；代码在县级代码下自动生成。")

    def clean(self):
        cleaned = super().clean()
        county, name = cleaned.get("parent"), (cleaned.get("name") or "").strip()
        if county is not None and name:
            if Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP, name=name).exists():
                raise ValidationError(
                    _("%(county)s已有名为“%(name)s”的乡镇（街道）。")
                    % {"county": county.name, "name": name}
                )
            cleaned["name"] = name
        return cleaned


class RegionWriteRulesMixin:
    """For the region admin: superusers edit; others may only add a generated township."""

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        if request.user.is_superuser:
            return super().has_add_permission(request)
        return super().has_add_permission(request) and township_counties(request.user).exists()

    def _adds_township(self, request, obj):
        return obj is None and not request.user.is_superuser

    def get_fields(self, request, obj=None):
        if self._adds_township(request, obj):
            return ["parent", "name"]
        return super().get_fields(request, obj)

    def get_fieldsets(self, request, obj=None):
        if self._adds_township(request, obj):
            return [(None, {"fields": ["parent", "name"]})]
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._adds_township(request, obj):
            kwargs["form"] = TownshipAddForm
            kwargs["fields"] = ["parent", "name"]
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent" and not request.user.is_superuser:
            kwargs["queryset"] = township_counties(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # The add form's county autocomplete offers only the user's counties.
        source = (request.GET.get("app_label"), request.GET.get("model_name"))
        if source == ("communities", "region") and not request.user.is_superuser:
            queryset = queryset & township_counties(request.user)
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        if change or request.user.is_superuser:
            return super().save_model(request, obj, form, change)
        region, _created = ensure_township(form.cleaned_data["parent"], form.cleaned_data["name"])
        # The admin logs and redirects with ``obj``: make it the row just created.
        obj.__dict__.update(
            {f.attname: getattr(region, f.attname) for f in Region._meta.concrete_fields}
        )
        obj._state.adding = False
        obj._state.db = region._state.db
        return None


class ProvinceReferenceAdminMixin:
    """For per-province reference data (e.g. 防返贫监测线): superusers and whole-province admins.

    ``province_field`` names the model's province foreign key.
    """

    province_field = "province"

    def _writable_provinces(self, request):
        return whole_province_codes(request.user)

    def _may_write(self, request, obj):
        codes = self._writable_provinces(request)
        if codes is None:
            return True
        if obj is None:
            return bool(codes)
        return getattr(obj, f"{self.province_field}_id") in codes

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._may_write(request, None)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_write(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        codes = self._writable_provinces(request)
        if db_field.name == self.province_field and codes is not None:
            kwargs["queryset"] = Region.objects.filter(level=RegionLevel.PROVINCE, code__in=codes)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
