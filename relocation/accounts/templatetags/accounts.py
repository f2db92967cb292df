from django import template

from relocation.accounts.names import display_name as _display_name
from relocation.accounts.names import name_and_username as _name_and_username

register = template.Library()


@register.filter
def display_name(user):
    """``{{ user|display_name }}``: 罗文军 (``relocation.accounts.names``)."""
    return _display_name(user)


@register.filter
def name_and_username(user):
    """``{{ user|name_and_username }}``: 吴晓燕（manager）."""
    return _name_and_username(user)


@register.filter
def thousands(value):
    """``{{ n|thousands }}``: 229,219, as the dashboards write counts."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
