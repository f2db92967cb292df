"""Employment's endpoints of the read-only API (``relocation.api``)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from relocation.api import register
from relocation.api.views import AREA_PARAMETER, UPDATED_SINCE_PARAMETER, ScopedReadOnlyViewSet

from .models import EmploymentRecord, HouseholdIncome


class EmploymentRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmploymentRecord
        fields = (
            "id",
            "person",
            "kind",
            "employer",
            "employer_name",
            "position",
            "place",
            "monthly_income",
            "start_date",
            "end_date",
            "updated_at",
        )


class HouseholdIncomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = HouseholdIncome
        fields = (
            "id",
            "household",
            "year",
            "wage_income",
            "business_income",
            "transfer_income",
            "property_income",
            "costs",
            "household_size",
            "net_income",
            "per_capita_net",
            "updated_at",
        )


@extend_schema_view(list=extend_schema(parameters=[AREA_PARAMETER, UPDATED_SINCE_PARAMETER]))
class EmploymentRecordViewSet(ScopedReadOnlyViewSet):
    """就业登记 (employment records) of people in the account's area."""

    queryset = EmploymentRecord.objects.all()
    serializer_class = EmploymentRecordSerializer


@extend_schema_view(list=extend_schema(parameters=[AREA_PARAMETER, UPDATED_SINCE_PARAMETER]))
class HouseholdIncomeViewSet(ScopedReadOnlyViewSet):
    """家庭收入 (household income per year) in the account's area."""

    queryset = HouseholdIncome.objects.all()
    serializer_class = HouseholdIncomeSerializer


register("employment-records", EmploymentRecordViewSet)
register("household-incomes", HouseholdIncomeViewSet)
