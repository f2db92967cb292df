"""The file kinds an administrator can import and export, in menu order."""

from .base import Kind  # noqa: F401


def all_kinds():
    from .employment import EmployerKind, EmploymentKind, IncomeKind
    from .roster import RosterKind
    from .settlements import BuildingKind, GridKind, SettlementKind

    return [
        SettlementKind(),
        BuildingKind(),
        GridKind(),
        RosterKind(),
        EmployerKind(),
        EmploymentKind(),
        IncomeKind(),
    ]


_BY_KEY = None


def get_kind(key):
    global _BY_KEY
    if _BY_KEY is None:
        _BY_KEY = {kind.key: kind for kind in all_kinds()}
    return _BY_KEY.get(key)


def kinds():
    get_kind("")
    return list(_BY_KEY.values())
