"""The people a file of another kind names by ID number (待遇记录, 就业记录, 党员 …).

Every such kind matches a row to a person registered in the user's area the same
way, with the same messages: a person outside the area reads as one never
registered, and a name that differs from the registered one is refused (a
mistyped ID number would otherwise land on somebody else).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relocation.spreadsheets.columns import Column
from relocation.spreadsheets.engine import bulk_in

from ..models import Person
from ..validators import validate_resident_id


def person_columns():
    """The two columns a row names a registered person by: 身份证号 (required, masked as
    an ID number) and 姓名; ``person_of`` checks both."""
    return [
        Column(
            "id_number",
            gettext_lazy("身份证号"),
            "id_number",
            required=True,
            sensitive="id",
            example="522328198001010028",
            width=22,
            help=gettext_lazy("须是您管辖范围内已登记的搬迁人员；该列必须设为“文本”格式。"),
        ),
        Column(
            "name",
            gettext_lazy("姓名"),
            "person_name",
            example="王秀英",
            help=gettext_lazy("用于核对，须与登记的姓名一致。"),
            width=10,
        ),
    ]


def people_in_area(rows, ctx, key="id_number"):
    """{ID number: person} of the people the rows' ``key`` cells name whom the user's
    area holds (with their households)."""
    ids = {r.values.get(key) for r in rows} - {None, ""}
    people = bulk_in(Person.objects.select_related("household"), "id_number", ids)
    return {p.id_number: p for p in people if ctx.settlement_visible(p.household.settlement_id)}


def _not_found(id_number):
    """Why the area holds nobody by ``id_number``: what is wrong with the number where
    something is (a check digit, a birth date that does not exist …: nobody can have it),
    else that it is not registered in the area, in the same words whether it is
    registered elsewhere or nowhere.  Checked only for the rows that found nobody."""
    try:
        validate_resident_id(id_number)
    except ValidationError as error:
        return str(error.messages[0])
    return _("该身份证号未在您管辖范围内登记为搬迁人员，请先导入花名册。")


def person_of(kind, row, people, plan, key="id_number", name_key="name"):
    """The person (of ``people_in_area``) the row's ID number names; None, with the
    error added under the column, when the area holds nobody by that number
    (``_not_found`` says why) or the row's name (where it gives one) is not the
    registered one."""
    values = row.values
    person = people.get(values.get(key))
    if person is None:
        plan.errors.add(row.number, kind.column(key).header, _not_found(values.get(key)))
        return None
    if values.get(name_key) and values[name_key] != person.name:
        plan.errors.add(
            row.number,
            kind.column(name_key).header,
            _("姓名与该身份证号登记的姓名不一致，请核对身份证号。"),
        )
        return None
    return person
