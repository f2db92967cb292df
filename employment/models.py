"""Employment and income: jobs, employers, training and household income (see DESIGN.md)."""
