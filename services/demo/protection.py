"""Services and culture: protection (demo)."""
