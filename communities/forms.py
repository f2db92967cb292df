"""Admin forms for households and people: scope-aware validation messages."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import InlineForeignKeyField
from django.utils.translation import gettext_lazy as _

from .admin_scope import SensitiveFieldsFormMixin
from .enums import Relationship
from .models import Household, Person, Settlement
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

    def clean(self):
        cleaned = super().clean()
        self._household_keeps_its_head(cleaned)
        return cleaned

    def _household_keeps_its_head(self, cleaned):
        """On the person's own page, the 户主 cannot stop being one, or move to another
        household, while others live in the household: it would be left without a
        head (the household page swaps heads; its members form counts them)."""
        person = self.instance
        field = self.fields.get("household")
        if person.pk is None or field is None or isinstance(field, InlineForeignKeyField):
            return  # a new person, or a row of the household page's members
        if person.relationship != Relationship.HEAD:
            return
        household = cleaned.get("household")
        stays = household is not None and household.pk == person.household_id
        if stays and cleaned.get("relationship") == Relationship.HEAD:
            return
        blocked = Person.objects.filter(pk=person.pk).heads_left_alone()
        if blocked:
            ((head, count),) = blocked
            raise ValidationError(
                _(
                    "%(name)s是搬迁户 %(household)s 的户主，户内还有 %(count)d 名成员。"
                    "请在搬迁户页面把另一名成员改为“户主”，再修改此人的关系或所属搬迁户。"
                ),
                code="head_leaves",
                params={"name": head.name, "household": head.household.number, "count": count},
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


# 户编号: the county's 6-digit code followed by a sequence of this many digits
# (522301000001, 522301000002 …), as the demo data and county rosters number them.
HOUSEHOLD_SEQ_DIGITS = 6


def suggest_household_number(county_code):
    """The next free 户编号 of a county: its code and one more than the highest sequence.

    Numbers are unique across the whole system, so every household of the
    county counts, also those outside the asking user's area (only the next
    number is returned, never one of theirs).  Numbers of another shape
    (typed by hand, with letters) are passed over.
    """
    width = len(county_code) + HOUSEHOLD_SEQ_DIGITS
    numbers = (
        Household.objects.filter(
            number__gte=county_code + "0" * HOUSEHOLD_SEQ_DIGITS,
            number__lte=county_code + "9" * HOUSEHOLD_SEQ_DIGITS,
        )
        .order_by("-number")
        .values_list("number", flat=True)
    )
    highest = 0
    # Descending text order: the first well-formed number is the highest.  Longer
    # ones sharing the prefix (5223010000121) sort between; they are skipped.
    for number in numbers.iterator(chunk_size=100):
        if len(number) == width and number.isdigit():
            highest = int(number[len(county_code) :])
            break
    return f"{county_code}{highest + 1:0{HOUSEHOLD_SEQ_DIGITS}d}"


def suggest_for_settlement(settlement):
    return suggest_household_number(settlement.county_id) if settlement else ""


def single_settlement_county(user):
    """The county of all the settlements ``user`` sees, when there is just one."""
    counties = (
        Settlement.objects.visible_to(user)
        .order_by()
        .values_list("county_id", flat=True)
        .distinct()
    )
    found = list(counties[:2])
    return found[0] if len(found) == 1 else None


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        number = self.fields.get("number")
        if number is None or self.instance.pk:
            return
        # A new household: left empty, the number follows its settlement's county.
        number.required = False
        number.help_text = _(
            "按“县级代码 + 6位顺序号”编号；选择安置点后自动建议，可修改。留空保存则自动编号。"
        )
        number.widget.attrs["data-suggest-url"] = self.suggest_url
        number.widget.attrs["autocomplete"] = "off"
        if not self.is_bound and not self.initial.get("number") and self.request_user:
            county = single_settlement_county(self.request_user)
            if county:
                self.initial["number"] = suggest_household_number(county)
                number.widget.attrs["data-suggested"] = self.initial["number"]

    suggest_url = ""  # set per request by the admin

    def clean_number(self):
        return (self.cleaned_data.get("number") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk or cleaned.get("number") or "number" not in self.fields:
            return cleaned
        settlement = cleaned.get("settlement")
        if settlement is None:
            if "settlement" not in self.errors:
                self.add_error("number", _("请填写户编号，或先选择安置点以便按所在县自动编号。"))
            return cleaned
        cleaned["number"] = suggest_for_settlement(settlement)
        self.instance.number = cleaned["number"]
        return cleaned

    def validate_unique(self):
        number = self.cleaned_data.get("number")
        if number and Household.objects.filter(number=number).exclude(pk=self.instance.pk).exists():
            settlement = self.cleaned_data.get("settlement")
            suggestion = suggest_for_settlement(settlement)
            message = _("户编号 %(number)s 已被使用（可能是其他人刚刚登记的），请换一个编号。")
            # Only a new household may leave the box empty to be numbered.
            if suggestion and not self.instance.pk:
                message = _(
                    "户编号 %(number)s 已被使用（可能是其他人刚刚登记的），"
                    "建议改用 %(suggestion)s；也可以清空，保存时自动编号。"
                )
            self.add_error(
                "number",
                ValidationError(
                    message,
                    code="unique",
                    params={"number": number, "suggestion": suggestion},
                ),
            )
            return
        super().validate_unique()

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
