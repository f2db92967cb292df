from django import template

from relocation.accounts.names import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user):
    """``{{ user|display_name }}``: 罗文军 (``relocation.accounts.names``)."""
    return _display_name(user)
