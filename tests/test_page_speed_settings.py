"""Settings that keep the daily pages fast at 2 million people (benchmarks/pages.py).

* Form drop-downs render through templates/django/forms/widgets/select.html,
  which writes each <option> in place instead of including a template per
  option: the markup must stay Django's own.
* relocation/renderers.py writes inputs, drop-downs and empty error lists in
  Python: character for character what their templates write.
* PostgreSQL connections run without JIT compiling (180–225 ms per large count).
* The WSGI entry point freezes what start-up loaded (gc.freeze): the collector's
  full passes no longer walk it (the county dashboard's p95).
"""

from types import SimpleNamespace

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import DjangoTemplates, TemplatesSetting, get_default_renderer
from django.test import SimpleTestCase
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from relocation import renderers


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


class Everything(forms.Form):
    name = forms.CharField(max_length=5, widget=forms.TextInput(attrs={"placeholder": '甲 "乙"'}))
    hidden = forms.CharField(widget=forms.HiddenInput)
    count = forms.IntegerField(min_value=0, required=False)
    amount = forms.DecimalField(decimal_places=2, required=False, localize=False)
    mail = forms.EmailField(required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    flag = forms.CharField(widget=forms.TextInput(attrs={"readonly": True, "data-off": False}))
    safe = forms.CharField(widget=forms.TextInput(attrs={"title": mark_safe("<b>安全</b>")}))
    plain = Choices.base_fields["plain"]
    grouped = Choices.base_fields["grouped"]
    many = Choices.base_fields["many"]
    lazy = forms.ChoiceField(choices=[("1", gettext_lazy("是")), ("0", gettext_lazy("否"))])
    # Quotes, numbers and lazy text as attribute values, option values and labels.
    odd = forms.ChoiceField(
        choices=[
            ("it's", "O'Neil & <Co>"),
            (7, gettext_lazy("Yes")),
            ("q", mark_safe("<b>安</b>")),
        ],
        widget=forms.Select(attrs={"data-n": 7, "data-q": "it's", "title": gettext_lazy("No")}),
    )
    tick = forms.BooleanField(required=False)
    ticked = forms.BooleanField(required=False, initial=True, widget=forms.CheckboxInput())


class RendererTests(SimpleTestCase):
    """The Python fast path against the templates it replaces, as exact strings."""

    cases = [
        {},
        {"name": "<script>", "hidden": "a&b", "count": "12", "amount": "3.50", "plain": "a"},
        {"name": "x" * 9, "count": "-1", "mail": "not mail", "grouped": "out", "many": ["x", "z"]},
        {"secret": 'p"w', "flag": "", "safe": "", "lazy": "0", "plain": "1", "tick": "on"},
        {"tick": "false", "ticked": ""},
        {"odd": "it's", "name": "it's", "hidden": "<'&'>"},
        {"odd": "7"},
    ]

    def test_the_fast_path_covers_the_common_widgets(self):
        fast = renderers.Renderer().fast
        for name in ("hidden", "text", "number", "email", "password", "checkbox", "select"):
            assert f"django/forms/widgets/{name}.html" in fast, name
        assert renderers.ERRORS in fast

    def test_every_field_renders_as_its_template_renders_it(self):
        for data in self.cases:
            for bound in (data, None):
                ours = Everything(bound, renderer=renderers.Renderer(), initial={"count": 3})
                stock = Everything(bound, renderer=TemplatesSetting(), initial={"count": 3})
                for name in Everything.base_fields:
                    assert str(ours[name]) == str(stock[name]), (data, name)
                    assert str(ours[name].errors) == str(stock[name].errors), (data, name)
                assert str(ours) == str(stock)

    def test_a_change_lists_row_checkbox_renders_as_its_template_renders_it(self):
        from django.contrib.admin import helpers

        # As ModelAdmin.action_checkbox makes it.
        checkbox = forms.CheckboxInput({"aria-label": "选择 <户>"}, lambda value: False)
        for value in ("12345", "<&>", ""):
            self.assertEqual(
                checkbox.render(helpers.ACTION_CHECKBOX_NAME, value),
                checkbox.render(helpers.ACTION_CHECKBOX_NAME, value, renderer=TemplatesSetting()),
            )
        assert 'value="12345"' in checkbox.render(helpers.ACTION_CHECKBOX_NAME, "12345")

    def test_a_changed_template_is_rendered_as_a_template(self):
        renderer = renderers.Renderer()
        real = renderer.get_template

        def get_template(name):
            template = real(name)
            if name != renderers.INPUT:
                return template
            changed = SimpleNamespace(source=template.template.source + "<!-- changed -->")
            return SimpleNamespace(template=changed, origin=template.origin)

        renderer.get_template = get_template
        assert "django/forms/widgets/text.html" not in renderer.fast
        assert renderers.ERRORS in renderer.fast

    def test_an_option_with_its_own_template_is_rendered_by_the_template(self):
        class Fancy(forms.Select):
            option_template_name = "django/forms/widgets/radio_option.html"

        widget = Fancy(choices=[("a", "甲")])
        assert (
            renderers.render_select({"widget": widget.get_context("n", "a", {})["widget"]}) is None
        )
        self.assertEqual(
            widget.render("n", "a", renderer=renderers.Renderer()),
            widget.render("n", "a", renderer=TemplatesSetting()),
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
