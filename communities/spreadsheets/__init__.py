"""The core's import/export kinds: 安置点, 楼栋, 网格 and the 花名册 (roster).

Found by ``relocation.spreadsheets.kinds.discover()`` like ``admin.py`` modules.
"""

from relocation.spreadsheets.kinds import register

from .roster import RosterKind
from .settlements import BuildingKind, GridKind, SettlementKind

register(SettlementKind, BuildingKind, GridKind, RosterKind)
