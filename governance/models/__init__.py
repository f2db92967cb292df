"""Governance and monitoring models: organisation and monitoring (one module each)."""

from .monitoring import *  # noqa: F403
from .organisation import *  # noqa: F403
