"""The project's URLs plus one view that fails, to see the policy on a 500 page."""

from django.urls import path

from relocation.urls import urlpatterns as project_urlpatterns


def fail(request):
    raise RuntimeError("a failing view, for the CSP test")


urlpatterns = [*project_urlpatterns, path("csp-test-failure/", fail)]
