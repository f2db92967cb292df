"""What every endpoint shares (scope, masking, read audit) and the indicator endpoint."""

import datetime
from decimal import Decimal

from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from communities.admin_lookups import parse_id
from communities.audit import Trail, reveals
from communities.masking import MASKERS
from communities.read_audit import AuditChannel
from communities.scope import area_q, get_scope, is_region_token, settlement_of_token
from relocation.dashboards import areas
from relocation.dashboards.dashboard import build
from relocation.dashboards.periods import PeriodKind
from relocation.dashboards.registry import registry

from .auth import ApiRateThrottle, ScopedReadPermission, TokenAuthentication
from .pagination import KeysetPagination

AREA_PATTERN = r"^(s[0-9]{1,18}|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9,12})$"
AREA_PARAMETER = OpenApiParameter(
    "area",
    str,
    pattern=AREA_PATTERN,
    description=_(
        "区域：行政区划代码前缀（52 省、5223 市州、522301 县、9位乡镇代码）或 s<安置点编号>；"
        "不填为账号的全部管辖范围。"
    ),
)
UPDATED_SINCE_PARAMETER = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description=_("只返回此时间（含）之后更新过的记录，例如 2026-11-01T00:00:00+08:00。"),
)


class MaskedSerializerMixin:
    """Personal data as the calling account may see it, and the read audit of what it sees.

    Without 「可以查看完整的身份证号和电话」 ID numbers and phones come masked,
    health and disability grade as null and the birth date as null (the birth
    year stays); with it, every record whose personal data is returned is
    recorded in the read audit (方式 导出, 格式 api, the request's address).
    """

    def to_representation(self, instance):
        data = super().to_representation(instance)
        reveal = self.context.get("reveal", False)
        shown = [name for name in data if name in MASKERS]
        if reveal:
            trail = self.context.get("trail")
            if trail is not None:
                trail.add_shown(instance, shown)
            return data
        for name in shown:
            if name in ("id_number", "phone", "head_phone", "contact_phone"):
                data[name] = MASKERS[name](data[name]) if data[name] else data[name]
            else:
                data[name] = None
        return data


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """A model's list and detail, limited to the account's area, masked and audited."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [ScopedReadPermission]
    throttle_classes = [ApiRateThrottle]
    pagination_class = KeysetPagination

    def get_queryset(self):
        queryset = super().get_queryset().visible_to(self.request.user)
        params = self.request.query_params
        token = params.get("area")
        # Pages read settlement by settlement wherever rows are looked for by area
        # (``KeysetPagination``); an account that sees everything pages by id.
        self.by_settlement = bool(token) or not get_scope(self.request.user).unrestricted
        if token:
            q = area_q(queryset.model, token)
            if q is None:
                raise exceptions.ValidationError({"area": [_("区域代码格式不正确。")]})
            queryset = queryset.filter(q)
        since = params.get("updated_since")
        if since and not any(f.name == "updated_at" for f in queryset.model._meta.fields):
            raise exceptions.ValidationError({"updated_since": [_("该接口不支持按更新时间筛选。")]})
        if since:
            moment = _parse_moment(since)
            if moment is None:
                raise exceptions.ValidationError(
                    {
                        "updated_since": [
                            _("时间格式不正确，应为 ISO 8601，例如 2026-11-01T00:00:00+08:00。")
                        ]
                    }
                )
            queryset = queryset.filter(updated_at__gte=moment)
        return queryset

    def get_object(self):
        if parse_id(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)) is None:
            raise exceptions.NotFound()
        return super().get_object()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user
        context["reveal"] = reveals(user)
        if context["reveal"]:
            context["trail"] = Trail(
                user, AuditChannel.EXPORT, export_format="api", path=self.request.get_full_path()
            )
        return context

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        self._trail = serializer.context.get("trail")
        return serializer

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        trail = getattr(self, "_trail", None)
        if trail is not None and response.status_code == 200:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # the rows are serialised: the trail is complete
            trail.write()
        return response


EARLIEST = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)


def _parse_moment(text):
    """An aware datetime (ISO 8601 / RFC 3339), kept within years 1900-9999; None if malformed."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    if moment.year < 1901:  # "since forever"; also no overflow turning it into UTC
        return EARLIEST
    if moment.year > 9998:
        return LATEST
    # In UTC: PostgreSQL refuses offsets beyond ±15:59 ("time zone displacement out of
    # range"), which ISO 8601 allows up to ±23:59.
    return moment.astimezone(datetime.UTC)


