from django.contrib import admin
from django.urls import path

from . import views

app_name = "spreadsheets"
wrap = admin.site.admin_view

urlpatterns = [
    path("", wrap(views.index), name="index"),
    path("upload/", wrap(views.upload), name="upload"),
    path("template/<slug:kind>/", wrap(views.template), name="template"),
    path("export/<slug:kind>.<str:fmt>", wrap(views.export), name="export"),
    path("exports/", wrap(views.export_jobs), name="exports"),
    path("exports/<uuid:pk>/", wrap(views.export_job), name="export_job"),
    path("exports/<uuid:pk>/progress/", wrap(views.export_progress), name="export_progress"),
    path("exports/<uuid:pk>/download/", wrap(views.export_download), name="export_download"),
    path("<uuid:pk>/", wrap(views.job_detail), name="job"),
    path("<uuid:pk>/progress/", wrap(views.job_progress), name="progress"),
    path("<uuid:pk>/confirm/", wrap(views.job_confirm), name="confirm"),
    path("<uuid:pk>/cancel/", wrap(views.job_cancel), name="cancel"),
    path("<uuid:pk>/sheets/", wrap(views.job_sheets), name="sheets"),
    path("<uuid:pk>/errors.xlsx", wrap(views.job_errors), name="errors"),
]
