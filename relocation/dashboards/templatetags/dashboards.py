from django import template

from relocation.dashboards.dashboard import with_unit as _with_unit

register = template.Library()


@register.filter
def with_unit(item):
    """``{{ column|with_unit }}``: its label and unit, 「就业率（%）」 (``dashboard.with_unit``)."""
    return _with_unit(item.label, item.unit)
