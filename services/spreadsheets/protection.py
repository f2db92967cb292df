"""Services and culture: protection (spreadsheets)."""
