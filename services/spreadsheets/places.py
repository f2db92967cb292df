"""Services and culture: places (spreadsheets)."""
