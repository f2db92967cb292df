"""Admin forms for households and people: scope-aware validation messages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .admin_scope import SensitiveFieldsFormMixin
from .enums import Relationship
from .models import Household, Person
from .scope import get_scope
from .validators import normalize_resident_id


class PersonForm(SensitiveFieldsFormMixin, forms.ModelForm):
    request_user = None  # set per request by the admin

    class Meta:
        model = Person
        fields = (
            "household",
            "name",
            "id_number",
            "relationship",
            "ethnicity",
            "phone",
            "education",
            "school_stage",
            "health",
            "disability_grade",
            "labour_ability",
            "medical_insurance",
            "pension_insurance",
            "dibao",
            "extreme_poverty_support",
            "residence_permit",
            "notes",
        )

    def clean_id_number(self):
        value = normalize_resident_id(self.cleaned_data.get("id_number"))
        if not value:
            return value
        other = Person.objects.filter(id_number=value).exclude(pk=self.instance.pk)
        if not other.exists():
            return value
        visible = other.visible_to(self.request_user).select_related("household").first()
        if visible is not None:
            raise ValidationError(
                _("该身份证号已登记为搬迁户 %(household)s 的成员 %(name)s，不能重复登记。"),
                code="duplicate",
                params={"household": visible.household.number, "name": visible.name},
            )
        # Outside the user's scope: say that it exists, nothing about where.
        raise ValidationError(
            _("该身份证号已在系统中登记（不在您的管辖范围内），请联系上级管理员核实。"),
            code="duplicate_elsewhere",
        )


# The household form's fields, grouped as the admin shows them.
HOUSEHOLD_FIELD_GROUPS = (
    (None, ("number", "settlement", "category", "relocation_year", "batch")),
    (
        _("住房"),
        (
            "building",
            "unit",
            "room",
            "housing_area",
            "grid",
            "ten_group",
            "occupancy_state",
            "moved_in_date",
            "hukou_state",
        ),
    ),
    (_("迁出地"), ("origin_county", "origin_township", "origin_village")),
    (_("联系"), ("phone", "notes")),
)


class HouseholdForm(SensitiveFieldsFormMixin, forms.ModelForm):
    request_user = None
    sensitive_fields = ("phone",)

    class Meta:
        model = Household
        fields = tuple(name for _title, group in HOUSEHOLD_FIELD_GROUPS for name in group)

    def clean_settlement(self):
        settlement = self.cleaned_data.get("settlement")
        scope = get_scope(self.request_user)
        if settlement is None and not scope.unrestricted:
            # A record without a settlement would vanish from the user's own lists.
            raise ValidationError(_("请选择安置点。"), code="required")
        return settlement


class MembersFormSet(forms.BaseInlineFormSet):
    """Members of one household: exactly one head, no ID number twice."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        heads = 0
        id_numbers = []  # checked here: its unique column is the hash (communities.crypto)
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.cleaned_data.get("relationship") == Relationship.HEAD:
                heads += 1
            id_numbers.append(form.cleaned_data.get("id_number"))
        twice = sorted({n for n in id_numbers if n and id_numbers.count(n) > 1})
        if twice:
            raise ValidationError(
                _("身份证号 %(id_number)s 在本户中填写了两次。"),
                code="unique",
                params={"id_number": "、".join(twice)},
            )
        if heads != 1:
            raise ValidationError(
                _("每户必须有且只有一名户主（与户主关系选“户主”），当前为 %(count)d 名。"),
                code="heads",
                params={"count": heads},
            )
