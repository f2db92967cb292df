"""Services and culture: places (demo)."""
