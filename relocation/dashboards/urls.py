from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.home, name="home"),
    path("settlement/<int:pk>/", views.settlement, name="settlement"),
    path("<str:code>/", views.region, name="region"),
]
