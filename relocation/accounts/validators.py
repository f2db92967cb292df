from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CLASSES = (
    ("upper", str.isupper),
    ("lower", str.islower),
    ("digit", str.isdigit),
)


def character_classes(password):
    """How many of upper case, lower case, digits and other characters ``password`` mixes."""
    found = set()
    for char in password:
        for name, test in CLASSES:
            if char.isascii() and test(char):
                found.add(name)
                break
        else:
            found.add("other")
    return len(found)


class CharacterClassesValidator:
    """At least ``min_classes`` of: capitals, small letters, digits, other characters."""

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                _(
                    "密码至少要包含以下四类字符中的 %(min)d 类：大写字母、小写字母、数字、其他符号。"
                ),
                code="password_too_simple",
                params={"min": self.min_classes},
            )

    def get_help_text(self):
        return _("密码至少要包含大写字母、小写字母、数字、其他符号中的 %(min)d 类。") % {
            "min": self.min_classes
        }
