"""The form renderer: the project's templates, with the commonest widgets written in Python.

A household page renders about 100 hidden and text inputs, 90 drop-downs
with 1,300 options and 200 empty error lists; through the template engine
that was 80 of its 250 ms.  A change list renders a checkbox per row, three
templates each.  These templates are a line each, so this renderer writes
their markup itself, character for character what the template writes
after the renderer's ``strip()`` (``tests/test_page_speed_settings.py``
compares the two on every kind of value).  It does so only while the template in effect is the one it copies: a
template overridden later is rendered as a template again.
"""

import html
from functools import cached_property

from django.forms.renderers import TemplatesSetting
from django.template.base import render_value_in_context
from django.template.context import Context
from django.template.defaultfilters import stringformat
from django.utils.functional import Promise
from django.utils.safestring import SafeString

INPUT = "django/forms/widgets/input.html"
SELECT = "django/forms/widgets/select.html"
SELECT_OPTION = "django/forms/widgets/select_option.html"
ERRORS = "django/forms/errors/list/ul.html"

INPUT_SOURCE = (
    '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
    " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
    '{% include "django/forms/widgets/attrs.html" %}>\n'
)
ATTRS_SOURCE = (
    "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
    "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
    "{% endfor %}"
)
INCLUDES_INPUT = '{% include "django/forms/widgets/input.html" %}\n'
ERRORS_SOURCE = (
    '{% if errors %}<ul class="{{ error_class }}"{% if errors.field_id %}'
    ' id="{{ errors.field_id }}_error"{% endif %}>{% for error in errors %}<li>{{ error }}</li>'
    "{% endfor %}</ul>{% endif %}"
)
# Widgets whose template is only the input (Django 5.2).
INPUT_WIDGETS = tuple(
    f"django/forms/widgets/{name}.html"
    for name in (
        "hidden",
        "text",
        "number",
        "email",
        "url",
        "password",
        "search",
        "tel",
        # The change lists' row checkboxes (50–100 a page) and the forms' 是/否 boxes.
        "checkbox",
    )
)
# The project's select.html (templates/django/forms/widgets/select.html).
PROJECT_SELECT = "templates/django/forms/widgets/select.html"

# A template's {{ }} output: autoescaped, localised, as in a template's own context.
_CONTEXT = Context()


def _out(value):
    """``render_value_in_context``, without its lookups for the commonest values.

    A household page writes about 4,000 values, most of them plain or lazily
    translated strings; through the general path (localisation, then the
    lazy-aware ``escape``) that was 40 ms a page.  Plain strings are escaped
    as ``escape`` escapes them, safe strings kept, a lazy string translated
    first; anything else takes the general path.
    """
    cls = type(value)
    if cls is str:
        return html.escape(value)
    if cls is SafeString:
        return value
    if isinstance(value, Promise):
        return _out(str(value))
    return render_value_in_context(value, _CONTEXT)


def _s(value):
    """``{{ value|stringformat:'s' }}``."""
    if type(value) in (str, int):
        return _out(str(value))
    return _out(stringformat(value, "s"))


def _attrs(attrs):
    parts = []
    for name, value in attrs.items():
        if value is not False:
            parts.append(" " + _out(name))
            if value is not True:
                parts.append('="' + _s(value) + '"')
    return "".join(parts)


def render_input(context):
    widget = context["widget"]
    value = widget["value"]
    shown = ' value="' + _s(value) + '"' if value != None else ""  # noqa: E711 (the template's test)
    return (
        f'<input type="{_out(widget["type"])}" name="{_out(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>"
    )


def render_select(context):
    """The project's select.html; ``None`` when an option has a template of its own."""
    widget = context["widget"]
    parts = [f'<select name="{_out(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_out(group_name)}">')
        for option in group_choices:
            if option["template_name"] != SELECT_OPTION:
                return None
            parts.append(
                f'\n  <option value="{_s(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_out(option['label'])}</option>"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class Renderer(TemplatesSetting):
    """``FORM_RENDERER``: templates from the project and the apps (TemplatesSetting)."""

    @cached_property
    def fast(self):
        """{template name: function} for the templates still as this module copies them."""

        def source(name):
            return self.get_template(name).template.source

        def origin(name):
            return str(self.get_template(name).origin.name).replace("\\", "/")

        fast = {}
        if source(INPUT) == INPUT_SOURCE and source("django/forms/widgets/attrs.html") == (
            ATTRS_SOURCE
        ):
            for name in INPUT_WIDGETS:
                if source(name) == INCLUDES_INPUT:
                    fast[name] = render_input
            if origin(SELECT).endswith(PROJECT_SELECT):
                fast[SELECT] = render_select
        if source(ERRORS) == ERRORS_SOURCE:
            fast[ERRORS] = lambda context: "" if not context["errors"] else None
        return fast

    def render(self, template_name, context, request=None):
        fast = self.fast.get(template_name)
        if fast is not None:
            html = fast(context)
            if html is not None:
                return html
        return super().render(template_name, context, request)
