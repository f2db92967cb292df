"""Public services and culture: facilities, funded projects, activities, honours (see DESIGN.md)."""
