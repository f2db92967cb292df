from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import endpoints
from .views import IndicatorsView

app_name = "api"

router = SimpleRouter()
for prefix, viewset, basename in endpoints():
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("indicators/", IndicatorsView.as_view(), name="indicators"),
    path("", include(router.urls)),
    # Anything else under /api/v1/ answers JSON too (never the site's HTML 404 page).
    re_path(
        r"", lambda request, *args, **kwargs: JsonResponse({"detail": _("未找到。")}, status=404)
    ),
]
