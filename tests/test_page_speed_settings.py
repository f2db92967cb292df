"""Settings that keep the daily pages fast at 2 million people (benchmarks/pages.py).

* Form drop-downs render through templates/django/forms/widgets/select.html,
  which writes each <option> in place instead of including a template per
  option: the markup must stay Django's own.
* PostgreSQL connections run without JIT compiling (180–225 ms per large count).
* The WSGI entry point freezes what start-up loaded (gc.freeze): the collector's
  full passes no longer walk it (the county dashboard's p95).
"""

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test import SimpleTestCase


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("", "---------"), ("a", "甲 & <乙>"), (1, "一")])
    grouped = forms.ChoiceField(
        choices=[
            ("", "—"),
            ("省内", [("in", "县内"), ("out", "县外")]),
            ("外省", [("far", "省外")]),
        ]
    )
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")])


class SelectMarkupTests(SimpleTestCase):
    def test_the_project_renders_selects_with_its_own_template(self):
        from django.template.loader import get_template

        template = get_template("django/forms/widgets/select.html")
        assert "templates/django/forms/widgets/select.html" in str(template.origin.name)

    def test_selects_render_as_django_renders_them(self):
        data = {"plain": "a", "grouped": "out", "many": ["x", "z"]}
        ours = Choices(data, renderer=get_default_renderer())
        stock = Choices(data, renderer=DjangoTemplates())
        for name in ("plain", "grouped", "many"):
            mine = str(ours[name])
            assert "<option" in mine and "selected" in mine
            self.assertHTMLEqual(mine, str(stock[name]))
        # Unbound, with an initial value, disabled, and with extra attributes.
        widget = forms.Select(
            attrs={"class": "wide", "data-x": "1"}, choices=[(1, "一"), (2, "二")]
        )
        for value in (None, 2):
            self.assertHTMLEqual(
                widget.render("n", value, renderer=get_default_renderer()),
                widget.render("n", value, renderer=DjangoTemplates()),
            )


@pytest.mark.django_db
def test_postgresql_connections_do_not_jit_compile():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no JIT")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_the_wsgi_entry_point_freezes_what_start_up_loaded():
    """Frozen objects stay out of the collector's full passes (the dashboards' p95)."""
    import gc
    import importlib
    import sys

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    sys.modules.pop("relocation.wsgi", None)
    try:
        module = importlib.import_module("relocation.wsgi")
        assert callable(module.application)
        assert gc.get_freeze_count() > 10_000  # Django, the apps and the registries
    finally:
        gc.unfreeze()
