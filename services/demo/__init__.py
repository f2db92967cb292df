"""Services and culture demo: places and protection (one module each, discovered through this package)."""

from . import places, protection  # noqa: F401
