"""Services and culture models: places and protection (one module each)."""

from .places import *  # noqa: F403
from .protection import *  # noqa: F403
