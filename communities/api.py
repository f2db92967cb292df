"""The core's endpoints of the read-only API (``relocation.api``): settlements, households, people."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from relocation.api import register
from relocation.api.views import (
    AREA_PARAMETER,
    UPDATED_SINCE_PARAMETER,
    MaskedSerializerMixin,
    ScopedReadOnlyViewSet,
)

from . import enums
from .models import Household, Person, Settlement

LIST_PARAMETERS = extend_schema_view(
    list=extend_schema(parameters=[AREA_PARAMETER, UPDATED_SINCE_PARAMETER])
)


class SettlementSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county_id", read_only=True)
    township = serializers.CharField(source="township_id", read_only=True, allow_null=True)

    class Meta:
        model = Settlement
        fields = (
            "id",
            "code",
            "name",
            "county",
            "township",
            "community",
            "kind",
            "year_built",
            "housing_units",
        )


class HouseholdSerializer(MaskedSerializerMixin, serializers.ModelSerializer):
    phone = serializers.CharField(read_only=True)
    origin_county = serializers.CharField(
        source="origin_county_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Household
        fields = (
            "id",
            "number",
            "settlement",
            "building",
            "grid",
            "unit",
            "room",
            "origin_county",
            "origin_village",
            "relocation_year",
            "category",
            "moved_in_date",
            "occupancy_state",
            "hukou_state",
            "phone",
            "updated_at",
        )


class PersonSerializer(MaskedSerializerMixin, serializers.ModelSerializer):
    id_number = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    birth_date = serializers.DateField(read_only=True, allow_null=True)
    birth_year = serializers.SerializerMethodField()
    health = serializers.ChoiceField(choices=enums.Health.choices, read_only=True, allow_null=True)
    disability_grade = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Person
        fields = (
            "id",
            "household",
            "name",
            "id_number",
            "sex",
            "birth_date",
            "birth_year",
            "relationship",
            "ethnicity",
            "education",
            "health",
            "disability_grade",
            "labour_ability",
            "school_stage",
            "phone",
            "medical_insurance",
            "pension_insurance",
            "dibao",
            "extreme_poverty_support",
            "residence_permit",
            "updated_at",
        )

    def get_birth_year(self, obj) -> int | None:
        return obj.birth_date.year if obj.birth_date else None


@extend_schema_view(list=extend_schema(parameters=[AREA_PARAMETER]))
class SettlementViewSet(ScopedReadOnlyViewSet):
    """安置点 (settlements) in the account's area."""

    queryset = Settlement.objects.all()
    serializer_class = SettlementSerializer


@LIST_PARAMETERS
class HouseholdViewSet(ScopedReadOnlyViewSet):
    """搬迁户 (households); the phone is masked unless the account may see it."""

    queryset = Household.objects.all()
    serializer_class = HouseholdSerializer


@LIST_PARAMETERS
class PersonViewSet(ScopedReadOnlyViewSet):
    """家庭成员 (people); ID number, phone, health and birth date as the account may see them."""

    queryset = Person.objects.all()
    serializer_class = PersonSerializer


register("settlements", SettlementViewSet)
register("households", HouseholdViewSet)
register("people", PersonViewSet)