def _area(user, token):
    if not token:
        # What the dashboards land on: a single region's page reads its stored roll-up.
        return areas.home_area(user)
    settlement = settlement_of_token(token)
    if settlement is not None:
        return areas.settlement_area(user, settlement)
    if is_region_token(token):
        return areas.region_area(user, token.ljust(6, "0"))
    raise exceptions.ValidationError({"area": [_("区域代码格式不正确。")]})


def _token_of(row_key):
    if row_key.startswith("s"):
        return row_key
    if len(row_key) == 6 and row_key.endswith("0000"):
        return row_key[:2]
    if len(row_key) == 6 and row_key.endswith("00"):
        return row_key[:4]
    return row_key


def _number(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [{"label": label, "value": _number(v)} for label, v in value]
    return float(round(Decimal(value), 4))


INDICATOR_FIELDS = {
    "key": serializers.CharField(),
    "label": serializers.CharField(),
    "section": serializers.CharField(),
    "unit": serializers.CharField(),
    "direction": serializers.ChoiceField(choices=["up", "down", "neutral"]),
    "value": serializers.JSONField(allow_null=True),
    "previous": serializers.JSONField(allow_null=True),
}


class IndicatorsView(APIView):
    """Every dashboard indicator of an area for a period (the figures the dashboards show)."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [ScopedReadPermission]
    throttle_classes = [ApiRateThrottle]

    @extend_schema(
        parameters=[
            AREA_PARAMETER,
            OpenApiParameter("kind", str, enum=[k.value for k in PeriodKind]),
            OpenApiParameter(
                "period",
                str,
                description=_("期间代码，如 2026-10、2026-Q3、2026；不填为当前期间。"),
            ),
        ],
        responses={
            200: inline_serializer(
                "Indicators",
                {
                    "area": serializers.CharField(),
                    "area_name": serializers.CharField(),
                    "kind": serializers.CharField(),
                    "period": serializers.CharField(),
                    "reference_date": serializers.DateField(allow_null=True),
                    "computed_at": serializers.DateTimeField(allow_null=True),
                    "indicators": inline_serializer("IndicatorValue", INDICATOR_FIELDS, many=True),
                    "children": inline_serializer(
                        "ChildArea",
                        {
                            "area": serializers.CharField(),
                            "name": serializers.CharField(),
                            "values": serializers.DictField(child=serializers.JSONField()),
                        },
                        many=True,
                    ),
                },
            )
        },
    )
    def get(self, request):
        params = request.query_params
        kind = params.get("kind") or PeriodKind.MONTH
        if kind not in PeriodKind.values:
            raise exceptions.ValidationError({"kind": [_("期间类型应为 month、quarter 或 year。")]})
        try:
            area = _area(request.user, params.get("area", ""))
        except Http404:
            raise exceptions.NotFound(_("区域不存在或不在该账号的管辖范围内。")) from None
        dash = build(area, request.user, kind=kind, period_code=params.get("period", ""))
        values = dash.total.values if dash.total else {}
        previous = dash.previous_values
        indicators = [
            {
                "key": i.key,
                "label": str(i.label),
                "section": i.section,
                "unit": str(i.unit),
                "direction": i.direction,
                "value": _number(values.get(i.key)),
                "previous": _number(previous.get(i.key)),
            }
            for i in registry.indicators.values()
        ]
        children = [
            {
                "area": _token_of(row.key),
                "name": row.name,
                "values": {key: _number(value) for key, value in row.values.items()},
            }
            for row in dash.rows
        ]
        return Response(
            {
                "area": params.get("area", ""),
                "area_name": str(area.name),
                "kind": kind,
                "period": dash.spec.code,
                "reference_date": dash.reference_date,
                "computed_at": dash.as_of,
                "indicators": indicators,
                "children": children,
            }
        )
