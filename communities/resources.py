"""Spreadsheet layouts (django-import-export resources) with Chinese headers.

Exports mask ID numbers, phones, health and birth dates unless the exporting
user may see them (``communities.masking``, as the pages do); the queryset
they receive is already scoped by the admin.
"""

from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from relocation.spreadsheets.cells import FORMULA_STARTS, NATIVE_TYPES, cell_value

from . import masking
from .audit import AuditedExportMixin
from .models import Household, Person
from .validators import mask_phone, mask_resident_id

#: Widgets that write a number or a date as one in a workbook (``force_native_type``).
NATIVE_WIDGETS = (
    widgets.DateWidget,
    widgets.DateTimeWidget,
    widgets.TimeWidget,
    widgets.DecimalWidget,
    widgets.FloatWidget,
    widgets.IntegerWidget,
)


class MaskingResource(AuditedExportMixin, resources.ModelResource):
    def __init__(self, reveal_sensitive=False, **kwargs):
        super().__init__(**kwargs)
        self.reveal_sensitive = reveal_sensitive
        self._native_widgets()

    def _native_widgets(self):
        """A declared column of a number or date (``Field(attribute="person__birth_date")``)
        gets its model field's widget: django-import-export gives declared columns the plain
        widget, which writes every value as text, so an .xlsx income could not be summed."""
        for name, field in self.fields.items():
            if type(field.widget) is not widgets.Widget or not field.attribute:
                continue
            try:
                model_field = get_fields_from_path(self._meta.model, field.attribute)[-1]
            except (FieldDoesNotExist, NotRelationField):
                continue  # a method or a property of the row, not a model field
            widget = self.widget_from_django_field(model_field)
            if isinstance(widget, type) and issubclass(widget, NATIVE_WIDGETS):
                field.widget = widget(**self.widget_kwargs_for_field(name, model_field))

    def export_field(self, field, instance, **kwargs):
        """Every exported cell through the one boundary rule (``cells.cell_value``).

        Text is escaped against formula injection in every format.  A number the
        field renders as text ("-1000.00") is not text: it is told apart by the
        model's value, so a negative amount is never escaped.
        """
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            name = self.get_field_name(field)
            dehydrated = callable(field.get_dehydrate_method(name)) or hasattr(
                self, field.get_dehydrate_method(name)
            )
            if not dehydrated and isinstance(field.get_value(instance), NATIVE_TYPES):
                return value
        return cell_value(value)

    def _sensitive(self, value, masker):
        return value if self.reveal_sensitive else masker(value)

    def _masked(self, field, value):
        return masking.mask(field, value, self.reveal_sensitive)

    def _choice(self, obj, name):
        """The label of a choice field's value, looked up once per value and export.

        ``get_FOO_display`` builds the field's choices into a dict and translates the
        label on every call: 9.7 s of a county's 47,704-household export.  One export
        runs in one language, so each (field, value) label is kept for its rows.
        """
        value = getattr(obj, name)
        if not value:
            return ""
        labels = self.__dict__.setdefault("_choice_labels", {})
        key = (type(obj), name, value)
        try:
            return labels[key]
        except KeyError:
            label = labels[key] = getattr(obj, f"get_{name}_display")()
            return label
        except TypeError:  # an unhashable value (a list): no keeping
            return getattr(obj, f"get_{name}_display")()


class HouseholdResource(MaskingResource):
    number = fields.Field(attribute="number", column_name=_("户编号"))
    settlement_code = fields.Field(attribute="settlement__code", column_name=_("安置点编码"))
    settlement_name = fields.Field(attribute="settlement__name", column_name=_("安置点"))
    building = fields.Field(attribute="building__name", column_name=_("楼栋"))
    unit = fields.Field(attribute="unit", column_name=_("单元"))
    room = fields.Field(attribute="room", column_name=_("房号"))
    grid = fields.Field(attribute="grid__name", column_name=_("网格"))
    relocation_year = fields.Field(attribute="relocation_year", column_name=_("搬迁年度"))
    category = fields.Field(column_name=_("搬迁户类别"))
    occupancy_state = fields.Field(column_name=_("入住状态"))
    hukou_state = fields.Field(column_name=_("户籍状态"))
    moved_in_date = fields.Field(attribute="moved_in_date", column_name=_("入住日期"))
    phone = fields.Field(column_name=_("联系电话"))

    class Meta:
        model = Household
        name = _("搬迁户基本信息")
        fields = (
            "number",
            "settlement_code",
            "settlement_name",
            "building",
            "unit",
            "room",
            "grid",
            "relocation_year",
            "category",
            "occupancy_state",
            "hukou_state",
            "moved_in_date",
            "phone",
        )
        import_id_fields = ("number",)

    def dehydrate_category(self, obj):
        return self._choice(obj, "category")

    def dehydrate_occupancy_state(self, obj):
        return self._choice(obj, "occupancy_state")

    def dehydrate_hukou_state(self, obj):
        return self._choice(obj, "hukou_state")

    def dehydrate_phone(self, obj):
        return self._sensitive(obj.phone, mask_phone)

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("settlement", "building", "grid")


class PersonResource(MaskingResource):
    household = fields.Field(attribute="household__number", column_name=_("户编号"))
    settlement_code = fields.Field(
        attribute="household__settlement__code", column_name=_("安置点编码")
    )
    name = fields.Field(attribute="name", column_name=_("姓名"))
    id_number = fields.Field(column_name=_("身份证号"))
    relationship = fields.Field(column_name=_("与户主关系"))
    sex = fields.Field(column_name=_("性别"))
    birth_date = fields.Field(column_name=_("出生日期"))
    ethnicity = fields.Field(column_name=_("民族"))
    education = fields.Field(column_name=_("文化程度"))
    health = fields.Field(column_name=_("健康状况"))
    labour_ability = fields.Field(column_name=_("劳动技能"))
    school_stage = fields.Field(column_name=_("在校阶段"))
    phone = fields.Field(column_name=_("联系电话"))

    class Meta:
        model = Person
        name = _("家庭成员基本信息")
        fields = (
            "household",
            "settlement_code",
            "name",
            "id_number",
            "relationship",
            "sex",
            "birth_date",
            "ethnicity",
            "education",
            "health",
            "labour_ability",
            "school_stage",
            "phone",
        )
        import_id_fields = ("id_number",)

    def dehydrate_id_number(self, obj):
        return self._sensitive(obj.id_number, mask_resident_id)

    def dehydrate_phone(self, obj):
        return self._sensitive(obj.phone, mask_phone)

    def dehydrate_relationship(self, obj):
        return self._choice(obj, "relationship")

    def dehydrate_sex(self, obj):
        return self._choice(obj, "sex")

    def dehydrate_ethnicity(self, obj):
        return self._choice(obj, "ethnicity")

    def dehydrate_education(self, obj):
        return self._choice(obj, "education")

    def dehydrate_birth_date(self, obj):
        return self._masked("birth_date", obj.birth_date)

    def dehydrate_health(self, obj):
        return self._masked("health", self._choice(obj, "health"))

    def dehydrate_labour_ability(self, obj):
        return self._choice(obj, "labour_ability")

    def dehydrate_school_stage(self, obj):
        return self._choice(obj, "school_stage")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("household__settlement")
