"""How a user's name is written: 罗文军, not Django's "文军 罗".

Django's ``get_full_name`` puts the given name (``first_name``) first and a
space between, as in English.  Chinese names are written family name first,
without a space; a name in Latin letters keeps Django's order.
"""

import re

from django.utils.translation import gettext as _

# Han characters, those beyond the Basic Multilingual Plane too (𠮷, 𬌗).
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def display_name(user):
    """The user's name as people write it, or the user name when none is recorded."""
    if user is None:
        return ""
    given = (user.first_name or "").strip()
    family = (user.last_name or "").strip()
    if not (given or family):
        return user.get_username()
    if _CJK.search(given + family):
        return family + given
    return f"{given} {family}".strip()


def name_and_username(user):
    """「吴晓燕（manager）」: the name people know and the account it belongs to; the
    user name alone when no name is recorded."""
    if user is None:
        return ""
    name, username = display_name(user), user.get_username()
    if name == username:
        return name
    return _("%(name)s（%(username)s）") % {"name": name, "username": username}
