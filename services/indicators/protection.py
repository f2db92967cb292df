"""Services and culture: protection (indicators)."""
